//! Refunds (SPEC §8.3): an admin of a paid card's brand gives back part of the money or
//! the rest of it. The total refunded and on its way back never exceeds what was paid,
//! whatever the race: each refund is decided inside the write transaction that records
//! it (one at a time, on either database, across instances), and the database refuses a
//! refunded total above the amount besides. Both chat sides see the card change live: a
//! partial refund adds to its status line, a full one makes it `refunded`.
//!
//! A refund is on record (`pending`) before its gateway is asked, and the gateway is
//! asked with the refund's id as idempotency key: so a gateway that cannot be reached is
//! asked again later by the background worker ([`send_due`]) without ever refunding
//! twice. The sandbox refunds at once; Stripe answers `pending` or `succeeded`, and its
//! refund webhooks settle the rest ([`apply_update`]). A refund still pending some
//! minutes after its gateway took it (its notification lost, or the webhook not
//! subscribed to that event) is asked about by the worker ([`check_awaiting`]), less
//! and less often, until it settles: the card's refunded total never waits on a
//! webhook alone.
//!
//! A payment that reaches a card already closed (or pays a card twice) is given back in
//! full automatically ([`give_back`]); such refunds do not touch the card.

use chrono::Utc;
use paycard_core::api::{Card, NewRefund, Refund};
use paycard_core::gateways::SANDBOX;
use paycard_core::gateways::{gateway_kind, Refusal};
use paycard_core::problem::{FieldError, Problem};
use paycard_core::validation::validate_refund;
use paycard_core::{CardAction, CardState, CardStatus};

use super::accounts::OperatorAuth;
use super::cards::{changed, changed_meanwhile, load};
use super::gateways::{Gateway, GatewayError, RefundRequest, RefundState, RefundUpdate};
use super::mail;
use crate::error::AppError;
use crate::secrets::{self, new_id};
use crate::state::AppState;
use crate::store::{self, refunds::RefundRow, Db};

/// How many refunds one round of the worker sends (or asks about) at most.
const BATCH: i64 = 20;
/// How long a refund the gateway took may wait for its notification before the gateway
/// is asked; each later ask waits twice as long, up to [`CHECK_AT_MOST_EVERY`].
const FIRST_CHECK_AFTER: i64 = 10 * 60;
const CHECK_AT_MOST_EVERY: i64 = 6 * 3600;

/// Refunds `input.amount_minor` of a paid card (all that is left without one). With an
/// `Idempotency-Key` already used for this card, answers that refund again and does
/// nothing more.
pub async fn refund(
    state: &AppState,
    admin: &OperatorAuth,
    card_id: &str,
    input: &NewRefund,
    idempotency_key: Option<&str>,
) -> Result<Refund, AppError> {
    let mut tx = state.store.write().await?;
    let (row, brand) = load(&mut tx, card_id).await?;
    admin.ensure_brand(&brand)?;
    if let Some(key) = idempotency_key {
        if let Some(done) = store::refunds::with_key(&mut tx, card_id, key).await? {
            return Ok(done.into_api()?);
        }
    }
    let status = row.status()?;
    let pending = store::refunds::pending_total(&mut tx, card_id).await?;
    let left = row.amount_minor - row.refunded_minor - pending;
    if status != CardStatus::Paid || left <= 0 {
        return Err(AppError::Conflict {
            code: "not_refundable",
            message: match status {
                CardStatus::Paid => "the whole amount is already refunded or being refunded".into(),
                other => format!("the card is {other}: only a paid card can be refunded"),
            },
        });
    }
    let (amount, reason) = validate_refund(input.amount_minor, input.reason.as_deref(), left)
        .map_err(AppError::Validation)?;
    let paid = store::attempts::paid(&mut tx, card_id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("card {card_id} is paid without a payment")))?;
    // A gateway that counts this currency in coarser steps (PayPal: whole forints)
    // would round the refund; the admin chooses an amount it can give back exactly.
    let currency = paycard_core::Currency::from_code(&row.currency);
    if let (Some(kind), Some(currency)) = (gateway_kind(&paid.gateway), currency) {
        if kind.refusal(amount, currency, false) == Some(Refusal::Amount) {
            return Err(AppError::Validation(vec![FieldError::new(
                "amount_minor",
                Problem::InvalidFormat,
            )]));
        }
    }
    if paid.gateway != SANDBOX && paid.payment_reference.is_none() {
        return Err(AppError::Conflict {
            code: "refund_unavailable",
            message: "the gateway did not say which payment this was (a subscription's first invoice); refund it in the gateway's dashboard".into(),
        });
    }
    let id = new_id("ref");
    store::refunds::insert(
        &mut tx,
        &store::refunds::NewRefund {
            id: &id,
            card_id,
            amount_minor: amount,
            currency: &row.currency,
            reason: reason.as_deref(),
            requested_by: Some(&admin.account.id),
            idempotency_key,
            automatic: false,
            attempt_id: &paid.id,
            gateway: &paid.gateway,
            gateway_id: paid.gateway_id.as_deref(),
            payment_reference: paid.payment_reference.as_deref(),
        },
        &secrets::now(),
    )
    .await?;
    state.commit(tx).await?;
    tracing::info!(card = %card_id, refund = %id, amount, gateway = %paid.gateway,
        by = %admin.account.email, "refund asked");
    send(state, &id).await?;
    let mut db = state.store.read().await?;
    Ok(store::refunds::get(&mut db, &id)
        .await?
        .ok_or(AppError::NotFound("refund"))?
        .into_api()?)
}

