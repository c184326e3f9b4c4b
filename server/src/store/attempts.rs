//! Payment attempts (on record, `pending`, before their gateway is called; at most one
//! per card succeeds), the subscriptions paid recurring cards open, and the sandbox
//! gateway's own ledger.

use paycard_core::api::Attempt;
use paycard_core::Recurrence;

use super::{Db, Error};

/// Puts an attempt on record before its gateway is called.
#[allow(clippy::too_many_arguments)]
pub async fn insert_pending(
    db: &mut impl Db,
    id: &str,
    card_id: &str,
    amount_minor: i64,
    currency: &str,
    gateway: &str,
    last4: Option<&str>,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at)
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, NULL, $7)",
    )
    .bind(id)
    .bind(card_id)
    .bind(amount_minor)
    .bind(currency)
    .bind(gateway)
    .bind(last4)
    .bind(now)
    .execute(c).await
    })?;
    Ok(())
}

/// An attempt's status (`pending`, `succeeded`, `failed`), if it is on record.
pub async fn status(db: &mut impl Db, id: &str) -> Result<Option<String>, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT status FROM attempts WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Whether an attempt of the card other than `except` succeeded.
pub async fn other_success(db: &mut impl Db, card_id: &str, except: &str) -> Result<bool, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM attempts WHERE card_id = $1 AND status = 'succeeded' AND id <> $2)",
    )
    .bind(card_id)
    .bind(except)
    .fetch_one(c).await
    })
}

/// An attempt's outcome: written, or its `pending` row completed.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    db: &mut impl Db,
    id: &str,
    card_id: &str,
    status: &str,
    amount_minor: i64,
    currency: &str,
    gateway: &str,
    last4: Option<&str>,
    failure_reason: Option<&str>,
    payment_reference: Option<&str>,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at, payment_reference)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason,
             card_last4 = COALESCE(attempts.card_last4, excluded.card_last4),
             payment_reference = COALESCE(excluded.payment_reference, attempts.payment_reference)",
    )
    .bind(id)
    .bind(card_id)
    .bind(status)
    .bind(amount_minor)
    .bind(currency)
    .bind(gateway)
    .bind(last4)
    .bind(failure_reason)
    .bind(now)
    .bind(payment_reference)
    .execute(c).await
    })?;
    Ok(())
}

/// A card's payment that went through: what a refund gives back, and where.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct PaidAttempt {
    pub id: String,
    /// The gateway kind (`sandbox`, `stripe`).
    pub gateway: String,
    /// The configured gateway, for gateways with pages of their own (its session's).
    pub gateway_id: Option<String>,
    /// The payment at the gateway (Stripe's payment intent).
    pub payment_reference: Option<String>,
}

/// An attempt, as a refund needs it (any status: a payment recorded as a duplicate is
/// also given back).
pub async fn for_refund(db: &mut impl Db, attempt_id: &str) -> Result<Option<PaidAttempt>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT a.id, a.gateway, s.gateway_id, a.payment_reference
         FROM attempts a LEFT JOIN gateway_sessions s ON s.attempt_id = a.id
         WHERE a.id = $1"
    )
    .bind(attempt_id)
    .fetch_optional(c)
    .await)
}

/// The card's succeeded attempt, as a refund needs it.
pub async fn paid(db: &mut impl Db, card_id: &str) -> Result<Option<PaidAttempt>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT a.id, a.gateway, s.gateway_id, a.payment_reference
         FROM attempts a LEFT JOIN gateway_sessions s ON s.attempt_id = a.id
         WHERE a.card_id = $1 AND a.status = 'succeeded'"
    )
    .bind(card_id)
    .fetch_optional(c)
    .await)
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    status: String,
    amount_minor: i64,
    currency: String,
    gateway: String,
    card_last4: Option<String>,
    failure_reason: Option<String>,
    created_at: String,
}

/// A card's settled attempts, oldest first.
pub async fn of_card(db: &mut impl Db, card_id: &str) -> Result<Vec<Attempt>, Error> {
    let rows: Vec<AttemptRow> = on!(db, |c| {
        sqlx::query_as(
        "SELECT id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at
         FROM attempts WHERE card_id = $1 AND status <> 'pending' ORDER BY created_at, id",
    )
    .bind(card_id)
    .fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Attempt {
            id: r.id,
            status: r.status,
            amount_minor: r.amount_minor,
            currency: r.currency,
            gateway: r.gateway,
            card_last4: r.card_last4,
            failure_reason: r.failure_reason,
            created_at: r.created_at,
        })
        .collect())
}

/// An attempt still pending since before `before`: (id, card, gateway, last four).
pub type PendingAttempt = (String, String, String, Option<String>);

pub async fn pending_since(db: &mut impl Db, before: &str) -> Result<Vec<PendingAttempt>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT id, card_id, gateway, card_last4 FROM attempts WHERE status = 'pending' AND created_at <= $1
         ORDER BY created_at",
    )
    .bind(before)
    .fetch_all(c).await
    })
}

/// A paid recurring card's subscription: what, how often, and when next.
#[allow(clippy::too_many_arguments)]
pub async fn insert_subscription(
    db: &mut impl Db,
    id: &str,
    card_id: &str,
    amount_minor: i64,
    currency: &str,
    recurrence: Recurrence,
    started_on: &str,
    next_charge_on: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO subscriptions (id, card_id, amount_minor, currency, interval, count, started_on, next_charge_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(card_id)
    .bind(amount_minor)
    .bind(currency)
    .bind(recurrence.interval.as_str())
    .bind(i64::from(recurrence.count))
    .bind(started_on)
    .bind(next_charge_on)
    .bind(now)
    .execute(c).await
    })?;
    Ok(())
}

/// Writes a sandbox charge's outcome under its idempotency key, unless the key is
/// already in the ledger; returns what the ledger holds: (outcome, failure reason).
pub async fn sandbox_charge(
    db: &mut impl Db,
    key: &str,
    outcome: &str,
    failure_reason: Option<&str>,
    now: &str,
) -> Result<(String, Option<String>), Error> {
    exec!(db, |c| sqlx::query(
        "INSERT INTO sandbox_charges (idempotency_key, outcome, failure_reason, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(key)
    .bind(outcome)
    .bind(failure_reason)
    .bind(now)
    .execute(c)
    .await)?;
    on!(db, |c| sqlx::query_as(
        "SELECT outcome, failure_reason FROM sandbox_charges WHERE idempotency_key = $1"
    )
    .bind(key)
    .fetch_one(c)
    .await)
}
