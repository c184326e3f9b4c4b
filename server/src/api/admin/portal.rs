//! The payment portal (SPEC §2.1): connect one, see who connected it, disconnect it.
//! A business location (country) suggests the currency (ISO 4217, `iso_currency`) and
//! the time zone (IANA, the tz database's `zone1970.tab` through `timezone-data`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use paycard_core::api::{ConnectedBy, Portal, PortalDefaults, PortalInput};
use paycard_core::money::{countries, is_country};
use paycard_core::validation::{validate_portal, FieldError, Problem};
use paycard_core::Currency;
use serde::Deserialize;

use super::AdminAuth;
use crate::api::ApiJson;
use crate::error::AppError;
use crate::secrets::{new_id, now};
use crate::AppState;

/// Whether `name` is an IANA time zone (canonical or link).
pub fn is_time_zone(name: &str) -> bool {
    // `load` is a binary search of the sorted names; it reads "" as UTC, hence the guard.
    !name.is_empty() && timezone_data::load(name).is_ok()
}

/// A zone of `zone1970.tab` with its comment and its countries, first the principal.
struct TabZone {
    name: &'static str,
    commentary: &'static str,
    countries: Vec<&'static str>,
}

/// The table, read once: the crate scans its text for every `meta` call, and a
/// country's zones need all of them.
static ZONE_TABLE: std::sync::LazyLock<Vec<TabZone>> = std::sync::LazyLock::new(|| {
    timezone_data::names()
        .filter_map(|name| {
            let meta = timezone_data::meta(name)?;
            Some(TabZone {
                name,
                commentary: meta.commentary,
                countries: meta.countries().map(|c| c.code).collect(),
            })
        })
        .collect()
});

/// The principal zone of the large countries whose several zones' commentary in
/// `zone1970.tab` does not single one out (the US has four zones "most areas" of
/// something). A business there most likely keeps its capital's or main market's
/// hours; the admin can pick another.
const PRINCIPAL_ZONE: &[(&str, &str)] = &[
    ("AR", "America/Argentina/Buenos_Aires"),
    ("AU", "Australia/Sydney"),
    ("BR", "America/Sao_Paulo"),
    ("CA", "America/Toronto"),
    ("MX", "America/Mexico_City"),
    ("RU", "Europe/Moscow"),
    ("US", "America/New_York"),
    ("UZ", "Asia/Tashkent"),
];

/// The IANA zones that cover `country`, the principal one first.
///
/// `zone1970.tab` lists a country's zones most populous first, but the crate does not
/// keep that order; its commentary does say which zone covers "most" of a country or its
/// "mainland", which picks the principal zone of most countries with several, and
/// [`PRINCIPAL_ZONE`] names it for the rest.
pub fn country_time_zones(country: &str) -> Vec<String> {
    let mut own = Vec::new(); // zones whose first country is this one
    let mut shared = Vec::new(); // zones shared with a neighbour (Europe/Berlin for NO)
    for zone in ZONE_TABLE.iter() {
        match zone.countries.first() {
            Some(first) if *first == country => own.push((zone.name, zone.commentary)),
            Some(_) if zone.countries.contains(&country) => {
                shared.push((zone.name, zone.commentary))
            }
            _ => {}
        }
    }
    let principal_hint = |commentary: &str| {
        let c = commentary.to_ascii_lowercase();
        c.contains("most") || c.contains("mainland")
    };
    let named = PRINCIPAL_ZONE
        .iter()
        .find(|(code, _)| *code == country)
        .and_then(|(_, zone)| own.iter().position(|(name, _)| name == zone));
    let principal = named
        .or_else(|| own.iter().position(|(_, c)| principal_hint(c)))
        .or((!own.is_empty()).then_some(0));
    let mut zones: Vec<String> = Vec::new();
    if let Some(i) = principal {
        zones.push(own[i].0.to_owned());
    }
    for (name, _) in own.iter().chain(shared.iter()) {
        if !zones.iter().any(|z| z == name) {
            zones.push((*name).to_owned());
        }
    }
    zones
}

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
    let country = query.country;
    if country.is_empty() {
        return Err(AppError::Validation(vec![FieldError::new(
            "country",
            Problem::Required,
        )]));
    }
    if !is_country(&country) {
        return Err(AppError::Validation(vec![FieldError::new(
            "country",
            Problem::NotFound,
        )]));
    }
    let time_zones = country_time_zones(&country);
    Ok(Json(PortalDefaults {
        currency: Currency::for_country(&country).map(|c| c.code().to_owned()),
        time_zone: time_zones.first().cloned(),
        time_zones,
        country,
    }))
}

#[derive(sqlx::FromRow)]
struct PortalRow {
    id: String,
    name: String,
    country: String,
    currency: String,
    time_zone: String,
    edition: String,
    connected_name: Option<String>,
    connected_email: Option<String>,
    connected_at: Option<String>,
}

