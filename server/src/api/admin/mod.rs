//! Admin settings (SPEC §2.1–2.4 and the admin rows of §4). Every endpoint here is for
//! admins only: an operator gets 403, a stranger 401.
//!
//! - [`portal`]: connect, show and disconnect the payment portal; country defaults.
//! - [`gateways`]: the edition's gateway kinds; gateways with encrypted credentials.
//! - [`payments`]: the payments (products and services) of every brand.
//! - [`brands`]: brands, their payments, and the origins allowed to embed them.
//! - [`api_keys`], [`webhooks`], [`mail`], [`refunds`]: after the payment (SPEC §8.3–§8.5).
//! - [`reports`]: totals, outcomes and the cards of a range of days (SPEC §8.6).

pub mod api_keys;
pub mod brands;
pub mod gateways;
pub mod mail;
pub mod payments;
pub mod portal;
pub mod refunds;
pub mod reports;
pub mod webhooks;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::domain::accounts::OperatorAuth;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every admin endpoint, as each module declares it.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(portal::routes())
        .merge(gateways::routes())
        .merge(payments::routes())
        .merge(brands::routes())
        .merge(api_keys::routes())
        .merge(refunds::routes())
        .merge(webhooks::routes())
        .merge(mail::routes())
        .merge(reports::routes())
}

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub OperatorAuth);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let who = OperatorAuth::from_request_parts(parts, state).await?;
        if who.is_admin() {
            Ok(AdminAuth(who))
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The request's language, for labels the API writes itself.
fn locale(headers: &axum::http::HeaderMap) -> paycard_core::Locale {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(paycard_core::Locale::from_accept_language)
        .unwrap_or_default()
}
