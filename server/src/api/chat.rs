//! Conversations and their messages, from both sides, and the Payments picker.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{
    Author, Conversation, ConversationCreated, ConversationEvent, ConversationPage, LastMessage,
    Message, MessageEvent, NewConversation, NewMessage, Payment, CONVERSATION_PAGE_DEFAULT,
    CONVERSATION_PAGE_MAX, MESSAGE_MAX_CHARS, VISITOR_NAME_MAX_CHARS,
};
use paycard_core::validation::{validate_brand_id, validate_text, FieldError};
use paycard_core::{Currency, Interval, Recurrence};
use rand::Rng;
use serde::Deserialize;

use super::auth::{OperatorAuth, VisitorAuth};
use super::cards::{CardRow, CARD_COLUMNS};
use super::live::{self, EventKind};
use super::ApiJson;
use crate::error::AppError;
use crate::origin::Client;
use crate::secrets::{self, new_id, new_secret};
use crate::AppState;

/// The brand of a conversation, or 404.
pub async fn conversation_brand(
    state: &AppState,
    conversation_id: &str,
) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT brand_id FROM conversations WHERE id = ?")
        .bind(conversation_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound("conversation"))
}

/// A visitor may open only their own conversation: 404 if there is no such
/// conversation, 403 if it is someone else's.
async fn ensure_own_conversation(
    state: &AppState,
    visitor: &VisitorAuth,
    id: &str,
) -> Result<(), AppError> {
    if visitor.conversation_id == id {
        return Ok(());
    }
    conversation_brand(state, id).await?;
    Err(AppError::Forbidden)
}

/// Opens a conversation for a website visitor of a brand. No sign-in: the answer's
/// `visitor_token` is the visitor's key to this conversation and nothing else.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "visitor", request_body = NewConversation,
    responses((status = 201, body = ConversationCreated), super::doc::BadRequest, super::doc::NotFound, super::doc::BodyRejected, super::doc::TooManyRequests),
    security(()))]
