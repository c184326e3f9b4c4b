//! The transcript of a conversation (text and payment cards) and the message box, as
//! both sides of the chat show them. Each app frames them in its own panel.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Author, Card, Message, MESSAGE_MAX_CHARS};
use paycard_core::Locale;

use crate::card::{PaymentCard, Side};
use crate::outbox::Outgoing;
use crate::words::{t, Text};

/// The message box and its Send button, for both sides of the chat. The caller owns the
/// draft, so it decides when to clear it: the widget at once, the console once sent.
#[component]
pub fn MessageBox(
    /// The box's accessible name ("Message").
    label: &'static str,
    placeholder: &'static str,
    /// The button's name ("Send").
    send_label: &'static str,
    /// The text being written.
    draft: RwSignal<String>,
    /// Called with the trimmed text on Send or Enter; never with blank text.
    #[prop(into)]
    on_send: Callback<String>,
    /// A send is in flight: the button waits.
    #[prop(optional, into)]
    busy: Signal<bool>,
) -> impl IntoView {
    let blank = Memo::new(move |_| draft.with(|d| d.trim().is_empty()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked().trim().to_owned();
        if !text.is_empty() && !busy.get_untracked() {
            on_send.run(text);
        }
    };
    view! {
        <form class="chat__form" on:submit=submit>
            <input
                class="chat__input"
                type="text"
                aria-label=label
                placeholder=placeholder
                autocomplete="off"
                maxlength=MESSAGE_MAX_CHARS.to_string()
                prop:value=move || draft.get()
                on:input:target=move |ev| draft.set(ev.target().value())
            />
            <button class="chat__send" type="submit" disabled=move || blank.get() || busy.get()>
                {send_label}
            </button>
        </form>
    }
}

/// The messages of a conversation, text and payment cards, for either side of the chat.
#[component]
pub fn TranscriptList(
    locale: Locale,
    /// Whose chat this is: it decides which messages are "mine" and the card buttons.
    side: Side,
    /// The transcript, oldest first.
    #[prop(into)]
    messages: Signal<Vec<Message>>,
    /// Visitor: Pay Now on a card (card id).
    #[prop(default = None, into)]
    on_pay: Option<Callback<String>>,
    /// Visitor: decline confirmed on a card (card id).
    #[prop(default = None, into)]
    on_decline: Option<Callback<String>>,
    /// Operator: Cancel request on a card (card id).
    #[prop(default = None, into)]
    on_cancel: Option<Callback<String>>,
    /// Operator (an admin): Refund on a paid card.
    #[prop(default = None, into)]
    on_refund: Option<Callback<Card>>,
    /// The card whose action is in flight, if any.
    #[prop(optional, into)]
    busy_card: Signal<Option<String>>,
    /// This side's messages on their way: shown after the others, marked as sending.
    #[prop(optional, into)]
    outgoing: Signal<Vec<Outgoing>>,
) -> impl IntoView {
    let own_author = match side {
        Side::Visitor => Author::Visitor,
        Side::Operator => Author::Operator,
    };
    // What is on its way and not yet in the transcript above (see `Outgoing::arrived`).
    let on_its_way = move || {
        outgoing.with(|list| {
            list.iter()
                .filter(|o| !o.arrived)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <ol class="chat__list">
            <For
                each=move || messages.get()
                // The card's version is in the key: a changed card is drawn anew.
                key=|m| (m.id.clone(), m.card.as_ref().map(|c| c.version))
                let:message
            >
                {
                    let mine = message.author == own_author;
                    match message.card {
                        Some(card) => {
                            let id = card.id.clone();
                            let busy = Signal::derive(move || busy_card.get().as_deref() == Some(id.as_str()));
                            let class = if mine { "msg msg--card msg--own-card" } else { "msg msg--card" };
                            view! {
                                <li class=class>
                                    <PaymentCard card=card locale=locale side=side
                                        on_pay=on_pay on_decline=on_decline on_cancel=on_cancel on_refund=on_refund busy=busy/>
                                </li>
                            }.into_any()
                        }
                        None => {
                            let class = if mine { "msg msg--mine" } else { "msg msg--theirs" };
                            // A visitor's own lines say "You" to screen readers; everyone
                            // else's, and every line in the console (several operators may
                            // write), carry the author's name.
                            let author = if mine && side == Side::Visitor {
                                view! { <span class="visually-hidden">{t(locale, Text::You)}": "</span> }.into_any()
                            } else {
                                view! { <span class="msg__author">{paycard_core::api::visitor_name_in(&message.author_name, locale).into_owned()}</span> }.into_any()
                            };
                            let sent = crate::time::clock(&message.created_at, locale);
                            view! {
                                <li class=class>
                                    {author}
                                    {message.text.unwrap_or_default()}
                                    <time class="msg__time" datetime=message.created_at>{sent}</time>
                                </li>
                            }.into_any()
                        }
                    }
                }
            </For>
            <For each=on_its_way key=|o| (o.key.clone(), o.waiting) let:pending>
                <li class="msg msg--mine msg--sending" data-sending=if pending.waiting { "waiting" } else { "sending" }>
                    {(side == Side::Visitor).then(|| view! { <span class="visually-hidden">{t(locale, Text::You)}": "</span> })}
                    {pending.text}
                    <span class="msg__state">{t(locale, if pending.waiting { Text::WaitingToSend } else { Text::Sending })}</span>
                </li>
            </For>
        </ol>
    }
}

/// Puts the keyboard in the message box (`.chat__input`) inside `scope` (a selector, or
/// "" for the whole page), when there is one: where focus goes when the control that
/// had it is about to go.
pub fn focus_message_box(scope: &str) {
    use wasm_bindgen::JsCast;
    let selector = format!("{scope} .chat__input");
    if let Some(input) = leptos::prelude::document()
        .query_selector(selector.trim())
        .ok()
        .flatten()
    {
        let _ = input.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}
