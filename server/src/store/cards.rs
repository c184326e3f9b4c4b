//! Payment cards, with the snapshot of the payment they were shared with, and the
//! checkout links that pay them (hashed).

use paycard_core::api::Card;
use paycard_core::{CardState, CardStatus};

use super::payments::{corrupt, currency, recurrence};
use super::{Db, Error};

/// Written into each statement at compile time: no SQL is built per call.
macro_rules! card_columns {
    () => {
        "k.id, k.conversation_id, k.payment_id, k.title, k.description, k.amount_minor, k.currency, \
     k.recurrence_interval, k.recurrence_count, k.status, k.failure_reason, k.version, k.created_at, \
     k.updated_at, k.expires_at, k.refunded_minor"
    };
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CardRow {
    pub id: String,
    pub conversation_id: String,
    pub payment_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: String,
    pub recurrence_interval: Option<String>,
    pub recurrence_count: Option<i64>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    pub refunded_minor: i64,
}

impl CardRow {
    pub fn status(&self) -> Result<CardStatus, Error> {
        CardStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("card {} has status {:?}", self.id, self.status)))
    }

    pub fn state(&self) -> Result<CardState, Error> {
        Ok(CardState {
            status: self.status()?,
            failure_reason: self.failure_reason.clone(),
            version: self.version,
        })
    }

    pub fn into_api(self) -> Result<Card, Error> {
        Ok(Card {
            currency: currency(&self.currency)?,
            recurrence: recurrence(self.recurrence_interval.as_deref(), self.recurrence_count)?,
            status: self.status()?,
            id: self.id,
            conversation_id: self.conversation_id,
            payment_id: self.payment_id,
            title: self.title,
            description: self.description,
            amount_minor: self.amount_minor,
            failure_reason: self.failure_reason,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
            refunded_minor: self.refunded_minor,
        })
    }
}

#[derive(sqlx::FromRow)]
struct WithBrand {
    #[sqlx(flatten)]
    card: CardRow,
    brand_id: String,
}

/// A card and the brand of its conversation.
pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<(CardRow, String)>, Error> {
    let row: Option<WithBrand> = on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        ", c.brand_id FROM cards k JOIN conversations c ON c.id = k.conversation_id
         WHERE k.id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| (r.card, r.brand_id)))
}

/// A card, if it is in the conversation of the visitor token with this hash: the card
/// and the check of its reader in one read.
pub async fn for_visitor(
    db: &mut impl Db,
    id: &str,
    visitor_token_hash: &str,
) -> Result<Option<CardRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards k JOIN conversations c ON c.id = k.conversation_id
         WHERE k.id = $1 AND c.visitor_token_hash = $2"
    ))
    .bind(id)
    .bind(visitor_token_hash)
    .fetch_optional(c)
    .await)
}

/// The cards of a conversation.
pub async fn in_conversation(
    db: &mut impl Db,
    conversation_id: &str,
) -> Result<Vec<CardRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards k WHERE k.conversation_id = $1"
    ))
    .bind(conversation_id)
    .fetch_all(c)
    .await)
}

/// A visitor's cards, newest first: those of their conversation and, when their email is
/// known, those of the brand's other conversations with the same email.
pub async fn of_visitor(
    db: &mut impl Db,
    conversation_id: &str,
    brand_id: &str,
    email: Option<&str>,
) -> Result<Vec<CardRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards k JOIN conversations v ON v.id = k.conversation_id
          WHERE k.conversation_id = $1
             OR ($3 IS NOT NULL AND v.brand_id = $2 AND lower(v.visitor_email) = lower($3))
          ORDER BY k.created_at DESC, k.id DESC LIMIT 100"
    ))
    .bind(conversation_id)
    .bind(brand_id)
    .bind(email)
    .fetch_all(c)
    .await)
}

/// The card an account shared with this Idempotency-Key, if any.
pub async fn shared_with_key(
    db: &mut impl Db,
    account_id: &str,
    key: &str,
) -> Result<Option<CardRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards k WHERE k.shared_by = $1 AND k.idempotency_key = $2"
    ))
    .bind(account_id)
    .bind(key)
    .fetch_optional(c)
    .await)
}

/// Writes a new card, shared by `shared_by` (with the Share's Idempotency-Key).
pub async fn insert(
    db: &mut impl Db,
    card: &Card,
    shared_by: &str,
    key: Option<&str>,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO cards (id, conversation_id, payment_id, title, description, amount_minor, currency,
             recurrence_interval, recurrence_count, status, failure_reason, version, shared_by, idempotency_key,
             created_at, updated_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&card.id)
    .bind(&card.conversation_id)
    .bind(&card.payment_id)
    .bind(&card.title)
    .bind(&card.description)
    .bind(card.amount_minor)
    .bind(card.currency.code())
    .bind(card.recurrence.map(|r| r.interval.as_str()))
    .bind(card.recurrence.map(|r| i64::from(r.count)))
    .bind(card.status.as_str())
    .bind(card.version)
    .bind(shared_by)
    .bind(key)
    .bind(&card.created_at)
    .bind(&card.updated_at)
    .bind(&card.expires_at)
    .execute(c).await
    })?;
    Ok(())
}

