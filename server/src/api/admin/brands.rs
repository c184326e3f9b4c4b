//! Brands ("SalesIQ settings", SPEC §2.4) over HTTP: each with the payments assigned to
//! it and the website origins allowed to embed its widget (the widget page's
//! `frame-ancestors`). A payment moves to another brand through its `PATCH`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{Brand, BrandPatch, NewBrand};

use super::AdminAuth;
use crate::api::ApiJson;
use crate::domain::settings;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `GET /api/v1/admin/brands`: brands with their payments.
#[utoipa::path(get, path = "/api/v1/admin/brands", tag = "admin",
    responses((status = 200, body = Vec<Brand>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Brand>>, AppError> {
    settings::brands(&state, None).await.map(Json)
}

/// `POST /api/v1/admin/brands`: adds a brand. Every admin works for it at once, so its
/// conversations reach their consoles; operators are assigned separately.
#[utoipa::path(post, path = "/api/v1/admin/brands", tag = "admin", request_body = NewBrand,
    responses((status = 201, body = Brand), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<NewBrand>,
) -> Result<(StatusCode, Json<Brand>), AppError> {
    let brand = settings::add_brand(&state, &who, &input).await?;
    Ok((StatusCode::CREATED, Json(brand)))
}

/// `PATCH /api/v1/admin/brands/{id}`: renames a brand or changes its allowed origins.
#[utoipa::path(patch, path = "/api/v1/admin/brands/{id}", tag = "admin", request_body = BrandPatch,
    params(("id" = String, Path)),
    responses((status = 200, body = Brand), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<BrandPatch>,
) -> Result<Json<Brand>, AppError> {
    settings::change_brand(&state, &who, &id, &patch)
        .await
        .map(Json)
}

/// Brands: list, create, edit.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update))
}
