//! Refunds over HTTP (SPEC §8.3), for admins of the card's brand.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use paycard_core::api::{NewRefund, Refund};

use super::AdminAuth;
use crate::api::cards::idempotency_key;
use crate::api::ApiJson;
use crate::domain::refunds;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `POST /api/v1/admin/cards/{id}/refunds`: gives back `amount_minor` of a paid card, or
/// all that is left. A repeated `Idempotency-Key` answers the same refund again.
#[utoipa::path(post, path = "/api/v1/admin/cards/{id}/refunds", tag = "admin", request_body = NewRefund,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, nullable = false, max_length = 255,
        pattern = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$", description = "a retried request with the same key refunds once")),
    responses((status = 201, body = Refund), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewRefund>,
) -> Result<(StatusCode, Json<Refund>), AppError> {
    let key = idempotency_key(&headers)?;
    let refund = refunds::refund(&state, &who, &id, &input, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(refund)))
}

/// `GET /api/v1/admin/cards/{id}/refunds`: the card's refunds, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/cards/{id}/refunds", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Refund>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<Refund>>, AppError> {
    refunds::list(&state, &who, &id).await.map(Json)
}

/// A card's refunds: ask for one, list them.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list))
}
