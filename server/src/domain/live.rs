//! Live updates: the event log and the hub that hands it out.
//!
//! Every change that clients must see is appended to the log ([`record`]) in the
//! transaction of the change, so the log and the data never disagree. One task per
//! process, the [`Hub`], follows the log: woken after each local commit, it reads the new
//! events once and hands each to the streams subscribed to its conversation or its brand
//! (an in-memory map), whatever the number of streams. A stream ([`follow`]) reads the
//! database only to catch up: on connect or resume (`Last-Event-ID`), or when it fell so
//! far behind that its buffer overflowed. Each event reaches a stream once and in order
//! (SPEC §4): a stream subscribes first, then replays the log up to now, and skips what
//! the hub hands it twice.
//!
//! Several instances on one database (PostgreSQL) add a second way to wake the hub —
//! a notification from another instance's commit — and nothing else: the log stays the
//! single source of every event.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Notify};

use super::streams::{Ended, Registration};
use crate::error::AppError;
use crate::secrets;
use crate::store::{self, events::EventRow, Db, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Message,
    Card,
    Conversation,
    /// A payment was added, changed, moved or withdrawn: a brand's event, no conversation.
    Payment,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Card => "card",
            EventKind::Conversation => "conversation",
            EventKind::Payment => "payment",
        }
    }
}

/// Appends an event of a conversation (or, with `None`, a brand's: operators' streams
/// carry it, visitors' do not) inside the caller's transaction; the hub hands it out
/// once the transaction commits.
pub async fn record(
    db: &mut impl Db,
    brand_id: &str,
    conversation_id: Option<&str>,
    kind: EventKind,
    data: &impl Serialize,
) -> Result<i64, AppError> {
    let data =
        serde_json::to_string(data).map_err(|e| AppError::Internal(format!("event data: {e}")))?;
    Ok(store::events::append(
        db,
        brand_id,
        conversation_id,
        kind.as_str(),
        &data,
        &secrets::now(),
    )
    .await?)
}

/// One event as streams send it.
#[derive(Debug)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    /// The SSE `data:`, JSON.
    pub data: String,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Event {
        Event {
            seq: row.seq,
            kind: row.kind,
            data: row.data,
        }
    }
}

/// What a stream follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A visitor's conversation.
    Conversation(String),
    /// An operator's brands: their conversations and their payments.
    Brands(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Topic {
    Conversation(String),
    Brand(String),
}

impl Scope {
    fn topics(&self) -> Vec<Topic> {
        match self {
            Scope::Conversation(id) => vec![Topic::Conversation(id.clone())],
            Scope::Brands(brands) => brands.iter().cloned().map(Topic::Brand).collect(),
        }
    }
}

/// How many events a stream may have waiting before it is taken as fallen behind (it
/// then catches up from the database).
const BUFFER: usize = 64;
/// How many events one read of the log takes.
const BATCH: i64 = 500;
/// The hub also looks at the log this often, should a wake-up be lost (a bug, or an
/// instance's notification missed). One query per process, not per stream.
const SAFETY_NET: Duration = Duration::from_secs(10);

struct Subscriber {
    send: mpsc::Sender<Arc<Event>>,
    lagged: AtomicBool,
    topics: Vec<Topic>,
}

#[derive(Default)]
struct Subscribers {
    next_id: u64,
    by_topic: HashMap<Topic, HashMap<u64, Arc<Subscriber>>>,
}

#[derive(Default)]
struct Shared {
    wake: Notify,
    subscribers: Mutex<Subscribers>,
    /// The newest event handed out.
    cursor: AtomicI64,
}

/// Hands each new event of the log to the streams that follow its conversation or brand.
#[derive(Clone, Default)]
pub struct Hub {
    shared: Arc<Shared>,
}

/// A stream's place in the hub; leaves it when dropped.
pub struct Subscription {
    id: u64,
    receive: mpsc::Receiver<Arc<Event>>,
    subscriber: Arc<Subscriber>,
    hub: Hub,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id, &self.subscriber.topics);
    }
}

impl Hub {
    /// Call after a commit that may have written events: the hub reads them.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Subscribers> {
        self.shared
            .subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn subscribe(&self, scope: &Scope) -> Subscription {
        let (send, receive) = mpsc::channel(BUFFER);
        let subscriber = Arc::new(Subscriber {
            send,
            lagged: AtomicBool::new(false),
            topics: scope.topics(),
        });
        let mut subscribers = self.lock();
        subscribers.next_id += 1;
        let id = subscribers.next_id;
        for topic in &subscriber.topics {
            subscribers
                .by_topic
                .entry(topic.clone())
                .or_default()
                .insert(id, subscriber.clone());
        }
        Subscription {
            id,
            receive,
            subscriber,
            hub: self.clone(),
        }
    }