/// Adds `amount` to a card's refunded total and writes its new state (a full refund
/// makes it `refunded`), if it is still at `expected_version`; `false` if it changed.
/// The database also refuses a total above the amount paid.
pub async fn add_refund(
    db: &mut impl Db,
    id: &str,
    amount: i64,
    next: &CardState,
    expected_version: i64,
    now: &str,
) -> Result<bool, Error> {
    let updated = exec!(db, |c| {
        sqlx::query(
        "UPDATE cards SET refunded_minor = refunded_minor + $1, status = $2, version = $3, updated_at = $4
         WHERE id = $5 AND version = $6",
    )
    .bind(amount)
    .bind(next.status.as_str())
    .bind(next.version)
    .bind(now)
    .bind(id)
    .bind(expected_version)
    .execute(c)
    .await
    })?;
    Ok(updated == 1)
}

/// Writes a card's new state if it is still at `expected_version` (the optimistic lock
/// that holds on any database); `false` if it changed meanwhile.
pub async fn set_state(
    db: &mut impl Db,
    id: &str,
    next: &CardState,
    expected_version: i64,
    now: &str,
) -> Result<bool, Error> {
    let updated = exec!(db, |c| sqlx::query(
        "UPDATE cards SET status = $1, failure_reason = $2, version = $3, updated_at = $4
         WHERE id = $5 AND version = $6",
    )
    .bind(next.status.as_str())
    .bind(&next.failure_reason)
    .bind(next.version)
    .bind(now)
    .bind(id)
    .bind(expected_version)
    .execute(c)
    .await)?;
    Ok(updated == 1)
}

/// Cards that can still be paid but whose time is up at `now`, the oldest first.
pub async fn due_to_expire(db: &mut impl Db, now: &str) -> Result<Vec<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT id FROM cards WHERE status IN ('pending', 'failed') AND expires_at <= $1 ORDER BY expires_at",
    )
    .bind(now)
    .fetch_all(c).await
    })
}

/// Cards `processing` since before `before` with nothing on record that can settle them:
/// no pending attempt, no gateway session waiting for its payment.
pub async fn processing_unrecorded(db: &mut impl Db, before: &str) -> Result<Vec<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT id FROM cards WHERE status = 'processing' AND updated_at <= $1
           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.card_id = cards.id AND a.status = 'pending')
           AND NOT EXISTS (SELECT 1 FROM gateway_sessions s WHERE s.card_id = cards.id AND s.status = 'complete'
                           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = s.attempt_id AND a.status <> 'pending'))",
    )
    .bind(before)
    .fetch_all(c).await
    })
}

pub async fn insert_checkout_token(
    db: &mut impl Db,
    token_hash: &str,
    card_id: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "INSERT INTO checkout_tokens (token_hash, card_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash)
    .bind(card_id)
    .bind(now)
    .execute(c)
    .await)?;
    Ok(())
}

/// The card a checkout link pays.
pub async fn of_checkout_token(
    db: &mut impl Db,
    token_hash: &str,
) -> Result<Option<String>, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT card_id FROM checkout_tokens WHERE token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await)
}

/// Who pays, as typed on the checkout: where the receipt goes, in which language.
/// Not part of the card's state (no new version): the last one typed wins. The first
/// email a conversation's visitor gives also names them there (an operator may change
/// both later): whether it did.
pub async fn set_payer(
    db: &mut impl Db,
    card_id: &str,
    name: &str,
    email: &str,
    locale: &str,
) -> Result<bool, Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE cards SET payer_email = $1, payer_locale = $2 WHERE id = $3"
    )
    .bind(email)
    .bind(locale)
    .bind(card_id)
    .execute(c)
    .await)?;
    let name = name.trim();
    exec!(db, |c| sqlx::query(
        "UPDATE conversations
            SET visitor_name = CASE WHEN $1 = '' THEN visitor_name ELSE $1 END, visitor_email = $2,
                visitor_name_key = CASE WHEN $1 = '' THEN visitor_name_key ELSE $4 END,
                visitor_email_key = $5
          WHERE id = (SELECT conversation_id FROM cards WHERE id = $3) AND visitor_email IS NULL"
    )
    .bind(name)
    .bind(email)
    .bind(card_id)
    .bind(paycard_core::search::key(name))
    .bind(paycard_core::search::key(email))
    .execute(c)
    .await)
    .map(|renamed| renamed > 0)
}

/// The payer's email and language, if the checkout was given them.
pub async fn payer(
    db: &mut impl Db,
    card_id: &str,
) -> Result<Option<(String, Option<String>)>, Error> {
    let found: Option<(Option<String>, Option<String>)> = on!(db, |c| sqlx::query_as(
        "SELECT payer_email, payer_locale FROM cards WHERE id = $1"
    )
    .bind(card_id)
    .fetch_optional(c)
    .await)?;
    Ok(found.and_then(|(email, locale)| Some((email.filter(|e| !e.is_empty())?, locale))))
}
