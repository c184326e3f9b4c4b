//! Live updates for the browser apps: server-sent events, with polling when they fail.
//!
//! [`spawn_live`] keeps one `EventSource` open on a [`LiveSource`]'s stream, resuming
//! after the last event seen. When the stream fails it reconnects with a short back-off
//! (status `Reconnecting`); after several failures in a row it polls the source instead
//! (status `Polling`, cheap thanks to ETag/304) and after a while tries the stream again.
//! Each connection uses a fresh single-use ticket, which is why reconnecting is done here
//! rather than by the browser's own EventSource retry.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use paycard_core::api::{CardEvent, ConversationEvent, MessageEvent};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::api::ApiError;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What a live view shows about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Reconnecting,
    Polling,
    Stopped,
    /// The server ended the stream because the session that opened it is no longer
    /// valid (signed out, elsewhere too): following stops.
    Revoked,
}

/// One update from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Message(MessageEvent),
    Card(CardEvent),
    Conversation(ConversationEvent),
    /// An event of a kind the caller asked for in [`LiveConfig::extra_kinds`], unparsed:
    /// its shape is the caller's business (the console's `payment` events), which keeps
    /// its decoding out of the widget.
    Other {
        kind: String,
        data: String,
    },
}

impl LiveEvent {
    fn parse(kind: &str, data: &str) -> Option<LiveEvent> {
        match kind {
            "message" => crate::wire::parse(data).map(LiveEvent::Message),
            "card" => crate::wire::parse(data).map(LiveEvent::Card),
            "conversation" => crate::wire::parse(data).map(LiveEvent::Conversation),
            other => Some(LiveEvent::Other {
                kind: other.to_owned(),
                data: data.to_owned(),
            }),
        }
    }
}

/// Where live updates come from.
pub trait LiveSource {
    /// The URL of an event stream that resumes after `last_event_id` (with a fresh ticket).
    fn stream_url(&self, last_event_id: i64) -> LocalFuture<Result<String, ApiError>>;
    /// Fetches the current state when streaming fails; returns the event id it reflects
    /// when something changed, `None` when nothing did.
    fn poll(&self) -> LocalFuture<Result<Option<i64>, ApiError>>;
}

/// Timings, in milliseconds. The defaults suit people; tests shorten them.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Waits before reconnecting after the 1st, 2nd… failure in a row.
    pub retry_delays_ms: Vec<u32>,
    /// How often to poll while streaming is failing.
    pub poll_every_ms: u32,
    /// How long to poll before trying to stream again.
    pub retry_stream_after_ms: u32,
    /// Event kinds to listen for besides `message`, `card` and `conversation`; they
    /// arrive as [`LiveEvent::Other`].
    pub extra_kinds: Vec<&'static str>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            retry_delays_ms: vec![500, 2_000, 5_000],
            poll_every_ms: 4_000,
            retry_stream_after_ms: 30_000,
            extra_kinds: Vec::new(),
        }
    }
}

/// Stops the subscription when dropped.
pub struct LiveHandle {
    stopped: Rc<Cell<bool>>,
    wake: Rc<Cell<bool>>,
}

impl LiveHandle {
    /// "Retry now": ends the wait before the next try (reconnecting or polling), so a
    /// person who knows the connection is back need not wait for the timer.
    pub fn retry_now(&self) {
        self.wake.set(true);
    }
}

/// Waits `ms`, or less when `wake` (or `stop`, if given: the handle was dropped) is set meanwhile; whether
/// `wake` ended it (and it is cleared). The live subscription's back-off and polling
/// and the outbox's pauses between tries, both cut short by "try now".
pub(crate) async fn pause(ms: u32, wake: &Cell<bool>, stop: Option<&Cell<bool>>) -> bool {
    const SLICE_MS: u32 = 200;
    let mut waited = 0;
    while waited < ms && !stop.is_some_and(Cell::get) && !wake.get() {
        let slice = SLICE_MS.min(ms - waited);
        TimeoutFuture::new(slice).await;
        waited += slice;
    }
    wake.replace(false)
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        self.stopped.set(true);
    }
}