/// Gives back in full a payment that must not be kept (it reached a closed card, or
/// paid a card twice), in the caller's transaction; the worker sends it to the gateway.
pub async fn give_back(
    db: &mut impl Db,
    card: &Card,
    attempt_id: &str,
    gateway: &str,
    gateway_id: Option<&str>,
    payment_reference: Option<&str>,
) -> Result<(), AppError> {
    if store::refunds::automatic_for_attempt(db, attempt_id).await? {
        return Ok(());
    }
    if gateway != SANDBOX && payment_reference.is_none() {
        tracing::error!(card = %card.id, attempt = %attempt_id, gateway,
            "a payment to give back has no payment reference; refund it in the gateway's dashboard");
        return Ok(());
    }
    let id = new_id("ref");
    store::refunds::insert(
        db,
        &store::refunds::NewRefund {
            id: &id,
            card_id: &card.id,
            amount_minor: card.amount_minor,
            currency: card.currency.code(),
            reason: Some("automatic: paid after the card was closed, or paid twice"),
            requested_by: None,
            idempotency_key: None,
            automatic: true,
            attempt_id,
            gateway,
            gateway_id,
            payment_reference,
        },
        &secrets::now(),
    )
    .await?;
    tracing::warn!(card = %card.id, attempt = %attempt_id, refund = %id, "payment to be refunded automatically");
    Ok(())
}

/// Asks the refund's gateway to make it, if it has not taken it yet, and applies the
/// answer. A gateway that cannot be reached gets it again later; one that refuses
/// fails the refund (with its reason).
pub async fn send(state: &AppState, refund_id: &str) -> Result<(), AppError> {
    let row = {
        let mut db = state.store.read().await?;
        store::refunds::get(&mut db, refund_id).await?
    };
    let Some(row) = row.filter(|r| r.status == "pending" && r.reference.is_none()) else {
        return Ok(());
    };
    let answer = match Gateway::of(state, &row.gateway, row.gateway_id.as_deref()).await {
        Ok(gateway) => {
            gateway
                .refund(&RefundRequest {
                    refund_id: &row.id,
                    payment: row.payment_reference.as_deref().unwrap_or_default(),
                    amount_minor: row.amount_minor,
                    currency: &row.currency,
                })
                .await
        }
        Err(AppError::NotFound(_)) => Err(GatewayError::Refused(
            "the gateway that took the payment was removed".into(),
        )),
        Err(other) => Err(GatewayError::Unavailable(other.to_string())),
    };
    let update = match answer {
        Ok(update) => update,
        Err(GatewayError::Refused(why)) => RefundUpdate {
            refund_id: Some(row.id.clone()),
            reference: String::new(),
            state: RefundState::Failed { reason: why },
        },
        Err(err) => {
            let wait = 30i64 << row.tries.clamp(0, 7);
            let next = in_seconds(wait.min(3600));
            tracing::warn!(refund = %row.id, error = %err, retry_at = %next, "the gateway could not be reached for a refund");
            let mut tx = state.store.write().await?;
            store::refunds::postpone(&mut tx, &row.id, &next, &secrets::now()).await?;
            tx.commit().await?;
            return Ok(());
        }
    };
    let mut tx = state.store.write().await?;
    apply_update(&mut tx, &update).await?;
    state.commit(tx).await?;
    Ok(())
}

