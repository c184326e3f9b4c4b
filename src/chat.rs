//! The chat panel: the transcript and the message box.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::i18n::{t, Locale, Text};

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: u64,
    /// Whether the visitor (this side) wrote it; otherwise the operator did.
    pub from_visitor: bool,
    pub text: String,
}

/// The chat: a header, the transcript (a `log` region, so screen readers announce new
/// messages) and the message box.
#[component]
pub fn ChatPanel(
    /// The language of the widget's words.
    locale: Locale,
    /// The transcript, oldest first.
    #[prop(into)]
    messages: Signal<Vec<ChatMessage>>,
    /// Called with the trimmed text when the visitor sends a message.
    #[prop(into)]
    on_send: Callback<String>,
) -> impl IntoView {
    let (draft, set_draft) = signal(String::new());
    let blank = Memo::new(move |_| draft.with(|d| d.trim().is_empty()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked().trim().to_owned();
        if text.is_empty() {
            return;
        }
        on_send.run(text);
        set_draft.set(String::new());
    };

    view! {
        <section class="chat" aria-labelledby="chat-title">
            <header class="chat__header">
                <h1 id="chat-title" class="chat__title">{t(locale, Text::Title)}</h1>
                <p class="chat__subtitle">{t(locale, Text::Greeting)}</p>
            </header>
            // The log role (announce additions politely) sits on a wrapper: on the list
            // itself it would replace the list semantics its items need.
            <div class="chat__log" role="log" aria-label=t(locale, Text::MessagesLabel)>
                <Show when=move || messages.with(Vec::is_empty)>
                    <p class="chat__empty">{t(locale, Text::EmptyState)}</p>
                </Show>
                <ol class="chat__list">
                    <For each=move || messages.get() key=|m| m.id let:message>
                        <li class=if message.from_visitor { "msg msg--mine" } else { "msg msg--theirs" }>
                            {message.text}
                        </li>
                    </For>
                </ol>
            </div>
            <form class="chat__form" on:submit=submit>
                <input
                    class="chat__input"
                    type="text"
                    aria-label=t(locale, Text::MessageLabel)
                    placeholder=t(locale, Text::MessagePlaceholder)
                    autocomplete="off"
                    maxlength="4000"
                    prop:value=draft
                    on:input:target=move |ev| set_draft.set(ev.target().value())
                />
                <button class="chat__send" type="submit" disabled=blank>
                    {t(locale, Text::Send)}
                </button>
            </form>
        </section>
    }
}
