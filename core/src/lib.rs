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
//! - [`validation`]: the rules for a payment an admin defines, as field errors.
//! - [`gateways`]: the gateway kinds, the editions that offer them, credential shapes
//!   and masking.
//! - [`locale`]: the two languages the product speaks.
//! - [`api`]: the JSON shapes of the HTTP contract that both sides read and write.
//! - [`transcript`]: a conversation as a client holds it, kept current by live events.
//! - `schema` (feature `openapi`): the rules as OpenAPI schemas, for the server's document.

pub mod api;
pub mod card_form;
pub mod gateways;
pub mod locale;
pub mod money;
pub mod recurrence;
#[cfg(feature = "openapi")]
pub mod schema;
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
