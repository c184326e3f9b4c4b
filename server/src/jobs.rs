//! Housekeeping on a timer, until shutdown.
//!
//! - Every few seconds of a card's lifetime (at least every 30 s): expire unpaid cards
//!   when their time is up (both chat sides see it live), settle payments a crash or a
//!   lost connection left `processing` by asking their gateway, prune expired sessions,
//!   stream tickets and old gateway event ids, forget receipts and webhook deliveries
//!   finished over 30 days ago, give older texts their search keys, and forget idle
//!   rate-limit buckets.
//! - Every heartbeat: end the live streams whose session was revoked
//!   ([`crate::domain::streams`]).
//!
//! - The outbox, when a commit wakes it and at least every few seconds: refunds not yet
//!   taken by their gateway (and those it took that no notification settled, asked
//!   about), receipts by email, the merchant's webhook deliveries.
//!
//! Each job works card by card and logs what fails: one card a gateway cannot close
//! does not stop the others from expiring.
//!
//! Every instance runs the same timers. Housekeeping runs under a lease (one instance
//! at a time on PostgreSQL; a dead instance's lease goes with its connection), and each
//! of its changes is a conditional write anyway, so a card is expired or settled once.
//! Ending revoked streams is each instance's own business: the streams are its own.

use std::future::Future;
use std::time::Duration;

use crate::domain::{accounts, charges, chat, mail, refunds, webhooks};
use crate::state::AppState;

/// The lease key of the housekeeping job ([`crate::store::Store::lease`]).
const HOUSEKEEPING: i64 = 1;
/// The lease key of the outbox worker.
const OUTBOX: i64 = 2;
/// The outbox is looked at this often when nothing wakes it (retries fall due; another
/// instance's commits do not wake this one).
const OUTBOX_EVERY: Duration = Duration::from_secs(5);

pub fn spawn(state: AppState) {
    let every = (state.config.card_ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
    spawn_every(state.clone(), every, |state| async move {
        // One instance does this at a time (on PostgreSQL, several share the database);
        // the rate-limit buckets are this instance's own, so it always forgets its idle ones.
        state.limits.prune();
        let _lease = match state.store.lease(HOUSEKEEPING).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, "housekeeping: cannot take its lease");
                return;
            }
        };
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
        match chat::fill_search_keys(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(texts = n, "search keys written for older texts"),
            Err(err) => tracing::warn!(error = %err, "writing search keys failed"),
        }
        match mail::prune(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(receipts = n, "forgot old receipts"),
            Err(err) => tracing::warn!(error = %err, "pruning old receipts failed"),
        }
        match webhooks::prune(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "forgot old webhook deliveries"),
            Err(err) => tracing::warn!(error = %err, "pruning old webhook deliveries failed"),
        }
    });
    spawn_outbox(state.clone());
    let heartbeat = state.config.heartbeat;
    spawn_every(state, heartbeat, |state| async move {
        match state.streams.revalidate(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(streams = n, "ended live streams of revoked sessions"),
            Err(err) => tracing::warn!(error = %err, "checking live streams' sessions failed"),
        }
    });
}

/// Drains the outboxes whenever a commit wakes the worker (a burst of commits makes one
/// round) or the timer comes round, until shutdown.
fn spawn_outbox(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = state.outbox.notified() => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ = tokio::time::sleep(OUTBOX_EVERY) => {}
                _ = shutdown.changed() => return,
            }
            drain_outbox(&state).await;
        }
    });
}

async fn drain_outbox(state: &AppState) {
    let _lease = match state.store.lease(OUTBOX).await {
        Ok(Some(lease)) => lease,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, "outbox: cannot take its lease");
            return;
        }
    };
    if let Err(err) = refunds::send_due(state).await {
        tracing::warn!(error = %err, "sending refunds failed");
    }
    if let Err(err) = refunds::check_awaiting(state).await {
        tracing::warn!(error = %err, "asking about pending refunds failed");
    }
    match mail::send_due(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(messages = n, "receipts sent"),
        Err(err) => tracing::warn!(error = %err, "sending receipts failed"),
    }
    match webhooks::deliver_due(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "webhooks delivered"),
        Err(err) => tracing::warn!(error = %err, "delivering webhooks failed"),
    }
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
