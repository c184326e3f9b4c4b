//! The JSON both apps exchange on the visitor's path (messages, cards, conversations,
//! live events, the error body, and what the widget keeps in `localStorage`), read from
//! and written to the browser's own `JSON.parse`/`JSON.stringify` values by hand.
//!
//! Why not serde here: the visitor widget loads on every page of a customer's site, and
//! serde's derived visitors, serde-wasm-bindgen's deserializer and the float formatting
//! its error messages reach were ~40 KB of its wasm before compression for a dozen small
//! types (docs/benchmarks.md). The shapes stay defined once, by the serde derives in
//! `paycard_core::api` (what the server writes and its OpenAPI document says); the
//! browser tests (`tests/wire.rs`) check that every type here reads exactly what serde
//! writes, and that serde reads what these write. The console's own admin types keep
//! serde ([`crate::json`]).
//!
//! Reading follows serde's rules for these types as the server writes them (objects):
//! unknown fields are ignored, a missing or `null` `Option` is `None`, a field with
//! `#[serde(default)]` may be missing, any other missing or mistyped field makes the whole
//! value unreadable (`None`).

use js_sys::{Array, Object, Reflect, JSON};
use paycard_core::api::{
    Author, Card, CardEvent, Checkout, Conversation, ConversationCreated, ConversationEvent,
    LastMessage, Message, MessageEvent, NewConversation, NewMessage, StreamTicket,
};
use paycard_core::recurrence::Interval;
use paycard_core::{CardStatus, Currency, Recurrence};
use wasm_bindgen::JsValue;

/// A type read from a parsed JSON value.
pub trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Option<Self>;
}

/// A type written as a JSON-compatible JS value.
pub trait ToJs {
    fn to_js(&self) -> JsValue;
}

/// Parses JSON text into `T`; `None` if it is not JSON or not a `T`.
pub fn parse<T: FromJs>(text: &str) -> Option<T> {
    T::from_js(&JSON::parse(text).ok()?)
}

/// Writes `value` as JSON text.
pub fn stringify<T: ToJs + ?Sized>(value: &T) -> Option<String> {
    JSON::stringify(&value.to_js()).ok()?.as_string()
}

/// A JSON object being read: each accessor is `None` when the field is missing or of
/// another type. Also for the apps' own types (the widget's stored session).
pub struct Fields<'a>(&'a JsValue);

impl Fields<'_> {
    /// `None` unless `value` is an object (not an array, not `null`).
    pub fn of(value: &JsValue) -> Option<Fields<'_>> {
        (value.is_object() && !Array::is_array(value)).then_some(Fields(value))
    }

    fn raw(&self, name: &str) -> JsValue {
        Reflect::get(self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A required field.
    pub fn get<T: FromJs>(&self, name: &str) -> Option<T> {
        T::from_js(&self.raw(name))
    }

    /// A field with `#[serde(default)]`: missing is the default, present must be a `T`.
    pub fn or_default<T: FromJs + Default>(&self, name: &str) -> Option<T> {
        let value = self.raw(name);
        if value.is_undefined() {
            Some(T::default())
        } else {
            T::from_js(&value)
        }
    }
}

/// A JS object being written, field by field.
pub struct Build(Object);

impl Default for Build {
    fn default() -> Self {
        Build(Object::new())
    }
}

impl Build {
    pub fn new() -> Build {
        Build::default()
    }

    pub fn set(self, name: &str, value: &dyn ToJs) -> Build {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.to_js());
        self
    }

    /// Leaves `None` out (`skip_serializing_if = "Option::is_none"`).
    pub fn set_some<T: ToJs>(self, name: &str, value: &Option<T>) -> Build {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

// ------------------------------------------------------------------ JSON's own values

impl FromJs for String {
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for str {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl FromJs for bool {
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

impl ToJs for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

/// Whole numbers only, as serde reads an integer: `3.5` is not one.
impl FromJs for i64 {
    fn from_js(value: &JsValue) -> Option<Self> {
        let n = value.as_f64()?;
        (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
    }
}

impl FromJs for u32 {
    fn from_js(value: &JsValue) -> Option<Self> {
        u32::try_from(i64::from_js(value)?).ok()
    }
}

/// `null` or missing is `None`.
impl<T: FromJs> FromJs for Option<T> {
    fn from_js(value: &JsValue) -> Option<Self> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

impl<T: ToJs> ToJs for Option<T> {
    fn to_js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, ToJs::to_js)
    }
}

impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Option<Self> {
        if !Array::is_array(value) {
            return None;
        }
        Array::from(value)
            .iter()
            .map(|item| T::from_js(&item))
            .collect()
    }
}

impl<T: ToJs> ToJs for [T] {
    fn to_js(&self) -> JsValue {
        self.iter().map(ToJs::to_js).collect::<Array>().into()
    }
}

impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        self.as_slice().to_js()
    }
}

// ------------------------------------------------------------------ the shared rules' names

impl FromJs for Currency {
    fn from_js(value: &JsValue) -> Option<Self> {
        Currency::from_code(&value.as_string()?)
    }
}

impl FromJs for CardStatus {
    fn from_js(value: &JsValue) -> Option<Self> {
        CardStatus::parse(&value.as_string()?)
    }
}

impl FromJs for Author {
    fn from_js(value: &JsValue) -> Option<Self> {
        match value.as_string()?.as_str() {
            "visitor" => Some(Author::Visitor),
            "operator" => Some(Author::Operator),
            _ => None,
        }
    }
}

impl FromJs for Recurrence {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(Recurrence {
            interval: Interval::parse(&o.get::<String>("interval")?)?,
            count: o.get("count")?,
        })
    }
}

// ------------------------------------------------------------------ the API's shapes

impl FromJs for Card {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(Card {
            id: o.get("id")?,
            conversation_id: o.get("conversation_id")?,
            payment_id: o.get("payment_id")?,
            title: o.get("title")?,
            description: o.get("description")?,
            amount_minor: o.get("amount_minor")?,
            currency: o.get("currency")?,
            recurrence: o.get("recurrence")?,
            status: o.get("status")?,
            failure_reason: o.get("failure_reason")?,
            refunded_minor: o.or_default("refunded_minor")?,
            version: o.get("version")?,
            created_at: o.get("created_at")?,
            updated_at: o.get("updated_at")?,
            expires_at: o.get("expires_at")?,
        })
    }
}

