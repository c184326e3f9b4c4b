//! Refunds: one row per refund of a paid card, from when it is asked for (`pending`)
//! until its gateway settles it (`succeeded` or `failed`).

use paycard_core::api::{Refund, RefundStatus};

use super::payments::{corrupt, currency};
use super::{Db, Error};

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct RefundRow {
    pub id: String,
    pub card_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub failure_reason: Option<String>,
    pub reference: Option<String>,
    pub created_at: String,
    /// `requested` (by an admin) or `automatic` (a payment that reached a closed card).
    pub kind: String,
    pub attempt_id: Option<String>,
    pub gateway: String,
    pub gateway_id: Option<String>,
    pub payment_reference: Option<String>,
    pub tries: i64,
}

impl RefundRow {
    pub fn automatic(&self) -> bool {
        self.kind == "automatic"
    }
}

impl RefundRow {
    pub fn into_api(self) -> Result<Refund, Error> {
        Ok(Refund {
            currency: currency(&self.currency)?,
            status: RefundStatus::parse(&self.status).ok_or_else(|| {
                corrupt(format!("refund {} has status {:?}", self.id, self.status))
            })?,
            id: self.id,
            card_id: self.card_id,
            amount_minor: self.amount_minor,
            reason: self.reason,
            created_at: self.created_at,
        })
    }
}

macro_rules! refund_columns {
    () => {
        "id, card_id, amount_minor, currency, status, reason, failure_reason, reference, created_at,
         kind, attempt_id, gateway, gateway_id, payment_reference, tries"
    };
}

/// A new refund, `pending`.
pub struct NewRefund<'a> {
    pub id: &'a str,
    pub card_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reason: Option<&'a str>,
    pub requested_by: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub automatic: bool,
    /// The payment given back.
    pub attempt_id: &'a str,
    pub gateway: &'a str,
    pub gateway_id: Option<&'a str>,
    pub payment_reference: Option<&'a str>,
}

pub async fn insert(db: &mut impl Db, refund: &NewRefund<'_>, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO refunds (id, card_id, amount_minor, currency, status, reason, requested_by, idempotency_key,
             created_at, updated_at, kind, attempt_id, gateway, gateway_id, payment_reference, next_try_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $8)",
    )
    .bind(refund.id)
    .bind(refund.card_id)
    .bind(refund.amount_minor)
    .bind(refund.currency)
    .bind(refund.reason)
    .bind(refund.requested_by)
    .bind(refund.idempotency_key)
    .bind(now)
    .bind(if refund.automatic { "automatic" } else { "requested" })
    .bind(refund.attempt_id)
    .bind(refund.gateway)
    .bind(refund.gateway_id)
    .bind(refund.payment_reference)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// The refund made with this `Idempotency-Key` for this card, if any.
pub async fn with_key(
    db: &mut impl Db,
    card_id: &str,
    key: &str,
) -> Result<Option<RefundRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds WHERE card_id = $1 AND idempotency_key = $2"
    ))
    .bind(card_id)
    .bind(key)
    .fetch_optional(c)
    .await)
}

pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<RefundRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// A card's refunds, oldest first.
pub async fn of_card(db: &mut impl Db, card_id: &str) -> Result<Vec<RefundRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds WHERE card_id = $1 ORDER BY created_at, id"
    ))
    .bind(card_id)
    .fetch_all(c)
    .await)
}

/// What is on its way back to the payer of the card's payment: its pending refunds
/// (automatic ones give back other payments).
pub async fn pending_total(db: &mut impl Db, card_id: &str) -> Result<i64, Error> {
    let total: Option<i64> = on!(db, |c| {
        sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE card_id = $1 AND status = 'pending' AND kind = 'requested'"
    )
    .bind(card_id)
    .fetch_one(c)
    .await
    })?;
    Ok(total.unwrap_or(0))
}

/// Settles a pending refund: `succeeded` (with the gateway's reference) or `failed`
/// (with why). `false` if it was not pending any more (settled once already).
pub async fn settle(
    db: &mut impl Db,
    id: &str,
    succeeded: bool,
    reference: Option<&str>,
    failure_reason: Option<&str>,
    now: &str,
) -> Result<bool, Error> {
    let changed = exec!(db, |c| {
        sqlx::query(
        "UPDATE refunds SET status = $1, reference = COALESCE($2, reference), failure_reason = $3, updated_at = $4
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(if succeeded { "succeeded" } else { "failed" })
    .bind(reference)
    .bind(failure_reason)
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(changed == 1)
}

/// Refunds not yet taken by their gateway (it could not be reached), due now.
pub async fn due(db: &mut impl Db, now: &str, limit: i64) -> Result<Vec<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT id FROM refunds WHERE status = 'pending' AND reference IS NULL AND next_try_at <= $1
         ORDER BY next_try_at LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await
    })
}

/// Not now: the gateway could not be reached (to send it), or the refund it took is
/// still pending (to ask about it); once more at `next`.
pub async fn postpone(db: &mut impl Db, id: &str, next: &str, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE refunds SET tries = tries + 1, next_try_at = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'"
    )
    .bind(next)
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// The gateway took the refund (it settles later): its id there, and when to ask the
/// gateway how it stands if no notification has settled it by then (`check_at`).
pub async fn set_reference(
    db: &mut impl Db,
    id: &str,
    reference: &str,
    check_at: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE refunds SET reference = $1, updated_at = $2, tries = 0, next_try_at = $3 WHERE id = $4"
    )
    .bind(reference)
    .bind(now)
    .bind(check_at)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Refunds the gateway took that are still `pending` when they are due to be asked
/// about (no notification settled them), oldest first.
pub async fn awaiting(db: &mut impl Db, now: &str, limit: i64) -> Result<Vec<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT id FROM refunds WHERE status = 'pending' AND reference IS NOT NULL AND next_try_at <= $1
         ORDER BY next_try_at LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await
    })
}

/// The refund the gateway knows by `reference`.
pub async fn by_reference(db: &mut impl Db, reference: &str) -> Result<Option<RefundRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        refund_columns!(),
        " FROM refunds WHERE reference = $1"
    ))
    .bind(reference)
    .fetch_optional(c)
    .await)
}

/// Whether a payment is already being given back automatically (once is enough).
pub async fn automatic_for_attempt(db: &mut impl Db, attempt_id: &str) -> Result<bool, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM refunds WHERE attempt_id = $1 AND kind = 'automatic')"
    )
    .bind(attempt_id)
    .fetch_one(c)
    .await)
}
