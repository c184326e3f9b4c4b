//! What the product does, apart from how it is asked over HTTP: the operations the API
//! handlers, the hosted checkout and the background jobs call. Each works through the
//! [`store`](crate::store) and the shared rules of `paycard_core`.
//!
//! - [`accounts`]: who is calling (visitors, console sessions), signing in and out,
//!   stream tickets.
//! - [`api_keys`]: keys that let a bot or an integration act as an operator.
//! - [`chat`]: conversations, messages, the Payments picker.
//! - [`cards`]: Share, a card, checkout links, every change of a card's status.
//! - [`charges`]: taking the money: the ways to pay, charging, gateway sessions,
//!   settling what a gateway says, closing a card at its gateway, the sweepers.
//! - [`gateways`]: the gateways themselves (the sandbox, Stripe, PayPal, Razorpay), one
//!   enum to call them.
//! - [`live`]: the event log and the hub that hands it to the live streams.
//! - [`mail`]: receipts by email: rendered into an outbox, sent through SMTP.
//! - [`refunds`]: giving back part or all of a paid card; payments to closed cards.
//! - [`reports`]: totals, outcomes and the cards of a range of days, JSON and CSV.
//! - [`streams`]: who holds the open streams: caps and revocation.
//! - [`settings`]: the admins' portal, gateways, payments and brands.
//! - [`visitors`]: who a conversation's visitor is, and what they were asked to pay.
//! - [`webhooks`]: events for the merchant's systems: endpoints, signed deliveries.

pub mod accounts;
pub mod api_keys;
pub mod cards;
pub mod charges;
pub mod chat;
pub mod gateways;
pub mod live;
pub mod mail;
pub mod refunds;
pub mod reports;
pub mod settings;
pub mod streams;
pub mod visitors;
pub mod webhooks;
