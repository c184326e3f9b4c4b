//! Payment cards: Share, read, checkout links, Decline, Cancel request, attempts.
//!
//! Every change of a card's status goes through `paycard_core`'s transition function
//! inside one `BEGIN IMMEDIATE` transaction that also writes the event: SQLite lets one
//! such transaction run at a time, so of two concurrent requests (a Cancel and a
//! Decline, say) the second sees the first's result and is refused with 409. The
//! `version` in the UPDATE's WHERE is a second guard that holds on any database.

use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use paycard_core::api::{
    Attempt, Author, Card, CardEvent, Checkout, Message, MessageEvent, ShareCard,
};
use paycard_core::{CardAction, CardState, CardStatus, Currency};

use super::auth::{Caller, OperatorAuth, VisitorAuth};
use super::chat::{
    conversation_brand, insert_message, recurrence_from_columns, PaymentRow, PAYMENT_COLUMNS,
};
use super::live::{self, EventKind};
use super::ApiJson;
use crate::error::AppError;
use crate::origin::Client;
use crate::secrets::{self, new_id, new_secret, timestamp};
use crate::AppState;

pub const CARD_COLUMNS: &str = "id, conversation_id, payment_id, title, description, amount_minor, currency, \
     recurrence_interval, recurrence_count, status, failure_reason, version, created_at, updated_at, expires_at";

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
}

impl CardRow {
    pub fn status(&self) -> Result<CardStatus, AppError> {
        CardStatus::parse(&self.status).ok_or_else(|| {
            AppError::Internal(format!("card {} has status {:?}", self.id, self.status))
        })
    }

    pub fn state(&self) -> Result<CardState, AppError> {
        Ok(CardState {
            status: self.status()?,
            failure_reason: self.failure_reason.clone(),
            version: self.version,
        })
    }

    pub fn into_api(self) -> Result<Card, AppError> {
        Ok(Card {
            currency: Currency::from_code(&self.currency).ok_or_else(|| {
                AppError::Internal(format!("card {} has currency {:?}", self.id, self.currency))
            })?,
            recurrence: recurrence_from_columns(
                self.recurrence_interval.as_deref(),
                self.recurrence_count,
            )?,
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
        })
    }
}

