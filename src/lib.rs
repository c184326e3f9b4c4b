//! The paycard visitor widget.
//!
//! - [`WidgetApp`]: the page mounted in the iframe the `/widget.js` loader adds.
//! - [`chat`]: the visitor's chat panel.
//! - [`i18n`]: the widget's own words in English and Spanish, and the locale choice.
//!
//! The API client, live updates, the payment card and the transcript come from
//! `paycard-client` (shared with the console); money, recurrence, card-status rules and
//! transcript merging from `paycard-core` (shared with the server too), so the widget
//! writes "€49.00 / month" exactly as the checkout page does. The console is a separate
//! crate and bundle: nothing of it ships to visitors.

pub mod chat;
pub mod i18n;
pub mod widget;

pub use paycard_client::page::query_param;
pub use widget::WidgetApp;
