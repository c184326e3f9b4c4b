//! The JSON API under `/api/v1` (SPEC §4), and its OpenAPI document.
//!
//! - [`auth`]: sign-in, sessions, visitor tokens, stream tickets; the caller extractors.
//! - [`chat`]: conversations, messages, the Payments picker.
//! - [`cards`]: Share, the card, checkout links, Decline, Cancel request, attempts.
//! - [`live`]: the SSE streams (the hub behind them is `domain::live`).
//! - [`admin`]: the settings of SPEC §2.1–2.4, for admins only.

pub mod admin;
pub mod auth;
pub mod cards;
pub mod chat;
pub mod doc;
pub mod live;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

use self::doc::{Security, TimeZones};

use crate::error::AppError;
use crate::AppState;

/// Request bodies are small JSON documents; anything bigger is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `Json<T>` whose every rejection is one of our JSON errors: a wrong content type,
/// malformed JSON, a missing field or a wrong type is a 400 that says which; an
/// oversized body is a 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest {
                    code: "bad_request",
                    message: e.body_text(),
                }
            }
        })?;
        let value = match Json::<T>::from_bytes(&bytes) {
            Ok(Json(value)) => value,
            Err(JsonRejection::JsonSyntaxError(e)) => {
                return Err(AppError::BadRequest {
                    code: "malformed_json",
                    message: e.body_text(),
                })
            }
            Err(other) => {
                return Err(AppError::BadRequest {
                    code: "invalid_json",
                    message: other.body_text(),
                })
            }
        };
        // serde also reads a struct from an array, field by field (`[null, null]` for
        // an object of two optional fields): every request body here is an object.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(AppError::BadRequest {
                code: "invalid_json",
                message: "the body must be a JSON object".into(),
            });
        }
        Ok(ApiJson(value))
    }
}

/// `Content-Type: application/json`, or any `application/…+json`, parameters allowed.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route("/api/v1/stream-tickets", post(auth::stream_ticket))
        .route("/api/v1/conversations", post(chat::create_conversation))
        .route(
            "/api/v1/conversations/{id}/messages",
            get(chat::visitor_messages).post(chat::visitor_post_message),
        )
        .route(
            "/api/v1/conversations/{id}/events",
            get(live::visitor_events),
        )
        .route("/api/v1/cards/{id}", get(cards::get_card))
        .route("/api/v1/cards/{id}/checkout", post(cards::checkout))
        .route("/api/v1/cards/{id}/decline", post(cards::decline))
        .route(
            "/api/v1/operator/conversations",
            get(chat::operator_conversations),
        )
        .route(
            "/api/v1/operator/conversations/{id}/messages",
            get(chat::operator_messages).post(chat::operator_post_message),
        )
        .route(
            "/api/v1/operator/conversations/{id}/visitor",
            get(chat::visitor).patch(chat::update_visitor),
        )
        .route(
            "/api/v1/operator/conversations/{id}/read",
            post(chat::mark_read),
        )
        .route(
            "/api/v1/operator/conversations/{id}/close",
            post(chat::close),
        )
        .route(
            "/api/v1/operator/conversations/{id}/reopen",
            post(chat::reopen),
        )
        .route(
            "/api/v1/operator/conversations/{id}/payments",
            get(chat::picker),
        )
        .route(
            "/api/v1/operator/conversations/{id}/cards",
            post(cards::share),
        )
        .route("/api/v1/operator/cards/{id}/cancel", post(cards::cancel))
        .route("/api/v1/operator/cards/{id}/attempts", get(cards::attempts))
        .route("/api/v1/operator/events", get(live::operator_events))
        .route(
            "/api/v1/admin/countries",
            get(admin::portal::list_countries),
        )
        .route(
            "/api/v1/admin/portal/defaults",
            get(admin::portal::defaults),
        )
        .route(
            "/api/v1/admin/portal",
            get(admin::portal::get_portal)
                .put(admin::portal::put_portal)
                .delete(admin::portal::delete_portal),
        )
        .route("/api/v1/admin/portals", get(admin::portal::list_portals))
        .route("/api/v1/admin/gateway-kinds", get(admin::gateways::kinds))
        .route(
            "/api/v1/admin/gateways",
            get(admin::gateways::list).post(admin::gateways::create),
        )
        .route(
            "/api/v1/admin/gateways/{id}",
            put(admin::gateways::replace).delete(admin::gateways::delete),
        )
        .route(
            "/api/v1/admin/gateways/{id}/check",
            post(admin::gateways::check),
        )
        .route(
            "/api/v1/admin/payments",
            get(admin::payments::list).post(admin::payments::create),
        )
        .route(
            "/api/v1/admin/payments/{id}",
            get(admin::payments::get)
                .patch(admin::payments::update)
                .delete(admin::payments::delete),
        )
        .route(
            "/api/v1/admin/brands",
            get(admin::brands::list).post(admin::brands::create),
        )
        .route("/api/v1/admin/brands/{id}", patch(admin::brands::update))
        .route(
            "/api/v1/admin/api-keys",
            get(admin::api_keys::list).post(admin::api_keys::create),
        )
        .route(
            "/api/v1/admin/cards/{id}/refunds",
            get(admin::refunds::list).post(admin::refunds::create),
        )
        .route(
            "/api/v1/admin/api-keys/{id}",
            axum::routing::delete(admin::api_keys::delete),
        )
        .route(
            "/api/v1/admin/webhooks",
            get(admin::webhooks::list).post(admin::webhooks::create),
        )
        .route(
            "/api/v1/admin/webhooks/{id}",
            axum::routing::delete(admin::webhooks::delete),
        )
        .route(
            "/api/v1/admin/webhooks/{id}/deliveries",
            get(admin::webhooks::deliveries),
        )
        .route(
            "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
            post(admin::webhooks::send_again),
        )
        .route("/api/v1/admin/mail", get(admin::mail::status))
        .route(
            "/api/v1/admin/reports/summary",
            get(admin::reports::summary),
        )
        .route("/api/v1/admin/reports/cards", get(admin::reports::cards))
        .route("/api/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
}

