//! Payment cards: Share, reading one, checkout links, the attempts, and every change of
//! a card's status.
//!
//! Every change goes through `paycard_core`'s state machine inside a write transaction
//! that also appends the event: of two concurrent requests (a Cancel and a Decline, say)
//! the second sees the first's result and is refused with 409. The `version` in the
//! UPDATE is a second guard that holds on any database.

use std::net::IpAddr;

use chrono::Utc;
use paycard_core::api::{Attempt, Author, Card, CardEvent, Message, MessageEvent};
use paycard_core::{CardAction, CardState, CardStatus};

use super::accounts::{Caller, OperatorAuth, VisitorAuth};
use super::live::{self, EventKind};
use crate::error::AppError;
use crate::secrets::{self, new_id, new_secret, timestamp};
use crate::state::AppState;
use crate::store::{self, cards::CardRow, Db};

/// A card and its brand, or 404.
pub async fn load(db: &mut impl Db, id: &str) -> Result<(CardRow, String), AppError> {
    store::cards::get(db, id)
        .await?
        .ok_or(AppError::NotFound("card"))
}

/// Who may act on a card: the visitor of its conversation, or an operator of its brand.
pub fn authorize(caller: &Caller, card: &CardRow, brand: &str) -> Result<(), AppError> {
    match caller {
        Caller::Visitor(v) if v.conversation_id == card.conversation_id => Ok(()),
        Caller::Operator(o) if o.works_for(brand) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// A card, for the visitor of its conversation or an operator of its brand.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Card, AppError> {
    let mut db = state.store.read().await?;
    let (row, brand) = load(&mut db, id).await?;
    authorize(caller, &row, &brand)?;
    Ok(row.into_api()?)
}

/// A card for the visitor holding `token`, in one read: the widget's most frequent
/// request. `None` when the token is not that of the card's conversation (or there is
/// no such card): then [`get`], with the caller resolved, says which error applies.
pub async fn get_for_visitor(
    state: &AppState,
    token: &str,
    id: &str,
) -> Result<Option<Card>, AppError> {
    let mut db = state.store.read().await?;
    match store::cards::for_visitor(&mut db, id, &secrets::hash_secret(token)).await? {
        Some(row) => Ok(Some(row.into_api()?)),
        None => Ok(None),
    }
}

/// Applies `action` to a card inside the caller's transaction: load, authorize (if a
/// caller is given; the system and checkout links pass `None`), transition (or 409),
/// write with the version as a lock, append the event. Returns the card as it now is.
pub async fn transition_in(
    db: &mut impl Db,
    caller: Option<&Caller>,
    card_id: &str,
    action: &CardAction,
) -> Result<Card, AppError> {
    let (row, brand) = load(db, card_id).await?;
    if let Some(caller) = caller {
        authorize(caller, &row, &brand)?;
    }
    let next = row.state()?.apply(action)?;
    let now = secrets::now();
    if !store::cards::set_state(db, card_id, &next, row.version, &now).await? {
        return Err(changed_meanwhile());
    }
    let written = CardRow {
        status: next.status.as_str().to_owned(),
        failure_reason: next.failure_reason,
        version: next.version,
        updated_at: now,
        ..row
    };
    changed(db, written, &brand).await
}

/// A card's version lock found it changed by someone else since it was read.
pub fn changed_meanwhile() -> AppError {
    AppError::Conflict {
        code: "card_changed",
        message: "the card changed meanwhile; reload it".into(),
    }
}

/// After a card's new row is written (in the caller's transaction): the card as it now
/// is, with the event both chat sides follow appended.
pub async fn changed(db: &mut impl Db, written: CardRow, brand: &str) -> Result<Card, AppError> {
    let card = written.into_api()?;
    live::record(
        db,
        brand,
        Some(&card.conversation_id),
        EventKind::Card,
        &CardEvent { card: card.clone() },
    )
    .await?;
    super::webhooks::queue_for_card(db, brand, &card).await?;
    tracing::info!(card = %card.id, status = %card.status, version = card.version, "card changed");
    Ok(card)
}

/// Applies `action` to a card in a transaction of its own (see [`transition_in`]).
pub async fn transition(
    state: &AppState,
    caller: Option<&Caller>,
    card_id: &str,
    action: CardAction,
) -> Result<Card, AppError> {
    let mut tx = state.store.write().await?;
    let card = transition_in(&mut tx, caller, card_id, &action).await?;
    state.commit(tx).await?;
    Ok(card)
}

/// Share: puts a card for one of the brand's active payments into the conversation, for
/// both sides at once. The card snapshots the payment. With an idempotency key, a
/// retried request returns the card the first one made instead of a second card.
pub async fn share(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
    payment_id: &str,
    key: Option<&str>,
) -> Result<Card, AppError> {
    let brand = super::chat::brand_for(state, who, conversation_id).await?;
    let mut tx = state.store.write().await?;
    if let Some(key) = key {
        if let Some(earlier) = store::cards::shared_with_key(&mut tx, &who.account.id, key).await? {
            if earlier.conversation_id != conversation_id || earlier.payment_id != payment_id {
                return Err(AppError::Conflict {
                    code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used for a different share".into(),
                });
            }
            return Ok(earlier.into_api()?);
        }
    }
    let payment = store::payments::get(&mut tx, payment_id)
        .await?
        .filter(|p| p.brand_id == brand)
        .ok_or(AppError::NotFound("payment"))?;
    if !payment.active {
        return Err(AppError::Conflict {
            code: "payment_inactive",
            message: "this payment is deactivated".into(),
        });
    }
    let now = Utc::now();
    let ttl =
        chrono::Duration::from_std(state.config.card_ttl).unwrap_or(chrono::Duration::hours(24));
    let created = CardState::new();
    let card = Card {
        id: new_id("card"),
        conversation_id: conversation_id.to_owned(),
        payment_id: payment.id,
        title: payment.title,
        description: payment.description,
        amount_minor: payment.amount_minor,
        currency: payment.currency,
        recurrence: payment.recurrence,
        status: created.status,
        failure_reason: None,
        version: created.version,
        created_at: timestamp(now),
        updated_at: timestamp(now),
        expires_at: timestamp(now + ttl),
        refunded_minor: 0,
    };
    store::cards::insert(&mut tx, &card, &who.account.id, key).await?;
    let message = Message {
        id: new_id("msg"),
        conversation_id: conversation_id.to_owned(),
        author: Author::Operator,
        author_name: who.account.name.clone(),
        text: None,
        card: Some(card.clone()),
        created_at: card.created_at.clone(),
    };
    store::messages::insert(&mut tx, &message).await?;
    live::record(
        &mut tx,
        &brand,
        Some(conversation_id),
        EventKind::Message,
        &MessageEvent { message },
    )
    .await?;
    super::webhooks::queue_for_card(&mut tx, &brand, &card).await?;
    state.commit(tx).await?;
    tracing::info!(card = %card.id, conversation = %conversation_id, payment = %card.payment_id, "card shared");
    Ok(card)
}

/// A link to the hosted checkout page for this card, while it can be paid (pending,
/// or failed and retryable). Each call makes a new link; all die with the card.
pub async fn checkout_link(
    state: &AppState,
    visitor: VisitorAuth,
    client: IpAddr,
    card_id: &str,
) -> Result<String, AppError> {
    state.limits.checkout_links.check(&client)?;
    let caller = Caller::Visitor(visitor);
    let mut tx = state.store.write().await?;
    let (row, brand) = load(&mut tx, card_id).await?;
    authorize(&caller, &row, &brand)?;
    let status = row.status()?;
    if !status.allows(&CardAction::StartPayment) {
        return Err(AppError::Conflict {
            code: if status.is_terminal() {
                "card_final"
            } else {
                "invalid_transition"
            },
            message: format!("the card is {status} and cannot be paid now"),
        });
    }
    let (token, hash) = new_secret(secrets::CHECKOUT_TOKEN);
    store::cards::insert_checkout_token(&mut tx, &hash, card_id, &secrets::now()).await?;
    tx.commit().await?;
    Ok(format!("{}/pay/{token}", state.public_url))
}

/// A card's payment attempts, oldest first, for an operator of its brand.
pub async fn attempts(
    state: &AppState,
    who: &OperatorAuth,
    card_id: &str,
) -> Result<Vec<Attempt>, AppError> {
    let mut db = state.store.read().await?;
    let (_, brand) = load(&mut db, card_id).await?;
    who.ensure_brand(&brand)?;
    Ok(store::attempts::of_card(&mut db, card_id).await?)
}

/// Whether a card can still be taken to payment.
pub fn payable(card: &Card) -> bool {
    card.status.allows(&CardAction::StartPayment)
}

/// Whether a card is past its time to pay and may be expired.
pub fn overdue(card: &Card) -> bool {
    matches!(card.status, CardStatus::Pending | CardStatus::Failed)
        && card.expires_at <= secrets::now()
}
