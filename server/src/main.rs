//! `paycard-server`: configured by environment (SPEC §7), stops cleanly on SIGINT or
//! SIGTERM.

use std::process::ExitCode;

use tracing_subscriber::{fmt, EnvFilter};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let config = match paycard_server::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("paycard-server: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    match paycard_server::run(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "paycard-server could not run");
            eprintln!("paycard-server: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: human-readable by default, one JSON object per line with
/// `PAYCARD_LOG_FORMAT=json`. `RUST_LOG` picks the levels.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("PAYCARD_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM (what a service manager sends).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
