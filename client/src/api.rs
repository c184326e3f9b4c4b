//! A typed client for the paycard API (SPEC §4), shared by the widget and the console.
//! Every non-2xx answer becomes an [`ApiError`] carrying the server's error code; the
//! admin endpoints ([`crate::admin`]) also keep its field errors.

use std::sync::atomic::{AtomicU64, Ordering};

use gloo_net::http::{Request, RequestBuilder, Response};
use paycard_core::api::{
    Card, Checkout, Conversation, ConversationCreated, ConversationPage, LoggedIn, Login, Message,
    NewConversation, NewMessage, OperatorAccount, Payment, ShareCard, StreamTicket, VisitorPatch,
    VisitorProfile,
};
use paycard_core::validation::FieldError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{ErrorCode, FromJs, ToJs};

/// What went wrong with a request, for both apps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error.
    #[error("{message}")]
    Http {
        status: u16,
        /// The error's code (SPEC §4), `http_error` when the body said none.
        code: String,
        message: String,
        /// Which fields were wrong and how; read by the admin endpoints only (the
        /// visitor's calls have no forms to show them on).
        fields: Vec<FieldError>,
    },
    /// No answer: offline, or the server is down.
    #[error("network error: {0}")]
    Network(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            ApiError::Network(_) => None,
        }
    }

    /// The server's error code; `network` when there was no answer.
    pub fn code(&self) -> &str {
        match self {
            ApiError::Http { code, .. } => code,
            ApiError::Network(_) => "network",
        }
    }

    /// The fields the server found wrong (admin forms).
    pub fn fields(&self) -> &[FieldError] {
        match self {
            ApiError::Http { fields, .. } => fields,
            ApiError::Network(_) => &[],
        }
    }

    /// Whether trying again later may succeed: no answer at all, or the server (or a
    /// proxy before it) busy or restarting.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) => true,
            ApiError::Http { status, .. } => matches!(status, 408 | 429 | 502 | 503 | 504),
        }
    }

    /// Whether the caller's credentials are no good (401/403/404 on their own resource).
    pub fn is_gone(&self) -> bool {
        matches!(self.status(), Some(401 | 403 | 404))
    }
}

/// A fresh `Idempotency-Key` for one action (`share`, `refund`, a message…): made once
/// and sent with every retry of it, so a network hiccup cannot act twice.
pub fn idempotency_key(action: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!(
        "{action}-{}-{random:x}-{}",
        js_sys::Date::now() as u64,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// How requests prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A visitor's bearer token.
    Visitor(String),
    /// The console's session cookie (same-origin requests carry it).
    Session,
}

/// A conversation's messages with the tags to poll and resume from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub messages: Vec<Message>,
    pub etag: Option<String>,
    pub last_event_id: i64,
}

/// Which conversations the console's list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// `Some(true)`: open only; `Some(false)`: closed only; `None`: both.
    pub open: Option<bool>,
    pub brand_id: Option<String>,
    /// Words in the visitor's name or email, or in a message.
    pub search: String,
}

impl ListFilter {
    /// Whether `c` belongs in a list with this filter, as far as the client can tell
    /// (a search is the server's to answer).
    pub fn admits(&self, c: &Conversation) -> bool {
        self.open.is_none_or(|open| open == c.closed_at.is_none())
            && self.brand_id.as_ref().is_none_or(|b| *b == c.brand_id)
    }
}

/// The API at `base` ("" for this page's own origin).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Api {
    base: String,
}

pub(crate) fn network(err: gloo_net::Error) -> ApiError {
    ApiError::Network(err.to_string())
}

async fn fail(res: Response) -> ApiError {
    let status = res.status();
    match res
        .text()
        .await
        .ok()
        .and_then(|text| crate::wire::parse::<ErrorCode>(&text))
    {
        Some(body) => ApiError::Http {
            status,
            code: body.code,
            message: body.message,
            fields: Vec::new(),
        },
        None => ApiError::Http {
            status,
            code: "http_error".into(),
            message: format!("HTTP {status}"),
            fields: Vec::new(),
        },
    }
}

/// A 2xx answer's body; any other answer is its error.
async fn body(res: Response) -> Result<String, ApiError> {
    if !res.ok() {
        return Err(fail(res).await);
    }
    res.text().await.map_err(network)
}

fn unexpected() -> ApiError {
    ApiError::Network("the server's answer is not what was expected".into())
}

/// The answer read by [`crate::wire`]: the types of the visitor's path.
async fn read<T: FromJs>(res: Response) -> Result<T, ApiError> {
    crate::wire::parse(&body(res).await?).ok_or_else(unexpected)
}

/// The answer read by serde: the console's own types.
async fn json<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    crate::json::parse(&body(res).await?).ok_or_else(unexpected)
}

