//! paycard's shared types and rules.
//!
//! Everything here is pure: no I/O, no clock, no randomness. The server and the widget
//! both depend on this crate so that a rule (which transitions a card may make, how an
//! amount is written in Spanish, when a monthly plan next charges) is written once.
//!
//! - [`status`]: the card state machine of SPEC §3.
//! - [`session`]: a gateway session's state machine (the visitor on the gateway's page).
//! - [`money`]: currencies (ISO 4217, from `iso_currency`), integer minor units,
//!   locale-aware parsing and formatting.
//! - [`recurrence`]: one-time and recurring payments, next charge dates, their text.
//! - [`problem`]: a problem with one field ([`problem::FieldError`]), and its words;
//!   what every rule below returns.
//! - [`validation`]: the rules for what admins and visitors submit (payments, brands,
//!   portals, API keys, refunds, text, emails, origins), as field errors.
//! - [`card_form`]: the checkout's card form (number, expiry, CVC) and its rules.
//! - [`gateways`]: the gateway kinds, the editions that offer them, the currencies,
//!   amounts and recurrences each takes, credential shapes and masking.
//! - [`locale`]: the two languages the product speaks.
//! - [`search`]: what a search matches (any case, with or without accents).
//! - [`api`]: the JSON shapes of the HTTP contract that both sides read and write.
//! - [`transcript`]: a conversation as a client holds it, kept current by live events.
//! - [`whole`]: reading JSON numbers that must be whole (`25.0` is 25, `25.5` is not).
//! - `schema` (feature `openapi`): the rules as OpenAPI schemas, for the server's document.

pub mod api;
pub mod card_form;
pub mod gateways;
pub mod locale;
pub mod money;
pub mod problem;
pub mod recurrence;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod search;
pub mod session;
pub mod status;
pub mod transcript;
pub mod validation;
pub mod whole;

pub use locale::Locale;
pub use money::{Currency, Money};
pub use recurrence::{Interval, Recurrence};
pub use session::{SessionEvent, SessionStatus};
pub use status::{CardAction, CardState, CardStatus, TransitionError};
