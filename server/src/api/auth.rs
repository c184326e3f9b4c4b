//! Who is calling: visitors (a bearer token for one conversation) and console accounts
//! (a bearer session token, or the same session in an HttpOnly cookie).
//!
//! A wrong password and an unknown email look the same (401, and the same argon2 work).
//! Cookie-authenticated requests that change something must come from our own origin:
//! SameSite=Strict already keeps the cookie off cross-site requests in current
//! browsers, and the Origin check covers the rest.

use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};
use paycard_core::api::{LoggedIn, Login, OperatorAccount, Role, StreamTicket};
use paycard_core::validation::{FieldError, Problem};

use super::ApiJson;
use crate::error::AppError;
use crate::origin::{Client, Provenance};
use crate::secrets::{self, hash_secret, new_secret, timestamp};
use crate::{password, AppState};

pub const SESSION_COOKIE: &str = "paycard_session";
const SESSION_HOURS: i64 = 12;
const STREAM_TICKET_SECONDS: u32 = 60;

/// A visitor, by their token: they may act only in this conversation.
#[derive(Debug, Clone)]
pub struct VisitorAuth {
    pub conversation_id: String,
    pub brand_id: String,
    pub visitor_name: String,
    /// The hash of the visitor's token: what their live streams are held by.
    pub credential: String,
}

/// A signed-in console account.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    pub account: OperatorAccount,
    /// The hash of the session token: what sign-out revokes, live streams included.
    pub credential: String,
}

impl OperatorAuth {
    /// Operators and admins alike see only the brands they belong to.
    pub fn works_for(&self, brand_id: &str) -> bool {
        self.account.brands.iter().any(|b| b == brand_id)
    }

    pub fn ensure_brand(&self, brand_id: &str) -> Result<(), AppError> {
        if self.works_for(brand_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn is_admin(&self) -> bool {
        self.account.role == Role::Admin
    }
}

/// Either side: for the endpoints both may call (a card's GET).
#[derive(Debug, Clone)]
pub enum Caller {
    Visitor(VisitorAuth),
    Operator(OperatorAuth),
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
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

pub async fn visitor_by_token(
    state: &AppState,
    token: &str,
) -> Result<Option<VisitorAuth>, AppError> {
    if !token.starts_with(secrets::VISITOR_TOKEN) {
        return Ok(None);
    }
    let credential = hash_secret(token);
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, brand_id, visitor_name FROM conversations WHERE visitor_token_hash = ?",
    )
    .bind(&credential)
    .fetch_optional(&state.db)
    .await?;
    Ok(
        row.map(|(conversation_id, brand_id, visitor_name)| VisitorAuth {
            conversation_id,
            brand_id,
            visitor_name,
            credential,
        }),
    )
}

pub async fn account_by_id(
    state: &AppState,
    account_id: &str,
) -> Result<Option<OperatorAccount>, AppError> {
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT id, name, email, role FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_optional(&state.db)
            .await?;
    let Some((id, name, email, role)) = row else {
        return Ok(None);
    };
    let brands: Vec<String> = sqlx::query_scalar(
        "SELECT brand_id FROM account_brands WHERE account_id = ? ORDER BY brand_id",
    )
    .bind(&id)
    .fetch_all(&state.db)
    .await?;
    let role = if role == "admin" {
        Role::Admin
    } else {
        Role::Operator
    };
    Ok(Some(OperatorAccount {
        id,
        name,
        email,
        role,
        brands,
    }))
}

/// The console account of a live session, by its hash.
async fn session_account(
    state: &AppState,
    credential: &str,
) -> Result<Option<OperatorAccount>, AppError> {
    let account_id: Option<String> = sqlx::query_scalar(
        "SELECT account_id FROM sessions WHERE token_hash = ? AND expires_at > ?",
    )
    .bind(credential)
    .bind(secrets::now())
    .fetch_optional(&state.db)
    .await?;
    match account_id {
        Some(id) => account_by_id(state, &id).await,
        None => Ok(None),
    }
}

pub async fn operator_by_session(
    state: &AppState,
    token: &str,
) -> Result<Option<OperatorAuth>, AppError> {
    if !token.starts_with(secrets::SESSION_TOKEN) {
        return Ok(None);
    }
    let credential = hash_secret(token);
    Ok(session_account(state, &credential)
        .await?
        .map(|account| OperatorAuth {
            account,
            credential,
        }))
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
        visitor_by_token(state, token)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = bearer(&parts.headers) {
            return operator_by_session(state, token)
                .await?
                .ok_or(AppError::Unauthorized);
        }
        let token = session_cookie(&parts.headers).ok_or(AppError::Unauthorized)?;
        let who = operator_by_session(state, &token)
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
            if let Some(visitor) = visitor_by_token(state, token).await? {
                return Ok(Caller::Visitor(visitor));
            }
        }
        OperatorAuth::from_request_parts(parts, state)
            .await
            .map(Caller::Operator)
    }
}