impl From<PortalRow> for Portal {
    fn from(r: PortalRow) -> Portal {
        let connected_by = r
            .connected_name
            .zip(r.connected_email)
            .map(|(name, email)| ConnectedBy { name, email });
        Portal {
            id: r.id,
            name: r.name,
            country: r.country,
            currency: r.currency,
            time_zone: r.time_zone,
            edition: r.edition,
            connected_by,
            connected_at: r.connected_at,
        }
    }
}

const PORTAL_SELECT: &str = "SELECT p.id, p.name, p.country, p.currency, p.time_zone, p.edition,
        a.name AS connected_name, a.email AS connected_email, c.connected_at
     FROM portals p
     LEFT JOIN portal_connection c ON c.portal_id = p.id
     LEFT JOIN accounts a ON a.id = c.connected_by";

/// The connected portal, if any.
pub async fn connected(state: &AppState) -> Result<Option<Portal>, AppError> {
    let row: Option<PortalRow> = sqlx::query_as(&format!("{PORTAL_SELECT} WHERE c.singleton = 1"))
        .fetch_optional(&state.db)
        .await?;
    Ok(row.map(Portal::from))
}

/// The connected portal, or the 409 that says one is needed first.
pub async fn require_connected(state: &AppState) -> Result<Portal, AppError> {
    connected(state).await?.ok_or(AppError::Conflict {
        code: "no_portal",
        message: "connect a payment portal first".into(),
    })
}

/// `GET /api/v1/admin/portal`: the connected portal and who connected it; 404 if none.
#[utoipa::path(get, path = "/api/v1/admin/portal", tag = "admin",
    responses((status = 200, body = Portal), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_portal(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Portal>, AppError> {
    connected(&state)
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
    let rows: Vec<PortalRow> =
        sqlx::query_as(&format!("{PORTAL_SELECT} ORDER BY p.name COLLATE NOCASE"))
            .fetch_all(&state.db)
            .await?;
    Ok(Json(rows.into_iter().map(Portal::from).collect()))
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
    let valid = validate_portal(&input, is_country, is_time_zone).map_err(AppError::Validation)?;
    let now = now();
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let id: String = sqlx::query_scalar(
        "INSERT INTO portals (id, name, country, currency, time_zone, edition, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET country = excluded.country, currency = excluded.currency,
             time_zone = excluded.time_zone, edition = excluded.edition, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(new_id("ptl"))
    .bind(&valid.name)
    .bind(&valid.country)
    .bind(valid.currency.code())
    .bind(&valid.time_zone)
    .bind(valid.edition.as_str())
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO portal_connection (singleton, portal_id, connected_by, connected_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (singleton) DO UPDATE SET portal_id = excluded.portal_id,
             connected_by = CASE WHEN portal_connection.portal_id = excluded.portal_id
                                 THEN portal_connection.connected_by ELSE excluded.connected_by END,
             connected_at = CASE WHEN portal_connection.portal_id = excluded.portal_id
                                 THEN portal_connection.connected_at ELSE excluded.connected_at END",
    )
    .bind(&id)
    .bind(&who.account.id)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(portal = %id, by = %who.account.email, "portal connected");
    connected(&state)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::Internal("the portal just connected is gone".into()))
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
    let gone = sqlx::query("DELETE FROM portal_connection")
        .execute(&state.db)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound("portal"));
    }
    tracing::info!(by = %who.account.email, "portal disconnected");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/countries`: ISO 3166-1 countries, for the business location.
#[utoipa::path(get, path = "/api/v1/admin/countries", tag = "admin",
    responses((status = 200, body = Vec<paycard_core::api::CountryOption>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_countries(_admin: AdminAuth) -> Json<Vec<paycard_core::api::CountryOption>> {
    Json(
        countries()
            .into_iter()
            .map(|(code, name)| paycard_core::api::CountryOption {
                code: code.to_owned(),
                name: name.to_owned(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_gives_its_zones_principal_first() {
        assert_eq!(country_time_zones("ES")[0], "Europe/Madrid");
        assert!(country_time_zones("ES").contains(&"Atlantic/Canary".to_owned()));
        assert_eq!(country_time_zones("US")[0], "America/New_York");
        for (country, zone) in PRINCIPAL_ZONE {
            assert_eq!(&country_time_zones(country)[0], zone, "{country}");
        }
        assert_eq!(country_time_zones("DE")[0], "Europe/Berlin");
        assert_eq!(country_time_zones("JP"), vec!["Asia/Tokyo"]);
        // Norway shares Berlin's zone in zone1970.tab.
        assert!(country_time_zones("NO").contains(&"Europe/Berlin".to_owned()));
        assert!(country_time_zones("ZZ").is_empty());
        assert!(is_time_zone("Europe/Madrid") && is_time_zone("UTC"));
        assert!(!is_time_zone("Mars/Olympus") && !is_time_zone(""));
    }
}
