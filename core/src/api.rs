//! The JSON shapes of the HTTP contract (SPEC §4) that both the server and the browser
//! apps read and write. Plain serde types; with the `openapi` feature (the server's) they
//! also describe themselves for `/api/openapi.json`.

use serde::{Deserialize, Serialize};

use crate::problem::FieldError;
use crate::{CardStatus, Currency, Locale, Money, Recurrence};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A payment card as the API returns it. Title, description, amount, currency and
/// recurrence are a snapshot taken when the card was shared: later edits of the payment
/// do not change a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Card {
    pub id: String,
    pub conversation_id: String,
    pub payment_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RecurrenceSchema>))]
    pub recurrence: Option<Recurrence>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "pending"))]
    pub status: CardStatus,
    pub failure_reason: Option<String>,
    /// How much of the paid amount has been refunded (SPEC §8.3): 0 until a refund
    /// succeeds; the whole amount once the card is `refunded`.
    #[serde(default)]
    pub refunded_minor: i64,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
}

impl Card {
    pub fn money(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// The card's status line on both chat sides (SPEC §5): a paid card partly refunded
    /// says how much ("Payment successful · €10.00 refunded").
    pub fn status_line(&self, locale: Locale) -> String {
        let line = self.status.label(locale, self.failure_reason.as_deref());
        if self.status != CardStatus::Paid || self.refunded_minor <= 0 {
            return line;
        }
        let refunded = Money::new(self.refunded_minor, self.currency).format(locale);
        match locale {
            Locale::En => format!("{line} · {refunded} refunded"),
            Locale::Es => format!("{line} · {refunded} reembolsados"),
        }
    }
}

/// `{"interval": "day"|"week"|"month"|"year", "count": N}`; `null` for one-time.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RecurrenceSchema {
    #[schema(example = "month")]
    interval: String,
    #[schema(example = 1)]
    count: u32,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Author {
    Visitor,
    Operator,
}

/// One message of a conversation: text, or a payment card (then `text` is null and
/// `card` holds the card as it is now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub author: Author,
    pub author_name: String,
    pub text: Option<String>,
    pub card: Option<Card>,
    pub created_at: String,
}

/// The latest message of a conversation, for the console's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LastMessage {
    pub author: Author,
    /// The text, or the card's title for a card message.
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Conversation {
    pub id: String,
    pub brand_id: String,
    pub visitor_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_message: Option<LastMessage>,
    /// For an operator: the visitor's messages they have not read yet (SPEC §8: read
    /// marks are kept per operator on the server). 0 for the visitor.
    #[serde(default)]
    pub unread: i64,
    /// When an operator closed it (dealt with); `null` while open. A visitor's new
    /// message opens it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
}

/// One page of `GET /api/v1/operator/conversations` (SPEC §8.1), most recent activity
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    /// The cursor of the next (older) page, to pass as `?before=`; `null` on the last.
    pub next: Option<String>,
}

/// The most conversations one page may hold, and how many when `?limit=` is not given.
pub const CONVERSATION_PAGE_MAX: u32 = 200;
pub const CONVERSATION_PAGE_DEFAULT: u32 = 50;

/// `POST /api/v1/conversations`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewConversation {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_id))]
    pub brand_id: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::visitor_name))]
    pub visitor_name: Option<String>,
    /// Context for the operator, as the visitor's browser gives it (best effort: what
    /// does not read as what it should be is left out, never refused): the page the chat
    /// starts on (kept without its query and fragment), the visitor's IANA time zone and
    /// the widget's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// `GET /api/v1/operator/conversations/{id}/visitor`: who the visitor is and what they
/// were asked to pay, for the operator's context panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VisitorProfile {
    pub conversation_id: String,
    pub name: String,
    /// From the first checkout they filled in, or set by an operator.
    pub email: Option<String>,
    /// `en` or `es`, the widget's language.
    pub locale: Option<String>,
    /// The page the chat started on (no query or fragment).
    pub page: Option<String>,
    /// The visitor's IANA time zone, for their local time.
    pub time_zone: Option<String>,
    /// The cards of this conversation and, when the email is known, of the brand's other
    /// conversations with the same email; newest first.
    pub cards: Vec<VisitorCard>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VisitorCard {
    pub card: Card,
    pub attempts: Vec<Attempt>,
    pub refunds: Vec<Refund>,
}

