//! The live streams over HTTP: server-sent events that resume with `Last-Event-ID`.
//! What they carry and how they stay exact is [`crate::domain::live`]'s business; this
//! turns it into SSE, with a heartbeat so that idle streams stay open through proxies.

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use futures_util::stream::{BoxStream, StreamExt};

use super::auth::StreamCaller;
use crate::domain::accounts::Caller;
use crate::domain::live::{self, Item, Scope};
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

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
        None => Ok(live::latest_seq(&state.store).await?),
    }
}

type EventSse = Sse<KeepAliveStream<BoxStream<'static, Result<Event, Infallible>>>>;

fn sse(state: AppState, caller: &Caller, scope: Scope, after: i64) -> EventSse {
    let registration = state
        .streams
        .open(caller, state.config.limits.streams_per_client);
    let events = live::follow(
        state.store.clone(),
        state.hub.clone(),
        scope,
        after,
        registration,
        state.shutdown.clone(),
    )
    .map(|item| {
        Ok(match item {
            Item::Event(e) => Event::default()
                .id(e.seq.to_string())
                .event(&e.kind)
                .data(&e.data),
            // The last word of a stream the server ends: why, so a client does not
            // reconnect in a loop.
            Item::Closed(ended) => Event::default()
                .event("closed")
                .data(format!("{{\"reason\":\"{}\"}}", ended.reason())),
        })
    });
    let heartbeat = KeepAlive::new()
        .interval(state.config.heartbeat)
        .text("heartbeat");
    Sse::new(events.boxed()).keep_alive(heartbeat)
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
            crate::domain::chat::brand_of(&state, &id).await?;
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
    let scope = Scope::Brands(who.account.brands.clone());
    let after = resume_point(&state, &headers, &uri).await?;
    Ok(sse(state, &caller, scope, after))
}

/// The visitor's and the operators' event streams.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(visitor_events))
        .routes(routes!(operator_events))
}
