//! Whether receipts can go out (SPEC §8.4), for the console's settings.

use axum::extract::State;
use axum::Json;
use paycard_core::api::MailStatus;

use super::AdminAuth;
use crate::domain::mail;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// `GET /api/v1/admin/mail`: mail configured or not, the outbox, the last error.
#[utoipa::path(get, path = "/api/v1/admin/mail", tag = "admin",
    responses((status = 200, body = MailStatus), crate::api::doc::Unauthorized, crate::api::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn status(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
) -> Result<Json<MailStatus>, AppError> {
    mail::status(&state).await.map(Json)
}

/// The receipts' mail status.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}