pub async fn create_conversation(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewConversation>,
) -> Result<(StatusCode, Json<ConversationCreated>), AppError> {
    state.limits.conversations.check(&client.addr)?;
    let mut errors = Vec::new();
    if let Err(e) = validate_brand_id(&body.brand_id) {
        errors.push(FieldError::new("brand_id", e.problem));
    }
    let visitor_name = match body.visitor_name.as_deref() {
        None => {
            // Named in the visitor's language (the widget's request carries it), with a
            // number to tell visitors apart in the console.
            let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            let word = match paycard_core::Locale::from_accept_language(accept.unwrap_or("")) {
                paycard_core::Locale::En => "Visitor",
                paycard_core::Locale::Es => "Visitante",
            };
            format!("{word} {:04}", rand::thread_rng().gen_range(0..10_000))
        }
        Some(name) => validate_text("visitor_name", name, VISITOR_NAME_MAX_CHARS, true)
            .map_err(|e| errors.push(e))
            .unwrap_or_default(),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // A well-formed id of no brand: there is no such website to chat on.
    let brand_id: String = sqlx::query_scalar("SELECT id FROM brands WHERE id = ?")
        .bind(&body.brand_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound("brand"))?;

    let (visitor_token, token_hash) = new_secret(secrets::VISITOR_TOKEN);
    let now = secrets::now();
    let conversation = Conversation {
        id: new_id("conv"),
        brand_id,
        visitor_name,
        created_at: now.clone(),
        updated_at: now,
        last_message: None,
    };
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO conversations (id, brand_id, visitor_name, visitor_token_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&conversation.id)
    .bind(&conversation.brand_id)
    .bind(&conversation.visitor_name)
    .bind(&token_hash)
    .bind(&conversation.created_at)
    .bind(&conversation.updated_at)
    .execute(&mut *tx)
    .await?;
    let event = ConversationEvent {
        conversation: conversation.clone(),
    };
    let seq = live::record(
        &mut tx,
        &conversation.brand_id,
        &conversation.id,
        EventKind::Conversation,
        &event,
    )
    .await?;
    tx.commit().await?;
    state.live.published(seq);
    tracing::info!(conversation = %conversation.id, brand = %conversation.brand_id, "conversation opened");
    Ok((
        StatusCode::CREATED,
        Json(ConversationCreated {
            conversation,
            visitor_token,
        }),
    ))
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    author: String,
    author_name: String,
    text: Option<String>,
    card_id: Option<String>,
    created_at: String,
}

fn author(text: &str) -> Author {
    if text == "operator" {
        Author::Operator
    } else {
        Author::Visitor
    }
}

/// A conversation's messages, oldest first, card messages with their card as it is now.
/// The `Last-Event-ID` response header is the event sequence this snapshot reflects:
/// a client that opens the live stream with it misses nothing that happened since.
/// The `ETag` changes with every event of the conversation, so a client that polls
/// (when live streams fail) gets 304 until something happens.
async fn list_messages(
    state: &AppState,
    conversation_id: &str,
    request: &HeaderMap,
) -> Result<Response, AppError> {
    let seq = live::latest_seq(state).await?;
    let conversation_seq: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE conversation_id = ?")
            .bind(conversation_id)
            .fetch_one(&state.db)
            .await?;
    let etag = format!("\"{conversation_id}-e{conversation_seq}\"");
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(ETAG, etag_value);
        response
            .headers_mut()
            .insert("last-event-id", HeaderValue::from(seq));
        return Ok(response);
    }
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT id, conversation_id, author, author_name, text, card_id, created_at FROM messages WHERE conversation_id = ? ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(&state.db)
    .await?;
    let cards: Vec<CardRow> = sqlx::query_as(&format!(
        "SELECT {CARD_COLUMNS} FROM cards WHERE conversation_id = ?"
    ))
    .bind(conversation_id)
    .fetch_all(&state.db)
    .await?;
    let mut cards: HashMap<String, CardRow> =
        cards.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows {
        let card = match row.card_id.as_ref().and_then(|id| cards.remove(id)) {
            Some(card) => Some(card.into_api()?),
            None => None,
        };
        messages.push(Message {
            id: row.id,
            conversation_id: row.conversation_id,
            author: author(&row.author),
            author_name: row.author_name,
            text: row.text,
            card,
            created_at: row.created_at,
        });
    }
    let mut response = Json(messages).into_response();
    response
        .headers_mut()
        .insert("last-event-id", HeaderValue::from(seq));
    response.headers_mut().insert(ETAG, etag_value);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Writes a text message and its event.
async fn post_message(
    state: &AppState,
    conversation_id: &str,
    brand_id: &str,
    author: Author,
    author_name: &str,
    text: &str,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let text = validate_text("text", text, MESSAGE_MAX_CHARS, false)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let message = Message {
        id: new_id("msg"),
        conversation_id: conversation_id.to_owned(),
        author,
        author_name: author_name.to_owned(),
        text: Some(text),
        card: None,
        created_at: secrets::now(),
    };
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    insert_message(&mut tx, &message).await?;
    let seq = live::record(
        &mut tx,
        brand_id,
        conversation_id,
        EventKind::Message,
        &MessageEvent {
            message: message.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    state.live.published(seq);
    Ok((StatusCode::CREATED, Json(message)))
}

/// Inserts a message (text or card) and marks the conversation as updated.
pub async fn insert_message(
    conn: &mut sqlx::SqliteConnection,
    message: &Message,
) -> Result<(), AppError> {
    let author = match message.author {
        Author::Visitor => "visitor",
        Author::Operator => "operator",
    };
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, author, author_name, text, card_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&message.id)
    .bind(&message.conversation_id)
    .bind(author)
    .bind(&message.author_name)
    .bind(&message.text)
    .bind(message.card.as_ref().map(|c| &c.id))
    .bind(&message.created_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
        .bind(&message.created_at)
        .bind(&message.conversation_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The visitor's conversation, oldest message first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "visitor",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Message>, headers(("ETag" = String), ("Last-Event-ID" = i64, description = "the event this snapshot reflects"))), (status = 304, description = "not modified since the ETag given"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = [])))]
pub async fn visitor_messages(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    ensure_own_conversation(&state, &visitor, &id).await?;
    list_messages(&state, &id, &headers).await
}

/// The visitor writes.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "visitor", request_body = NewMessage,
    params(("id" = String, Path)),
    responses((status = 201, body = Message), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::BodyRejected, super::doc::TooManyRequests),
    security(("bearer" = [])))]
pub async fn visitor_post_message(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    client: Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    ensure_own_conversation(&state, &visitor, &id).await?;
    state.limits.messages.check(&client.addr)?;
    post_message(
        &state,
        &id,
        &visitor.brand_id,
        Author::Visitor,
        &visitor.visitor_name,
        &body.text,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: String,
    brand_id: String,
    visitor_name: String,
    created_at: String,
    updated_at: String,
    last_author: Option<String>,
    last_text: Option<String>,
    last_card_title: Option<String>,
    last_at: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many conversations, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "paycard_core::whole::query_option")]
    limit: Option<u32>,
    /// The previous page's `next`: the conversations after it.
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/[A-Za-z0-9_]{1,64}$"
    )]
    before: Option<String>,
}