pub async fn load_card(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
) -> Result<(CardRow, String), AppError> {
    let card: CardRow = sqlx::query_as(&format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound("card"))?;
    let brand: String = sqlx::query_scalar("SELECT brand_id FROM conversations WHERE id = ?")
        .bind(&card.conversation_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((card, brand))
}

/// Who may act on a card: the visitor of its conversation, or an operator of its brand.
pub fn authorize(caller: &Caller, card: &CardRow, brand: &str) -> Result<(), AppError> {
    match caller {
        Caller::Visitor(v) if v.conversation_id == card.conversation_id => Ok(()),
        Caller::Operator(o) if o.works_for(brand) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// Applies `action` to a card inside the caller's transaction: load, authorize (if a
/// caller is given; the system and checkout links pass `None`), transition (or 409),
/// write with the version as a lock, record the event. Returns the card as it now is
/// and the event to publish once the caller commits.
pub async fn transition_in(
    conn: &mut sqlx::SqliteConnection,
    caller: Option<&Caller>,
    card_id: &str,
    action: &CardAction,
) -> Result<(Card, i64), AppError> {
    let (row, brand) = load_card(conn, card_id).await?;
    if let Some(caller) = caller {
        authorize(caller, &row, &brand)?;
    }
    let next = row.state()?.apply(action)?;
    let now = secrets::now();
    let updated = sqlx::query(
        "UPDATE cards SET status = ?, failure_reason = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?",
    )
    .bind(next.status.as_str())
    .bind(&next.failure_reason)
    .bind(next.version)
    .bind(&now)
    .bind(card_id)
    .bind(row.version)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(AppError::Conflict {
            code: "card_changed",
            message: "the card changed meanwhile; reload it".into(),
        });
    }
    let card = CardRow {
        status: next.status.as_str().to_owned(),
        failure_reason: next.failure_reason,
        version: next.version,
        updated_at: now,
        ..row
    }
    .into_api()?;
    let seq = live::record(
        conn,
        &brand,
        &card.conversation_id,
        EventKind::Card,
        &CardEvent { card: card.clone() },
    )
    .await?;
    tracing::info!(card = %card.id, status = %card.status, version = card.version, "card changed");
    Ok((card, seq))
}

/// Applies `action` to a card as one transaction of its own (see [`transition_in`]).
pub async fn transition(
    state: &AppState,
    caller: Option<&Caller>,
    card_id: &str,
    action: CardAction,
) -> Result<Card, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (card, seq) = transition_in(&mut tx, caller, card_id, &action).await?;
    tx.commit().await?;
    state.live.published(seq);
    Ok(card)
}

/// How long an attempt may stay `pending` before the request that made it is taken as
/// gone: the sandbox answers at once, and calls to a gateway time out after 30 s.
pub const STUCK_ATTEMPT: chrono::Duration = chrono::Duration::minutes(2);

/// How long a card may stay `processing` with no attempt on record before it is failed.
/// Only cards from before attempts were recorded ahead of the charge can be there.
pub const STUCK_PROCESSING: chrono::Duration = chrono::Duration::minutes(10);

/// Settles the payments that a crash or a lost connection left `processing`: each
/// attempt still `pending` after [`STUCK_ATTEMPT`] is settled with what its gateway says
/// became of it (never by guessing: a charge the gateway never saw is voided there
/// first). Card by card: one that fails is logged and the others go on. Returns how many
/// were settled.
pub async fn settle_stuck_payments(state: &AppState) -> usize {
    let before = secrets::timestamp(chrono::Utc::now() - STUCK_ATTEMPT);
    let stuck: Vec<(String, String, String, Option<String>)> = match sqlx::query_as(
        "SELECT id, card_id, gateway, card_last4 FROM attempts WHERE status = 'pending' AND created_at <= ? ORDER BY created_at",
    )
    .bind(before)
    .fetch_all(&state.db)
    .await
    {
        Ok(rows) => rows,
        Err(err) => {
            tracing::warn!(error = %err, "listing pending attempts failed");
            return 0;
        }
    };
    let mut settled = 0;
    for (attempt_id, card_id, gateway, last4) in stuck {
        match settle_stuck_attempt(state, &attempt_id, &card_id, &gateway, last4.as_deref()).await {
            Ok(()) => settled += 1,
            Err(err) => {
                tracing::warn!(error = %err, attempt = %attempt_id, card = %card_id, "settling a pending attempt failed; will retry")
            }
        }
    }
    settled + fail_unrecorded_payments(state).await
}

async fn settle_stuck_attempt(
    state: &AppState,
    attempt_id: &str,
    card_id: &str,
    gateway: &str,
    last4: Option<&str>,
) -> Result<(), AppError> {
    let outcome = match gateway {
        paycard_core::gateways::SANDBOX => {
            crate::checkout::gateway::Sandbox::new(state.db.clone(), state.config.sandbox_latency)
                .resolve(attempt_id)
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
        }
        other => {
            return Err(AppError::Internal(format!(
                "no way to ask gateway {other:?} about an attempt"
            )))
        }
    };
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (card, seqs) =
        crate::checkout::settle(&mut tx, attempt_id, card_id, gateway, last4, &outcome).await?;
    tx.commit().await?;
    for seq in seqs {
        state.live.published(seq);
    }
    tracing::warn!(card = %card.id, attempt = %attempt_id, status = %card.status, "settled a payment its request left pending");
    Ok(())
}

/// Fails cards left `processing` with nothing on record that can settle them (no
/// pending attempt, no gateway session waiting for its payment): only data from before
/// attempts were recorded ahead of the charge.
async fn fail_unrecorded_payments(state: &AppState) -> usize {
    let before = secrets::timestamp(chrono::Utc::now() - STUCK_PROCESSING);
    let stuck: Vec<String> = match sqlx::query_scalar(
        "SELECT id FROM cards WHERE status = 'processing' AND updated_at <= ?
           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.card_id = cards.id AND a.status = 'pending')
           AND NOT EXISTS (SELECT 1 FROM gateway_sessions s WHERE s.card_id = cards.id AND s.status = 'complete'
                           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = s.attempt_id AND a.status <> 'pending'))",
    )
    .bind(before)
    .fetch_all(&state.db)
    .await
    {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "listing cards left processing failed");
            return 0;
        }
    };
    let mut failed = 0;
    for id in stuck {
        let action = CardAction::PaymentFailed {
            reason: "processing_error".into(),
        };
        match transition(state, None, &id, action).await {
            Ok(_) => failed += 1,
            Err(AppError::Conflict { .. }) => {}
            Err(err) => {
                tracing::warn!(error = %err, card = %id, "failing a card left processing failed")
            }
        }
    }
    failed
}

/// Deletes sessions and stream tickets past their expiry, and gateway event ids too old
/// to be replayed.
pub async fn prune_expired_credentials(state: &AppState) -> Result<u64, AppError> {
    let now = secrets::now();
    let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(&now)
        .execute(&state.db)
        .await?;
    let tickets = sqlx::query("DELETE FROM stream_tickets WHERE expires_at <= ?")
        .bind(&now)
        .execute(&state.db)
        .await?;
    // Stripe retries a webhook for three days; a month of event ids is plenty to
    // recognise a replay.
    let month_ago = secrets::timestamp(chrono::Utc::now() - chrono::Duration::days(30));
    let events = sqlx::query("DELETE FROM gateway_events WHERE received_at <= ?")
        .bind(month_ago)
        .execute(&state.db)
        .await?;
    Ok(sessions.rows_affected() + tickets.rows_affected() + events.rows_affected())
}

