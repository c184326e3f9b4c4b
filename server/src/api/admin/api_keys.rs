//! API keys over HTTP (SPEC §8.5): an admin makes, lists and deletes the keys bots and
//! integrations use as bearer tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{ApiKey, CreatedApiKey, NewApiKey};

use super::AdminAuth;
use crate::api::ApiJson;
use crate::domain::api_keys;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `GET /api/v1/admin/api-keys`: the keys working for the admin's brands, oldest first
/// (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "admin",
    responses((status = 200, body = Vec<ApiKey>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
) -> Result<Json<Vec<ApiKey>>, AppError> {
    api_keys::list(&state, &who).await.map(Json)
}

/// `POST /api/v1/admin/api-keys`: a key for these brands; the answer is the only time
/// the key is shown.
#[utoipa::path(post, path = "/api/v1/admin/api-keys", tag = "admin", request_body = NewApiKey,
    responses((status = 201, body = CreatedApiKey), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let key = api_keys::create(&state, &who, &input).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// `DELETE /api/v1/admin/api-keys/{id}`: the key stops working at once.
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    api_keys::delete(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The brand API keys: list, create, revoke.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}
