//! Housekeeping on a timer, until shutdown.
//!
//! - Every few seconds of a card's lifetime (at least every 30 s): expire unpaid cards
//!   when their time is up (both chat sides see it live), settle payments a crash or a
//!   lost connection left `processing` by asking their gateway, prune expired sessions,
//!   stream tickets and old gateway event ids, and forget idle rate-limit buckets.
//! - Every heartbeat: end the live streams whose session was revoked
//!   ([`crate::domain::streams`]).
//!
//! Each job works card by card and logs what fails: one card a gateway cannot close
//! does not stop the others from expiring.

use std::future::Future;
use std::time::Duration;

use crate::domain::{accounts, charges};
use crate::state::AppState;

pub fn spawn(state: AppState) {
    let every = (state.config.card_ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
    spawn_every(state.clone(), every, |state| async move {
        let expired = charges::expire_due(&state).await;
        if expired > 0 {
            tracing::info!(cards = expired, "expired unpaid cards");
        }
        let settled = charges::settle_stuck(&state).await;
        if settled > 0 {
            tracing::warn!(cards = settled, "settled payments left processing");
        }
        if let Err(err) = accounts::prune_expired(&state).await {
            tracing::warn!(error = %err, "pruning expired sessions failed");
        }
        if let Err(err) = charges::prune_notifications(&state).await {
            tracing::warn!(error = %err, "pruning old gateway notifications failed");
        }
        state.limits.prune();
    });
    let heartbeat = state.config.heartbeat;
    spawn_every(state, heartbeat, |state| async move {
        match state.streams.revalidate(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(streams = n, "ended live streams of revoked sessions"),
            Err(err) => tracing::warn!(error = %err, "checking live streams' sessions failed"),
        }
    });
}

/// Runs `job` every `every` until the server shuts down.
fn spawn_every<F, Fut>(state: AppState, every: Duration, job: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
            job(state.clone()).await;
        }
    });
}
