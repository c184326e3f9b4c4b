//! Live updates: the event log and the SSE streams that replay it.
//!
//! Every change that clients must see is written to `events` in the same transaction as
//! the change, so the log and the data never disagree. A stream is a cursor over that
//! log: it sends every event after the client's `Last-Event-ID`, then sleeps until a
//! commit publishes a newer sequence number. Because the database, not the wake-up, is
//! the source of each event, a slow or reconnecting client sees every event exactly
//! once and in order; a missed wake-up only delays delivery until the next poll.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::watch;

use super::auth::{Caller, StreamCaller};
use super::chat::conversation_brand;
use super::streams::Registration;
use crate::error::AppError;
use crate::AppState;

/// An idle stream also re-reads the log this often: a safety net for wake-ups lost
/// between instances (several servers on one Postgres) or by a bug.
const POLL_FALLBACK: Duration = Duration::from_secs(5);
const BATCH: i64 = 200;

#[derive(Debug, Clone, Copy)]
pub enum EventKind {
    Message,
    Card,
    Conversation,
    /// A payment was added, changed, moved or withdrawn: a brand's event, no conversation.
    Payment,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Card => "card",
            EventKind::Conversation => "conversation",
            EventKind::Payment => "payment",
        }
    }
}

/// Appends an event inside the caller's transaction; returns its sequence number, to be
/// published with [`Live::published`] once the transaction has committed.
pub async fn record(
    conn: &mut sqlx::SqliteConnection,
    brand_id: &str,
    conversation_id: &str,
    kind: EventKind,
    data: &impl Serialize,
) -> Result<i64, AppError> {
    insert_event(conn, brand_id, Some(conversation_id), kind, data).await
}

/// Appends a brand-wide event (no conversation: operators' streams carry it, visitors'
/// do not) inside the caller's transaction; returns its sequence number.
pub async fn record_for_brand(
    conn: &mut sqlx::SqliteConnection,
    brand_id: &str,
    kind: EventKind,
    data: &impl Serialize,
) -> Result<i64, AppError> {
    insert_event(conn, brand_id, None, kind, data).await
}

async fn insert_event(
    conn: &mut sqlx::SqliteConnection,
    brand_id: &str,
    conversation_id: Option<&str>,
    kind: EventKind,
    data: &impl Serialize,
) -> Result<i64, AppError> {
    let data =
        serde_json::to_string(data).map_err(|e| AppError::Internal(format!("event data: {e}")))?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (brand_id, conversation_id, kind, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(brand_id)
    .bind(conversation_id)
    .bind(kind.as_str())
    .bind(data)
    .bind(crate::secrets::now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(seq)
}

/// The newest event's sequence number (0 when there is none).
pub async fn latest_seq(state: &AppState) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&state.db)
            .await?,
    )
}

/// Wakes the open streams when new events are committed.
#[derive(Clone)]
pub struct Live {
    newest: watch::Sender<i64>,
}

impl Live {
    pub fn new() -> Live {
        Live {
            newest: watch::Sender::new(0),
        }
    }