    fn unsubscribe(&self, id: u64, topics: &[Topic]) {
        let mut subscribers = self.lock();
        for topic in topics {
            if let Some(map) = subscribers.by_topic.get_mut(topic) {
                map.remove(&id);
                if map.is_empty() {
                    subscribers.by_topic.remove(topic);
                }
            }
        }
    }

    /// Hands `event` to the subscribers of its brand and conversation. One whose buffer
    /// is full is dropped from the hub (its stream catches up from the database).
    fn dispatch(&self, row: EventRow) {
        let mut topics = vec![Topic::Brand(row.brand_id.clone())];
        if let Some(conversation) = &row.conversation_id {
            topics.push(Topic::Conversation(conversation.clone()));
        }
        let event = Arc::new(Event::from(row));
        let mut fallen_behind = Vec::new();
        {
            let subscribers = self.lock();
            for topic in &topics {
                for (id, subscriber) in subscribers.by_topic.get(topic).into_iter().flatten() {
                    if subscriber.send.try_send(event.clone()).is_err() {
                        subscriber.lagged.store(true, Ordering::Relaxed);
                        fallen_behind.push((*id, subscriber.topics.clone()));
                    }
                }
            }
        }
        for (id, topics) in fallen_behind {
            // Dropping its sender ends the subscriber's channel.
            self.unsubscribe(id, &topics);
        }
        self.shared.cursor.store(event.seq, Ordering::Release);
    }