/// Sets a JSON body written by [`crate::wire`].
fn with_wire(builder: RequestBuilder, body: &dyn ToJs) -> Result<Request, ApiError> {
    with_json_text(builder, crate::wire::stringify(body))
}

/// Sets a JSON body written by serde (the console's admin types).
pub(crate) fn with_json<B: Serialize>(
    builder: RequestBuilder,
    body: &B,
) -> Result<Request, ApiError> {
    with_json_text(builder, crate::json::stringify(body))
}

/// Sets the JSON text `encoded`, if the body could be written.
fn with_json_text(builder: RequestBuilder, encoded: Option<String>) -> Result<Request, ApiError> {
    let text = encoded.ok_or_else(|| ApiError::Network("cannot encode the request".into()))?;
    builder
        .header("Content-Type", "application/json")
        .body(text)
        .map_err(network)
}

/// A conversation's messages, from the caller's side: the visitor's endpoint or the
/// console's.
fn messages_path(auth: &Auth, conversation_id: &str) -> String {
    match auth {
        Auth::Visitor(_) => format!("/api/v1/conversations/{conversation_id}/messages"),
        Auth::Session => format!("/api/v1/operator/conversations/{conversation_id}/messages"),
    }
}

impl Api {
    pub fn new(base: impl Into<String>) -> Api {
        Api {
            base: base.into().trim_end_matches('/').to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authed(&self, builder: RequestBuilder, auth: &Auth) -> RequestBuilder {
        match auth {
            Auth::Visitor(token) => builder.header("Authorization", &format!("Bearer {token}")),
            Auth::Session => builder,
        }
    }

    /// A console read, by serde.
    async fn get<T: DeserializeOwned>(&self, path: &str, auth: &Auth) -> Result<T, ApiError> {
        let res = self
            .authed(Request::get(&self.url(path)), auth)
            .send()
            .await
            .map_err(network)?;
        json(res).await
    }

    /// A post on the visitor's path (and the console's actions on cards), by [`crate::wire`].
    async fn post<T: FromJs>(
        &self,
        path: &str,
        auth: &Auth,
        body: Option<&dyn ToJs>,
    ) -> Result<T, ApiError> {
        let builder = self.authed(Request::post(&self.url(path)), auth);
        let res = match body {
            Some(body) => with_wire(builder, body)?.send().await,
            None => builder.send().await,
        }
        .map_err(network)?;
        read(res).await
    }

    // ------------------------------------------------------------------ visitor

    /// Opens the visitor's conversation, with what the host page's loader said of them
    /// (the page, their time zone) and the widget's language, for the operator.
    pub async fn create_conversation(
        &self,
        brand_id: &str,
        page: Option<String>,
        time_zone: Option<String>,
        locale: &str,
    ) -> Result<ConversationCreated, ApiError> {
        let body = NewConversation {
            brand_id: brand_id.to_owned(),
            visitor_name: None,
            page,
            time_zone,
            locale: Some(locale.to_owned()),
        };
        self.post("/api/v1/conversations", &Auth::Session, Some(&body))
            .await
    }

    /// The messages of a conversation (`operator` picks the console's endpoint);
    /// `None` when unchanged since `etag`.
    pub async fn messages(
        &self,
        auth: &Auth,
        conversation_id: &str,
        etag: Option<&str>,
    ) -> Result<Option<Snapshot>, ApiError> {
        let path = messages_path(auth, conversation_id);
        let mut builder = self.authed(Request::get(&self.url(&path)), auth);
        if let Some(etag) = etag {
            builder = builder.header("If-None-Match", etag);
        }
        let res = builder.send().await.map_err(network)?;
        if res.status() == 304 {
            return Ok(None);
        }
        let etag = res.headers().get("etag");
        let last_event_id = res
            .headers()
            .get("last-event-id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let messages = read(res).await?;
        Ok(Some(Snapshot {
            messages,
            etag,
            last_event_id,
        }))
    }

    /// Writes a message. Sent again with the same `idempotency_key` (after a lost
    /// answer), the server answers the first message and writes no second.
    pub async fn post_message(
        &self,
        auth: &Auth,
        conversation_id: &str,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Message, ApiError> {
        let path = messages_path(auth, conversation_id);
        let builder = self
            .authed(Request::post(&self.url(&path)), auth)
            .header("Idempotency-Key", idempotency_key);
        let body = NewMessage {
            text: text.to_owned(),
        };
        let res = with_wire(builder, &body)?.send().await.map_err(network)?;
        read(res).await
    }

    pub async fn checkout(&self, auth: &Auth, card_id: &str) -> Result<Checkout, ApiError> {
        self.post(&format!("/api/v1/cards/{card_id}/checkout"), auth, None)
            .await
    }

    pub async fn decline(&self, auth: &Auth, card_id: &str) -> Result<Card, ApiError> {
        self.post(&format!("/api/v1/cards/{card_id}/decline"), auth, None)
            .await
    }

    pub async fn stream_ticket(&self, auth: &Auth) -> Result<StreamTicket, ApiError> {
        self.post("/api/v1/stream-tickets", auth, None).await
    }

    // ------------------------------------------------------------------ console

    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn, ApiError> {
        let body = Login {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let res = with_json(Request::post(&self.url("/api/v1/auth/login")), &body)?
            .send()
            .await
            .map_err(network)?;
        json(res).await
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        let res = Request::post(&self.url("/api/v1/auth/logout"))
            .send()
            .await
            .map_err(network)?;
        if res.ok() {
            Ok(())
        } else {
            Err(fail(res).await)
        }
    }

    pub async fn me(&self) -> Result<OperatorAccount, ApiError> {
        self.get("/api/v1/auth/me", &Auth::Session).await
    }

    /// A page of the operator's conversations, most recent activity first (after the
    /// cursor `before`, a previous page's `next`), and the event id the page reflects.
    pub async fn conversations(
        &self,
        filter: &ListFilter,
        before: Option<&str>,
    ) -> Result<(ConversationPage, i64), ApiError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(open) = filter.open {
            query.push(("status", if open { "open" } else { "closed" }));
        }
        if let Some(brand) = &filter.brand_id {
            query.push(("brand_id", brand));
        }
        let search = filter.search.trim();
        if !search.is_empty() {
            query.push(("q", search));
        }
        if let Some(before) = before {
            query.push(("before", before));
        }
        let mut path = String::from("/api/v1/operator/conversations");
        for (i, (name, value)) in query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(name);
            path.push('=');
            path.push_str(&String::from(js_sys::encode_uri_component(value)));
        }
        let res = Request::get(&self.url(&path))
            .send()
            .await
            .map_err(network)?;
        let last_event_id = res
            .headers()
            .get("last-event-id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok((json(res).await?, last_event_id))
    }

    /// Closes the conversation (`close`) or opens it again; the conversation as it is now.
    pub async fn set_closed(
        &self,
        conversation_id: &str,
        close: bool,
    ) -> Result<Conversation, ApiError> {
        let action = if close { "close" } else { "reopen" };
        let path = format!("/api/v1/operator/conversations/{conversation_id}/{action}");
        let res = Request::post(&self.url(&path))
            .send()
            .await
            .map_err(network)?;
        read(res).await
    }

    /// The operator has read the conversation: its unread count goes to 0 for them.
    pub async fn mark_read(&self, conversation_id: &str) -> Result<(), ApiError> {
        let path = format!("/api/v1/operator/conversations/{conversation_id}/read");
        let res = Request::post(&self.url(&path))
            .send()
            .await
            .map_err(network)?;
        if res.ok() {
            Ok(())
        } else {
            Err(fail(res).await)
        }
    }

    pub async fn picker(&self, conversation_id: &str) -> Result<Vec<Payment>, ApiError> {
        self.get(
            &format!("/api/v1/operator/conversations/{conversation_id}/payments"),
            &Auth::Session,
        )
        .await
    }

    /// Share, with an idempotency key so a retried click cannot share twice.
    pub async fn share(
        &self,
        conversation_id: &str,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<Card, ApiError> {
        let builder = Request::post(&self.url(&format!(
            "/api/v1/operator/conversations/{conversation_id}/cards"
        )))
        .header("Idempotency-Key", idempotency_key);
        let body = ShareCard {
            payment_id: payment_id.to_owned(),
        };
        let res = with_json(builder, &body)?.send().await.map_err(network)?;
        read(res).await
    }

    /// Who the visitor is, and their cards (the operator's context panel).
    pub async fn visitor(&self, conversation_id: &str) -> Result<VisitorProfile, ApiError> {
        self.get(
            &format!("/api/v1/operator/conversations/{conversation_id}/visitor"),
            &Auth::Session,
        )
        .await
    }

    /// The operator corrects the visitor's name or email.
    pub async fn update_visitor(
        &self,
        conversation_id: &str,
        patch: &VisitorPatch,
    ) -> Result<VisitorProfile, ApiError> {
        let path = format!("/api/v1/operator/conversations/{conversation_id}/visitor");
        let res = with_json(Request::patch(&self.url(&path)), patch)?
            .send()
            .await
            .map_err(network)?;
        json(res).await
    }

    pub async fn cancel(&self, card_id: &str) -> Result<Card, ApiError> {
        self.post(
            &format!("/api/v1/operator/cards/{card_id}/cancel"),
            &Auth::Session,
            None,
        )
        .await
    }
}