/// Where a page ends: the last conversation's activity time and id, the list's order
/// (`2026-11-27T10:00:00.000Z/conv_…`). Opaque to clients; its pattern is in the schema.
fn cursor(updated_at: &str, id: &str) -> String {
    format!("{updated_at}/{id}")
}

/// The pattern of [`cursor`]: a timestamp as stored, `/`, an id.
pub const CURSOR_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/[A-Za-z0-9_]{1,64}$";

fn read_cursor(text: &str) -> Result<(String, String), AppError> {
    let invalid = || AppError::BadRequest {
        code: "invalid_cursor",
        message: "before must be the `next` of a previous page".into(),
    };
    let (at, id) = text.split_once('/').ok_or_else(invalid)?;
    let shape = "0000-00-00T00:00:00.000Z";
    let at_ok = at.len() == shape.len()
        && at.bytes().zip(shape.bytes()).all(|(b, s)| {
            if s == b'0' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        });
    let id_ok =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if at_ok && id_ok {
        Ok((at.to_owned(), id.to_owned()))
    } else {
        Err(invalid())
    }
}

/// The conversations of the caller's brands, most recently active first, a page at a
/// time (SPEC §8.1): `?limit=` (default 50, at most 200) and `?before=` (the previous
/// page's `next`).
#[utoipa::path(get, path = "/api/v1/operator/conversations", tag = "operator", params(PageQuery),
    responses((status = 200, body = ConversationPage, headers(("Last-Event-ID" = i64, description = "the event this snapshot reflects"))), super::doc::BadRequest, super::doc::Unauthorized),
    security(("bearer" = []), ("session" = [])))]
pub async fn operator_conversations(
    State(state): State<AppState>,
    who: OperatorAuth,
    Query(page): Query<PageQuery>,
) -> Result<Response, AppError> {
    let limit = page.limit.unwrap_or(CONVERSATION_PAGE_DEFAULT);
    if !(1..=CONVERSATION_PAGE_MAX).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_limit",
            message: format!("limit must be 1 to {CONVERSATION_PAGE_MAX}"),
        });
    }
    let before = page.before.as_deref().map(read_cursor).transpose()?;
    // Read before the list: a stream resumed from it replays anything newer.
    let seq = live::latest_seq(&state).await?;
    let brands = serde_json::to_string(&who.account.brands)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (before_at, before_id) = before.unzip();
    // One more than asked: whether there is a next page.
    let mut rows: Vec<ConversationRow> = sqlx::query_as(
        "SELECT c.id, c.brand_id, c.visitor_name, c.created_at, c.updated_at,
                m.author AS last_author, m.text AS last_text, k.title AS last_card_title, m.created_at AS last_at
         FROM conversations c
         LEFT JOIN messages m ON m.id = (SELECT id FROM messages WHERE conversation_id = c.id ORDER BY id DESC LIMIT 1)
         LEFT JOIN cards k ON k.id = m.card_id
         WHERE c.brand_id IN (SELECT value FROM json_each(?1))
           AND (?2 IS NULL OR (c.updated_at, c.id) < (?2, ?3))
         ORDER BY c.updated_at DESC, c.id DESC
         LIMIT ?4",
    )
    .bind(brands)
    .bind(before_at)
    .bind(before_id)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db)
    .await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor(&r.updated_at, &r.id))
    } else {
        None
    };
    let items: Vec<Conversation> = rows
        .into_iter()
        .map(|r| Conversation {
            last_message: r.last_at.map(|created_at| LastMessage {
                author: author(r.last_author.as_deref().unwrap_or("visitor")),
                text: r.last_text.or(r.last_card_title).unwrap_or_default(),
                created_at,
            }),
            id: r.id,
            brand_id: r.brand_id,
            visitor_name: r.visitor_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    let mut response = Json(ConversationPage { items, next }).into_response();
    response
        .headers_mut()
        .insert("last-event-id", HeaderValue::from(seq));
    Ok(response)
}

/// A conversation's messages, for an operator of its brand.
#[utoipa::path(get, path = "/api/v1/operator/conversations/{id}/messages", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Message>, headers(("ETag" = String), ("Last-Event-ID" = i64, description = "the event this snapshot reflects"))), (status = 304, description = "not modified since the ETag given"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn operator_messages(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    who.ensure_brand(&conversation_brand(&state, &id).await?)?;
    list_messages(&state, &id, &headers).await
}

