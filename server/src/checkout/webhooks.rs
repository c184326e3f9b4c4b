//! Notifications from gateways with pages of their own (`POST /webhooks/stripe/{id}`).
//! What a notification does to a card is [`domain::charges::notification`]'s to say.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::gateways::STRIPE;

use crate::domain::charges::{self, Received};
use crate::domain::gateways::Gateway;
use crate::error::AppError;
use crate::state::AppState;

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
    let gateway = Gateway::configured(&state, &gateway_id).await?;
    if gateway.kind() != STRIPE {
        return Err(AppError::NotFound("gateway"));
    }
    match charges::notification(&state, &gateway, &gateway_id, &headers, &body).await? {
        Received::Taken => Ok(Json(serde_json::json!({ "received": true })).into_response()),
        Received::Forged => Err(AppError::BadSignature),
    }
}
