//! The widget page inside the iframe: one visitor's conversation with a brand.
//!
//! The conversation starts with the visitor's first message (a page view alone opens
//! nothing on the server) and survives reloads: its id and token are kept in the
//! widget's own storage (the iframe's origin, not the host site's), per brand.

use std::rc::Rc;

use leptos::prelude::*;
use paycard_core::api::Author;
use paycard_core::transcript::Transcript;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::chat::ChatPanel;
use crate::i18n::{self, t, Text};
use crate::query_param;
use paycard_client::api::{Api, ApiError, Auth};
use paycard_client::live::{
    spawn_live, LiveConfig, LiveEvent, LiveHandle, LiveSource, LiveStatus, LocalFuture,
};
use paycard_client::outbox::{Deliver, Outbox};
use paycard_client::wire::{self, Build, Fields, FromJs, ToJs};

/// What the widget remembers between page loads: `{conversation_id, token}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorSession {
    pub conversation_id: String,
    pub token: String,
}

impl FromJs for VisitorSession {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(VisitorSession {
            conversation_id: o.get("conversation_id")?,
            token: o.get("token")?,
        })
    }
}

impl ToJs for VisitorSession {
    fn to_js(&self) -> JsValue {
        Build::new()
            .set("conversation_id", &self.conversation_id)
            .set("token", &self.token)
            .done()
    }
}

fn storage_key(brand: &str) -> String {
    format!("paycard.session.{brand}")
}

fn load_session(brand: &str) -> Option<VisitorSession> {
    let storage = window().local_storage().ok()??;
    let text = storage.get_item(&storage_key(brand)).ok()??;
    wire::parse(&text)
}

fn save_session(brand: &str, session: Option<&VisitorSession>) {
    let Some(storage) = window().local_storage().ok().flatten() else {
        return;
    };
    let key = storage_key(brand);
    let _ = match session.and_then(wire::stringify) {
        Some(text) => storage.set_item(&key, &text),
        None => storage.remove_item(&key),
    };
}

/// The visitor's stream and snapshot, for [`spawn_live`].
struct VisitorSource {
    api: Api,
    session: VisitorSession,
    transcript: RwSignal<Transcript>,
    etag: RwSignal<Option<String>>,
}

impl LiveSource for VisitorSource {
    fn stream_url(&self, last_event_id: i64) -> LocalFuture<Result<String, ApiError>> {
        let api = self.api.clone();
        let session = self.session.clone();
        Box::pin(async move {
            let ticket = api
                .stream_ticket(&Auth::Visitor(session.token.clone()))
                .await?;
            Ok(api.url(&format!(
                "/api/v1/conversations/{}/events?ticket={}&last_event_id={last_event_id}",
                session.conversation_id, ticket.ticket
            )))
        })
    }

    fn poll(&self) -> LocalFuture<Result<Option<i64>, ApiError>> {
        let api = self.api.clone();
        let session = self.session.clone();
        let (transcript, etag) = (self.transcript, self.etag);
        Box::pin(async move {
            let current = etag.get_untracked();
            match api
                .messages(
                    &Auth::Visitor(session.token),
                    &session.conversation_id,
                    current.as_deref(),
                )
                .await?
            {
                None => Ok(None),
                Some(snapshot) => {
                    etag.set(snapshot.etag);
                    transcript.set(Transcript::new(snapshot.messages));
                    Ok(Some(snapshot.last_event_id))
                }
            }
        })
    }
}