/// The operator writes.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/messages", tag = "operator", request_body = NewMessage,
    params(("id" = String, Path)),
    responses((status = 201, body = Message), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn operator_post_message(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let brand = conversation_brand(&state, &id).await?;
    who.ensure_brand(&brand)?;
    post_message(
        &state,
        &id,
        &brand,
        Author::Operator,
        &who.account.name,
        &body.text,
    )
    .await
}

#[derive(Deserialize)]
pub struct PickerQuery {
    /// Optional search in titles and descriptions.
    q: Option<String>,
}

#[derive(sqlx::FromRow)]
pub struct PaymentRow {
    pub id: String,
    pub brand_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: String,
    pub recurrence_interval: Option<String>,
    pub recurrence_count: Option<i64>,
    pub active: bool,
}

impl PaymentRow {
    pub fn into_api(self) -> Result<Payment, AppError> {
        Ok(Payment {
            currency: Currency::from_code(&self.currency).ok_or_else(|| {
                AppError::Internal(format!(
                    "payment {} has currency {:?}",
                    self.id, self.currency
                ))
            })?,
            recurrence: recurrence_from_columns(
                self.recurrence_interval.as_deref(),
                self.recurrence_count,
            )?,
            id: self.id,
            brand_id: self.brand_id,
            title: self.title,
            description: self.description,
            amount_minor: self.amount_minor,
            active: self.active,
        })
    }
}

/// Reads the two recurrence columns (both NULL for one-time).
pub fn recurrence_from_columns(
    interval: Option<&str>,
    count: Option<i64>,
) -> Result<Option<Recurrence>, AppError> {
    match (interval, count) {
        (None, _) => Ok(None),
        (Some(interval), Some(count)) => {
            let interval = Interval::parse(interval).ok_or_else(|| {
                AppError::Internal(format!("stored recurrence interval {interval:?}"))
            })?;
            let count = u32::try_from(count)
                .map_err(|_| AppError::Internal(format!("stored recurrence count {count}")))?;
            Ok(Some(Recurrence { interval, count }))
        }
        (Some(_), None) => Err(AppError::Internal(
            "recurrence interval without count".into(),
        )),
    }
}

pub const PAYMENT_COLUMNS: &str =
    "id, brand_id, title, description, amount_minor, currency, recurrence_interval, recurrence_count, active";

/// The Payments picker: the active payments of the conversation's brand, by title.
#[utoipa::path(get, path = "/api/v1/operator/conversations/{id}/payments", tag = "operator",
    params(("id" = String, Path), ("q" = Option<String>, Query, description = "search in title and description")),
    responses((status = 200, body = Vec<Payment>), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn picker(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    Query(query): Query<PickerQuery>,
) -> Result<Json<Vec<Payment>>, AppError> {
    let brand = conversation_brand(&state, &id).await?;
    who.ensure_brand(&brand)?;
    let pattern = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
    let rows: Vec<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE brand_id = ?1 AND active = 1
           AND (?2 IS NULL OR title LIKE ?2 ESCAPE '\\' OR description LIKE ?2 ESCAPE '\\')
         ORDER BY title COLLATE NOCASE, id"
    ))
    .bind(&brand)
    .bind(&pattern)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(PaymentRow::into_api)
        .collect::<Result<_, _>>()
        .map(Json)
}