/// What a gateway says of a refund, applied (from its answer or its notification):
/// the gateway's id recorded; succeeded, added to the card (unless automatic) with its
/// receipt queued; failed, with why. A refund settled once stays settled (a replayed or
/// late notification changes nothing).
pub async fn apply_update(db: &mut impl Db, update: &RefundUpdate) -> Result<(), AppError> {
    let row = match &update.refund_id {
        Some(id) => store::refunds::get(db, id).await?,
        None => None,
    };
    let row = match row {
        Some(row) => Some(row),
        None if !update.reference.is_empty() => {
            store::refunds::by_reference(db, &update.reference).await?
        }
        None => None,
    };
    let Some(row) = row else {
        tracing::info!(reference = %update.reference, "a refund this server did not make; ignored");
        return Ok(());
    };
    let now = secrets::now();
    let reference = (!update.reference.is_empty()).then_some(update.reference.as_str());
    if let (Some(reference), None) = (reference, row.reference.as_deref()) {
        let check_at = in_seconds(FIRST_CHECK_AFTER);
        store::refunds::set_reference(db, &row.id, reference, &check_at, &now).await?;
    }
    match &update.state {
        RefundState::Pending => {}
        RefundState::Failed { reason } => {
            if store::refunds::settle(db, &row.id, false, reference, Some(reason), &now).await? {
                if row.automatic() {
                    tracing::error!(refund = %row.id, card = %row.card_id, reason = %reason,
                        "an automatic refund failed; refund it in the gateway's dashboard");
                } else {
                    tracing::warn!(refund = %row.id, card = %row.card_id, reason = %reason, "refund failed");
                }
            }
        }
        RefundState::Succeeded => {
            if !store::refunds::settle(db, &row.id, true, reference, None, &now).await? {
                return Ok(());
            }
            if row.automatic() {
                tracing::warn!(refund = %row.id, card = %row.card_id, "payment refunded automatically");
                return Ok(());
            }
            let (card_row, brand) = load(db, &row.card_id).await?;
            let card = add_to_card(db, &card_row, &brand, row.amount_minor, &now).await?;
            mail::queue_refund_receipt(db, &card, &row.id, row.amount_minor).await?;
            tracing::info!(refund = %row.id, card = %card.id, status = %card.status, "refunded");
        }
    }
    Ok(())
}

/// Adds a succeeded refund to its card: the refunded total, a new version, `refunded`
/// once it is all of it; and the event both chat sides follow.
async fn add_to_card(
    db: &mut impl Db,
    row: &store::cards::CardRow,
    brand: &str,
    amount: i64,
    now: &str,
) -> Result<Card, AppError> {
    let before = row.state()?;
    let total = row.refunded_minor + amount;
    let next = if total == row.amount_minor {
        before.apply(&CardAction::RefundInFull)?
    } else {
        CardState {
            version: before.version + 1,
            ..before
        }
    };
    if !store::cards::add_refund(db, &row.id, amount, &next, row.version, now).await? {
        return Err(changed_meanwhile());
    }
    let written = store::cards::CardRow {
        status: next.status.as_str().to_owned(),
        version: next.version,
        refunded_minor: total,
        updated_at: now.to_owned(),
        ..row.clone()
    };
    changed(db, written, brand).await
}