/// Verifying against this when the email is unknown makes both failures cost the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| password::hash("paycard-timing-equaliser"));

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
    use paycard_core::schema::{LOGIN_EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS};
    let mut too_long = Vec::new();
    if login.email.chars().count() > LOGIN_EMAIL_MAX_CHARS {
        too_long.push(FieldError::new(
            "email",
            Problem::TooLong {
                max: LOGIN_EMAIL_MAX_CHARS as u32,
            },
        ));
    }
    if login.password.chars().count() > PASSWORD_MAX_CHARS {
        too_long.push(FieldError::new(
            "password",
            Problem::TooLong {
                max: PASSWORD_MAX_CHARS as u32,
            },
        ));
    }
    if !too_long.is_empty() {
        return Err(AppError::Validation(too_long));
    }
    let email = login.email.trim().to_lowercase();
    state.limits.login_per_address.check(&client.addr)?;
    state
        .limits
        .login_per_account
        .check(&(email.clone(), client.addr))?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM accounts WHERE email = ?")
            .bind(&email)
            .fetch_optional(&state.db)
            .await?;
    let (account_id, stored) = match row {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let password = login.password;
    // argon2 takes tens of milliseconds of CPU and ~19 MiB: through the gate, off the
    // async workers.
    let matches = state
        .limits
        .password_hashes
        .run(move |workspace| {
            password::verify_in(
                workspace,
                &password,
                stored.as_deref().unwrap_or(&DUMMY_HASH),
            )
        })
        .await?;
    let Some(account_id) = account_id.filter(|_| matches) else {
        tracing::info!(client = %client.addr, "sign-in refused");
        return Err(AppError::BadCredentials);
    };

    let (token, token_hash) = new_secret(secrets::SESSION_TOKEN);
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&token_hash)
    .bind(&account_id)
    .bind(timestamp(now))
    .bind(timestamp(now + Duration::hours(SESSION_HOURS)))
    .execute(&state.db)
    .await?;
    let operator = account_by_id(&state, &account_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
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

/// Sign out: ends the session (bearer or cookie) and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out"), super::doc::Unauthorized, super::doc::Forbidden),
    security(("bearer" = []), ("session" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    who: OperatorAuth,
) -> Result<Response, AppError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(&who.credential)
        .execute(&state.db)
        .await?;
    // This instance's streams of the session end now; any other's at its next check.
    state.streams.revoke(&who.credential);
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
    let (ticket, hash) = new_secret(secrets::STREAM_TICKET);
    let expires = timestamp(Utc::now() + Duration::seconds(STREAM_TICKET_SECONDS.into()));
    let (account_id, conversation_id, credential) = match &who {
        Caller::Visitor(v) => (None, Some(v.conversation_id.clone()), &v.credential),
        Caller::Operator(o) => (Some(o.account.id.clone()), None, &o.credential),
    };
    sqlx::query("INSERT INTO stream_tickets (ticket_hash, account_id, conversation_id, credential_hash, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind(hash)
        .bind(account_id)
        .bind(conversation_id)
        .bind(credential)
        .bind(expires)
        .execute(&state.db)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StreamTicket {
            ticket,
            expires_in_seconds: STREAM_TICKET_SECONDS,
        }),
    ))
}

/// Spends a stream ticket: whoever asked for it, if it is fresh and unused and their
/// session still holds.
pub async fn redeem_ticket(state: &AppState, ticket: &str) -> Result<Caller, AppError> {
    let row: Option<(Option<String>, Option<String>, String)> = sqlx::query_as(
        "DELETE FROM stream_tickets WHERE ticket_hash = ? AND expires_at > ?
         RETURNING account_id, conversation_id, credential_hash",
    )
    .bind(hash_secret(ticket))
    .bind(secrets::now())
    .fetch_optional(&state.db)
    .await?;
    match row {
        Some((Some(_), _, credential)) => {
            let account = session_account(state, &credential)
                .await?
                .ok_or(AppError::Unauthorized)?;
            Ok(Caller::Operator(OperatorAuth {
                account,
                credential,
            }))
        }
        Some((None, Some(conversation_id), credential)) => {
            let row: (String, String) =
                sqlx::query_as("SELECT brand_id, visitor_name FROM conversations WHERE id = ?")
                    .bind(&conversation_id)
                    .fetch_optional(&state.db)
                    .await?
                    .ok_or(AppError::Unauthorized)?;
            Ok(Caller::Visitor(VisitorAuth {
                conversation_id,
                brand_id: row.0,
                visitor_name: row.1,
                credential,
            }))
        }
        _ => Err(AppError::Unauthorized),
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
            Some(ticket) => redeem_ticket(state, &ticket).await.map(StreamCaller),
            None => Caller::from_request_parts(parts, state)
                .await
                .map(StreamCaller),
        }
    }
}
