//! The router and the state every handler shares.

use std::sync::Arc;

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

use tokio::sync::watch;

use crate::api::live::Live;
use crate::api::streams::Streams;
use crate::db::Pool;
use crate::error::AppError;
use crate::limits::Limiters;
use crate::{assets, pages, Config};

/// Shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    /// Wakes live streams after each commit that writes events.
    pub live: Live,
    /// The open live streams, by credential: caps and revocation.
    pub streams: Streams,
    /// Where people reach this server: every link it makes starts with this
    /// (`PAYCARD_PUBLIC_URL`, else `http://` and the listening address), no trailing `/`.
    pub public_url: Arc<str>,
    /// Rate limits by client address, and the password-hashing gate.
    pub limits: Arc<Limiters>,
    /// Seals and opens gateway credentials.
    pub vault: Arc<crate::vault::Vault>,
    /// For calls to payment gateways (one connection pool).
    pub http: reqwest::Client,
    /// Turns true when the server begins to shut down: live streams end, so the
    /// graceful shutdown does not wait for them for ever.
    pub shutdown: watch::Receiver<bool>,
    shutdown_tx: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// `config.addr` is the address actually listened on (port 0 resolved), for the
    /// default public URL.
    pub fn new(db: Pool, config: Config, vault: crate::vault::Vault) -> AppState {
        let (shutdown_tx, shutdown) = watch::channel(false);
        AppState {
            db,
            public_url: config.public_url_for(config.addr).into(),
            limits: Arc::new(Limiters::new(&config.limits)),
            config: Arc::new(config),
            live: Live::new(),
            streams: Streams::default(),
            vault: Arc::new(vault),
            // A gateway that does not answer must not hold a payment (or a cancel) for
            // ever: the caller then says the gateway is unavailable.
            http: reqwest::Client::builder()
                .user_agent(concat!("paycard/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(std::time::Duration::from_secs(5))
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            shutdown,
            shutdown_tx: Arc::new(shutdown_tx),
        }
    }

    /// Ends every live stream; in-flight requests finish as usual.
    pub fn begin_shutdown(&self) {
        self.shutdown_tx.send_replace(true);
    }
}

/// The whole HTTP surface. Built apart from `main` so tests drive the same router.
pub fn app(state: AppState) -> Router {
    Router::new()
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
        .route(
            "/webhooks/stripe/{gateway_id}",
            axum::routing::post(crate::checkout::redirect::stripe_webhook)
                .layer(axum::middleware::map_response(crate::api::json_errors)),
        )
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
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.db)
        .await
    {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
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
