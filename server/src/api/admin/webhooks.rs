//! The merchant's webhook endpoints over HTTP (SPEC §8.5): register, list, remove, and
//! the deliveries of each, with "send again".

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{
    CreatedWebhookEndpoint, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint,
};

use super::AdminAuth;
use crate::api::ApiJson;
use crate::domain::webhooks;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `GET /api/v1/admin/webhooks`: the endpoints for the admin's brands (never the secrets).
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "admin",
    responses((status = 200, body = Vec<WebhookEndpoint>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
) -> Result<Json<Vec<WebhookEndpoint>>, AppError> {
    webhooks::list(&state, &who).await.map(Json)
}

/// `POST /api/v1/admin/webhooks`: an endpoint; the answer is the only time its signing
/// secret is shown.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "admin", request_body = NewWebhookEndpoint,
    responses((status = 201, body = CreatedWebhookEndpoint), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<NewWebhookEndpoint>,
) -> Result<(StatusCode, Json<CreatedWebhookEndpoint>), AppError> {
    let created = webhooks::create(&state, &who, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/admin/webhooks/{id}`: nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    webhooks::delete(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/webhooks/{id}/deliveries`: the endpoint's latest deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<WebhookDelivery>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDelivery>>, AppError> {
    webhooks::deliveries(&state, &who, &id).await.map(Json)
}

/// `POST /api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry`: send it again now.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "admin",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = WebhookDelivery), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn send_again(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Json<WebhookDelivery>, AppError> {
    webhooks::send_again(&state, &who, &id, &delivery_id)
        .await
        .map(Json)
}

/// Webhook endpoints and their deliveries.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
        .routes(routes!(deliveries))
        .routes(routes!(send_again))
}
