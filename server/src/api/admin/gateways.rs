//! Payment gateways (SPEC §2.2): the kinds the connected portal's edition offers, and
//! the gateways configured in it. Credentials are checked for shape by the shared rules,
//! sealed by the [`Vault`](crate::vault::Vault) before they touch the database, and
//! never returned: a response shows them masked.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use paycard_core::api::{Gateway, GatewayFieldInfo, GatewayKindInfo, NewGateway};
use paycard_core::gateways::{
    gateway_kind, mask, offered_kinds, validate_credentials, Edition, GatewayKind,
};
use paycard_core::validation::{FieldError, Problem};

use super::portal::require_connected;
use super::{locale, AdminAuth};
use crate::api::ApiJson;
use crate::error::AppError;
use crate::secrets::{new_id, now};
use crate::AppState;

fn edition_of(portal: &paycard_core::api::Portal) -> Result<Edition, AppError> {
    Edition::parse(&portal.edition)
        .ok_or_else(|| AppError::Internal(format!("portal edition {:?}", portal.edition)))
}

/// `GET /api/v1/admin/gateway-kinds`: what Add offers, with each kind's credential form.
#[utoipa::path(get, path = "/api/v1/admin/gateway-kinds", tag = "admin",
    responses((status = 200, body = Vec<GatewayKindInfo>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden, crate::api::doc::Conflict),
    security(("bearer" = []), ("session" = [])))]