/// Starts following `source` after event `after`, calling `on_event` for each update and
/// keeping `status` current.
pub fn spawn_live(
    source: Rc<dyn LiveSource>,
    after: i64,
    on_event: Rc<dyn Fn(LiveEvent)>,
    status: RwSignal<LiveStatus>,
    config: LiveConfig,
) -> LiveHandle {
    let stopped = Rc::new(Cell::new(false));
    let flag = stopped.clone();
    let wake = Rc::new(Cell::new(false));
    let woken = wake.clone();
    leptos::task::spawn_local(async move {
        let mut last = after;
        let mut failures = 0usize;
        while !flag.get() {
            // A "Retry now" pressed before this attempt is answered by it.
            woken.set(false);
            status.set(if failures == 0 {
                LiveStatus::Connecting
            } else {
                LiveStatus::Reconnecting
            });
            let url = source.stream_url(last).await;
            if let Err(ApiError::Http { status: 401, .. }) = url {
                // The session (or visitor token) is gone: signed out elsewhere.
                status.set(LiveStatus::Revoked);
                return;
            }
            if let Ok(url) = url {
                if flag.get() {
                    break;
                }
                let ended = follow(
                    &url,
                    &config.extra_kinds,
                    &on_event,
                    &mut last,
                    status,
                    &flag,
                )
                .await;
                match ended {
                    Followed::Opened => failures = 0,
                    Followed::Failed => {}
                    Followed::Revoked => {
                        status.set(LiveStatus::Revoked);
                        return;
                    }
                    // The same visitor or session holds too many streams (many tabs):
                    // this one polls a while instead of taking a stream back from
                    // another, which would only bounce between them.
                    Followed::Replaced => failures = config.retry_delays_ms.len(),
                }
            }
            if flag.get() {
                break;
            }
            failures += 1;
            if failures > config.retry_delays_ms.len() {
                status.set(LiveStatus::Polling);
                let mut waited = 0;
                // Polls that fail mean the server is down; the first that answers after
                // one failed means it is back: stream again at once, not after the
                // whole polling spell (which is for streams that fail while polls work).
                let mut server_down = false;
                while waited < config.retry_stream_after_ms && !flag.get() {
                    match source.poll().await {
                        Ok(seen) => {
                            if let Some(seen) = seen {
                                last = last.max(seen);
                            }
                            if server_down {
                                break;
                            }
                        }
                        // Signed out (or the token revoked) while polling: over.
                        Err(ApiError::Http { status: 401, .. }) => {
                            status.set(LiveStatus::Revoked);
                            return;
                        }
                        Err(_) => server_down = true,
                    }
                    if pause(config.poll_every_ms, &woken, Some(&flag)).await {
                        break; // "Retry now": stream again at once
                    }
                    waited += config.poll_every_ms;
                }
                failures = 0;
                status.set(LiveStatus::Reconnecting);
            } else {
                pause(config.retry_delays_ms[failures - 1], &woken, Some(&flag)).await;
            }
        }
        status.set(LiveStatus::Stopped);
    });
    LiveHandle { stopped, wake }
}

/// An EventSource listener, kept until the source is closed.
type Listener = Closure<dyn FnMut(web_sys::Event)>;

enum Incoming {
    Open,
    Event {
        kind: String,
        id: String,
        data: String,
    },
    Failed,
}

/// How following one stream ended.
enum Followed {
    /// It opened, then broke (or `stop` was set).
    Opened,
    /// It never opened.
    Failed,
    /// The server closed it: the session is no longer valid.
    Revoked,
    /// The server closed it for a newer stream of the same visitor or session.
    Replaced,
}

/// Follows one EventSource until it fails, the server closes it, or `stop` is set.
async fn follow(
    url: &str,
    extra_kinds: &[&'static str],
    on_event: &Rc<dyn Fn(LiveEvent)>,
    last: &mut i64,
    status: RwSignal<LiveStatus>,
    stop: &Rc<Cell<bool>>,
) -> Followed {
    let Ok(source) = web_sys::EventSource::new(url) else {
        return Followed::Failed;
    };
    let (tx, mut rx) = futures_channel::mpsc::unbounded::<Incoming>();
    let mut listeners: Vec<(&str, Listener)> = Vec::new();
    // `closed`: the server's last word on a stream it ends (`{"reason": …}`).
    let kinds = ["message", "card", "conversation", "closed"]
        .into_iter()
        .chain(extra_kinds.iter().copied());
    for kind in kinds {
        let tx = tx.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            if let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() {
                let data = e.data().as_string().unwrap_or_default();
                let _ = tx.unbounded_send(Incoming::Event {
                    kind: kind.to_owned(),
                    id: e.last_event_id(),
                    data,
                });
            }
        });
        listeners.push((kind, listener));
    }
    let open_tx = tx.clone();
    listeners.push((
        "open",
        Closure::new(move |_| {
            let _ = open_tx.unbounded_send(Incoming::Open);
        }),
    ));
    let error_tx = tx;
    listeners.push((
        "error",
        Closure::new(move |_| {
            let _ = error_tx.unbounded_send(Incoming::Failed);
        }),
    ));
    for (name, listener) in &listeners {
        let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }

    let mut ended = Followed::Failed;
    loop {
        // Wake at least every second to notice `stop`.
        let next = futures_util::future::select(rx.next(), TimeoutFuture::new(1_000)).await;
        if stop.get() {
            break;
        }
        match next {
            futures_util::future::Either::Left((Some(Incoming::Open), _)) => {
                ended = Followed::Opened;
                status.set(LiveStatus::Live);
            }
            futures_util::future::Either::Left((Some(Incoming::Event { kind, data, .. }), _))
                if kind == "closed" =>
            {
                ended = if data.contains("\"revoked\"") {
                    Followed::Revoked
                } else {
                    Followed::Replaced
                };
                break;
            }
            futures_util::future::Either::Left((Some(Incoming::Event { kind, id, data }), _)) => {
                if let Ok(seq) = id.parse::<i64>() {
                    *last = (*last).max(seq);
                }
                if let Some(event) = LiveEvent::parse(&kind, &data) {
                    on_event(event);
                }
            }
            futures_util::future::Either::Left((Some(Incoming::Failed) | None, _)) => break,
            futures_util::future::Either::Right(_) => {}
        }
    }
    source.close();
    for (name, listener) in &listeners {
        let _ = source.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    ended
}