/// The widget page.
#[component]
pub fn WidgetApp() -> impl IntoView {
    let locale = i18n::detect_locale();
    let brand = query_param("brand").unwrap_or_default();
    // The host page's origin, as the loader passed it: the only window we talk to.
    let host_origin = query_param("host");
    let api = Api::new("");

    let session = RwSignal::new(load_session(&brand));
    let transcript = RwSignal::new(Transcript::default());
    let etag = RwSignal::new(None::<String>);
    let live_status = RwSignal::new(LiveStatus::Stopped);
    let notice = RwSignal::new(None::<String>);
    let hint = RwSignal::new(None::<String>);
    let busy_card = RwSignal::new(None::<String>);
    let live_handle = StoredValue::new_local(None::<LiveHandle>);
    // Whether the host shows the chat, and what the operator wrote while it did not.
    let chat_open = RwSignal::new(false);
    let unseen = RwSignal::new((0_u32, String::new()));

    let start_live = {
        let api = api.clone();
        move |session: VisitorSession, after: i64| {
            let source = Rc::new(VisitorSource {
                api: api.clone(),
                session,
                transcript,
                etag,
            });
            let on_event: Rc<dyn Fn(LiveEvent)> = Rc::new(move |event| match event {
                LiveEvent::Message(e) => {
                    // Written to the visitor while the chat is closed: the launcher says so.
                    if e.message.author == Author::Operator && !chat_open.get_untracked() {
                        let preview = e
                            .message
                            .text
                            .clone()
                            .or_else(|| e.message.card.as_ref().map(|c| c.title.clone()))
                            .unwrap_or_default();
                        unseen.update(|(count, last)| {
                            *count += 1;
                            *last = preview;
                        });
                    }
                    transcript.update(|t| t.add_message(e.message))
                }
                LiveEvent::Card(e) => {
                    // The card moved on (processing, paid…): the "page opened" hint is done.
                    hint.set(None);
                    transcript.update(|t| {
                        t.update_card(e.card);
                    });
                }
                LiveEvent::Conversation(_) | LiveEvent::Other { .. } => {}
            });
            let handle = spawn_live(source, after, on_event, live_status, LiveConfig::default());
            live_handle.set_value(Some(handle));
        }
    };

    // Resume a stored conversation.
    if let Some(stored) = session.get_untracked() {
        let api = api.clone();
        let brand = brand.clone();
        let start_live = start_live.clone();
        leptos::task::spawn_local(async move {
            match api
                .messages(
                    &Auth::Visitor(stored.token.clone()),
                    &stored.conversation_id,
                    None,
                )
                .await
            {
                Ok(Some(snapshot)) => {
                    etag.set(snapshot.etag);
                    transcript.set(Transcript::new(snapshot.messages));
                    start_live(stored, snapshot.last_event_id);
                }
                Ok(None) => {}
                Err(err) if err.is_gone() => {
                    save_session(&brand, None);
                    session.set(None);
                }
                Err(_) => notice.set(Some(t(locale, Text::SomethingWrong).into())),
            }
        });
    }

    // What the visitor writes goes through an outbox: shown at once as sending, kept
    // and retried with its idempotency key while the connection is down, in order.
    let draft = RwSignal::new(String::new());
    let deliver: Deliver = {
        let api = api.clone();
        let brand = brand.clone();
        let start_live = start_live.clone();
        Rc::new(move |key: String, text: String| {
            let (api, brand, start_live) = (api.clone(), brand.clone(), start_live.clone());
            Box::pin(async move {
                let current = match session.get_untracked() {
                    Some(s) => s,
                    None => {
                        let created = api
                            .create_conversation(
                                &brand,
                                query_param("page"),
                                query_param("tz"),
                                locale.tag(),
                            )
                            .await?;
                        let s = VisitorSession {
                            conversation_id: created.conversation.id,
                            token: created.visitor_token,
                        };
                        save_session(&brand, Some(&s));
                        session.set(Some(s.clone()));
                        start_live(s.clone(), 0);
                        s
                    }
                };
                api.post_message(
                    &Auth::Visitor(current.token),
                    &current.conversation_id,
                    &text,
                    &key,
                )
                .await
            })
        })
    };
    let outbox = Outbox::new(
        deliver,
        Callback::new(move |message| {
            notice.set(None);
            transcript.update(|t| t.add_message(message));
        }),
        Callback::new(move |(text, error): (String, ApiError)| {
            // Refused, not lost: the words go back to the box.
            if draft.with_untracked(String::is_empty) {
                draft.set(text);
            }
            let unavailable = matches!(&error, ApiError::Http { code, .. } if code == "validation_failed")
                && session.get_untracked().is_none();
            notice.set(Some(
                t(
                    locale,
                    if unavailable {
                        Text::Unavailable
                    } else {
                        Text::SomethingWrong
                    },
                )
                .into(),
            ));
        }),
        Some(format!("paycard.outbox.{brand}")),
    );
    // The live stream is back: so is the server, try what waits now.
    {
        let outbox = outbox.clone();
        Effect::new(move |_| {
            if live_status.get() == LiveStatus::Live {
                outbox.retry_now();
            }
        });
    }
    // The stream may bring the visitor's own line before the answer to the send: shown
    // once.
    outbox.follow(transcript, |m| m.author == Author::Visitor);
    let outgoing = outbox.items();
    let outbox = StoredValue::new_local(outbox);
    let send = Callback::new(move |text: String| outbox.with_value(|o| o.send(text)));

    // Pay Now: open the tab now, while the click still counts as the visitor's gesture
    // (popup blockers refuse a window opened after an await), then point it at the link.
    let pay = {
        let api = api.clone();
        Callback::new(move |card_id: String| {
            let Some(s) = session.get_untracked() else {
                return;
            };
            let tab = window()
                .open_with_url_and_target("about:blank", "_blank")
                .ok()
                .flatten();
            let api = api.clone();
            busy_card.set(Some(card_id.clone()));
            leptos::task::spawn_local(async move {
                match api.checkout(&Auth::Visitor(s.token), &card_id).await {
                    Ok(checkout) => match &tab {
                        Some(tab) => {
                            let _ = tab.location().set_href(&checkout.checkout_url);
                            hint.set(Some(t(locale, Text::PaymentPageOpened).into()));
                        }
                        None => {
                            let _ =
                                window().open_with_url_and_target(&checkout.checkout_url, "_blank");
                        }
                    },
                    Err(_) => {
                        if let Some(tab) = tab {
                            let _ = tab.close();
                        }
                        notice.set(Some(t(locale, Text::SomethingWrong).into()));
                    }
                }
                busy_card.set(None);
            });
        })
    };

    let decline = {
        let api = api.clone();
        Callback::new(move |card_id: String| {
            let Some(s) = session.get_untracked() else {
                return;
            };
            let api = api.clone();
            busy_card.set(Some(card_id.clone()));
            leptos::task::spawn_local(async move {
                match api.decline(&Auth::Visitor(s.token), &card_id).await {
                    Ok(card) => transcript.update(|t| {
                        t.update_card(card);
                    }),
                    Err(_) => notice.set(Some(t(locale, Text::SomethingWrong).into())),
                }
                busy_card.set(None);
            });
        })
    };

    if let Some(origin) = host_origin.clone() {
        // The launcher's badge and preview follow what is unseen; the loader remembers a
        // visitor with a conversation, to load the chat early on their next page.
        let to = origin.clone();
        Effect::new(move |_| {
            let (count, preview) = unseen.get();
            post_to_host(
                "paycard:unread",
                &to,
                &[("count", count.into()), ("preview", preview.into())],
            );
        });
        Effect::new(move |_| {
            let kind = if session.with(Option::is_some) {
                "paycard:active"
            } else {
                "paycard:inactive"
            };
            post_to_host(kind, &origin, &[]);
        });
    }
    listen_to_host(host_origin, chat_open, unseen);

    let messages = Signal::derive(move || transcript.with(|t| t.messages().to_vec()));
    view! {
        <ChatPanel
            locale=locale
            messages=messages
            on_send=send
            on_pay=pay
            on_decline=decline
            busy_card=busy_card
            live=Signal::from(live_status)
            on_retry=Callback::new(move |_| live_handle.with_value(|h| if let Some(h) = h { h.retry_now() }))
            notice=notice
            hint=hint
            outgoing=outgoing
            draft=draft
        />
    }
}