pub async fn kinds(
    State(state): State<AppState>,
    _admin: AdminAuth,
    headers: HeaderMap,
) -> Result<Json<Vec<GatewayKindInfo>>, AppError> {
    let portal = require_connected(&state).await?;
    let locale = locale(&headers);
    Ok(Json(
        offered_kinds(edition_of(&portal)?)
            .map(|k| GatewayKindInfo {
                kind: k.kind.to_owned(),
                name: k.name.to_owned(),
                fields: k
                    .fields
                    .iter()
                    .map(|f| GatewayFieldInfo {
                        name: f.name.to_owned(),
                        label: f.label(locale).to_owned(),
                        secret: f.secret,
                        example: f.example.to_owned(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(sqlx::FromRow)]
struct GatewayRow {
    id: String,
    kind: String,
    masked: String,
    created_at: String,
    updated_at: String,
}

impl GatewayRow {
    /// `public_url`: the server's, for the webhook URL.
    fn into_api(self, public_url: &str) -> Gateway {
        let webhook_path = (self.kind == paycard_core::gateways::STRIPE)
            .then(|| format!("/webhooks/stripe/{}", self.id));
        Gateway {
            name: gateway_kind(&self.kind)
                .map(|k| k.name.to_owned())
                .unwrap_or_else(|| self.kind.clone()),
            masked: serde_json::from_str(&self.masked).unwrap_or_default(),
            webhook_url: webhook_path
                .as_ref()
                .map(|path| format!("{public_url}{path}")),
            webhook_path,
            id: self.id,
            kind: self.kind,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The gateways configured in the connected portal (none without a portal).
pub async fn configured(state: &AppState) -> Result<Vec<Gateway>, AppError> {
    let rows: Vec<GatewayRow> = sqlx::query_as(
        "SELECT g.id, g.kind, g.masked, g.created_at, g.updated_at
         FROM gateways g JOIN portal_connection c ON c.portal_id = g.portal_id
         ORDER BY g.created_at, g.id",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| row.into_api(&state.public_url))
        .collect())
}

/// The credentials of gateway `id` (any portal), opened.
pub async fn credentials_of(
    state: &AppState,
    id: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>, AppError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT kind, credentials FROM gateways WHERE id = ?")
            .bind(id)
            .fetch_optional(&state.db)
            .await?;
    let Some((kind, sealed)) = row else {
        return Ok(None);
    };
    Ok(Some((kind, open_credentials(state, id, &sealed)?)))
}

fn open_credentials(
    state: &AppState,
    id: &str,
    sealed: &str,
) -> Result<BTreeMap<String, String>, AppError> {
    let plain = state.vault.open(sealed, id).map_err(|e| {
        AppError::Internal(format!(
            "gateway {id}: {e}; was PAYCARD_SECRET_KEY or the key file changed?"
        ))
    })?;
    serde_json::from_slice(&plain)
        .map_err(|e| AppError::Internal(format!("gateway {id}: credentials: {e}")))
}

/// Checks `credentials` for `kind` and returns (sealed, masked) for gateway `id`.
fn seal(
    state: &AppState,
    kind: &GatewayKind,
    id: &str,
    credentials: &BTreeMap<String, String>,
) -> Result<(String, String), AppError> {
    let values = validate_credentials(kind, credentials).map_err(AppError::Validation)?;
    let plain: BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let masked: BTreeMap<&str, String> = values
        .iter()
        .filter_map(|(name, value)| {
            let field = kind.fields.iter().find(|f| f.name == *name)?;
            Some((*name, mask(field, value)))
        })
        .collect();
    let plain = serde_json::to_vec(&plain).map_err(|e| AppError::Internal(e.to_string()))?;
    let masked = serde_json::to_string(&masked).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((state.vault.seal(&plain, id), masked))
}

/// `GET /api/v1/admin/gateways`: the connected portal's gateways, credentials masked.
#[utoipa::path(get, path = "/api/v1/admin/gateways", tag = "admin",
    responses((status = 200, body = Vec<Gateway>), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Gateway>>, AppError> {
    configured(&state).await.map(Json)
}

/// A kind that works, as the request names it; else a field error (the schema lists the
/// kinds).
fn known_kind(name: &str) -> Result<&'static GatewayKind, AppError> {
    gateway_kind(name).filter(|k| k.works).ok_or_else(|| {
        let problem = if name.is_empty() {
            Problem::Required
        } else {
            Problem::NotFound
        };
        AppError::Validation(vec![FieldError::new("kind", problem)])
    })
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
    let portal = require_connected(&state).await?;
    let kind = known_kind(&input.kind)?;
    let edition = edition_of(&portal)?;
    if !offered_kinds(edition).any(|k| k.kind == kind.kind) {
        return Err(AppError::Conflict {
            code: "gateway_not_offered",
            message: format!(
                "the {} edition of the portal does not offer {}",
                edition.as_str(),
                kind.name
            ),
        });
    }
    let id = new_id("gw");
    let (sealed, masked) = seal(&state, kind, &id, &input.credentials)?;
    let now = now();
    let inserted = sqlx::query(
        "INSERT INTO gateways (id, portal_id, kind, credentials, masked, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (portal_id, kind) DO NOTHING",
    )
    .bind(&id)
    .bind(&portal.id)
    .bind(kind.kind)
    .bind(&sealed)
    .bind(&masked)
    .bind(&now)
    .bind(&now)
    .execute(&state.db)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Conflict {
            code: "gateway_exists",
            message: format!(
                "{} is already configured; replace its credentials instead",
                kind.name
            ),
        });
    }
    tracing::info!(gateway = %id, kind = kind.kind, by = %who.account.email, "gateway added");
    let gateway = configured(&state)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| AppError::Internal("the gateway just added is gone".into()))?;
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
    let named = known_kind(&input.kind)?;
    let kind_name: Option<String> = sqlx::query_scalar(
        "SELECT g.kind FROM gateways g JOIN portal_connection c ON c.portal_id = g.portal_id WHERE g.id = ?",
    )
        .bind(&id)
        .fetch_optional(&state.db)
        .await?;
    let kind = kind_name
        .as_deref()
        .and_then(gateway_kind)
        .ok_or(AppError::NotFound("gateway"))?;
    if kind.kind != named.kind {
        return Err(AppError::Conflict {
            code: "gateway_kind_mismatch",
            message: format!("this gateway is {}, not {}", kind.name, named.name),
        });
    }
    let (sealed, masked) = seal(&state, kind, &id, &input.credentials)?;
    sqlx::query("UPDATE gateways SET credentials = ?, masked = ?, updated_at = ? WHERE id = ?")
        .bind(&sealed)
        .bind(&masked)
        .bind(now())
        .bind(&id)
        .execute(&state.db)
        .await?;
    tracing::info!(gateway = %id, by = %who.account.email, "gateway credentials replaced");
    configured(&state)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .map(Json)
        .ok_or(AppError::NotFound("gateway"))
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
    // A gateway with payments under way (a visitor on its page, a payment it has yet
    // to confirm) stays: without it they could neither be closed nor settled.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let in_use: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gateway_sessions s WHERE s.gateway_id = ?
           AND (s.status IN ('creating', 'open')
                OR (s.status = 'complete'
                    AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = s.attempt_id AND a.status <> 'pending'))))",
    )
    .bind(&id)
    .fetch_one(&mut *tx)
    .await?;
    if in_use {
        return Err(AppError::Conflict {
            code: "gateway_in_use",
            message: "payments are under way through this gateway; remove it once they have ended"
                .into(),
        });
    }
    let gone = sqlx::query("DELETE FROM gateways WHERE id = ?")
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound("gateway"));
    }
    tx.commit().await?;
    tracing::info!(gateway = %id, by = %who.account.email, "gateway removed");
    Ok(StatusCode::NO_CONTENT)
}
