//! What anonymous traffic may do (SPEC §8.1): rate limits by client address, and a gate
//! on password hashing.
//!
//! Limits are token buckets (`governor`), kept per process: several instances behind a
//! load balancer each allow the configured rate, which is what a per-address limit is
//! for (slowing one client to a crawl), not an exact global count.

use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{Limits, Rate};
use crate::error::AppError;

/// One rate limit over keys of type `K` (a client address, or an email and an address).
pub struct Limit<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    pub fn new(rate: Option<Rate>) -> Limit<K> {
        Limit {
            limiter: rate.map(|rate| {
                let every = rate.per / rate.count.get();
                let quota = Quota::with_period(every.max(std::time::Duration::from_nanos(1)))
                    .expect("a period above zero")
                    .allow_burst(rate.count);
                RateLimiter::keyed(quota)
            }),
        }
    }

    /// Takes one request's worth from `key`'s bucket, or answers 429 with how long to
    /// wait.
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests {
                // Rounded up: a client that waits this long is let in.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets the keys whose buckets are full again, so memory follows the clients of
    /// the last minutes, not every address ever seen.
    fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Every rate limit of the server, and the password gate.
pub struct Limiters {
    pub login_per_address: Limit<IpAddr>,
    pub login_per_account: Limit<(String, IpAddr)>,
    pub conversations: Limit<IpAddr>,
    pub messages: Limit<IpAddr>,
    pub checkout_links: Limit<IpAddr>,
    pub payments: Limit<IpAddr>,
    pub password_hashes: HashGate,
}

impl Limiters {
    pub fn new(limits: &Limits) -> Limiters {
        Limiters {
            login_per_address: Limit::new(limits.login_per_address),
            login_per_account: Limit::new(limits.login_per_account),
            conversations: Limit::new(limits.conversations),
            messages: Limit::new(limits.messages),
            checkout_links: Limit::new(limits.checkout_links),
            payments: Limit::new(limits.payments),
            password_hashes: HashGate::new(limits.password_hashes),
        }
    }

    /// Called now and then by the background jobs.
    pub fn prune(&self) {
        self.login_per_address.prune();
        self.login_per_account.prune();
        self.conversations.prune();
        self.messages.prune();
        self.checkout_links.prune();
        self.payments.prune();
    }
}

/// Runs password checks (argon2: ~19 MiB and tens of milliseconds of CPU each) on `n`
/// threads of its own, with at most `3 * n` more waiting; anyone beyond that gets 429 at
/// once. A flood of sign-ins from many addresses then costs a bounded amount of memory
/// (own threads, not the blocking pool: each thread's allocator keeps the memory of
/// the largest hash it ran, so their number must not grow with the traffic) and the
/// rest of the server keeps the other CPUs.
pub struct HashGate {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce(&mut crate::password::Workspace) + Send>;

impl HashGate {
    pub fn new(n: usize) -> HashGate {
        let n = n.max(1);
        // Running ones are off the queue: n running, 3n waiting.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(n * 3);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..n {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("paycard-hash-{i}"))
                .spawn(move || {
                    // Allocated at the first check: an idle server holds none.
                    let mut workspace = None;
                    loop {
                        // The lock is held only while waiting for the next job; the
                        // gate's end (every sender dropped) ends the thread.
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(job) => job(workspace.get_or_insert_with(Default::default)),
                            Err(_) => return,
                        }
                    }
                })
                .expect("start a password-hashing thread");
        }
        HashGate { jobs }
    }

    /// Runs `work` on a hashing thread (with its reusable argon2 workspace) when one is
    /// free. Work that started finishes even if the request is dropped meanwhile.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut crate::password::Workspace) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |workspace| {
            let _ = done.send(work(workspace));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(_) => AppError::TooManyRequests {
                retry_after_secs: 1,
            },
            std::sync::mpsc::TrySendError::Disconnected(_) => {
                AppError::Internal("the password-hashing threads are gone".into())
            }
        })?;
        result
            .await
            .map_err(|e| AppError::Internal(format!("password check: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_lets_a_burst_through_then_says_when_to_come_back() {
        let limit = Limit::new(Rate::per_minute(3));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            limit.check(&a).unwrap();
        }
        match limit.check(&a) {
            Err(AppError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Another address has its own bucket.
        limit.check(&b).unwrap();
        // `off` never limits.
        let off = Limit::<IpAddr>::new(None);
        for _ in 0..1000 {
            off.check(&a).unwrap();
        }
    }

    #[tokio::test]
    async fn the_gate_runs_a_few_at_once_and_turns_away_the_crowd() {
        let gate = Arc::new(HashGate::new(1));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move |_| {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                })
                .await
            }));
        }
        let mut done = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => done += 1,
                Err(AppError::TooManyRequests { .. }) => refused += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!((1..=4).contains(&done), "{done} ran");
        assert_eq!(done + refused, 20);
    }
}
