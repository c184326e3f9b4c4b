//! Sign-in and sessions over HTTP, and the extractors that say who is calling: a bearer
//! token (a visitor's, or a console session), or the console's HttpOnly cookie.
//!
//! Cookie-authenticated requests that change something must come from our own origin:
//! SameSite=Strict already keeps the cookie off cross-site requests in current
//! browsers, and the Origin check covers the rest.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::{LoggedIn, Login, OperatorAccount, StreamTicket};

use super::ApiJson;
use crate::domain::accounts::{self, Caller, OperatorAuth, VisitorAuth, SESSION_HOURS};
use crate::error::AppError;
use crate::origin::{Client, Provenance};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const SESSION_COOKIE: &str = "paycard_session";

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The bearer token when it is a visitor's (by its prefix; not yet checked).
fn visitor_bearer(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).filter(|t| t.starts_with(crate::secrets::VISITOR_TOKEN))
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// A state-changing request carried by the session cookie must come from this site.
fn ensure_same_origin(parts: &Parts, public_url: &str) -> Result<(), AppError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let seen = Provenance::of(&parts.headers);
    let same = match seen.origin_is_ours(public_url) {
        Some(same) => same,
        // `Origin: null` is refused; no Origin at all: only a same-origin fetch, as the
        // browser itself attests.
        None => seen.origin.is_none() && seen.fetch_site == Some("same-origin"),
    };
    if same {
        Ok(())
    } else {
        Err(AppError::BadOrigin)
    }
}

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(&parts.headers).ok_or(AppError::Unauthorized)?;
        accounts::visitor(state, token)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = bearer(&parts.headers) {
            return accounts::operator(state, token)
                .await?
                .ok_or(AppError::Unauthorized);
        }
        let token = session_cookie(&parts.headers).ok_or(AppError::Unauthorized)?;
        let who = accounts::operator(state, &token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        ensure_same_origin(parts, &state.public_url)?;
        Ok(who)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = bearer(&parts.headers) {
            if let Some(visitor) = accounts::visitor(state, token).await? {
                return Ok(Caller::Visitor(visitor));
            }
        }
        OperatorAuth::from_request_parts(parts, state)
            .await
            .map(Caller::Operator)
    }
}

/// Who reads a card: a visitor's bearer token as it is, for the card's read to check in
/// the same query (the widget's most frequent request), or a caller resolved as usual.
pub enum CardReader {
    VisitorToken(String),
    Caller(Caller),
}

impl FromRequestParts<AppState> for CardReader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = visitor_bearer(&parts.headers) {
            return Ok(CardReader::VisitorToken(token.to_owned()));
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(CardReader::Caller)
    }
}

#[derive(serde::Deserialize)]
struct TicketQuery {
    ticket: Option<String>,
}

/// The caller of a live stream: `?ticket=…` (EventSource) if given, else the usual
/// `Authorization` header or session cookie.
pub struct StreamCaller(pub Caller);

impl FromRequestParts<AppState> for StreamCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ticket = Query::<TicketQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(q)| q.ticket);
        match ticket {
            Some(ticket) => accounts::redeem_ticket(state, &ticket)
                .await
                .map(StreamCaller),
            None => Caller::from_request_parts(parts, state)
                .await
                .map(StreamCaller),
        }
    }
}

/// Sign in: a bearer token for API clients and the same session as a cookie.
///
/// Limited per client address and per (email, address): guessing from one address
/// crawls, and the account's owner, elsewhere, is never locked out. At most a few
/// password checks run at once (429 beyond that).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = LoggedIn), super::doc::BadRequest, super::doc::Unauthorized, super::doc::BodyRejected, super::doc::TooManyRequests),
    security(()))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, AppError> {
    let (token, operator) =
        accounts::sign_in(&state, client.addr, &login.email, login.password).await?;
    // Secure whenever people reach us over HTTPS (the public URL says so, or a trusted
    // TLS proxy); a plain-http demo on localhost keeps a cookie the browser sends back.
    let secure = state.public_url.starts_with("https://") || client.https;
    let cookie = cookie::Cookie::build((SESSION_COOKIE, token.clone()))
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::hours(SESSION_HOURS))
        .build();
    let mut response = Json(LoggedIn { token, operator }).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// Sign out: ends the session (bearer or cookie), its live streams, and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out"), super::doc::Unauthorized, super::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    who: OperatorAuth,
) -> Result<Response, AppError> {
    accounts::sign_out(&state, &who).await?;
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = OperatorAccount), super::doc::Unauthorized),
    security(("bearer" = []), ("session" = [])))]
pub async fn me(who: OperatorAuth) -> Json<OperatorAccount> {
    Json(who.account)
}

/// A single-use ticket, valid for a minute, to open the caller's live stream with
/// `EventSource` (`?ticket=…`), which cannot send an `Authorization` header.
#[utoipa::path(post, path = "/api/v1/stream-tickets", tag = "live",
    responses((status = 201, body = StreamTicket), super::doc::Unauthorized, super::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn stream_ticket(
    State(state): State<AppState>,
    who: Caller,
) -> Result<(StatusCode, Json<StreamTicket>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(accounts::stream_ticket(&state, &who).await?),
    ))
}

/// Sign-in, sign-out, who is signed in, stream tickets.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(stream_ticket))
}
