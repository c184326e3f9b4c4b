//! Refunds (SPEC §8.3): an admin of a paid card's brand gives back part of the money or
//! the rest of it. The total refunded and on its way back never exceeds what was paid,
//! whatever the race: each refund is decided inside the write transaction that records
//! it (one at a time, on either database, across instances), and the database refuses a
//! refunded total above the amount besides. Both chat sides see the card change live: a
//! partial refund adds to its status line, a full one makes it `refunded`.
//!
//! The sandbox refunds at once. Cards paid through Stripe are refused for now
//! (`refund_unavailable`, refund them in Stripe's dashboard): their refunds need the
//! payment intent, which is not yet recorded when a session completes.

use paycard_core::api::{Card, NewRefund, Refund};
use paycard_core::validation::validate_refund;
use paycard_core::{CardAction, CardState, CardStatus};

use super::accounts::OperatorAuth;
use super::cards::{changed, changed_meanwhile, load};
use crate::error::AppError;
use crate::secrets::{self, new_id};
use crate::state::AppState;
use crate::store::{self, Db};

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
    let gateway = store::attempts::paid_through(&mut tx, card_id).await?;
    if gateway.as_deref() != Some("sandbox") {
        return Err(AppError::Conflict {
            code: "refund_unavailable",
            message: "this card was paid through a gateway whose refunds paycard cannot make yet; refund it in the gateway's dashboard".into(),
        });
    }
    let now = secrets::now();
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
        },
        &now,
    )
    .await?;
    // The sandbox gives the money back at once.
    store::refunds::settle(&mut tx, &id, true, Some(&format!("sbx_{id}")), None, &now).await?;
    let card = add_to_card(&mut tx, &row, &brand, amount, &now).await?;
    state.commit(tx).await?;
    tracing::info!(card = %card_id, refund = %id, amount, status = %card.status,
        by = %admin.account.email, "refunded");
    let mut db = state.store.read().await?;
    Ok(store::refunds::get(&mut db, &id)
        .await?
        .ok_or(AppError::NotFound("refund"))?
        .into_api()?)
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
        .map(|row| row.into_api().map_err(AppError::from))
        .collect()
}