    /// How many streams follow something (tests, logs).
    pub fn subscribers(&self) -> usize {
        let subscribers = self.lock();
        let mut ids: Vec<u64> = subscribers
            .by_topic
            .values()
            .flat_map(|m| m.keys().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Follows the log until `shutdown`: the one task per process that reads new events.
    pub async fn run(self, store: Store, mut shutdown: watch::Receiver<bool>) {
        let mut cursor = loop {
            match latest_seq(&store).await {
                Ok(seq) => break seq,
                Err(err) => {
                    tracing::warn!(error = %err, "live hub: reading the log failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        self.shared.cursor.store(cursor, Ordering::Release);
        loop {
            tokio::select! {
                _ = self.shared.wake.notified() => {}
                _ = tokio::time::sleep(SAFETY_NET) => {}
                _ = shutdown.changed() => return,
            }
            loop {
                let rows = match read_after(&store, cursor).await {
                    Ok(rows) => rows,
                    Err(err) => {
                        tracing::warn!(error = %err, "live hub: reading new events failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                };
                let done = rows.len() < BATCH as usize;
                for row in rows {
                    cursor = row.seq;
                    self.dispatch(row);
                }
                if done {
                    break;
                }
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}

impl Hub {
    /// The second wake-up source, on PostgreSQL: another instance's commit with events
    /// notifies [`store::EVENTS_CHANNEL`], and this task wakes the hub, which reads the
    /// log. A notification carries nothing the log does not have, so one that is lost
    /// (the listener's connection dropped) costs no event: the task reconnects, wakes the
    /// hub to catch up from the log, and listens again. On SQLite it returns at once.
    pub async fn listen_to_other_instances(
        self,
        store: Store,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut retry = Duration::from_millis(100);
        loop {
            let mut listener = match store.listen().await {
                None => return,
                Some(Ok(listener)) => listener,
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "live hub: cannot listen for other instances' events; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(retry) => {}
                        _ = shutdown.changed() => return,
                    }
                    retry = (retry * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            retry = Duration::from_millis(100);
            // Whatever committed while no one listened.
            self.wake();
            loop {
                tokio::select! {
                    received = listener.try_recv() => match received {
                        Ok(Some(_)) => self.wake(),
                        // The connection dropped: PgListener says so once; start afresh.
                        Ok(None) | Err(_) => {
                            tracing::warn!("live hub: lost the database listener; reconnecting");
                            break;
                        }
                    },
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

/// The newest event's sequence number: where a stream that asks for no past starts.
pub async fn latest_seq(store: &Store) -> Result<i64, store::Error> {
    let mut db = store.read().await?;
    store::events::latest(&mut db).await
}

async fn read_after(store: &Store, cursor: i64) -> Result<Vec<EventRow>, store::Error> {
    let mut db = store.read().await?;
    store::events::after(&mut db, cursor, BATCH).await
}

async fn read_scope_after(
    store: &Store,
    scope: &Scope,
    after: i64,
) -> Result<Vec<EventRow>, store::Error> {
    let mut db = store.read().await?;
    match scope {
        Scope::Conversation(id) => {
            store::events::in_conversation_after(&mut db, id, after, BATCH).await
        }
        Scope::Brands(brands) => {
            store::events::of_brands_after(&mut db, brands, after, BATCH).await
        }
    }
}

/// What a stream sends.
pub enum Item {
    Event(Arc<Event>),
    /// The server ends the stream (a newer one of its credential, or its session
    /// revoked): the last thing it says.
    Closed(Ended),
}

struct Follower {
    store: Store,
    hub: Hub,
    scope: Scope,
    /// The newest event sent.
    last: i64,
    subscription: Option<Subscription>,
    /// Events read from the log, to send before what the hub hands over.
    replay: VecDeque<Arc<Event>>,
    catching_up: bool,
    registration: Registration,
    shutdown: watch::Receiver<bool>,
    finished: bool,
}

/// The events of `scope` after `after`, as they happen, until the server shuts down, or
/// [`Item::Closed`] when the stream's registration ends.
pub fn follow(
    store: Store,
    hub: Hub,
    scope: Scope,
    after: i64,
    registration: Registration,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Item> {
    let follower = Follower {
        store,
        hub,
        scope,
        last: after,
        subscription: None,
        replay: VecDeque::new(),
        catching_up: true,
        registration,
        shutdown,
        finished: false,
    };
    stream::unfold(follower, |mut f| async move {
        loop {
            if *f.shutdown.borrow() || f.finished {
                return None;
            }
            let ended = *f.registration.ended.borrow();
            if let Some(ended) = ended {
                f.finished = true;
                return Some((Item::Closed(ended), f));
            }
            if let Some(event) = f.replay.pop_front() {
                if event.seq > f.last {
                    f.last = event.seq;
                    return Some((Item::Event(event), f));
                }
                continue;
            }
            // Subscribe before reading the log, so that nothing committed meanwhile
            // falls between the two.
            if f.subscription.is_none() {
                f.subscription = Some(f.hub.subscribe(&f.scope));
                f.catching_up = true;
            }
            if f.catching_up {
                // Boxed: the read's future is large, and an idle stream (most of them,
                // most of the time) should not carry its space while it waits.
                match Box::pin(read_scope_after(&f.store, &f.scope, f.last)).await {
                    Ok(rows) => {
                        f.catching_up = rows.len() == BATCH as usize;
                        f.replay
                            .extend(rows.into_iter().map(|r| Arc::new(Event::from(r))));
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "live stream: reading the log failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                continue;
            }
            let Some(subscription) = f.subscription.as_mut() else {
                continue;
            };
            tokio::select! {
                received = subscription.receive.recv() => match received {
                    Some(event) => f.replay.push_back(event),
                    None => {
                        // Dropped by the hub: it fell behind. Catch up from the log.
                        let lagged = subscription.subscriber.lagged.load(Ordering::Relaxed);
                        f.subscription = None;
                        if !lagged {
                            return None;
                        }
                    }
                },
                _ = f.shutdown.changed() => {}
                _ = f.registration.ended.changed() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, brand: &str, conversation: Option<&str>) -> EventRow {
        EventRow {
            seq,
            brand_id: brand.into(),
            conversation_id: conversation.map(Into::into),
            kind: "message".into(),
            data: "{}".into(),
        }
    }

    #[test]
    fn events_reach_the_subscribers_of_their_conversation_or_brand_only() {
        let hub = Hub::default();
        let mut visitor = hub.subscribe(&Scope::Conversation("c1".into()));
        let mut other = hub.subscribe(&Scope::Conversation("c2".into()));
        let mut operator = hub.subscribe(&Scope::Brands(vec!["acme".into(), "zen".into()]));
        hub.dispatch(row(1, "acme", Some("c1")));
        hub.dispatch(row(2, "acme", None));
        hub.dispatch(row(3, "zen", Some("c9")));
        let seqs = |s: &mut Subscription| {
            let mut out = Vec::new();
            while let Ok(e) = s.receive.try_recv() {
                out.push(e.seq);
            }
            out
        };
        assert_eq!(seqs(&mut visitor), [1]);
        assert_eq!(seqs(&mut other), Vec::<i64>::new());
        assert_eq!(
            seqs(&mut operator),
            [1, 2, 3],
            "each event once, though two brands"
        );
        assert_eq!(hub.subscribers(), 3);
        drop(other);
        assert_eq!(hub.subscribers(), 2);
    }

    #[test]
    fn a_subscriber_that_falls_behind_is_let_go_to_catch_up() {
        let hub = Hub::default();
        let mut slow = hub.subscribe(&Scope::Conversation("c1".into()));
        for seq in 1..=(BUFFER as i64 + 1) {
            hub.dispatch(row(seq, "acme", Some("c1")));
        }
        assert!(slow.subscriber.lagged.load(Ordering::Relaxed));
        assert_eq!(hub.subscribers(), 0);
        // What it had is still there to read; then the channel ends.
        let mut n = 0;
        while slow.receive.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, BUFFER);
        assert!(slow.receive.try_recv().is_err());
    }
}
