//! The router and the state every handler shares.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use tokio::sync::watch;

use crate::api::live::Live;
use crate::db::Pool;
use crate::error::AppError;
use crate::{assets, pages, Config};

/// Shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub config: Arc<Config>,
    /// Wakes live streams after each commit that writes events.
    pub live: Live,
    /// Sign-in attempts per email: slows password guessing to a crawl.
    pub login_limit: Arc<LoginLimiter>,
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
    pub fn new(db: Pool, config: Config, vault: crate::vault::Vault) -> AppState {
        let (shutdown_tx, shutdown) = watch::channel(false);
        AppState {
            db,
            config: Arc::new(config),
            live: Live::new(),
            login_limit: Arc::new(login_limiter()),
            vault: Arc::new(vault),
            http: reqwest::Client::builder()
                .user_agent(concat!("paycard/", env!("CARGO_PKG_VERSION")))
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

pub type LoginLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Ten sign-in attempts per email at once, then one more every six seconds.
fn login_limiter() -> LoginLimiter {
    let per_minute = std::num::NonZeroU32::new(10).expect("10 is not zero");
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
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
            axum::routing::post(crate::checkout::redirect::stripe_webhook),
        )
        .route(
            "/console",
            get(|| async { axum::response::Redirect::permanent("/console/") }),
        )
        .route("/console/", get(assets::console))
        .route("/console/{*path}", get(assets::console))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
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

async fn not_found() -> AppError {
    AppError::NotFound("page")
}
