//! The JSON API under `/api/v1` (SPEC §4), and its OpenAPI document.
//!
//! - [`auth`]: sign-in, sessions, visitor tokens, stream tickets; the caller extractors.
//! - [`chat`]: conversations, messages, the Payments picker.
//! - [`cards`]: Share, the card, checkout links, Decline, Cancel request, attempts.
//! - [`live`]: the SSE streams (the hub behind them is `domain::live`).
//! - [`admin`]: the settings of SPEC §2.1–2.4, for admins only.
//!
//! Each module declares its routes once, in its `routes()`: the handlers' `#[utoipa::path]`
//! give both the route and its part of the OpenAPI document (utoipa-axum), so the two
//! cannot drift apart.

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
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

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

/// The JSON API and the gateways' webhooks, each module's routes with their documents,
/// and `/api/openapi.json` made of those documents.
pub fn router() -> Router<AppState> {
    let (api, mut document) = routes().split_for_parts();
    // The schemas come with the routes: the time zones are filled in after them.
    TimeZones.modify(&mut document);
    let document =
        Bytes::from(serde_json::to_vec(&document).expect("the OpenAPI document is JSON"));
    api.route(
        "/api/openapi.json",
        get(move || async move { ([(CONTENT_TYPE, "application/json")], document) }),
    )
    .layer(axum::middleware::map_response(json_errors))
}

/// Every documented route. The API's bodies are held to [`MAX_BODY_BYTES`]; the
/// webhooks take what the gateways send (axum's default limit).
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(chat::routes())
        .merge(cards::routes())
        .merge(live::routes())
        .merge(admin::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(crate::checkout::webhooks::routes())
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
    // The error answers inline ErrorBody (api::doc): its parts are named here.
    components(schemas(paycard_core::api::ErrorBody, paycard_core::api::ErrorDetail)),
    modifiers(&Security),
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