/// `PATCH /api/v1/operator/conversations/{id}/visitor`: the operator corrects who the
/// visitor is. Absent fields stay; `email: null` is absent too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VisitorPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::visitor_name))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::visitor_email))]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationCreated {
    pub conversation: Conversation,
    /// The visitor's bearer token for this conversation only. Shown once.
    pub visitor_token: String,
}

/// `POST …/messages`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewMessage {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::message_text))]
    pub text: String,
}

/// `POST /api/v1/operator/conversations/{id}/cards`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShareCard {
    pub payment_id: String,
}

/// A payment (product or service) as the picker and the admin pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Payment {
    pub id: String,
    pub brand_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RecurrenceSchema>))]
    pub recurrence: Option<Recurrence>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Checkout {
    pub checkout_url: String,
}

/// One payment attempt on a card. Only the last four digits of a card number are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Attempt {
    pub id: String,
    /// `succeeded` or `failed`.
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    pub gateway: String,
    pub card_last4: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: String,
}

/// `POST /api/v1/auth/login`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Login {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::login_email))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::password))]
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
}

/// A signed-in person of the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The brands whose conversations this person sees.
    pub brands: Vec<String>,
    /// Their names, by id: the console labels each conversation with its brand.
    #[serde(default)]
    pub brand_names: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoggedIn {
    /// Bearer token for `Authorization: Bearer …`; the same session is also set as an
    /// HttpOnly cookie for the console.
    pub token: String,
    pub operator: OperatorAccount,
}

/// `POST /api/v1/stream-tickets`: a single-use, short-lived ticket for `EventSource`,
/// which cannot send an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StreamTicket {
    pub ticket: String,
    pub expires_in_seconds: u32,
}

/// The error body of every non-2xx answer: `{"error": {"code", "message"}}`, with the
/// field errors of a validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// snake_case, stable: clients branch on it.
    pub code: String,
    /// English, for people reading logs and API consoles.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub fields: Vec<FieldError>,
}

/// Live-update payloads (SSE `data:`), by event name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardEvent {
    pub card: Card,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    pub conversation: Conversation,
}

/// Limits on chat text, shared so the message box can stop at the same point.
pub const MESSAGE_MAX_CHARS: usize = 4000;
pub const VISITOR_NAME_MAX_CHARS: usize = 80;

/// The word of a generated visitor name in each language (the stored form is the first).
const GENERATED_NAME_WORDS: [&str; 2] = ["Visitor ", "Visitante "];

/// The number of a generated visitor name typed into a search, in any reader's words and
/// any case ("visitante 0042" → "0042"): it finds the name in every stored form.
pub fn generated_visitor_number(query: &str) -> Option<&str> {
    let word = GENERATED_NAME_WORDS.iter().find(|word| {
        query
            .get(..word.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(word))
    })?;
    let number = query[word.len()..].trim();
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(number)
}

/// The name a visitor who gave none gets: "Visitor" and a number to tell them apart. It
/// is stored in this one form whatever the visitor's language, and every reader shows it
/// in their own with [`visitor_name_in`] (an English console never reads "Visitante").
pub fn generated_visitor_name(number: u16) -> String {
    format!("Visitor {:04}", number % 10_000)
}

/// `name` as a reader in `locale` reads it: a generated name (see
/// [`generated_visitor_name`]; also the Spanish form stored before names were
/// language-neutral) in the reader's words, any other name as it is.
pub fn visitor_name_in(name: &str, locale: Locale) -> std::borrow::Cow<'_, str> {
    let number = GENERATED_NAME_WORDS
        .iter()
        .find_map(|word| name.strip_prefix(word))
        .filter(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()));
    match (number, locale) {
        (Some(n), Locale::En) => format!("Visitor {n}").into(),
        (Some(n), Locale::Es) => format!("Visitante {n}").into(),
        (None, _) => name.into(),
    }
}

// ---- Admin settings (SPEC §2.1–2.4, the admin rows of §4) ----

/// One ISO 3166 country, for the portal's business location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CountryOption {
    /// ISO 3166-1 alpha-2 (`ES`).
    pub code: String,
    pub name: String,
}

/// `GET /api/v1/admin/portal/defaults?country=ES`: what a business there would pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PortalDefaults {
    pub country: String,
    /// The country's currency (ISO 4217); `null` where it has none of its own.
    pub currency: Option<String>,
    /// The country's principal IANA time zone.
    pub time_zone: Option<String>,
    /// Every IANA time zone of the country, principal first.
    pub time_zones: Vec<String>,
}

