//! Payments, the products and services an admin defines (SPEC §2.3). Every write is
//! checked by the shared rules (`paycard_core::validation`) and recorded as a `payment`
//! event for the brands it touches, so open Payments pickers follow at once.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{NewPayment, Payment, PaymentEvent, PaymentPatch};
use paycard_core::validation::{validate_payment, PaymentDraft, ValidPayment};
use serde::Deserialize;

use super::AdminAuth;
use crate::api::chat::{PaymentRow, PAYMENT_COLUMNS};
use crate::api::live::{record_for_brand, EventKind};
use crate::api::ApiJson;
use crate::error::AppError;
use crate::secrets::{new_id, now};
use crate::AppState;

#[derive(Deserialize)]
pub struct ListQuery {
    brand_id: Option<String>,
}

async fn load(conn: &mut sqlx::SqliteConnection, id: &str) -> Result<Payment, AppError> {
    let row: Option<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ? AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or(AppError::NotFound("payment"))?.into_api()
}

/// The shared rules (400 with every field error), then the one they cannot know: the
/// brand must exist (404 for a well-formed id of no brand).
async fn validate(
    conn: &mut sqlx::SqliteConnection,
    draft: &PaymentDraft,
) -> Result<ValidPayment, AppError> {
    let valid = validate_payment(draft).map_err(AppError::Validation)?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM brands WHERE id = ?)")
        .bind(&valid.brand_id)
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        Ok(valid)
    } else {
        Err(AppError::NotFound("brand"))
    }
}

/// Writes a checked payment as `id`, active; one that exists with that id is kept (the
/// demo seed runs at every start and must not undo an admin's edits).
pub async fn insert_payment(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    valid: &ValidPayment,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (id, brand_id, title, description, amount_minor, currency, recurrence_interval, recurrence_count, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&valid.brand_id)
    .bind(&valid.title)
    .bind(&valid.description)
    .bind(valid.amount_minor)
    .bind(valid.currency.code())
    .bind(valid.recurrence.map(|r| r.interval.as_str()))
    .bind(valid.recurrence.map(|r| r.count))
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records `payment` for each brand that must hear of it.
async fn announce(
    conn: &mut sqlx::SqliteConnection,
    payment: &Payment,
    brands: &[&str],
) -> Result<i64, AppError> {
    let mut seq = 0;
    let event = PaymentEvent {
        payment: payment.clone(),
    };
    for brand in brands {
        seq = record_for_brand(conn, brand, EventKind::Payment, &event).await?;
    }
    Ok(seq)
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
    let rows: Vec<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE (?1 IS NULL OR brand_id = ?1) AND deleted_at IS NULL
         ORDER BY brand_id, title COLLATE NOCASE, id"
    ))
    .bind(query.brand_id.as_deref().map(str::trim))
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(PaymentRow::into_api)
        .collect::<Result<_, _>>()
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
    let mut conn = state.db.acquire().await?;
    load(&mut conn, &id).await.map(Json)
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
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let valid = validate(&mut tx, &draft).await?;
    let id = new_id("pay");
    let now = now();
    insert_payment(&mut tx, &id, &valid, &now).await?;
    let payment = load(&mut tx, &id).await?;
    let seq = announce(&mut tx, &payment, &[&payment.brand_id]).await?;
    tx.commit().await?;
    state.live.published(seq);
    tracing::info!(payment = %id, brand = %payment.brand_id, by = %who.account.email, "payment added");
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
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let before = load(&mut tx, &id).await?;
    let draft = PaymentDraft {
        brand_id: patch
            .brand_id
            .clone()
            .unwrap_or_else(|| before.brand_id.clone()),
        title: patch.title.clone().unwrap_or_else(|| before.title.clone()),
        description: patch
            .description
            .clone()
            .unwrap_or_else(|| before.description.clone()),
        amount_minor: patch.amount_minor.unwrap_or(before.amount_minor),
        currency: patch
            .currency
            .clone()
            .unwrap_or_else(|| before.currency.code().to_owned()),
        recurrence: patch.recurrence.unwrap_or(before.recurrence),
    };
    let valid = validate(&mut tx, &draft).await?;
    sqlx::query(
        "UPDATE payments SET brand_id = ?, title = ?, description = ?, amount_minor = ?, currency = ?,
             recurrence_interval = ?, recurrence_count = ?, active = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&valid.brand_id)
    .bind(&valid.title)
    .bind(&valid.description)
    .bind(valid.amount_minor)
    .bind(valid.currency.code())
    .bind(valid.recurrence.map(|r| r.interval.as_str()))
    .bind(valid.recurrence.map(|r| r.count))
    .bind(patch.active.unwrap_or(before.active))
    .bind(now())
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    let payment = load(&mut tx, &id).await?;
    // A move tells both brands: the old one's pickers drop it, the new one's show it.
    let mut brands = vec![payment.brand_id.as_str()];
    if before.brand_id != payment.brand_id {
        brands.push(before.brand_id.as_str());
    }
    let seq = announce(&mut tx, &payment, &brands).await?;
    tx.commit().await?;
    state.live.published(seq);
    tracing::info!(payment = %id, by = %who.account.email, "payment changed");
    Ok(Json(payment))
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
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut payment = load(&mut tx, &id).await?;
    let shared: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM cards WHERE payment_id = ?)")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
    if shared {
        let now = now();
        sqlx::query("UPDATE payments SET active = 0, deleted_at = ?, updated_at = ? WHERE id = ?")
            .bind(&now)
            .bind(&now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("DELETE FROM payments WHERE id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    }
    payment.active = false;
    let seq = announce(&mut tx, &payment, &[&payment.brand_id]).await?;
    tx.commit().await?;
    state.live.published(seq);
    if shared {
        tracing::info!(payment = %id, by = %who.account.email, "payment deleted (kept, hidden and inactive, for its cards)");
    } else {
        tracing::info!(payment = %id, by = %who.account.email, "payment deleted");
    }
    Ok(StatusCode::NO_CONTENT)
}
