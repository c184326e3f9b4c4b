//! The browser side both paycard apps share, so that the visitor widget and the
//! operator console talk to the server, and show a card, in exactly one way:
//!
//! - [`api`]: a typed client for the paycard API, with one error type ([`ApiError`]);
//!   [`admin`]: the admin settings endpoints, on the same client and error.
//! - [`live`]: live updates by server-sent events, with polling when they fail.
//! - [`card`]: the payment card, for both sides of the chat.
//! - [`transcript`]: the conversation's messages and the message box.
//! - [`outbox`]: messages on their way, kept and retried (with their idempotency key)
//!   while the connection is down.
//! - [`time`]: times as the reader's clock shows them.
//! - [`words`]: the words of the card and the transcript, in English and Spanish.
//! - [`page`]: the page's query and languages.
//! - [`wire`]: the visitor path's JSON (messages, cards, conversations, live events),
//!   read and written by hand over the browser's own parser: far smaller than serde.
//! - [`json`]: JSON by the browser's parser with serde, for the console's admin types.
//!
//! The widget loads on every page of a customer's website: what it does not call from
//! here (the admin endpoints, operator calls) the linker leaves out of its bundle.

pub mod admin;
pub mod api;
pub mod card;
pub mod json;
pub mod live;
pub mod outbox;
pub mod page;
pub mod time;
pub mod transcript;
pub mod wire;
pub mod words;

pub use api::{Api, ApiError, Auth};
