//! Messages on their way (issue 15: offline-safe sending). A message the visitor or the
//! operator writes shows at once, marked "sending", and stays until the server has it:
//! while the connection is down it waits and is tried again — when the browser says it is
//! back online, when the live stream reconnects, or after a growing pause — always with
//! the same `Idempotency-Key`, so a retry after a lost answer never writes it twice
//! (the server keeps one message per key). Messages go in the order they were written:
//! a later one waits behind an earlier one.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use paycard_core::api::Message;
use paycard_core::transcript::Transcript;

use crate::api::ApiError;
use crate::live::LocalFuture;
use crate::wire::{Build, Fields, FromJs, ToJs};
use wasm_bindgen::JsValue;

/// A message written and not yet acknowledged by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Sent as `Idempotency-Key` on every try.
    pub key: String,
    pub text: String,
    /// The last try could not reach the server: it will be tried again.
    pub waiting: bool,
    /// The live stream already brought it (before the server's answer to the send did):
    /// shown once, in the transcript, no longer as on its way. It stays queued until
    /// that answer, so nothing is lost if the answer fails.
    pub arrived: bool,
}

/// Kept in `localStorage` as `{key, text, waiting, arrived}` (`arrived` may be missing:
/// queues kept before it existed).
impl FromJs for Outgoing {
    fn from_js(value: &JsValue) -> Option<Self> {
        let o = Fields::of(value)?;
        Some(Outgoing {
            key: o.get("key")?,
            text: o.get("text")?,
            waiting: o.get("waiting")?,
            arrived: o.or_default("arrived")?,
        })
    }
}

impl ToJs for Outgoing {
    fn to_js(&self) -> JsValue {
        Build::new()
            .set("key", &self.key)
            .set("text", &self.text)
            .set("waiting", &self.waiting)
            .set("arrived", &self.arrived)
            .done()
    }
}

/// How a message is delivered: the app's API call with the key and the text.
pub type Deliver = Rc<dyn Fn(String, String) -> LocalFuture<Result<Message, ApiError>>>;

/// The pauses between tries while the server cannot be reached (the last repeats).
const PAUSES_MS: [u32; 5] = [1_000, 2_000, 4_000, 8_000, 15_000];

/// The queue of one conversation's outgoing messages.
#[derive(Clone)]
pub struct Outbox {
    items: RwSignal<Vec<Outgoing>>,
    deliver: Deliver,
    on_sent: Callback<Message>,
    on_refused: Callback<(String, ApiError)>,
    /// Where the queue is kept in this browser (`localStorage`), so that a reload or a
    /// closed tab does not lose what was on its way: it goes when the page is back.
    storage_key: Option<String>,
    /// A pump is running (one at a time keeps the order).
    pumping: Rc<Cell<bool>>,
    /// Set to cut a pause short (back online, the stream reconnected).
    wake: Rc<Cell<bool>>,
}

impl Outbox {
    /// `on_sent` gets each message the server took; `on_refused` the text and the error
    /// of one it refused (not a lost connection: those wait), so the app can give the
    /// text back to its writer.
    ///
    /// With `storage_key`, what waits is kept in `localStorage` under it and sent when a
    /// later page starts with the same key.
    pub fn new(
        deliver: Deliver,
        on_sent: Callback<Message>,
        on_refused: Callback<(String, ApiError)>,
        storage_key: Option<String>,
    ) -> Outbox {
        let kept: Vec<Outgoing> = storage_key
            .as_deref()
            .and_then(|key| storage()?.get_item(key).ok().flatten())
            .and_then(|text| crate::wire::parse(&text))
            .unwrap_or_default();
        let outbox = Outbox {
            items: RwSignal::new(kept),
            deliver,
            on_sent,
            on_refused,
            storage_key,
            pumping: Rc::new(Cell::new(false)),
            wake: Rc::new(Cell::new(false)),
        };
        if let Some(key) = outbox.storage_key.clone() {
            let items = outbox.items;
            Effect::new(move |_| {
                let Some(storage) = storage() else { return };
                let _ = items.with(|list| match list.is_empty() {
                    true => storage.remove_item(&key),
                    false => crate::wire::stringify(list)
                        .map_or(Ok(()), |text| storage.set_item(&key, &text)),
                });
            });
            if outbox.items.with_untracked(|list| !list.is_empty()) {
                outbox.pump();
            }
        }
        // The browser knows when the network is back: try at once.
        let woken = outbox.clone();
        let online =
            leptos::prelude::window_event_listener(leptos::ev::online, move |_| woken.retry_now());
        on_cleanup(move || online.remove());
        outbox
    }

    /// What is on its way, oldest first.
    pub fn items(&self) -> RwSignal<Vec<Outgoing>> {
        self.items
    }

    /// Queues `text` and sends it (after those before it).
    pub fn send(&self, text: String) {
        let key = crate::api::idempotency_key("msg");
        self.items.update(|items| {
            items.push(Outgoing {
                key,
                text,
                waiting: false,
                arrived: false,
            })
        });
        self.pump();
    }

    /// Follows `transcript`: a message of the writer's (`mine`) that appears there with
    /// the text of the one being sent is that one, brought by the live stream first.
    pub fn follow(&self, transcript: RwSignal<Transcript>, mine: fn(&Message) -> bool) {
        let (items, pumping) = (self.items, self.pumping.clone());
        // The newest message when this began: only what comes after it counts.
        let mut last: Option<String> =
            transcript.with_untracked(|t| t.messages().last().map(|m| m.id.clone()));
        Effect::new(move |_| {
            let newest = transcript.with(|t| t.messages().last().cloned());
            let Some(message) = newest else { return };
            if last.as_deref() == Some(message.id.as_str()) {
                return;
            }
            last = Some(message.id.clone());
            if !mine(&message) || !pumping.get() {
                return;
            }
            items.update(|items| {
                // The first is the one being sent (they go in order).
                if let Some(first) = items.first_mut() {
                    if !first.arrived && message.text.as_deref() == Some(first.text.as_str()) {
                        first.arrived = true;
                    }
                }
            });
        });
    }

    /// Tries the waiting messages now rather than after the pause.
    pub fn retry_now(&self) {
        self.wake.set(true);
        if !self.pumping.get() {
            self.pump();
        }
    }

    fn pump(&self) {
        if self.pumping.replace(true) {
            return;
        }
        let outbox = self.clone();
        leptos::task::spawn_local(async move {
            let mut failures = 0usize;
            while let Some(next) = outbox.items.with_untracked(|items| items.first().cloned()) {
                match (outbox.deliver)(next.key.clone(), next.text.clone()).await {
                    Ok(message) => {
                        failures = 0;
                        outbox
                            .items
                            .update(|items| items.retain(|i| i.key != next.key));
                        outbox.on_sent.run(message);
                    }
                    Err(error) if error.is_transient() => {
                        outbox
                            .items
                            .update(|items| items.iter_mut().for_each(|i| i.waiting = true));
                        let pause = PAUSES_MS[failures.min(PAUSES_MS.len() - 1)];
                        failures += 1;
                        // A wake from before this failure does not count.
                        outbox.wake.set(false);
                        crate::live::pause(pause, &outbox.wake, None).await;
                    }
                    Err(error) => {
                        outbox
                            .items
                            .update(|items| items.retain(|i| i.key != next.key));
                        outbox.on_refused.run((next.text, error));
                    }
                }
            }
            outbox.pumping.set(false);
        });
    }
}

fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}