/// Sends the refunds the gateway has not taken yet (it was down, or they are automatic
/// ones just queued). Returns how many were sent.
pub async fn send_due(state: &AppState) -> Result<usize, AppError> {
    let due = {
        let mut db = state.store.read().await?;
        store::refunds::due(&mut db, &secrets::now(), BATCH).await?
    };
    for id in &due {
        if let Err(err) = send(state, id).await {
            tracing::warn!(refund = %id, error = %err, "sending a refund failed");
        }
    }
    Ok(due.len())
}

/// Asks the gateways about the refunds they took that are still pending when they fall
/// due, and applies what they say. Returns how many were asked about.
pub async fn check_awaiting(state: &AppState) -> Result<usize, AppError> {
    let due = {
        let mut db = state.store.read().await?;
        store::refunds::awaiting(&mut db, &secrets::now(), BATCH).await?
    };
    for id in &due {
        if let Err(err) = check(state, id).await {
            tracing::warn!(refund = %id, error = %err, "asking about a refund failed");
        }
    }
    Ok(due.len())
}

/// One pending refund, asked about at its gateway: settled if the gateway says so,
/// else asked about again later (twice as late each time, within a bound). A gateway
/// that cannot be reached, or cannot find it, settles nothing: a refund fails only on
/// the gateway's word that it failed.
async fn check(state: &AppState, refund_id: &str) -> Result<(), AppError> {
    let row = {
        let mut db = state.store.read().await?;
        store::refunds::get(&mut db, refund_id).await?
    };
    let Some(row) = row.filter(|r| r.status == "pending") else {
        return Ok(());
    };
    let Some(reference) = row.reference.as_deref() else {
        return Ok(());
    };
    let answer = match Gateway::of(state, &row.gateway, row.gateway_id.as_deref()).await {
        Ok(gateway) => gateway.refund_state(reference).await,
        // It may have made the refund: only its dashboard can tell now.
        Err(AppError::NotFound(_)) => {
            tracing::error!(refund = %row.id, card = %row.card_id, reference = %reference,
                "a pending refund's gateway was removed; settle it from the gateway's dashboard");
            Err(GatewayError::Unavailable("the gateway was removed".into()))
        }
        Err(err) => Err(GatewayError::Unavailable(err.to_string())),
    };
    let settled = match answer {
        Ok(update) if update.state != RefundState::Pending => Some(update),
        Ok(_) => None,
        Err(err) => {
            tracing::warn!(refund = %row.id, error = %err, "could not ask the gateway about a pending refund");
            None
        }
    };
    let mut tx = state.store.write().await?;
    match settled {
        Some(update) => {
            let update = RefundUpdate {
                refund_id: Some(row.id.clone()),
                ..update
            };
            apply_update(&mut tx, &update).await?;
            tracing::info!(refund = %row.id, state = ?update.state, "a pending refund settled, as its gateway said when asked");
            state.commit(tx).await?;
        }
        None => {
            let wait = (FIRST_CHECK_AFTER << row.tries.clamp(0, 10)).min(CHECK_AT_MOST_EVERY);
            store::refunds::postpone(&mut tx, &row.id, &in_seconds(wait), &secrets::now()).await?;
            // Nothing for the outbox to do: no need to wake it.
            tx.commit().await?;
        }
    }
    Ok(())
}

/// The time `seconds` from now, as stored.
fn in_seconds(seconds: i64) -> String {
    secrets::timestamp(Utc::now() + chrono::Duration::seconds(seconds))
}

/// A card's refunds, oldest first, for an admin of its brand.
pub async fn list(
    state: &AppState,
    admin: &OperatorAuth,
    card_id: &str,
) -> Result<Vec<Refund>, AppError> {
    let mut db = state.store.read().await?;
    let (_, brand) = load(&mut db, card_id).await?;
    admin.ensure_brand(&brand)?;
    store::refunds::of_card(&mut db, card_id)
        .await?
        .into_iter()
        .map(|row: RefundRow| row.into_api().map_err(AppError::from))
        .collect()
}
