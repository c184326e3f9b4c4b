//! The paycard server: the HTTP API, live streams, the hosted checkout page, and the
//! built widget and console, over one SQLite (or Postgres) database.
//!
//! - [`config`]: settings from the environment (SPEC §7).
//! - [`db`]: the connection pool and migrations.
//! - [`http`]: the router (`app`), shared state and the JSON error type.
//! - [`pages`]: server-rendered pages: `/demo`, the `/widget.js` loader.
//! - [`assets`]: the built widget and console, embedded in release builds.
//! - [`seed`]: the demo brands, payments and accounts.
//! - [`password`]: argon2 password hashing.
//! - [`api`]: the JSON API, auth and live streams.
//! - [`checkout`]: the hosted checkout page and the payment gateways.
//! - [`origin`]: where a browser says a request comes from.
//! - [`secrets`]: ids, bearer secrets (stored hashed) and timestamps.
//! - [`vault`]: encryption at rest of gateway credentials.

pub mod api;
pub mod assets;
pub mod checkout;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod origin;
pub mod pages;
pub mod password;
pub mod secrets;
pub mod seed;
pub mod vault;

use std::future::Future;

use tokio::net::TcpListener;

pub use config::Config;
pub use http::{app, AppState};

/// Everything that can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("demo data: {0}")]
    Seed(#[from] seed::SeedError),
    #[error("server: {0}")]
    Serve(std::io::Error),
    #[error("credentials key: {0}")]
    Vault(#[from] vault::VaultError),
}

/// Opens the database, seeds demo data if asked, listens, prints where to go, and serves
/// until `shutdown` resolves; then stops accepting, finishes in-flight requests and
/// returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let vault = vault::Vault::load(&config)?;
    let pool = db::connect(&config.database_url).await?;
    let demo_password = if config.demo {
        Some(seed::seed_demo(&pool, config.demo_password.as_deref()).await?)
    } else {
        None
    };

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    print_welcome(addr, demo_password.as_ref());
    tracing::info!(%addr, database = %db::redact(&config.database_url), demo = config.demo, "paycard started");

    let state = AppState::new(pool.clone(), config, vault);
    spawn_expiry_sweeper(state.clone());
    let stopping = state.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.begin_shutdown();
        })
        .await
        .map_err(StartError::Serve)?;
    pool.close().await;
    tracing::info!("paycard stopped");
    Ok(())
}

/// Housekeeping on a timer, until shutdown: expires unpaid cards when their time is up
/// (so both chat sides see it live), fails charges a crash left `processing`, and
/// prunes expired sessions and stream tickets. Runs a few times per card lifetime, at
/// least every 30 s.
fn spawn_expiry_sweeper(state: AppState) {
    let every = (state.config.card_ttl / 4).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(30),
    );
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
            match api::cards::expire_due_cards(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(cards = n, "expired unpaid cards"),
                Err(err) => tracing::warn!(error = %err, "expiring cards failed"),
            }
            match api::cards::fail_stuck_payments(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(cards = n, "failed payments left processing"),
                Err(err) => tracing::warn!(error = %err, "failing stuck payments failed"),
            }
            if let Err(err) = api::cards::prune_expired_credentials(&state).await {
                tracing::warn!(error = %err, "pruning expired sessions failed");
            }
        }
    });
}

/// What a person who just typed `make run` needs: where to click, and how to sign in.
/// Printed on stdout, apart from the logs; the first line is also what tests wait for.
fn print_welcome(addr: std::net::SocketAddr, demo: Option<&seed::DemoCredentials>) {
    let base = format!("http://{addr}");
    let mut out = format!("paycard listening on {base}\n");
    out += &format!("  demo website    {base}/demo\n");
    out += &format!("  console         {base}/console\n");
    out += &format!("  settings        {base}/console/settings (admins)\n");
    out += &format!("  embed loader    {base}/widget.js\n");
    out += &format!("  health          {base}/healthz\n");
    if let Some(demo) = demo {
        for (email, role) in seed::DEMO_ACCOUNTS.iter().map(|a| (a.email, a.role)) {
            out += &format!("  {role:<15} {email}\n");
        }
        match demo {
            seed::DemoCredentials::Given => {
                out += "  password        (as set in PAYCARD_DEMO_PASSWORD)\n"
            }
            seed::DemoCredentials::Generated(pw) => out += &format!("  password        {pw}\n"),
        }
    }
    print!("{out}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
