//! `paycard-server`: configured by environment (SPEC §7), stops cleanly on SIGINT or
//! SIGTERM.

use std::process::ExitCode;

use tracing_subscriber::{fmt, EnvFilter};

fn main() -> ExitCode {
    limit_malloc_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(serve()),
        Err(err) => {
            eprintln!("paycard-server: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), and this
/// server has many: tokio's workers and one per SQLite connection. Each open live stream
/// keeps a few small objects for hours, made on whichever thread served it, so with many
/// arenas their free space is spread out and cannot be reused: at 10,000 open streams that
/// was 20 MB of resident memory for nothing. Two arenas keep contention low at our scale.
/// `MALLOC_ARENA_MAX` in the environment still decides when set. Before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the allocator; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn serve() -> ExitCode {
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
///
/// The handlers are installed when this is called, not when the future is first
/// polled: the server polls it only between accepting connections, and a SIGTERM sent
/// right after the server said it was listening (and answered) once found no handler
/// yet and killed the process outright, skipping the graceful stop.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |sig: Option<tokio::signal::unix::Signal>| async move {
                match sig {
                    Some(mut sig) => {
                        sig.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => {}
                _ = wait(terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
