//! The paycard server: the HTTP API, live streams, the hosted checkout page, and the
//! built widget and console, over one SQLite database or a PostgreSQL one that several
//! instances share.
//!
//! - [`config`]: settings from the environment (SPEC §7).
//! - [`store`]: the database: every SQL statement, row and transaction shape.
//! - [`domain`]: what the product does (cards, charges, chat, settings, the live hub),
//!   called by the API, the checkout and the jobs; it works through the store.
//! - [`state`]: what every request and job shares (`AppState`).
//! - [`http`]: the router (`app`) and the layers every request passes through.
//! - [`error`]: the JSON error type every handler answers with.
//! - [`pages`]: server-rendered pages: `/demo`, the `/widget.js` loader.
//! - [`assets`]: the built widget and console, embedded in release builds.
//! - [`seed`]: the demo brands, payments and accounts.
//! - [`password`]: argon2 password hashing.
//! - [`api`]: the JSON API's handlers: parse, call the domain, answer.
//! - [`checkout`]: the hosted checkout page and the gateways' notifications.
//! - [`origin`]: where a request comes from: the client's address, what a browser says.
//! - [`net`]: the accept loop: header timeouts and connection limits.
//! - [`limits`]: rate limits by client address, and the password-hashing gate.
//! - [`jobs`]: housekeeping on a timer (expiry, stuck payments, stream revocation).
//! - [`secrets`]: ids, bearer secrets (stored hashed) and timestamps.
//! - [`vault`]: encryption at rest of gateway credentials.

pub mod api;
pub mod assets;
pub mod checkout;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod net;
pub mod origin;
pub mod pages;
pub mod password;
pub mod secrets;
pub mod seed;
pub mod state;
pub mod store;
pub mod vault;

use std::future::Future;

use tokio::net::TcpListener;

pub use config::Config;
pub use http::app;
pub use state::AppState;

/// Everything that can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] store::OpenError),
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
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let vault = vault::Vault::load(&config)?;
    let store = store::Store::open(&config.database_url).await?;
    let demo_password = if config.demo {
        Some(seed::seed_demo(&store, config.demo_password.as_deref()).await?)
    } else {
        None
    };

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    config.addr = listener.local_addr().map_err(StartError::Serve)?;
    let state = AppState::new(store.clone(), config, vault);
    print_welcome(&state.public_url, demo_password.as_ref());
    tracing::info!(addr = %state.config.addr, public_url = %state.public_url,
        database = %store::redact(&state.config.database_url), demo = state.config.demo, "paycard started");

    serve(listener, state, shutdown)
        .await
        .map_err(StartError::Serve)?;
    store.close().await;
    tracing::info!("paycard stopped");
    Ok(())
}

/// Serves the whole HTTP surface on `listener`, with the background jobs running, until
/// `shutdown` resolves. `state.config.addr` should be the listener's address.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    tokio::spawn(
        state
            .hub
            .clone()
            .run(state.store.clone(), state.shutdown.clone()),
    );
    tokio::spawn(
        state
            .hub
            .clone()
            .listen_to_other_instances(state.store.clone(), state.shutdown.clone()),
    );
    jobs::spawn(state.clone());
    let stopping = state.clone();
    net::serve(
        listener,
        app(state.clone()),
        &state.config,
        shutdown,
        move || stopping.begin_shutdown(),
    )
    .await
}

/// What a person who just typed `make run` needs: where to click, and how to sign in.
/// Printed on stdout, apart from the logs; the first line is also what tests wait for.
fn print_welcome(base: &str, demo: Option<&seed::DemoCredentials>) {
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
