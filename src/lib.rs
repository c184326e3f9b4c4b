//! The paycard visitor widget: the chat a website visitor sees, in an iframe that the
//! `/widget.js` loader adds to the host page.
//!
//! - [`i18n`]: the widget's own words in English and Spanish, and the locale choice.
//! - [`chat`]: the chat panel (messages, message box).
//! - [`App`]: the page mounted in the iframe.
//!
//! Money, recurrence and card-status rules come from `paycard-core`, shared with the
//! server, so the widget writes "€49.00 / month" exactly as the checkout page does.

pub mod chat;
pub mod i18n;

use leptos::prelude::*;

use crate::chat::{ChatMessage, ChatPanel};

/// The widget page. The locale is read once from `?lang=` or the browser.
#[component]
pub fn App() -> impl IntoView {
    let locale = i18n::detect_locale();
    provide_context(locale);
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let send = Callback::new(move |text: String| {
        messages.update(|list| {
            let id = list.len() as u64 + 1;
            list.push(ChatMessage { id, from_visitor: true, text });
        });
    });
    view! { <ChatPanel locale=locale messages=messages on_send=send/> }
}
