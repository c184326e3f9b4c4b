//! Payment cards over HTTP: Share, read, checkout links, Decline, Cancel request,
//! attempts.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{Attempt, Card, Checkout, ShareCard};
use paycard_core::CardAction;

use super::auth::CardReader;
use super::ApiJson;
use crate::domain::accounts::{self, Caller, OperatorAuth, VisitorAuth};
use crate::domain::{cards, charges};
use crate::error::AppError;
use crate::origin::Client;
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A card, for the visitor of its conversation or an operator of its brand. `ETag`
/// is the card's version; `If-None-Match` with it answers 304 until the card changes.
#[utoipa::path(get, path = "/api/v1/cards/{id}", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Card, headers(("ETag" = String))), (status = 304, description = "not modified since the ETag given"), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_card(
    State(state): State<AppState>,
    reader: CardReader,
    Path(id): Path<String>,
    IfNoneMatch(candidates): IfNoneMatch,
) -> Result<Response, AppError> {
    let card = match reader {
        CardReader::Caller(caller) => cards::get(&state, &caller, &id).await?,
        // A visitor reading a card of its own conversation costs one read; otherwise
        // the token is resolved, for the right error (401, 403 or 404).
        CardReader::VisitorToken(token) => match cards::get_for_visitor(&state, &token, &id).await?
        {
            Some(card) => card,
            None => {
                let visitor = accounts::visitor(&state, &token)
                    .await?
                    .ok_or(AppError::Unauthorized)?;
                cards::get(&state, &Caller::Visitor(visitor), &id).await?
            }
        },
    };
    let tag = format!("\"{}-v{}\"", card.id, card.version);
    let tag_value = HeaderValue::from_str(&tag).map_err(|e| AppError::Internal(e.to_string()))?;
    let fresh = candidates
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| candidate.trim() == tag || candidate.trim() == "*");
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // Sized for a whole card at once (axum's `Json` starts at 128 bytes and grows).
        let mut body = Vec::with_capacity(768);
        serde_json::to_writer(&mut body, &card).map_err(|e| AppError::Internal(e.to_string()))?;
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response()
    };
    response.headers_mut().insert(ETAG, tag_value);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The `If-None-Match` values of a request, without copying its other headers (the
/// card GET is the widget's most frequent request).
pub struct IfNoneMatch(Vec<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfNoneMatch(
            parts
                .headers
                .get_all(IF_NONE_MATCH)
                .iter()
                .cloned()
                .collect(),
        ))
    }
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
    let checkout_url = cards::checkout_link(&state, visitor, client.addr, &id).await?;
    Ok(Json(Checkout { checkout_url }))
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
    charges::close(
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
    charges::close(
        &state,
        Some(&Caller::Operator(who)),
        &id,
        CardAction::Cancel,
    )
    .await
    .map(Json)
}

const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The `Idempotency-Key` header: printable ASCII, not starting or ending with a space
/// (the schema's pattern), at most 255.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
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
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

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
    let key = idempotency_key(&headers)?;
    let card = cards::share(
        &state,
        &who,
        &conversation_id,
        &body.payment_id,
        key.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// The card's payment attempts, oldest first.
#[utoipa::path(get, path = "/api/v1/operator/cards/{id}/attempts", tag = "operator", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Attempt>), super::doc::BadRequest, super::doc::Unauthorized, super::doc::Forbidden, super::doc::NotFound),
    security(("bearer" = []), ("session" = [])))]
pub async fn attempts(
    State(state): State<AppState>,
    who: OperatorAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<Attempt>>, AppError> {
    cards::attempts(&state, &who, &id).await.map(Json)
}

/// The card, checkout links, Decline; Share, Cancel request and attempts for operators.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_card))
        .routes(routes!(checkout))
        .routes(routes!(decline))
        .routes(routes!(share))
        .routes(routes!(cancel))
        .routes(routes!(attempts))
}
