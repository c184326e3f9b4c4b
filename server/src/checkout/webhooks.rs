//! Notifications from gateways with pages of their own (`POST /webhooks/{kind}/{id}`).
//! What a notification does to a card is [`domain::charges::notification`]'s to say.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::gateways::{PAYPAL, RAZORPAY, STRIPE};

use crate::domain::charges::{self, Received};
use crate::domain::gateways::Gateway;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `POST /webhooks/stripe/{gateway_id}`: a signed Stripe event. Verified on the raw
/// body; each event id takes effect once; a forged or stale one is refused (401) and
/// changes nothing.
#[utoipa::path(post, path = "/webhooks/stripe/{gateway_id}", tag = "webhooks",
    params(("gateway_id" = String, Path, description = "the configured Stripe gateway")),
    request_body(content = String, content_type = "application/json", description = "a Stripe event"),
    responses((status = 200, description = "received (also for an event seen before)"), crate::api::doc::BadRequest,
        crate::api::doc::Unauthorized, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("stripe_signature" = [])))]
pub async fn stripe(
    State(state): State<AppState>,
    Path(gateway_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    receive(&state, STRIPE, &gateway_id, &headers, &body).await
}

/// `POST /webhooks/paypal/{gateway_id}`: a PayPal webhook event. PayPal itself is asked
/// whether it sent it (its signature headers and the webhook id); each event id takes
/// effect once; one PayPal did not send is refused (401) and changes nothing. When
/// PayPal cannot be asked, 409 `gateway_unavailable`: PayPal sends it again.
#[utoipa::path(post, path = "/webhooks/paypal/{gateway_id}", tag = "webhooks",
    params(("gateway_id" = String, Path, description = "the configured PayPal gateway")),
    request_body(content = String, content_type = "application/json", description = "a PayPal webhook event"),
    responses((status = 200, description = "received (also for an event seen before)"), crate::api::doc::BadRequest,
        crate::api::doc::Unauthorized, crate::api::doc::NotFound, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("paypal_transmission_sig" = [])))]
pub async fn paypal(
    State(state): State<AppState>,
    Path(gateway_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    receive(&state, PAYPAL, &gateway_id, &headers, &body).await
}

/// `POST /webhooks/razorpay/{gateway_id}`: a Razorpay webhook, verified by
/// `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw body with the webhook secret);
/// each `X-Razorpay-Event-Id` takes effect once; a forged one is refused (401).
#[utoipa::path(post, path = "/webhooks/razorpay/{gateway_id}", tag = "webhooks",
    params(("gateway_id" = String, Path, description = "the configured Razorpay gateway")),
    request_body(content = String, content_type = "application/json", description = "a Razorpay webhook"),
    responses((status = 200, description = "received (also for an event seen before)"), crate::api::doc::BadRequest,
        crate::api::doc::Unauthorized, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("razorpay_signature" = [])))]
pub async fn razorpay(
    State(state): State<AppState>,
    Path(gateway_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    receive(&state, RAZORPAY, &gateway_id, &headers, &body).await
}

/// A notification for the configured gateway `gateway_id`, which must be of `kind`.
async fn receive(
    state: &AppState,
    kind: &str,
    gateway_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, AppError> {
    let gateway = Gateway::configured(state, gateway_id).await?;
    if gateway.kind() != kind {
        return Err(AppError::NotFound("gateway"));
    }
    match charges::notification(state, &gateway, gateway_id, headers, body).await? {
        Received::Taken => Ok(Json(serde_json::json!({ "received": true })).into_response()),
        Received::Forged => Err(AppError::BadSignature),
    }
}

/// The gateways' webhooks.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stripe))
        .routes(routes!(paypal))
        .routes(routes!(razorpay))
}
