//! Brands ("SalesIQ settings", SPEC §2.4): each with the payments assigned to it and
//! the website origins allowed to embed its widget (the widget page's
//! `frame-ancestors`). A payment moves to another brand through its `PATCH`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{Brand, BrandPatch, NewBrand, Payment};
use paycard_core::validation::validate_brand;

use super::AdminAuth;
use crate::api::chat::{PaymentRow, PAYMENT_COLUMNS};
use crate::api::ApiJson;
use crate::error::AppError;
use crate::secrets::now;
use crate::AppState;

#[derive(sqlx::FromRow)]
struct BrandRow {
    id: String,
    name: String,
    allowed_origins: String,
}

/// Every brand (or just `only`) with its payments, active or not.
async fn brands(state: &AppState, only: Option<&str>) -> Result<Vec<Brand>, AppError> {
    let rows: Vec<BrandRow> = sqlx::query_as(
        "SELECT id, name, allowed_origins FROM brands WHERE ?1 IS NULL OR id = ?1 ORDER BY name COLLATE NOCASE, id",
    )
    .bind(only)
    .fetch_all(&state.db)
    .await?;
    let payments: Vec<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE (?1 IS NULL OR brand_id = ?1) AND deleted_at IS NULL
         ORDER BY title COLLATE NOCASE, id"
    ))
    .bind(only)
    .fetch_all(&state.db)
    .await?;
    let mut by_brand: BTreeMap<String, Vec<Payment>> = BTreeMap::new();
    for row in payments {
        let payment = row.into_api()?;
        by_brand
            .entry(payment.brand_id.clone())
            .or_default()
            .push(payment);
    }
    Ok(rows
        .into_iter()
        .map(|r| Brand {
            allowed_origins: serde_json::from_str(&r.allowed_origins).unwrap_or_default(),
            payments: by_brand.remove(&r.id).unwrap_or_default(),
            embed_tag: format!(
                "<script src=\"{}/widget.js\" data-brand=\"{}\" async></script>",
                state.public_url, r.id
            ),
            id: r.id,
            name: r.name,
        })
        .collect())
}

async fn one(state: &AppState, id: &str) -> Result<Brand, AppError> {
    brands(state, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound("brand"))
}

/// `GET /api/v1/admin/brands`: brands with their payments.
#[utoipa::path(get, path = "/api/v1/admin/brands", tag = "admin",
    responses((status = 200, body = Vec<Brand>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Brand>>, AppError> {
    brands(&state, None).await.map(Json)
}

/// `POST /api/v1/admin/brands`: a new brand. Every admin works for it at once, so its
/// conversations reach their consoles; operators are assigned separately.
#[utoipa::path(post, path = "/api/v1/admin/brands", tag = "admin", request_body = NewBrand,
    responses((status = 201, body = Brand), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<NewBrand>,
) -> Result<(StatusCode, Json<Brand>), AppError> {
    let id = input.id.trim().to_owned();
    let (name, origins) =
        validate_brand(Some(&id), Some(&input.name), Some(&input.allowed_origins))
            .map_err(AppError::Validation)?;
    let origins = serde_json::to_string(&origins.unwrap_or_default())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let inserted = sqlx::query(
        "INSERT INTO brands (id, name, allowed_origins, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(name.unwrap_or_default())
    .bind(&origins)
    .bind(now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Conflict {
            code: "brand_exists",
            message: format!("a brand with id {id:?} exists"),
        });
    }
    sqlx::query(
        "INSERT INTO account_brands (account_id, brand_id) SELECT id, ? FROM accounts WHERE role = 'admin'
         ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(brand = %id, by = %who.account.email, "brand added");
    Ok((StatusCode::CREATED, Json(one(&state, &id).await?)))
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
    let (name, origins) = validate_brand(
        None,
        patch.name.as_deref(),
        patch.allowed_origins.as_deref(),
    )
    .map_err(AppError::Validation)?;
    let origins = origins
        .map(|o| serde_json::to_string(&o))
        .transpose()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let changed = sqlx::query(
        "UPDATE brands SET name = COALESCE(?, name), allowed_origins = COALESCE(?, allowed_origins) WHERE id = ?",
    )
    .bind(name)
    .bind(origins)
    .bind(&id)
    .execute(&state.db)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound("brand"));
    }
    tracing::info!(brand = %id, by = %who.account.email, "brand changed");
    one(&state, &id).await.map(Json)
}
