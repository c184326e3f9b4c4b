//! Payment gateways (SPEC §2.2) over HTTP: the kinds the connected portal's edition
//! offers, and the gateways configured in it. Credentials are never returned: a response
//! shows them masked.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use paycard_core::api::{Gateway, GatewayCheck, GatewayKindInfo, NewGateway};

use super::{locale, AdminAuth};
use crate::api::ApiJson;
use crate::domain::settings;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `GET /api/v1/admin/gateway-kinds`: what Add offers, with each kind's credential form.
#[utoipa::path(get, path = "/api/v1/admin/gateway-kinds", tag = "admin",
    responses((status = 200, body = Vec<GatewayKindInfo>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::Conflict),
    security(("bearer" = []), ("session" = [])))]
pub async fn kinds(
    State(state): State<AppState>,
    _admin: AdminAuth,
    headers: HeaderMap,
) -> Result<Json<Vec<GatewayKindInfo>>, AppError> {
    settings::gateway_kinds(&state, locale(&headers))
        .await
        .map(Json)
}

/// `GET /api/v1/admin/gateways`: the connected portal's gateways, credentials masked.
#[utoipa::path(get, path = "/api/v1/admin/gateways", tag = "admin",
    responses((status = 200, body = Vec<Gateway>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Gateway>>, AppError> {
    settings::gateways(&state).await.map(Json)
}

/// `POST /api/v1/admin/gateways`: adds a gateway of a kind the edition offers.
#[utoipa::path(post, path = "/api/v1/admin/gateways", tag = "admin", request_body = NewGateway,
    responses((status = 201, body = Gateway), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<NewGateway>,
) -> Result<(StatusCode, Json<Gateway>), AppError> {
    let gateway = settings::add_gateway(&state, &who, &input).await?;
    Ok((StatusCode::CREATED, Json(gateway)))
}

/// `PUT /api/v1/admin/gateways/{id}`: replaces a gateway's credentials. The body names
/// the gateway's kind (409 `gateway_kind_mismatch` if it is another).
#[utoipa::path(put, path = "/api/v1/admin/gateways/{id}", tag = "admin", request_body = NewGateway,
    params(("id" = String, Path)),
    responses((status = 200, body = Gateway), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::Conflict, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewGateway>,
) -> Result<Json<Gateway>, AppError> {
    settings::replace_gateway(&state, &who, &id, &input)
        .await
        .map(Json)
}

/// `DELETE /api/v1/admin/gateways/{id}`: removes a gateway and its credentials; 409
/// `gateway_in_use` while payments are under way through it.
#[utoipa::path(delete, path = "/api/v1/admin/gateways/{id}", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 204, description = "removed"), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound, crate::api::doc::Conflict),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    settings::remove_gateway(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/gateways/{id}/check`: asks the gateway now whether it takes the
/// stored credentials (an authenticated read that changes nothing there). The answer
/// says accepted, rejected (with the gateway's words) or unreachable.
#[utoipa::path(post, path = "/api/v1/admin/gateways/{id}/check", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = GatewayCheck), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn check(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Json<GatewayCheck>, AppError> {
    settings::check_gateway(&state, &id).await.map(Json)
}

/// The gateway kinds; gateways: list, add, replace, remove, check.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kinds))
        .routes(routes!(list, create))
        .routes(routes!(replace, delete))
        .routes(routes!(check))
}
