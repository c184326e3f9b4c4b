//! The paycard visitor widget and the browser pieces the console shares.
//!
//! - [`WidgetApp`]: the page mounted in the iframe the `/widget.js` loader adds.
//! - [`chat`]: the visitor's chat panel (transcript and message box).
//! - [`card`]: the payment card, for both sides of the chat.
//! - [`api`]: a typed client for the paycard API.
//! - [`live`]: live updates by server-sent events, with polling when they fail.
//! - [`i18n`]: the words in English and Spanish, and the locale choice.
//! - [`json`]: JSON by the browser's own parser (smaller than shipping one).
//!
//! Money, recurrence, card-status rules and transcript merging come from
//! `paycard-core`, shared with the server, so the widget writes "€49.00 / month" exactly
//! as the checkout page does. The console is a separate crate and bundle: nothing of it
//! ships to visitors.

pub mod api;
pub mod card;
pub mod chat;
pub mod i18n;
pub mod json;
pub mod live;
pub mod widget;

pub use widget::WidgetApp;

/// A query parameter of this page (`?brand=…`, `?lang=…`), decoded; `None` if absent
/// or empty.
pub fn query_param(name: &str) -> Option<String> {
    let search = leptos::prelude::window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name).filter(|v| !v.is_empty())
}