/// Expires every card past its time to pay (pending or failed, not processing). Card by
/// card: one whose gateway cannot be reached is logged and tried again next time, and
/// the others still expire. Returns how many expired.
pub async fn expire_due_cards(state: &AppState) -> usize {
    let due: Vec<String> = match sqlx::query_scalar(
        "SELECT id FROM cards WHERE status IN ('pending', 'failed') AND expires_at <= ? ORDER BY expires_at",
    )
    .bind(secrets::now())
    .fetch_all(&state.db)
    .await
    {
        Ok(due) => due,
        Err(err) => {
            tracing::warn!(error = %err, "listing cards to expire failed");
            return 0;
        }
    };
    let mut expired = 0;
    for id in due {
        // Another request may have paid or cancelled it meanwhile: that one wins. An open
        // gateway session is closed first; if it was paid, the payment wins.
        match crate::checkout::redirect::close_card(state, None, &id, CardAction::Expire).await {
            Ok(_) => expired += 1,
            Err(AppError::Conflict { code, .. })
                if matches!(code, "gateway_unavailable" | "payment_in_progress") =>
            {
                tracing::warn!(card = %id, code, "a card due to expire could not be closed at its gateway; will retry")
            }
            Err(AppError::Conflict { .. }) => {}
            Err(err) => {
                tracing::warn!(error = %err, card = %id, "expiring a card failed; will retry")
            }
        }
    }
    expired
}

fn etag(card: &Card) -> String {
    format!("\"{}-v{}\"", card.id, card.version)
}

/// A card, for the visitor of its conversation or an operator of its brand. `ETag`
/// is the card's version; `If-None-Match` with it answers 304 until the card changes.
#[utoipa::path(get, path = "/api/v1/cards/{id}", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Card, headers(("ETag" = String))), (status = 304, description = "not modified since the ETag given"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_card(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (row, brand) = load_card(&mut conn, &id).await?;
    authorize(&caller, &row, &brand)?;
    let card = row.into_api()?;
    let tag = etag(&card);
    let tag_value = HeaderValue::from_str(&tag).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| candidate.trim() == tag || candidate.trim() == "*");
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(card).into_response()
    };
    response.headers_mut().insert(ETAG, tag_value);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    Ok(response)
}

/// A link to the hosted checkout page for this card, while it can be paid (pending,
/// or failed and retryable). Each call makes a new link; all die with the card.
#[utoipa::path(post, path = "/api/v1/cards/{id}/checkout", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Checkout), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::Conflict, super::doc::TooManyRequests),
    security(("bearer" = [])))]
pub async fn checkout(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Checkout>, AppError> {
    state.limits.checkout_links.check(&client.addr)?;
    let caller = Caller::Visitor(visitor);
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (row, brand) = load_card(&mut tx, &id).await?;
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
    sqlx::query("INSERT INTO checkout_tokens (token_hash, card_id, created_at) VALUES (?, ?, ?)")
        .bind(hash)
        .bind(&id)
        .bind(secrets::now())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(Checkout {
        checkout_url: format!("{}/pay/{token}", state.public_url),
    }))
}

/// The visitor declines the card.
#[utoipa::path(post, path = "/api/v1/cards/{id}/decline", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Card), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::Conflict),
    security(("bearer" = [])))]
pub async fn decline(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<String>,
) -> Result<Json<Card>, AppError> {
    crate::checkout::redirect::close_card(
        &state,
        Some(&Caller::Visitor(visitor)),
        &id,
        CardAction::Decline,
    )
    .await
    .map(Json)
}

