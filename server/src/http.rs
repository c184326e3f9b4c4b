//! The router: the API (each API module declares its own routes, see `api::router`),
//! the pages and the apps' files, and the layers every request passes through.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;
use crate::{assets, pages};

/// The whole HTTP surface. Built apart from `main` so tests drive the same router.
pub fn app(state: AppState) -> Router {
    Router::new()
        // The API and the gateways' webhooks, with the OpenAPI document of both.
        .merge(crate::api::router())
        .route("/healthz", get(health))
        .route("/demo", get(pages::demo))
        .route("/widget.js", get(pages::loader))
        .route(
            "/widget",
            get(|| async { axum::response::Redirect::permanent("/widget/") }),
        )
        .route("/widget/", get(assets::widget_index))
        .route("/widget/{*path}", get(assets::widget_file))
        .route(
            "/pay/{token}",
            get(crate::checkout::page).post(crate::checkout::pay),
        )
        .route("/pay/{token}/status", get(crate::checkout::status))
        .route(
            "/console",
            get(|| async { axum::response::Redirect::permanent("/console/") }),
        )
        .route("/console/", get(assets::console))
        .route("/console/{*path}", get(assets::console))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_within_deadline,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::origin::identify_client,
        ))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// 200 when the server is up and its database answers; 503 otherwise, so a load
/// balancer stops sending traffic to an instance that lost its database.
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unavailable"})),
            )
        }
    }
}

/// The largest body any route reads (gateways' webhooks); each route also keeps its
/// own, smaller limit.
const MAX_ANY_BODY: usize = 1024 * 1024;

/// Reads each request's whole body within `PAYCARD_BODY_TIMEOUT_SECONDS` before any
/// handler sees it (SPEC §8.1): a client that trickles a body gets 408 and its connection
/// is closed, instead of holding a task and a socket as long as it likes. Our bodies are
/// small JSON documents and forms, so holding one in memory costs nothing.
async fn body_within_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_ANY_BODY);
    match tokio::time::timeout(state.config.limits.body_timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // Over the limit (or the client gave up, and reads no answer).
        Ok(Err(_)) => AppError::PayloadTooLarge.into_response(),
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), "request body too slow; connection closed");
            AppError::RequestTimeout.into_response()
        }
    }
}

async fn not_found() -> AppError {
    AppError::NotFound("page")
}
