//! One error type for every handler, and its JSON body (SPEC §4):
//! `{"error": {"code": "snake_case", "message": "…"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{ErrorBody, ErrorDetail};
use paycard_core::validation::FieldError;

/// Why a request failed. Handlers return `Result<_, AppError>` and use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input: bad JSON, a missing field, a wrong type.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Well-formed input that breaks a rule, with the field errors.
    #[error("the input is not valid")]
    Validation(Vec<FieldError>),
    #[error("sign in to continue")]
    Unauthorized,
    /// A failed sign-in. One message for a wrong password and an unknown email.
    #[error("wrong email or password")]
    BadCredentials,
    /// A gateway's notification whose signature does not match its body (or is too
    /// old): the signature is its credential.
    #[error("the signature does not match this body, or is too old")]
    BadSignature,
    /// A cookie-authenticated change that did not come from this site.
    #[error("cross-site request refused")]
    BadOrigin,
    #[error("you do not have access to this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A state conflict, such as a refused card transition.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body did not arrive in time; the connection is closed.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("the request must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("method not allowed here")]
    MethodNotAllowed,
    #[error("too many requests; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// This server was built before the browser apps: an operator's mistake, not the
    /// client's, so it is a 503 that says what to do.
    #[error("the browser apps are not built into this server; run `make build`")]
    NotBuilt,
    /// Our fault. Logged in full; the client only learns that it happened.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } | AppError::Validation(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::BadCredentials | AppError::BadSignature => {
                StatusCode::UNAUTHORIZED
            }
            AppError::BadOrigin => StatusCode::FORBIDDEN,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            // SPEC §4 answers malformed requests with 400, a wrong content type included.
            AppError::UnsupportedMediaType => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotBuilt => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "invalid_credentials",
            AppError::BadSignature => "invalid_signature",
            AppError::BadOrigin => "cross_site_request",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RequestTimeout => "request_timeout",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::NotBuilt => "not_built",
            AppError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                fields: match self {
                    AppError::Validation(ref fields) => fields.clone(),
                    _ => Vec::new(),
                },
            },
        };
        let retry_after = match self {
            AppError::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let close = matches!(self, AppError::RequestTimeout);
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if close {
            // hyper closes the connection after an answer that says so.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

impl From<crate::store::Error> for AppError {
    fn from(err: crate::store::Error) -> Self {
        AppError::Internal(format!("database: {err}"))
    }
}

impl From<paycard_core::TransitionError> for AppError {
    fn from(err: paycard_core::TransitionError) -> Self {
        AppError::Conflict {
            code: err.code(),
            message: err.to_string(),
        }
    }
}