/// `PUT /api/v1/admin/portal`: connect a portal (an existing one by its name, or a new one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PortalInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::portal_name))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::country))]
    pub country: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::currency))]
    pub currency: String,
    /// An IANA time zone (the server's document lists them).
    pub time_zone: String,
    /// `free`, `standard` or `professional`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::edition))]
    pub edition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectedBy {
    pub name: String,
    pub email: String,
}

/// A payment portal. From `GET /api/v1/admin/portal` (the connected one, with who
/// connected it) or `GET /api/v1/admin/portals` (every portal known, to pick from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Portal {
    pub id: String,
    pub name: String,
    pub country: String,
    pub currency: String,
    pub time_zone: String,
    pub edition: String,
    #[serde(default)]
    pub connected_by: Option<ConnectedBy>,
    #[serde(default)]
    pub connected_at: Option<String>,
}

/// One field of a gateway's credential form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GatewayFieldInfo {
    pub name: String,
    /// In the request's language (Accept-Language).
    pub label: String,
    /// Secret fields are write-only: shown masked once saved.
    pub secret: bool,
    /// What the value looks like (`sk_test_…`), for a hint.
    pub example: String,
}

/// `GET /api/v1/admin/gateway-kinds`: a gateway the portal's edition offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GatewayKindInfo {
    pub kind: String,
    pub name: String,
    pub fields: Vec<GatewayFieldInfo>,
}

/// `POST /api/v1/admin/gateways`, and `PUT /api/v1/admin/gateways/{id}` (new credentials
/// for a configured gateway, whose kind it repeats). Its schema (`crate::schema`) has
/// one shape per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGateway {
    pub kind: String,
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
}

/// A configured gateway. Its credentials are never returned, only masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Gateway {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Each credential field, masked (`sk_test_…4242`).
    pub masked: std::collections::BTreeMap<String, String>,
    /// Where the gateway must send its notifications (`/webhooks/stripe/{id}`), for
    /// gateways that send them: the admin registers this URL at the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// The same, whole: the server's public URL and the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// The events to subscribe that endpoint to at the gateway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_events: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/admin/gateways/{id}/check`: what the gateway said of its credentials
/// just now (Stripe: an authenticated read of the account's balance, which changes
/// nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GatewayCheck {
    pub result: CheckResult,
    /// The gateway's own words when it refused, or why it could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub checked_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// The gateway took the credentials.
    Accepted,
    /// The gateway answered, refusing them.
    Rejected,
    /// The gateway could not be reached (or answered with its own failure).
    Unreachable,
}

/// `POST /api/v1/admin/payments`
pub type NewPayment = crate::validation::PaymentDraft;

/// `PATCH /api/v1/admin/payments/{id}`: any of the fields; `"recurrence": null` makes
/// the payment one-time, leaving it out keeps the current recurrence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_id_or_null))]
    pub brand_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::title_or_null))]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::description_or_null))]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::whole::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::amount_minor_or_null))]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::currency_or_null))]
    pub currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::recurrence_or_null))]
    pub recurrence: Option<Option<Recurrence>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A field that is present (even as `null`) is `Some`; an absent one stays `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A brand with the payments assigned to it (`GET /api/v1/admin/brands`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Brand {
    pub id: String,
    pub name: String,
    /// Website origins allowed to embed this brand's widget (`https://shop.example`).
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// The tag that embeds this brand's widget in a website, with the server's public URL.
    #[serde(default)]
    pub embed_tag: String,
}

/// `POST /api/v1/admin/cards/{id}/refunds` (SPEC §8.3): no amount refunds what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewRefund {
    #[serde(
        default,
        deserialize_with = "crate::whole::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::amount_minor_or_null))]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::refund_reason))]
    pub reason: Option<String>,
}

/// Where a refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RefundStatus> {
        [
            RefundStatus::Pending,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Refund {
    pub id: String,
    pub card_id: String,
    pub amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub created_at: String,
}

/// `POST /api/v1/admin/api-keys`: a key for a bot or an integration, working for these
/// brands as an operator does (SPEC §8.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewApiKey {
    /// Shown as the author of what the key writes ("Sales bot").
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::api_key_name))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::api_key_brands))]
    pub brand_ids: Vec<String>,
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub brand_ids: Vec<String>,
    pub created_at: String,
    /// When a request last used it (to the minute); `null` if never.
    pub last_used_at: Option<String>,
}

