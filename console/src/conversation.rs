//! One conversation, operator side: the transcript with live cards, the message box,
//! and the Payments picker under it.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use paycard_client::api::{idempotency_key, Api, Auth};
use paycard_client::card::Side;
use paycard_client::live::LiveStatus;
use paycard_client::outbox::{Deliver, Outbox};
use paycard_client::transcript::{MessageBox, TranscriptList};
use paycard_core::api::{Card, Payment, Refund};
use paycard_core::transcript::Transcript;
use paycard_core::Locale;
use wasm_bindgen::JsCast;

use crate::i18n::{t, Text};
use crate::picker::Picker;
use crate::refund::RefundForm;
use crate::settings::Modal;
use crate::visitor::VisitorPanel;

/// Whether the signed-in account may refund paid cards (admins), for the conversation
/// view to offer Refund.
#[derive(Debug, Clone, Copy)]
pub struct CanRefund(pub bool);

/// The console's live connection, given by the app to the views that care.
#[derive(Debug, Clone, Copy)]
pub struct LiveStatusSignal(pub RwSignal<LiveStatus>);

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
    let error = RwSignal::new(None::<&'static str>);
    let picker_open = RwSignal::new(false);
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

    // The operator's words leave the box at once and show as sending; offline they wait
    // and go, once each, when the connection is back (see `paycard_client::outbox`).
    let outbox = {
        let api = api.clone();
        let id = conversation_id.clone();
        let deliver: Deliver = Rc::new(move |key: String, text: String| {
            let (api, id) = (api.clone(), id.clone());
            Box::pin(async move { api.post_message(&Auth::Session, &id, &text, &key).await })
        });
        Outbox::new(
            deliver,
            Callback::new(move |message| {
                error.set(None);
                transcript.update(|t| t.add_message(message));
            }),
            Callback::new(move |(text, _): (String, paycard_client::ApiError)| {
                if draft.with_untracked(String::is_empty) {
                    draft.set(text);
                }
                error.set(Some(t(locale, Text::SomethingWrong)));
            }),
            Some(format!("paycard.console.outbox.{}", conversation_id)),
        )
    };
    // The stream may bring the operator's own line before the answer to the send: shown
    // once.
    outbox.follow(transcript, |m| {
        m.author == paycard_core::api::Author::Operator
    });
    let outgoing = outbox.items();
    let outbox = StoredValue::new_local(outbox);
    let send = Callback::new(move |text: String| {
        draft.set(String::new());
        outbox.with_value(|o| o.send(text));
    });
    // Back online per the live stream: what waits goes now.
    if let Some(LiveStatusSignal(status)) = use_context::<LiveStatusSignal>() {
        Effect::new(move |_| {
            if status.get() == LiveStatus::Live {
                outbox.with_value(|o| o.retry_now());
            }
        });
    }

    // The brand's payments: loaded when the picker opens (a failure says so), and again
    // quietly when a payment is added, moved or withdrawn elsewhere while it is open (the
    // list stays on screen meanwhile, and through a failed reload).
    let payments_changed = use_context::<crate::PaymentsChanged>().map(|c| c.0);
    let loaded = {
        let api = api.clone();
        let id = conversation_id.clone();
        let was_open = std::cell::Cell::new(false);
        LocalResource::new(move || {
            let open = picker_open.get();
            if let Some(changed) = payments_changed {
                changed.track();
            }
            let quiet = was_open.replace(open) && open;
            let (api, id) = (api.clone(), id.clone());
            async move {
                if !open {
                    return None;
                }
                match api.picker(&id).await {
                    Ok(list) => Some(Some(list)),
                    Err(_) if quiet => Some(None),
                    Err(_) => {
                        error.set(Some(t(locale, Text::SomethingWrong)));
                        Some(Some(Vec::new()))
                    }
                }
            }
        })
    };
    // What the picker shows: `None` while the first load is under way (or closed); a
    // failed quiet reload keeps the list it had.
    let payments = Memo::new(
        move |shown: Option<&Option<Vec<Payment>>>| match loaded.get() {
            Some(Some(Some(list))) => Some(list),
            Some(Some(None)) => shown.cloned().flatten(),
            _ => None,
        },
    );
    let toggle_picker = move |_| picker_open.update(|open| *open = !*open);
    let close_picker = Callback::new(move |_| {
        picker_open.set(false);
        if let Some(button) = payments_button.get_untracked() {
            let _ = button.focus();
        }
    });
    // Share: one at a time; the payment being shared is the action's input.
    let sharing_action = {
        let api = api.clone();
        let id = conversation_id.clone();
        Action::new_local(move |payment_id: &String| {
            let (api, id, payment_id) = (api.clone(), id.clone(), payment_id.clone());
            async move {
                match api.share(&id, &payment_id, &idempotency_key("share")).await {
                    Ok(_) => {
                        // The live stream brings the card; reloading covers a stream that is down.
                        let _ = reload(&api, &id, transcript).await;
                        close_picker.run(());
                        error.set(None);
                    }
                    Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
                }
            }
        })
    };
    let sharing = Signal::derive(move || sharing_action.input().get());
    let share = Callback::new(move |payment_id: String| {
        if !sharing_action.pending().get_untracked() {
            sharing_action.dispatch(payment_id);
        }
    });
    // Cancel request: the card being cancelled is the action's input.
    let cancelling = {
        let api = api.clone();
        Action::new_local(move |card_id: &String| {
            let (api, card_id) = (api.clone(), card_id.clone());
            async move {
                match api.cancel(&card_id).await {
                    Ok(card) => {
                        transcript.update(|t| {
                            t.update_card(card);
                        });
                        // The card's buttons are gone: the keyboard goes back to writing.
                        if let Some(input) = document()
                            .query_selector(".conversation .chat__input")
                            .ok()
                            .flatten()
                        {
                            if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                                let _ = input.focus();
                            }
                        }
                    }
                    Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
                }
            }
        })
    };
    let busy_card = Signal::derive(move || cancelling.input().get());
    let cancel = Callback::new(move |card_id: String| {
        cancelling.dispatch(card_id);
    });

    let api_for_refund = StoredValue::new_local(api.clone());
    let refund_conversation = StoredValue::new(conversation_id.clone());
    let messages = Signal::derive(move || transcript.with(|t| t.messages().to_vec()));
    // Any new message or card change: the visitor panel reloads (a payment, a refund).
    let changed = Signal::derive(move || {
        transcript.with(|t| {
            t.messages().len()
                + t.messages()
                    .iter()
                    .filter_map(|m| m.card.as_ref())
                    .map(|c| c.version as usize)
                    .sum::<usize>()
        })
    });
    view! {
        <section class="conversation" aria-labelledby="conversation-title">
            <h2 id="conversation-title" class="conversation__title">{title}</h2>
            <VisitorPanel locale=locale conversation_id=conversation_id.clone() changed=changed/>
            <div class="conversation__log" role="log" aria-label=t(locale, Text::Messages) tabindex="0">
                <TranscriptList
                    locale=locale
                    side=Side::Operator
                    messages=messages
                    on_cancel=cancel
                    on_refund=on_refund
                    busy_card=busy_card
                    outgoing=outgoing
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