/// The loader on the host page says when the chat opens; Escape inside the chat asks it
/// to close. Messages go only to, and are taken only from, the host's exact origin.
fn listen_to_host(
    host_origin: Option<String>,
    chat_open: RwSignal<bool>,
    unseen: RwSignal<(u32, String)>,
) {
    let Some(origin) = host_origin else { return };
    let from = origin.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if e.origin() != from {
                return;
            }
            let kind = js_sys::Reflect::get(&e.data(), &"type".into())
                .ok()
                .and_then(|v| v.as_string());
            if kind.as_deref() == Some("paycard:closed") {
                chat_open.set(false);
            }
            if kind.as_deref() == Some("paycard:open") {
                chat_open.set(true);
                if unseen.with_untracked(|(count, _)| *count > 0) {
                    unseen.set((0, String::new()));
                }
                if let Some(input) = document().query_selector(".chat__input").ok().flatten() {
                    let _ = input.unchecked_into::<web_sys::HtmlElement>().focus();
                }
            }
        });
    let _ =
        window().add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();

    let to = origin.clone();
    let on_key =
        Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if e.key() != "Escape" {
                return;
            }
            post_to_host("paycard:close", &to, &[]);
        });
    let _ = window().add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    on_key.forget();
    // Listening now: the loader may have opened the chat before this page could hear it.
    post_to_host("paycard:ready", &origin, &[]);
}

/// Tells the loader on the host page something: `{type: kind, …fields}`, to its origin only.
fn post_to_host(kind: &str, origin: &str, fields: &[(&str, wasm_bindgen::JsValue)]) {
    if let Ok(Some(parent)) = window().parent() {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
        for (name, value) in fields {
            let _ = js_sys::Reflect::set(&message, &(*name).into(), value);
        }
        let _ = parent.post_message(&message, origin);
    }
}