/// The answer to creating a key: the only time `key` is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub brand_ids: Vec<String>,
    /// `pck_…`: the bearer token. Stored hashed; copy it now.
    pub key: String,
    pub created_at: String,
}

/// The events a merchant's webhook endpoint can be sent (SPEC §8.5).
pub const WEBHOOK_EVENTS: [&str; 7] = [
    "card.shared",
    "card.paid",
    "card.failed",
    "card.cancelled",
    "card.declined",
    "card.expired",
    "card.refunded",
];

/// `POST /api/v1/admin/webhooks`: where to send events, for which brands (none: all of
/// the admin's) and which types (none: all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewWebhookEndpoint {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::webhook_url))]
    pub url: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::webhook_brands))]
    pub brand_ids: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::webhook_events))]
    pub events: Vec<String>,
}

/// A webhook endpoint as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// Empty: every brand of the admin who made it.
    pub brand_ids: Vec<String>,
    /// Empty: every event type.
    pub events: Vec<String>,
    pub created_at: String,
}

/// The answer to creating an endpoint: the only time `secret` is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedWebhookEndpoint {
    pub id: String,
    pub url: String,
    pub brand_ids: Vec<String>,
    pub events: Vec<String>,
    /// `whsec_…`: signs every delivery (`Paycard-Signature`). Copy it now.
    pub secret: String,
    pub created_at: String,
}

/// Where one event's delivery to one endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// `GET /api/v1/admin/webhooks/{id}/deliveries`: one event sent (or being sent) to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookDelivery {
    pub id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The receiver's last HTTP status; `null` if it never answered.
    pub last_status_code: Option<i64>,
    /// Why the last try failed (no answer, a refused address…); `null` after a 2xx.
    pub last_error: Option<String>,
    /// When it is tried next; `null` once delivered or given up.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

/// `GET /api/v1/admin/mail`: whether receipts can go out, and how the last ones went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailStatus {
    /// `PAYCARD_SMTP_URL` is set: receipts are sent.
    pub configured: bool,
    /// The sender (`PAYCARD_MAIL_FROM`), when configured.
    pub from: Option<String>,
    /// The SMTP server without its password (`smtp://mail.example.com:587`).
    pub server: Option<String>,
    /// Receipts waiting to go (queued, or retried after an error).
    pub pending: i64,
    /// Receipts sent in the last 30 days (older ones are forgotten, with their addresses).
    pub sent: i64,
    /// The last delivery error, if the last try of any message failed, and when.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

/// `POST /api/v1/admin/brands`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewBrand {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_id))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_name))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::allowed_origins))]
    pub allowed_origins: Vec<String>,
}

/// `PATCH /api/v1/admin/brands/{id}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BrandPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_name_or_null))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::allowed_origins_or_null))]
    pub allowed_origins: Option<Vec<String>>,
}

/// Live `payment` event (operator streams): a payment was added, changed, moved,
/// deactivated or deleted (then `active` is false). Pickers refresh on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub payment: Payment,
}

/// `GET /api/v1/admin/reports/summary` (SPEC §8.6): what became of the cards shared in a
/// date range. Every figure is about the cards shared between `from` and `to` (days in
/// the portal's time zone, both included): how many were paid, closed otherwise or
/// refunded, and the money they brought in and gave back. `by_day` spreads the paid money
/// over the days it was paid (so a card shared late on `to` and paid the next morning
/// adds to a day after `to`); its sum per currency is `paid_minor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportSummary {
    /// `YYYY-MM-DD`, as asked (or the default: the last 30 days).
    pub from: String,
    pub to: String,
    pub brand_id: Option<String>,
    /// The IANA time zone the days are counted in: the portal's, UTC without one.
    pub time_zone: String,
    pub currencies: Vec<CurrencyTotals>,
    pub counts: OutcomeCounts,
    /// `paid / shared`, 0 when nothing was shared.
    pub conversion: f64,
    pub by_day: Vec<DayTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CurrencyTotals {
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: String,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutcomeCounts {
    /// Cards shared in the range.
    pub shared: i64,
    /// Of them, paid (refunded later or not).
    pub paid: i64,
    /// Failed payment attempts on them (a card may fail and then be paid).
    pub failed_attempts: i64,
    pub cancelled: i64,
    pub declined: i64,
    pub expired: i64,
    /// Paid cards with at least some money given back.
    pub refunded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DayTotal {
    /// `YYYY-MM-DD` in the report's time zone.
    pub date: String,
    pub currency: String,
    pub paid_minor: i64,
}

/// One card of `GET /api/v1/admin/reports/cards`: its outcome, who paid, what was given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportCard {
    pub id: String,
    pub conversation_id: String,
    pub brand_id: String,
    pub title: String,
    pub amount_minor: i64,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "paid"))]
    pub status: CardStatus,
    pub failure_reason: Option<String>,
    /// RFC 3339, UTC.
    pub shared_at: String,
    /// When the successful attempt was made; `null` if never paid.
    pub paid_at: Option<String>,
    pub paid_minor: i64,
    /// The email the payer typed on the checkout.
    pub payer_email: Option<String>,
    pub failed_attempts: i64,
    pub refunds: i64,
    pub refunded_minor: i64,
}