/// The operator withdraws the card ("Cancel request").
#[utoipa::path(post, path = "/api/v1/operator/cards/{id}/cancel", tag = "operator", params(("id" = String, Path)),
    responses((status = 200, body = Card), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::Conflict),
    security(("bearer" = []), ("session" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<Card>, AppError> {
    crate::checkout::redirect::close_card(
        &state,
        Some(&Caller::Operator(who)),
        &id,
        CardAction::Cancel,
    )
    .await
    .map(Json)
}

const IDEMPOTENCY_KEY_MAX: usize = 255;

/// Share: puts a card for one of the brand's active payments into the conversation, for
/// both sides at once. The card snapshots the payment. With an `Idempotency-Key`, a
/// retried request returns the card the first one made instead of a second card.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/cards", tag = "operator", request_body = ShareCard,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, nullable = false, max_length = 255,
        pattern = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$", description = "a retried Share with the same key returns the same card")),
    responses((status = 201, body = Card), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::Conflict, super::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn share(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(conversation_id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ShareCard>,
) -> Result<(StatusCode, Json<Card>), AppError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            // Printable ASCII, not starting or ending with a space (the schema's pattern).
            let bytes = value.as_bytes();
            let ok = (1..=IDEMPOTENCY_KEY_MAX).contains(&bytes.len())
                && bytes.iter().all(|b| (0x20..=0x7e).contains(b))
                && bytes.first() != Some(&b' ')
                && bytes.last() != Some(&b' ');
            if !ok {
                return Err(AppError::BadRequest {
                    code: "invalid_idempotency_key",
                    message: format!(
                        "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} visible characters"
                    ),
                });
            }
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    };
    let brand = conversation_brand(&state, &conversation_id).await?;
    who.ensure_brand(&brand)?;

    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = &key {
        let earlier: Option<CardRow> = sqlx::query_as(&format!(
            "SELECT {CARD_COLUMNS} FROM cards WHERE shared_by = ? AND idempotency_key = ?"
        ))
        .bind(&who.account.id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(earlier) = earlier {
            if earlier.conversation_id != conversation_id || earlier.payment_id != body.payment_id {
                return Err(AppError::Conflict {
                    code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used for a different share".into(),
                });
            }
            return Ok((StatusCode::CREATED, Json(earlier.into_api()?)));
        }
    }
    let payment: PaymentRow = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ? AND deleted_at IS NULL"
    ))
    .bind(&body.payment_id)
    .fetch_optional(&mut *tx)
    .await?
    .filter(|p: &PaymentRow| p.brand_id == brand)
    .ok_or(AppError::NotFound("payment"))?;
    if !payment.active {
        return Err(AppError::Conflict {
            code: "payment_inactive",
            message: "this payment is deactivated".into(),
        });
    }
    let payment = payment.into_api()?;
    let now = Utc::now();
    let ttl =
        chrono::Duration::from_std(state.config.card_ttl).unwrap_or(chrono::Duration::hours(24));
    let created = CardState::new();
    let card = Card {
        id: new_id("card"),
        conversation_id: conversation_id.clone(),
        payment_id: payment.id.clone(),
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
    };
    sqlx::query(
        "INSERT INTO cards (id, conversation_id, payment_id, title, description, amount_minor, currency, recurrence_interval,
            recurrence_count, status, failure_reason, version, shared_by, idempotency_key, created_at, updated_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&card.id)
    .bind(&card.conversation_id)
    .bind(&card.payment_id)
    .bind(&card.title)
    .bind(&card.description)
    .bind(card.amount_minor)
    .bind(card.currency.code())
    .bind(card.recurrence.map(|r| r.interval.as_str()))
    .bind(card.recurrence.map(|r| r.count))
    .bind(card.status.as_str())
    .bind(card.version)
    .bind(&who.account.id)
    .bind(&key)
    .bind(&card.created_at)
    .bind(&card.updated_at)
    .bind(&card.expires_at)
    .execute(&mut *tx)
    .await?;
    let message = Message {
        id: new_id("msg"),
        conversation_id: conversation_id.clone(),
        author: Author::Operator,
        author_name: who.account.name.clone(),
        text: None,
        card: Some(card.clone()),
        created_at: card.created_at.clone(),
    };
    insert_message(&mut tx, &message).await?;
    let seq = live::record(
        &mut tx,
        &brand,
        &conversation_id,
        EventKind::Message,
        &MessageEvent { message },
    )
    .await?;
    tx.commit().await?;
    state.live.published(seq);
    tracing::info!(card = %card.id, conversation = %conversation_id, payment = %card.payment_id, "card shared");
    Ok((StatusCode::CREATED, Json(card)))
}

/// id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at
type AttemptRow = (
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// The card's payment attempts, oldest first.
#[utoipa::path(get, path = "/api/v1/operator/cards/{id}/attempts", tag = "operator", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Attempt>), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn attempts(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<Attempt>>, AppError> {
    let mut conn = state.db.acquire().await?;
    let (_, brand) = load_card(&mut conn, &id).await?;
    who.ensure_brand(&brand)?;
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at
         FROM attempts WHERE card_id = ? AND status <> 'pending' ORDER BY created_at, id",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(
                |(
                    id,
                    status,
                    amount_minor,
                    currency,
                    gateway,
                    card_last4,
                    failure_reason,
                    created_at,
                )| Attempt {
                    id,
                    status,
                    amount_minor,
                    currency,
                    gateway,
                    card_last4,
                    failure_reason,
                    created_at,
                },
            )
            .collect(),
    ))
}
