//! Reports over HTTP (SPEC §8.6), for admins, about their own brands.

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{ReportCardPage, ReportSummary};
use paycard_core::CardStatus;
use serde::Deserialize;

use super::AdminAuth;
use crate::domain::reports::{self, CARDS_PAGE_DEFAULT, CARDS_PAGE_MAX};
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// The first day, `YYYY-MM-DD` in the portal's time zone (default: 29 days before `to`).
    #[param(format = Date)]
    from: Option<String>,
    /// The last day, included (default: today). At most 366 days after `from`.
    #[param(format = Date)]
    to: Option<String>,
    /// One brand of the admin's; all of them when absent.
    brand_id: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardsQuery {
    #[param(format = Date)]
    from: Option<String>,
    #[param(format = Date)]
    to: Option<String>,
    brand_id: Option<String>,
    /// Only the cards in this status now.
    #[param(schema_with = paycard_core::schema::card_status)]
    status: Option<CardStatus>,
    /// `csv` for every card of the range as a CSV file (no pages); JSON pages otherwise.
    #[param(inline)]
    format: Option<Format>,
    /// Cards per JSON page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "paycard_core::whole::query_option")]
    limit: Option<u32>,
    /// The previous page's `next`.
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/[A-Za-z0-9_]{1,64}$"
    )]
    before: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Format {
    Json,
    Csv,
}

/// `GET /api/v1/admin/reports/summary`: paid, refunded and net per currency, counts by
/// outcome, conversion and paid money per day, for the cards shared in the range.
#[utoipa::path(get, path = "/api/v1/admin/reports/summary", tag = "admin", params(SummaryQuery),
    responses((status = 200, body = ReportSummary), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<ReportSummary>, AppError> {
    let scope = reports::scope(
        &state,
        &admin,
        query.from.as_deref(),
        query.to.as_deref(),
        query.brand_id.as_deref(),
    )
    .await?;
    reports::summary(&state, &admin, scope).await.map(Json)
}

/// `GET /api/v1/admin/reports/cards`: the cards shared in the range with their outcome,
/// payer email and refunds, newest first: JSON pages, or all of them as CSV.
#[utoipa::path(get, path = "/api/v1/admin/reports/cards", tag = "admin", params(CardsQuery),
    responses((status = 200, description = "the cards", content((ReportCardPage = "application/json"), (String = "text/csv"))),
        crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn cards(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Query(query): Query<CardsQuery>,
) -> Result<Response, AppError> {
    let limit = query.limit.unwrap_or(CARDS_PAGE_DEFAULT);
    if !(1..=CARDS_PAGE_MAX).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_limit",
            message: format!("limit must be 1 to {CARDS_PAGE_MAX}"),
        });
    }
    let scope = reports::scope(
        &state,
        &admin,
        query.from.as_deref(),
        query.to.as_deref(),
        query.brand_id.as_deref(),
    )
    .await?;
    let cards = reports::cards(&state, &admin, &scope, query.status).await?;
    if query.format == Some(Format::Csv) {
        let body = reports::to_csv(&cards)?;
        let name = format!(
            "attachment; filename=\"paycard-cards-{}-{}.csv\"",
            scope.from, scope.to
        );
        return Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, name),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(reports::page(cards, query.before.as_deref(), limit)?).into_response())
}

/// Reports: the summary and the cards of a range of days.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(cards))
}