    /// Call after the commit that wrote event `seq`.
    pub fn published(&self, seq: i64) {
        self.newest.send_if_modified(|newest| {
            let newer = seq > *newest;
            if newer {
                *newest = seq;
            }
            newer
        });
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.newest.subscribe()
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

/// Which events a stream carries.
#[derive(Clone)]
enum Scope {
    Conversation(String),
    Brands(String), // a JSON array, for SQLite's json_each
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    kind: String,
    data: String,
}

async fn events_after(
    state: &AppState,
    scope: &Scope,
    after: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    match scope {
        Scope::Conversation(id) => {
            sqlx::query_as("SELECT seq, kind, data FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?")
                .bind(id)
                .bind(after)
                .bind(BATCH)
                .fetch_all(&state.db)
                .await
        }
        Scope::Brands(brands) => {
            sqlx::query_as(
                "SELECT seq, kind, data FROM events WHERE brand_id IN (SELECT value FROM json_each(?)) AND seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(brands)
            .bind(after)
            .bind(BATCH)
            .fetch_all(&state.db)
            .await
        }
    }
}

struct Cursor {
    state: AppState,
    scope: Scope,
    after: i64,
    pending: std::collections::VecDeque<EventRow>,
    wake: watch::Receiver<i64>,
    shutdown: watch::Receiver<bool>,
    /// This stream's place among its credential's streams; says when it must end.
    registration: Registration,
    finished: bool,
}

/// The stream of SSE events after `after`, ending when the server shuts down, or with a
/// `closed` event when [`super::streams`] ends it (replaced, or its session revoked).
fn event_stream(
    state: AppState,
    scope: Scope,
    after: i64,
    registration: Registration,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let cursor = Cursor {
        wake: state.live.subscribe(),
        shutdown: state.shutdown.clone(),
        state,
        scope,
        after,
        pending: Default::default(),
        registration,
        finished: false,
    };
    stream::unfold(cursor, |mut c| async move {
        loop {
            if *c.shutdown.borrow() || c.finished {
                return None;
            }
            let ended = *c.registration.ended.borrow();
            if let Some(ended) = ended {
                c.finished = true;
                let event = Event::default()
                    .event("closed")
                    .data(format!("{{\"reason\":\"{}\"}}", ended.reason()));
                return Some((Ok(event), c));
            }
            if let Some(row) = c.pending.pop_front() {
                c.after = row.seq;
                let event = Event::default()
                    .id(row.seq.to_string())
                    .event(row.kind)
                    .data(row.data);
                return Some((Ok(event), c));
            }
            // Mark the current wake-up as seen *before* reading, so a commit that lands
            // after the read still wakes us.
            c.wake.borrow_and_update();
            match events_after(&c.state, &c.scope, c.after).await {
                Ok(rows) if !rows.is_empty() => {
                    c.pending.extend(rows);
                    continue;
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "live stream: reading events failed; retrying")
                }
            }
            tokio::select! {
                _ = c.wake.changed() => {}
                _ = c.shutdown.changed() => {}
                _ = c.registration.ended.changed() => {}
                _ = tokio::time::sleep(POLL_FALLBACK) => {}
            }
        }
    })
}

#[derive(serde::Deserialize)]
struct ResumeQuery {
    last_event_id: Option<String>,
}

/// Where the client wants to resume: `Last-Event-ID` (set by EventSource on reconnect),
/// or `?last_event_id=` (a first connection after a snapshot); else from now on.
async fn resume_point(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
) -> Result<i64, AppError> {
    let invalid = || AppError::BadRequest {
        code: "invalid_last_event_id",
        message: "Last-Event-ID must be an event id this server sent".into(),
    };
    // Digits only, at most 18 of them (the schema's pattern): always an i64.
    let read = |text: &str| {
        Some(text)
            .filter(|t| (1..=18).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(invalid)
    };
    let from_query = Query::<ResumeQuery>::try_from_uri(uri)
        .map_err(|_| invalid())?
        .0
        .last_event_id
        .as_deref()
        .map(read)
        .transpose()?;
    let from_header = headers
        .get("last-event-id")
        .map(|v| read(&String::from_utf8_lossy(v.as_bytes())))
        .transpose()?;
    match from_header.or(from_query) {
        Some(seq) => Ok(seq),
        None => latest_seq(state).await,
    }
}

type EventSse = Sse<
    axum::response::sse::KeepAliveStream<
        futures_util::stream::BoxStream<'static, Result<Event, Infallible>>,
    >,
>;

fn sse(state: AppState, caller: &Caller, scope: Scope, after: i64) -> EventSse {
    use futures_util::StreamExt;
    let registration = state
        .streams
        .open(caller, state.config.limits.streams_per_client);
    // Idle streams send a heartbeat comment so proxies and browsers keep them open.
    let heartbeat = KeepAlive::new()
        .interval(state.config.heartbeat)
        .text("heartbeat");
    Sse::new(event_stream(state, scope, after, registration).boxed()).keep_alive(heartbeat)
}

/// The visitor's conversation, live: `message`, `card` and `conversation` events.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/events", tag = "live",
    params(("id" = String, Path), ("ticket" = Option<String>, Query, description = "a stream ticket, for EventSource"),
           ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = r"^[0-9]{1,18}$", description = "resume after this event"),
           ("last_event_id" = Option<String>, Query, pattern = r"^[0-9]{1,18}$", description = "resume after this event (a first connection after a snapshot)")),
    responses((status = 200, content_type = "text/event-stream", description = "the events, as they happen"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = [])))]
pub async fn visitor_events(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<EventSse, AppError> {
    match &caller {
        Caller::Visitor(v) if v.conversation_id == id => {}
        Caller::Visitor(_) => {
            conversation_brand(&state, &id).await?;
            return Err(AppError::Forbidden);
        }
        // This is the visitor's endpoint; operators have their own stream.
        Caller::Operator(_) => return Err(AppError::Forbidden),
    }
    let after = resume_point(&state, &headers, &uri).await?;
    Ok(sse(state, &caller, Scope::Conversation(id), after))
}

/// Every conversation of the operator's brands, live, and their payments (`payment` events).
#[utoipa::path(get, path = "/api/v1/operator/events", tag = "live",
    params(("ticket" = Option<String>, Query, description = "a stream ticket, for EventSource"),
           ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = r"^[0-9]{1,18}$", description = "resume after this event"),
           ("last_event_id" = Option<String>, Query, pattern = r"^[0-9]{1,18}$", description = "resume after this event (a first connection after a snapshot)")),
    responses((status = 200, content_type = "text/event-stream", description = "the events, as they happen"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn operator_events(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<EventSse, AppError> {
    let Caller::Operator(who) = &caller else {
        return Err(AppError::Forbidden);
    };
    let brands = serde_json::to_string(&who.account.brands)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let after = resume_point(&state, &headers, &uri).await?;
    Ok(sse(state, &caller, Scope::Brands(brands), after))
}