/// A page of [`ReportCard`]s, newest shared first, paginated like the conversation list
/// (SPEC §8.1): `?limit=` and `?before=` from the previous page's `next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportCardPage {
    pub items: Vec<ReportCard>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(status: CardStatus, refunded_minor: i64) -> Card {
        Card {
            id: "card_1".into(),
            conversation_id: "conv_1".into(),
            payment_id: "pay_1".into(),
            title: "Mug".into(),
            description: String::new(),
            amount_minor: 2500,
            currency: Currency::from_code("EUR").unwrap(),
            recurrence: None,
            status,
            failure_reason: None,
            refunded_minor,
            version: 2,
            created_at: String::new(),
            updated_at: String::new(),
            expires_at: String::new(),
        }
    }

    #[test]
    fn a_generated_name_is_searched_by_its_number_in_any_language() {
        assert_eq!(generated_visitor_number("Visitante 0042"), Some("0042"));
        assert_eq!(generated_visitor_number("visitor 17"), Some("17"));
        assert_eq!(generated_visitor_number("Visitor Ana"), None);
        assert_eq!(generated_visitor_number("visitors"), None);
        assert_eq!(generated_visitor_number("Visitante "), None);
    }

    #[test]
    fn generated_visitor_names_read_in_the_readers_language() {
        let name = generated_visitor_name(1169);
        assert_eq!(name, "Visitor 1169");
        assert_eq!(generated_visitor_name(7), "Visitor 0007");
        assert_eq!(visitor_name_in(&name, Locale::Es), "Visitante 1169");
        assert_eq!(visitor_name_in(&name, Locale::En), "Visitor 1169");
        // Names stored in Spanish before read in English too.
        assert_eq!(
            visitor_name_in("Visitante 0042", Locale::En),
            "Visitor 0042"
        );
        // Real names, and look-alikes that are not generated, stay as typed.
        for real in [
            "Ana García",
            "Visitor",
            "Visitor 12345",
            "Visitor 12a4",
            "visitor 1234",
        ] {
            assert_eq!(visitor_name_in(real, Locale::Es), real);
        }
    }

    #[test]
    fn a_partly_refunded_card_says_how_much_in_both_languages() {
        assert_eq!(
            card(CardStatus::Paid, 0).status_line(Locale::En),
            "Payment successful"
        );
        assert_eq!(
            card(CardStatus::Paid, 1000).status_line(Locale::En),
            "Payment successful · €10.00 refunded"
        );
        assert_eq!(
            card(CardStatus::Paid, 1000).status_line(Locale::Es),
            "Pago realizado · 10,00 € reembolsados"
        );
        assert_eq!(
            card(CardStatus::Refunded, 2500).status_line(Locale::En),
            "Refunded"
        );
        assert_eq!(
            card(CardStatus::Refunded, 2500).status_line(Locale::Es),
            "Reembolsado"
        );
    }

    #[test]
    fn cards_from_before_refunds_read_as_nothing_refunded() {
        let mut json = serde_json::to_value(card(CardStatus::Paid, 0)).unwrap();
        json.as_object_mut().unwrap().remove("refunded_minor");
        let read: Card = serde_json::from_value(json).unwrap();
        assert_eq!(read.refunded_minor, 0);
    }
}