impl FromJs for Message {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(Message {
            id: o.get("id")?,
            conversation_id: o.get("conversation_id")?,
            author: o.get("author")?,
            author_name: o.get("author_name")?,
            text: o.get("text")?,
            card: o.get("card")?,
            created_at: o.get("created_at")?,
        })
    }
}

impl FromJs for LastMessage {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(LastMessage {
            author: o.get("author")?,
            text: o.get("text")?,
            created_at: o.get("created_at")?,
        })
    }
}

impl FromJs for Conversation {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(Conversation {
            id: o.get("id")?,
            brand_id: o.get("brand_id")?,
            visitor_name: o.get("visitor_name")?,
            created_at: o.get("created_at")?,
            updated_at: o.get("updated_at")?,
            last_message: o.get("last_message")?,
            unread: o.or_default("unread")?,
            closed_at: o.get("closed_at")?,
        })
    }
}

impl FromJs for ConversationCreated {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(ConversationCreated {
            conversation: o.get("conversation")?,
            visitor_token: o.get("visitor_token")?,
        })
    }
}

impl FromJs for Checkout {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Checkout {
            checkout_url: Fields::of(value)?.get("checkout_url")?,
        })
    }
}

impl FromJs for StreamTicket {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(StreamTicket {
            ticket: o.get("ticket")?,
            expires_in_seconds: o.get("expires_in_seconds")?,
        })
    }
}

impl FromJs for MessageEvent {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(MessageEvent {
            message: Fields::of(value)?.get("message")?,
        })
    }
}

impl FromJs for CardEvent {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(CardEvent {
            card: Fields::of(value)?.get("card")?,
        })
    }
}

impl FromJs for ConversationEvent {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(ConversationEvent {
            conversation: Fields::of(value)?.get("conversation")?,
        })
    }
}

/// What a client acts on in an error body (`{"error": {"code", "message", …}}`): field
/// errors are the admin forms' business ([`crate::admin`] reads them with serde).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: String,
    pub message: String,
}

impl FromJs for ErrorCode {
    fn from_js(value: &JsValue) -> Option<Self> {
        let error = Fields::of(value)?.raw("error");
        let o = Fields::of(&error)?;
        Some(ErrorCode {
            code: o.get("code")?,
            message: o.get("message")?,
        })
    }
}

impl ToJs for NewConversation {
    fn to_js(&self) -> JsValue {
        Build::new()
            .set("brand_id", &self.brand_id)
            .set("visitor_name", &self.visitor_name)
            .set_some("page", &self.page)
            .set_some("time_zone", &self.time_zone)
            .set_some("locale", &self.locale)
            .done()
    }
}

impl ToJs for NewMessage {
    fn to_js(&self) -> JsValue {
        Build::new().set("text", &self.text).done()
    }
}
