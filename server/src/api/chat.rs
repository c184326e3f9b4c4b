//! Conversations and their messages, from both sides, and the Payments picker.

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{
    Author, Conversation, ConversationCreated, ConversationPage, Message, NewConversation,
    NewMessage, Payment, VisitorPatch, VisitorProfile, CONVERSATION_PAGE_DEFAULT,
    CONVERSATION_PAGE_MAX,
};
use paycard_core::Locale;
use serde::Deserialize;

use super::cards::idempotency_key;
use super::ApiJson;
use crate::domain::accounts::{OperatorAuth, VisitorAuth};
use crate::domain::{chat, visitors};
use crate::error::AppError;
use crate::origin::Client;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

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
    // The visitor's language, when the body does not say it: the browser's.
    let locale = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::from_accept_language);
    let created = chat::open(&state, client.addr, locale, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A conversation's messages, oldest first, card messages with their card as it is now.
/// The `Last-Event-ID` response header is the event sequence this snapshot reflects:
/// a client that opens the live stream with it misses nothing that happened since.
/// The `ETag` changes with every event of the conversation, so a client that polls
/// (when live streams fail) gets 304 until something happens.
async fn transcript(
    state: &AppState,
    conversation_id: &str,
    request: &HeaderMap,
) -> Result<Response, AppError> {
    let version = chat::version(state, conversation_id).await?;
    let etag = format!("\"{conversation_id}-e{}\"", version.conversation);
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Json(chat::messages(state, conversation_id).await?).into_response();
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    };
    response.headers_mut().insert(ETAG, etag_value);
    response
        .headers_mut()
        .insert("last-event-id", HeaderValue::from(version.latest));
    Ok(response)
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
    chat::ensure_own(&state, &visitor, &id).await?;
    transcript(&state, &id, &headers).await
}

/// The visitor writes.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "visitor", request_body = NewMessage,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, nullable = false, max_length = 255,
        pattern = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$", description = "a message sent again with the same key (after a lost answer) is written once and answered again")),
    responses((status = 201, body = Message), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::BodyRejected, super::doc::TooManyRequests),
    security(("bearer" = [])))]
pub async fn visitor_post_message(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let key = idempotency_key(&headers)?;
    chat::ensure_own(&state, &visitor, &id).await?;
    state.limits.messages.check(&client.addr)?;
    let message = chat::post(
        &state,
        &id,
        &visitor.brand_id,
        Author::Visitor,
        &visitor.visitor_name,
        &body.text,
        key.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(message)))
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
    /// `open` (not closed) or `closed` only; both when absent.
    #[param(inline)]
    status: Option<ListStatus>,
    /// One brand of the caller's; all of theirs when absent (another brand's: none).
    brand_id: Option<String>,
    /// Words in the visitor's name or email or in a message, up to 100 characters; in
    /// any case, with or without accents ("jose" finds "José").
    #[param(max_length = 100)]
    q: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ListStatus {
    Open,
    Closed,
}

/// The most characters a conversation search takes.
const SEARCH_MAX_CHARS: usize = 100;

/// The conversations of the caller's brands, most recently active first, a page at a
/// time (SPEC §8.1): `?limit=` (default 50, at most 200) and `?before=` (the previous
/// page's `next`); `?status=open|closed`, `?brand_id=` and `?q=` narrow the list (issue
/// 15).
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
    let before = match page.before.as_deref() {
        None => None,
        Some(text) => Some(chat::read_cursor(text).ok_or(AppError::BadRequest {
            code: "invalid_cursor",
            message: "before must be the `next` of a previous page".into(),
        })?),
    };
    let search = match page.q {
        Some(q) if q.chars().count() > SEARCH_MAX_CHARS => {
            return Err(AppError::BadRequest {
                code: "invalid_search",
                message: format!("q takes at most {SEARCH_MAX_CHARS} characters"),
            })
        }
        // Control characters (a NUL, say) match nothing a person typed.
        Some(q) => Some(q.chars().filter(|c| !c.is_control()).collect::<String>()),
        None => None,
    };
    let list = chat::ListQuery {
        open: page.status.map(|s| s == ListStatus::Open),
        brand: page.brand_id,
        search,
    };
    let (page, seq) = chat::page(&state, &who, &list, before, limit).await?;
    let mut response = Json(page).into_response();
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
    chat::brand_for(&state, &who, &id).await?;
    transcript(&state, &id, &headers).await
}

/// The operator writes.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/messages", tag = "operator", request_body = NewMessage,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, nullable = false, max_length = 255,
        pattern = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$", description = "a message sent again with the same key (after a lost answer) is written once and answered again")),
    responses((status = 201, body = Message), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn operator_post_message(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let key = idempotency_key(&headers)?;
    let brand = chat::brand_for(&state, &who, &id).await?;
    let message = chat::post(
        &state,
        &id,
        &brand,
        Author::Operator,
        &who.account.name,
        &body.text,
        key.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// The operator has read the conversation (up to its newest message): its unread count
/// is 0 for them, in every console they use, until the visitor writes again.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/read", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 204, description = "marked as read"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    chat::mark_read(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes the conversation (dealt with): lists showing open conversations drop it, in
/// every console, until the visitor writes again. Closing a closed one changes nothing.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/close", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = Conversation), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn close(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, AppError> {
    chat::set_closed(&state, &who, &id, true).await.map(Json)
}

/// Opens a closed conversation again. Opening an open one changes nothing.
#[utoipa::path(post, path = "/api/v1/operator/conversations/{id}/reopen", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = Conversation), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, AppError> {
    chat::set_closed(&state, &who, &id, false).await.map(Json)
}

/// Who the visitor is (name, email, language, start page, time zone) and every card they
/// were asked to pay, with attempts and refunds: the operator's context panel.
#[utoipa::path(get, path = "/api/v1/operator/conversations/{id}/visitor", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, body = VisitorProfile), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn visitor(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<VisitorProfile>, AppError> {
    visitors::profile(&state, &who, &id).await.map(Json)
}

/// The operator corrects the visitor's name or email.
#[utoipa::path(patch, path = "/api/v1/operator/conversations/{id}/visitor", tag = "operator", request_body = VisitorPatch,
    params(("id" = String, Path)),
    responses((status = 200, body = VisitorProfile), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound, super::doc::BodyRejected),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_visitor(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<VisitorPatch>,
) -> Result<Json<VisitorProfile>, AppError> {
    visitors::update(&state, &who, &id, &patch).await.map(Json)
}

#[derive(Deserialize)]
pub struct PickerQuery {
    /// Optional search in titles and descriptions.
    q: Option<String>,
}

/// The Payments picker: the active payments of the conversation's brand, by title.
#[utoipa::path(get, path = "/api/v1/operator/conversations/{id}/payments", tag = "operator",
    params(("id" = String, Path), ("q" = Option<String>, Query, description = "search in title and description, in any case, with or without accents")),
    responses((status = 200, body = Vec<Payment>), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn picker(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
    Query(query): Query<PickerQuery>,
) -> Result<Json<Vec<Payment>>, AppError> {
    chat::picker(&state, &who, &id, query.q.as_deref())
        .await
        .map(Json)
}

/// Conversations and messages on both sides, the visitor's profile, the Payments picker.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_conversation))
        .routes(routes!(visitor_messages, visitor_post_message))
        .routes(routes!(operator_conversations))
        .routes(routes!(operator_messages, operator_post_message))
        .routes(routes!(mark_read))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(visitor, update_visitor))
        .routes(routes!(picker))
}
