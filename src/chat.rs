//! The visitor's chat panel: a header, the connection notice, the transcript and the
//! message box (the last two shared with the console, from `paycard-client`).

use leptos::prelude::*;
use paycard_client::card::Side;
use paycard_client::live::LiveStatus;
use paycard_client::outbox::Outgoing;
use paycard_client::transcript::{focus_message_box, MessageBox, TranscriptList};
use paycard_core::api::Message;

use crate::i18n::{t, Locale, Text};

/// The chat: a header, the connection notice, the transcript (a `log` region, so screen
/// readers announce new messages) and the message box.
#[component]
pub fn ChatPanel(
    /// The language of the widget's words.
    locale: Locale,
    /// The transcript, oldest first.
    #[prop(into)]
    messages: Signal<Vec<Message>>,
    /// Called with the trimmed text when the visitor sends a message.
    #[prop(into)]
    on_send: Callback<String>,
    /// Pay Now on a card (card id).
    #[prop(default = None, into)]
    on_pay: Option<Callback<String>>,
    /// Decline confirmed on a card (card id).
    #[prop(default = None, into)]
    on_decline: Option<Callback<String>>,
    /// The card whose action is in flight, if any.
    #[prop(optional, into)]
    busy_card: Signal<Option<String>>,
    /// The live connection, for the "reconnecting" notice.
    #[prop(optional, into)]
    live: Option<Signal<LiveStatus>>,
    /// "Retry now" beside that notice: try the connection at once.
    #[prop(default = None, into)]
    on_retry: Option<Callback<()>>,
    /// Something went wrong: shown above the message box, announced at once.
    #[prop(optional, into)]
    notice: Signal<Option<String>>,
    /// Something to know (the payment page opened): shown calmly, announced politely.
    #[prop(optional, into)]
    hint: Signal<Option<String>>,
    /// The visitor's messages on their way (offline ones wait there, marked).
    #[prop(optional, into)]
    outgoing: Signal<Vec<Outgoing>>,
    /// The text being written; the app may give a refused message back to it.
    #[prop(optional)]
    draft: Option<RwSignal<String>>,
) -> impl IntoView {
    // The visitor's text leaves the box at once and shows as sending in the transcript.
    let draft = draft.unwrap_or_else(|| RwSignal::new(String::new()));
    let send = Callback::new(move |text: String| {
        on_send.run(text);
        draft.set(String::new());
    });
    let connection = move || match live.map(|s| s.get()) {
        Some(LiveStatus::Reconnecting) => Some(t(locale, Text::Reconnecting)),
        Some(LiveStatus::Polling) => Some(t(locale, Text::Offline)),
        _ => None,
    };

    view! {
        <section class="chat" aria-labelledby="chat-title">
            <header class="chat__header">
                <h1 id="chat-title" class="chat__title">{t(locale, Text::Title)}</h1>
                <p class="chat__subtitle">{t(locale, Text::Greeting)}</p>
            </header>
            <div class="chat__connection" class:chat__connection--on=move || connection().is_some()>
                <p class="chat__connection-text" role="status">{connection}</p>
                {on_retry.map(|retry| view! {
                    <Show when=move || connection().is_some()>
                        // The button goes once the connection is back: the message box
                        // keeps the keyboard meanwhile.
                        <button type="button" class="chat__retry" on:click=move |_| {
                            retry.run(());
                            focus_message_box("");
                        }>{t(locale, Text::RetryNow)}</button>
                    </Show>
                })}
            </div>
            // The log role (announce additions politely) sits on a wrapper: on the list
            // itself it would replace the list semantics its items need. It scrolls, so
            // it takes the keyboard focus (arrow keys scroll it) even when nothing in it
            // can (a long conversation of text and settled cards).
            <div class="chat__log" role="log" aria-label=t(locale, Text::MessagesLabel) tabindex="0">
                <Show when=move || messages.with(Vec::is_empty) && outgoing.with(Vec::is_empty)>
                    <p class="chat__empty">{t(locale, Text::EmptyState)}</p>
                </Show>
                <TranscriptList
                    locale=locale
                    side=Side::Visitor
                    messages=messages
                    on_pay=on_pay
                    on_decline=on_decline
                    busy_card=busy_card
                    outgoing=outgoing
                />
            </div>
            <p class="chat__hint" role="status">{move || hint.get()}</p>
            <p class="chat__notice" role="alert">{move || notice.get()}</p>
            <MessageBox
                label=t(locale, Text::MessageLabel)
                placeholder=t(locale, Text::MessagePlaceholder)
                send_label=t(locale, Text::Send)
                draft=draft
                on_send=send
            />
        </section>
    }
}
