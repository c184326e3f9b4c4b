//! The payment portal (SPEC §2.1) over HTTP: connect one, see who connected it,
//! disconnect it; a country's defaults and the countries to pick from.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{CountryOption, Portal, PortalDefaults, PortalInput};
use paycard_core::money::countries;
use serde::Deserialize;

use super::AdminAuth;
use crate::api::ApiJson;
use crate::domain::settings;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DefaultsQuery {
    /// ISO 3166-1 alpha-2, as the countries list gives it.
    #[param(value_type = paycard_core::schema::CountryCode, inline)]
    country: String,
}

/// `GET /api/v1/admin/portal/defaults?country=ES`: the currency and time zones of a
/// business location, to fill in the setup dialog.
#[utoipa::path(get, path = "/api/v1/admin/portal/defaults", tag = "admin",
    params(DefaultsQuery),
    responses((status = 200, body = PortalDefaults), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn defaults(
    _admin: AdminAuth,
    Query(query): Query<DefaultsQuery>,
) -> Result<Json<PortalDefaults>, AppError> {
    settings::portal_defaults(query.country).map(Json)
}

/// `GET /api/v1/admin/portal`: the connected portal and who connected it; 404 if none.
#[utoipa::path(get, path = "/api/v1/admin/portal", tag = "admin",
    responses((status = 200, body = Portal), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_portal(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Portal>, AppError> {
    settings::connected_portal(&state)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("portal"))
}

/// `GET /api/v1/admin/portals`: every portal known (connected before), to pick from.
#[utoipa::path(get, path = "/api/v1/admin/portals", tag = "admin",
    responses((status = 200, body = Vec<Portal>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_portals(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Portal>>, AppError> {
    settings::portals(&state).await.map(Json)
}

/// `PUT /api/v1/admin/portal`: connects the portal of that name (its settings updated),
/// creating it if it is new. Replaces any portal connected before.
#[utoipa::path(put, path = "/api/v1/admin/portal", tag = "admin", request_body = PortalInput,
    responses((status = 200, body = Portal), crate::api::doc::BadRequest, crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn put_portal(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
    ApiJson(input): ApiJson<PortalInput>,
) -> Result<Json<Portal>, AppError> {
    settings::connect_portal(&state, &who, &input)
        .await
        .map(Json)
}

/// `DELETE /api/v1/admin/portal`: disconnects the portal. It and its gateways are kept,
/// to be picked again; payments and cards are untouched.
#[utoipa::path(delete, path = "/api/v1/admin/portal", tag = "admin",
    responses((status = 204, description = "disconnected"), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete_portal(
    State(state): State<AppState>,
    AdminAuth(who): AdminAuth,
) -> Result<StatusCode, AppError> {
    settings::disconnect_portal(&state, &who).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/countries`: ISO 3166-1 countries, for the business location.
#[utoipa::path(get, path = "/api/v1/admin/countries", tag = "admin",
    responses((status = 200, body = Vec<CountryOption>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_countries(_admin: AdminAuth) -> Json<Vec<CountryOption>> {
    Json(
        countries()
            .into_iter()
            .map(|(code, name)| CountryOption {
                code: code.to_owned(),
                name: name.to_owned(),
            })
            .collect(),
    )
}

/// The payment portal: country defaults, connect, show, disconnect; the countries.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(defaults))
        .routes(routes!(get_portal, put_portal, delete_portal))
        .routes(routes!(list_portals))
        .routes(routes!(list_countries))
}
