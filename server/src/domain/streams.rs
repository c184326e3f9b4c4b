//! Who holds the open live streams (SPEC §8.1).
//!
//! - At most `PAYCARD_STREAMS_PER_CLIENT` (5) streams per credential, a visitor token or
//!   a console session: one token cannot hold a thousand connections. A new stream
//!   closes that credential's oldest, so a person who opens one more tab keeps working.
//! - A stream ends when its credential is revoked: at sign-out at once (on this
//!   instance), and, for every stream of the process, by one check of all credentials
//!   each heartbeat ([`Streams::revalidate`]): a session signed out elsewhere, expired,
//!   or whose account lost a brand or was removed.
//!
//! A closed stream's last event says why (`event: closed`, `{"reason": …}`), so a
//! client does not reconnect in a loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::accounts::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::{secrets, store};

/// Why the server ended a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The same credential opened more streams than allowed; this was the oldest.
    Replaced,
    /// The session or token is no longer valid, or its access changed.
    Revoked,
}

impl Ended {
    pub fn reason(self) -> &'static str {
        match self {
            Ended::Replaced => "too_many_streams",
            Ended::Revoked => "revoked",
        }
    }
}

/// What a stream was opened with, to check later that it still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Holder {
    Visitor,
    /// A console session of `account_id`, which then worked for `brands` (sorted).
    Operator {
        account_id: String,
        brands: Vec<String>,
    },
}

struct Entry {
    id: u64,
    holder: Holder,
    end: watch::Sender<Option<Ended>>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// By credential hash, oldest first.
    open: HashMap<String, Vec<Entry>>,
}

/// The open streams of this process.
#[derive(Clone, Default)]
pub struct Streams {
    registry: Arc<Mutex<Registry>>,
}

/// A stream's place in [`Streams`]; leaves it when dropped (the client went away).
pub struct Registration {
    id: u64,
    credential: String,
    streams: Streams,
    /// Becomes `Some` when the server ends the stream.
    pub ended: watch::Receiver<Option<Ended>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut registry = self.streams.lock();
        if let Some(entries) = registry.open.get_mut(&self.credential) {
            entries.retain(|e| e.id != self.id);
            if entries.is_empty() {
                registry.open.remove(&self.credential);
            }
        }
    }
}

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a stream of `caller`; closes the caller's oldest streams beyond `max`.
    pub fn open(&self, caller: &Caller, max: usize) -> Registration {
        let (credential, holder) = match caller {
            Caller::Visitor(v) => (v.credential.clone(), Holder::Visitor),
            Caller::Operator(o) => {
                let mut brands = o.account.brands.clone();
                brands.sort();
                (
                    o.credential.clone(),
                    Holder::Operator {
                        account_id: o.account.id.clone(),
                        brands,
                    },
                )
            }
        };
        let (end, ended) = watch::channel(None);
        let mut registry = self.lock();
        registry.next_id += 1;
        let id = registry.next_id;
        let entries = registry.open.entry(credential.clone()).or_default();
        entries.push(Entry { id, holder, end });
        let excess = entries.len().saturating_sub(max.max(1));
        for old in entries.drain(..excess) {
            old.end.send_replace(Some(Ended::Replaced));
        }
        drop(registry);
        Registration {
            id,
            credential,
            streams: self.clone(),
            ended,
        }
    }

    /// Ends every stream opened with `credential` (its hash), on this instance.
    pub fn revoke(&self, credential: &str) {
        let gone = self.lock().open.remove(credential);
        for entry in gone.into_iter().flatten() {
            entry.end.send_replace(Some(Ended::Revoked));
        }
    }

    /// How many streams are open, for tests and logs.
    pub fn count(&self) -> usize {
        self.lock().open.values().map(Vec::len).sum()
    }

    /// Ends the streams whose credential no longer holds: a visitor token whose
    /// conversation is gone, a session signed out or expired, an account removed or no
    /// longer working for exactly the brands the stream carries (a new stream gets the
    /// new set). One query per kind for all streams; returns how many ended.
    pub async fn revalidate(&self, state: &AppState) -> Result<usize, AppError> {
        let (visitors, sessions): (Vec<String>, Vec<String>) = {
            let registry = self.lock();
            let mut visitors = Vec::new();
            let mut sessions = Vec::new();
            for (credential, entries) in &registry.open {
                match entries.first().map(|e| &e.holder) {
                    Some(Holder::Visitor) => visitors.push(credential.clone()),
                    Some(Holder::Operator { .. }) => sessions.push(credential.clone()),
                    None => {}
                }
            }
            (visitors, sessions)
        };
        if visitors.is_empty() && sessions.is_empty() {
            return Ok(0);
        }
        let mut db = state.store.read().await?;
        let live_visitors = store::conversations::live_visitor_tokens(&mut db, &visitors).await?;
        // Each live session or API key (a stream is held by its hash) with its account and
        // the account's brands, sorted as the holders keep them.
        let live_sessions =
            store::accounts::live_credentials(&mut db, &sessions, &secrets::now()).await?;
        drop(db);
        let mut ended = 0;
        let mut registry = self.lock();
        registry.open.retain(|credential, entries| {
            entries.retain(|entry| {
                let holds = match &entry.holder {
                    Holder::Visitor => live_visitors.contains(credential),
                    Holder::Operator { account_id, brands } => live_sessions
                        .get(credential)
                        .is_some_and(|(a, b)| a == account_id && b == brands),
                };
                if !holds {
                    entry.end.send_replace(Some(Ended::Revoked));
                    ended += 1;
                }
                holds
            });
            !entries.is_empty()
        });
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::VisitorAuth;

    fn visitor(credential: &str) -> Caller {
        Caller::Visitor(VisitorAuth {
            conversation_id: "conv_1".into(),
            brand_id: "acme".into(),
            visitor_name: "Ana".into(),
            credential: credential.into(),
        })
    }

    #[test]
    fn a_credential_keeps_its_newest_streams() {
        let streams = Streams::default();
        let ana = visitor("ana");
        let mut open: Vec<Registration> = (0..3).map(|_| streams.open(&ana, 2)).collect();
        let other = streams.open(&visitor("bob"), 2);
        assert_eq!(*open[0].ended.borrow(), Some(Ended::Replaced));
        assert_eq!(*open[1].ended.borrow(), None);
        assert_eq!(*open[2].ended.borrow(), None);
        assert_eq!(streams.count(), 3);
        // A stream that ends on its own leaves its place.
        drop(open.remove(2));
        assert_eq!(streams.count(), 2);
        streams.revoke("ana");
        assert_eq!(*open[1].ended.borrow(), Some(Ended::Revoked));
        assert_eq!(*other.ended.borrow(), None);
        drop(open);
        assert_eq!(streams.count(), 1);
    }
}
