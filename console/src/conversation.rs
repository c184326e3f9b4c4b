//! One conversation, operator side: the transcript with live cards, the message box,
//! and the Payments picker under it.

use std::sync::atomic::{AtomicU64, Ordering};

use leptos::html;
use leptos::prelude::*;
use paycard_client::api::{Api, Auth};
use paycard_client::card::Side;
use paycard_client::transcript::{MessageBox, TranscriptList};
use paycard_core::api::{Card, Payment, Refund};
use paycard_core::transcript::Transcript;
use paycard_core::Locale;

use crate::i18n::{t, Text};
use crate::picker::Picker;
use crate::refund::RefundForm;
use crate::settings::Modal;

/// Whether the signed-in account may refund paid cards (admins), for the conversation
/// view to offer Refund.
#[derive(Debug, Clone, Copy)]
pub struct CanRefund(pub bool);

/// A fresh `Idempotency-Key` for one action (`share`, `refund`…): made once per click
/// or dialog and sent with every retry of it, so a network hiccup cannot act twice.
pub fn idempotency_key(action: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!(
        "{action}-{}-{random:x}-{}",
        js_sys::Date::now() as u64,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Reloads a conversation's transcript from the server.
pub async fn reload(
    api: &Api,
    conversation_id: &str,
    transcript: RwSignal<Transcript>,
) -> Result<i64, paycard_client::api::ApiError> {
    match api.messages(&Auth::Session, conversation_id, None).await? {
        Some(snapshot) => {
            transcript.set(Transcript::new(snapshot.messages));
            Ok(snapshot.last_event_id)
        }
        None => Ok(0),
    }
}

#[component]
pub fn ConversationView(
    locale: Locale,
    /// The conversation shown.
    conversation_id: String,
    /// Its messages, kept current by the caller's live updates.
    transcript: RwSignal<Transcript>,
    /// Who the visitor is, for the heading.
    #[prop(into)]
    title: Signal<String>,
) -> impl IntoView {
    let api = Api::new("");
    let draft = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<&'static str>);
    let picker_open = RwSignal::new(false);
    let payments = RwSignal::new(None::<Vec<Payment>>);
    let sharing = RwSignal::new(None::<String>);
    let busy_card = RwSignal::new(None::<String>);
    let refunding = RwSignal::new(None::<Card>);
    let refund_open = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let can_refund = use_context::<CanRefund>().is_some_and(|c| c.0);
    let on_refund = can_refund.then(|| {
        Callback::new(move |card: Card| {
            notice.set(None);
            refunding.set(Some(card));
            refund_open.set(true);
        })
    });
    Effect::new(move |_| {
        if !refund_open.get() {
            refunding.set(None);
        }
    });
    let payments_button = NodeRef::<html::Button>::new();

    // The operator's text stays in the box until it is sent, so a failure loses nothing.
    let send = {
        let api = api.clone();
        let id = conversation_id.clone();
        Callback::new(move |text: String| {
            let (api, id) = (api.clone(), id.clone());
            sending.set(true);
            leptos::task::spawn_local(async move {
                match api.post_message(&Auth::Session, &id, &text).await {
                    Ok(message) => {
                        transcript.update(|t| t.add_message(message));
                        draft.set(String::new());
                        error.set(None);
                    }
                    Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
                }
                sending.set(false);
            });
        })
    };

    let toggle_picker = {
        let api = api.clone();
        let id = conversation_id.clone();
        move |_| {
            let open = !picker_open.get_untracked();
            picker_open.set(open);
            if open {
                payments.set(None);
                let (api, id) = (api.clone(), id.clone());
                leptos::task::spawn_local(async move {
                    match api.picker(&id).await {
                        Ok(list) => payments.set(Some(list)),
                        Err(_) => {
                            payments.set(Some(Vec::new()));
                            error.set(Some(t(locale, Text::SomethingWrong)));
                        }
                    }
                });
            }
        }
    };
    // A payment added, moved or withdrawn elsewhere: an open picker reloads quietly
    // (the list stays on screen meanwhile).
    if let Some(crate::PaymentsChanged(changed)) = use_context::<crate::PaymentsChanged>() {
        let api = api.clone();
        let id = conversation_id.clone();
        Effect::new(move |previous: Option<u64>| {
            let now = changed.get();
            if previous.is_some_and(|p| p != now) && picker_open.get_untracked() {
                let (api, id) = (api.clone(), id.clone());
                leptos::task::spawn_local(async move {
                    if let Ok(list) = api.picker(&id).await {
                        payments.set(Some(list));
                    }
                });
            }
            now
        });
    }
    let close_picker = Callback::new(move |_| {
        picker_open.set(false);
        if let Some(button) = payments_button.get_untracked() {
            let _ = button.focus();
        }
    });
    let share = {
        let api = api.clone();
        let id = conversation_id.clone();
        Callback::new(move |payment_id: String| {
            if sharing.get_untracked().is_some() {
                return;
            }
            let (api, id) = (api.clone(), id.clone());
            sharing.set(Some(payment_id.clone()));
            leptos::task::spawn_local(async move {
                match api.share(&id, &payment_id, &idempotency_key("share")).await {
                    Ok(_) => {
                        // The live stream brings the card; reloading covers a stream that is down.
                        let _ = reload(&api, &id, transcript).await;
                        close_picker.run(());
                        error.set(None);
                    }
                    Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
                }
                sharing.set(None);
            });
        })
    };
    let cancel = {
        let api = api.clone();
        Callback::new(move |card_id: String| {
            let api = api.clone();
            busy_card.set(Some(card_id.clone()));
            leptos::task::spawn_local(async move {
                match api.cancel(&card_id).await {
                    Ok(card) => {
                        transcript.update(|t| {
                            t.update_card(card);
                        });
                    }
                    Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
                }
                busy_card.set(None);
            });
        })
    };

    let api_for_refund = StoredValue::new_local(api.clone());
    let refund_conversation = StoredValue::new(conversation_id.clone());
    let messages = Signal::derive(move || transcript.with(|t| t.messages().to_vec()));
    view! {
        <section class="conversation" aria-labelledby="conversation-title">
            <h2 id="conversation-title" class="conversation__title">{title}</h2>
            <div class="conversation__log" role="log" aria-label=t(locale, Text::Messages)>
                <TranscriptList
                    locale=locale
                    side=Side::Operator
                    messages=messages
                    on_cancel=cancel
                    on_refund=on_refund
                    busy_card=busy_card
                />
            </div>
            <p class="chat__notice" role="alert">{move || error.get()}</p>
            <p class="chat__notice chat__notice--done" role="status">{move || notice.get()}</p>
            <Modal open=refund_open title=crate::i18n::tr(locale, "Refund", "Reembolsar").to_owned()>
                {move || refunding.get().map(|card| {
                    let api = api_for_refund.get_value();
                    let id = refund_conversation.get_value();
                    view! {
                        <RefundForm locale=locale card=card
                            on_done=Callback::new(move |done: Refund| {
                                refund_open.set(false);
                                notice.set(Some(crate::refund::done_text(&done, locale)));
                                // The live stream brings the card; reloading covers a stream that is down.
                                let (api, id) = (api.clone(), id.clone());
                                leptos::task::spawn_local(async move {
                                    let _ = reload(&api, &id, transcript).await;
                                });
                            })
                            on_cancel=Callback::new(move |_| refund_open.set(false))/>
                    }
                })}
            </Modal>
            <MessageBox
                label=t(locale, Text::Message)
                placeholder=t(locale, Text::Message)
                send_label=t(locale, Text::Send)
                draft=draft
                on_send=send
                busy=sending
            />
            <div class="conversation__tools">
                <button type="button" class="btn" node_ref=payments_button aria-controls="payments-picker"
                    aria-expanded=move || picker_open.get().to_string() on:click=toggle_picker>
                    {t(locale, Text::Payments)}
                </button>
            </div>
            <div id="payments-picker" class="conversation__picker" hidden=move || !picker_open.get()>
                <Show when=move || picker_open.get()>
                    <Picker locale=locale payments=payments on_share=share on_close=close_picker sharing=sharing/>
                </Show>
            </div>
        </section>
    }
}
