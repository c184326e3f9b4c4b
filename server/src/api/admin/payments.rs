//! Payments, the products and services an admin defines (SPEC §2.3), over HTTP.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{NewPayment, Payment, PaymentPatch};
use serde::Deserialize;

use super::AdminAuth;
use crate::api::ApiJson;
use crate::domain::settings;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(Deserialize)]
pub struct ListQuery {
    brand_id: Option<String>,
}

/// `GET /api/v1/admin/payments`: every payment, active or not, by brand and title.
#[utoipa::path(get, path = "/api/v1/admin/payments", tag = "admin",
    params(("brand_id" = Option<String>, Query, description = "only this brand's")),
    responses((status = 200, body = Vec<Payment>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Payment>>, AppError> {
    settings::payments(&state, query.brand_id.as_deref())
        .await
        .map(Json)
}

/// `GET /api/v1/admin/payments/{id}`
#[utoipa::path(get, path = "/api/v1/admin/payments/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Payment), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<Payment>, AppError> {
    settings::payment(&state, &id).await.map(Json)
}

/// `POST /api/v1/admin/payments`: adds a payment to a brand.
#[utoipa::path(post, path = "/api/v1/admin/payments", tag = "admin", request_body = NewPayment,
    responses((status = 201, body = Payment), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(draft): ApiJson<NewPayment>,
) -> Result<(StatusCode, Json<Payment>), AppError> {
    let payment = settings::add_payment(&state, &who, &draft).await?;
    Ok((StatusCode::CREATED, Json(payment)))
}

/// `PATCH /api/v1/admin/payments/{id}`: changes any field, moves it to another brand,
/// (de)activates it. Cards already shared keep their snapshot.
#[utoipa::path(patch, path = "/api/v1/admin/payments/{id}", tag = "admin", request_body = PaymentPatch,
    params(("id" = String, Path)),
    responses((status = 200, body = Payment), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PaymentPatch>,
) -> Result<Json<Payment>, AppError> {
    settings::change_payment(&state, &who, &id, patch)
        .await
        .map(Json)
}

/// `DELETE /api/v1/admin/payments/{id}`: the payment is gone from the catalogue (204;
/// then 404). One never shared is deleted; one with shared cards is deactivated and
/// hidden instead, since its cards refer to it (they keep their snapshot).
#[utoipa::path(delete, path = "/api/v1/admin/payments/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    settings::delete_payment(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Payments: list, create, read, edit, remove.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}
