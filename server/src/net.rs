//! Accepting connections: what must hold before any handler runs (SPEC §8.1).
//!
//! axum's own `serve` sets no header timeout and no connection limit, so a few hundred
//! half-sent requests would hold sockets (and memory) for ever. This is its accept loop
//! with those added:
//! - a request's headers must arrive within `header_timeout` (hyper's
//!   `header_read_timeout`, which also closes keep-alive connections idle that long);
//! - at most `max_connections` open connections, and `max_connections_per_address` from
//!   one address (trusted proxies excepted: everything comes from them); a connection
//!   over the limit is closed at once, before it costs a task;
//! - each request carries the peer's address ([`ConnectInfo`]) for
//!   [`crate::origin::Client`].
//!
//! HTTP/1.1 only: browsers speak it to a plain-http origin, and so does a TLS proxy in
//! front. Body timeouts are a middleware ([`crate::http`]), as they concern requests.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::config::Config;

/// How long in-flight requests get to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, calls
/// `on_shutdown` (which ends the live streams) and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send,
    on_shutdown: impl FnOnce(),
) -> std::io::Result<()> {
    let gate = ConnectionGate::new(config);
    let header_timeout = config.limits.header_timeout;
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before we took it:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = gate.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: over the connection limit");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            // A request that arrived whole is handled to its end even if the client
            // hangs up right after sending it (a visitor who closes the tab on Pay).
            .half_close(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(admitted);
        });
    }
    drop(listener);
    on_shutdown();
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => {
            tracing::warn!("shutdown: requests still in flight after {DRAIN:?}; stopping anyway");
        }
    }
    Ok(())
}

/// Open connections by client address.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Counts open connections, in all and per address.
struct ConnectionGate {
    total: Arc<Semaphore>,
    per_address: PerAddress,
    max_per_address: usize,
    trusted: Vec<ipnet::IpNet>,
}

/// An open connection's place; given back when dropped.
struct Admitted {
    _total: OwnedSemaphorePermit,
    address: Option<(IpAddr, PerAddress)>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some((ip, counts)) = self.address.take() {
            let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&ip);
                }
            }
        }
    }
}

impl ConnectionGate {
    fn new(config: &Config) -> ConnectionGate {
        ConnectionGate {
            total: Arc::new(Semaphore::new(config.limits.max_connections)),
            per_address: Arc::default(),
            max_per_address: config.limits.max_connections_per_address,
            trusted: config.trusted_proxies.clone(),
        }
    }

    fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let total = self.total.clone().try_acquire_owned().ok()?;
        if self.trusted.iter().any(|net| net.contains(&ip)) {
            return Some(Admitted {
                _total: total,
                address: None,
            });
        }
        let mut counts = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(ip).or_insert(0);
        if *n >= self.max_per_address {
            return None;
        }
        *n += 1;
        Some(Admitted {
            _total: total,
            address: Some((ip, self.per_address.clone())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_counts_per_address_and_in_all() {
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.limits.max_connections = 3;
        config.limits.max_connections_per_address = 2;
        config.trusted_proxies = vec!["10.0.0.1/32".parse().unwrap()];
        let gate = ConnectionGate::new(&config);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert!(gate.admit(a).is_none(), "a third from one address");
        drop(a1);
        let _a3 = gate.admit(a).unwrap();
        let b1 = gate.admit(b).unwrap();
        assert!(gate.admit(proxy).is_none(), "over the total");
        drop(b1);
        // A trusted proxy is not limited per address, only by the total.
        let _p = gate.admit(proxy).unwrap();
        assert!(gate.admit(proxy).is_none());
    }
}
