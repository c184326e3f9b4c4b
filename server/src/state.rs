//! What every request and background job shares: the store, the live hub, the settings
//! and the services built from them. Cheap to clone.

use std::sync::Arc;

use tokio::sync::watch;

use crate::domain::live::Hub;
use crate::domain::streams::Streams;
use crate::limits::Limiters;
use crate::store::{Store, Tx};
use crate::vault::Vault;
use crate::Config;

/// One reference count per clone: axum clones the state for every extractor and layer
/// of every request, and a struct of a dozen `Arc`s made each of those a dozen atomic
/// operations (3% of a card GET's time).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields read as the state's own (`state.store`).
pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    /// Hands each new event to the streams that follow its conversation or brand.
    pub hub: Hub,
    /// The open live streams, by credential: caps and revocation.
    pub streams: Streams,
    /// Where people reach this server: every link it makes starts with this
    /// (`PAYCARD_PUBLIC_URL`, else `http://` and the listening address), no trailing `/`.
    pub public_url: Arc<str>,
    /// Rate limits by client address, and the password-hashing gate.
    pub limits: Arc<Limiters>,
    /// Seals and opens gateway credentials.
    pub vault: Arc<Vault>,
    /// For calls to payment gateways (one connection pool).
    pub http: reqwest::Client,
    /// Sends receipts (`None` without `PAYCARD_SMTP_URL`).
    pub mailer: Option<crate::domain::mail::Mailer>,
    /// Wakes the outbox worker (refunds, mail, webhooks) after a commit, so what a
    /// change queued goes out at once rather than at the next tick.
    pub outbox: tokio::sync::Notify,
    /// Turns true when the server begins to shut down: live streams end, so the
    /// graceful shutdown does not wait for them for ever.
    pub shutdown: watch::Receiver<bool>,
    shutdown_tx: watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// `config.addr` is the address actually listened on (port 0 resolved), for the
    /// default public URL.
    pub fn new(store: Store, config: Config, vault: Vault) -> AppState {
        let (shutdown_tx, shutdown) = watch::channel(false);
        let mailer = crate::domain::mail::Mailer::from_config(&config);
        AppState(Arc::new(Shared {
            store,
            public_url: config.public_url_for(config.addr).into(),
            limits: Arc::new(Limiters::new(&config.limits)),
            config: Arc::new(config),
            hub: Hub::default(),
            streams: Streams::default(),
            vault: Arc::new(vault),
            // A gateway that does not answer must not hold a payment (or a cancel) for
            // ever: the caller then says the gateway is unavailable.
            http: reqwest::Client::builder()
                .user_agent(concat!("paycard/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(std::time::Duration::from_secs(5))
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            mailer,
            outbox: tokio::sync::Notify::new(),
            shutdown,
            shutdown_tx,
        }))
    }

    /// Commits a change and lets the live hub hand out the events it wrote.
    pub async fn commit(&self, tx: Tx) -> Result<(), crate::store::Error> {
        tx.commit().await?;
        self.hub.wake();
        self.outbox.notify_one();
        Ok(())
    }

    /// Ends every live stream; in-flight requests finish as usual.
    pub fn begin_shutdown(&self) {
        self.shutdown_tx.send_replace(true);
    }
}