/// Extractors we do not wrap (a path segment that is not valid percent-encoding, a
/// query string that does not parse) answer in plain text; the API promises JSON
/// errors everywhere, so such answers are rewritten here with their status kept.
pub(crate) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = paycard_core::api::ErrorBody {
        error: paycard_core::api::ErrorDetail {
            code: code.to_owned(),
            message: if message.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                message
            },
            fields: Vec::new(),
        },
    };
    let mut out = (status, Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

#[derive(OpenApi)]
#[openapi(
    info(title = "paycard", description = "Payments inside live chat: the HTTP contract of SPEC §4."),
    paths(
        auth::login, auth::logout, auth::me, auth::stream_ticket,
        chat::create_conversation, chat::visitor_messages, chat::visitor_post_message,
        chat::operator_conversations, chat::operator_messages, chat::operator_post_message, chat::mark_read, chat::close, chat::reopen, chat::visitor, chat::update_visitor, chat::picker,
        cards::get_card, cards::checkout, cards::decline, cards::share, cards::cancel, cards::attempts,
        live::visitor_events, live::operator_events,
        admin::portal::list_countries, admin::portal::defaults, admin::portal::get_portal,
        admin::portal::put_portal, admin::portal::delete_portal, admin::portal::list_portals,
        admin::gateways::kinds, admin::gateways::list, admin::gateways::create,
        admin::gateways::replace, admin::gateways::delete, admin::gateways::check,
        admin::payments::list, admin::payments::get, admin::payments::create,
        admin::payments::update, admin::payments::delete,
        admin::brands::list, admin::brands::create, admin::brands::update,
        admin::api_keys::list, admin::api_keys::create, admin::api_keys::delete,
        admin::refunds::create, admin::refunds::list,
        admin::webhooks::list, admin::webhooks::create, admin::webhooks::delete,
        admin::webhooks::deliveries, admin::webhooks::send_again, admin::mail::status,
        admin::reports::summary, admin::reports::cards,
        crate::checkout::webhooks::stripe, crate::checkout::webhooks::paypal,
        crate::checkout::webhooks::razorpay,
    ),
    // The error answers inline ErrorBody (api::doc): its parts are named here.
    components(schemas(paycard_core::api::ErrorBody, paycard_core::api::ErrorDetail)),
    modifiers(&Security, &TimeZones),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "visitor", description = "The visitor widget's side of a conversation"),
        (name = "operator", description = "The operator console's side"),
        (name = "live", description = "Server-sent events, replayable with Last-Event-ID"),
        (name = "webhooks", description = "Signed notifications from payment gateways"),
        (name = "admin", description = "Settings: portal, gateways, payments, brands, API keys, webhooks, mail, refunds, reports (admins only)"),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`, generated from the handlers' annotations and the shared types.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
