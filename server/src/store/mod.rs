//! The store: every SQL statement of the server, the rows they read and the shapes of
//! the transactions that write them. Nothing else names a query.
//!
//! - [`Store`]: the database (a SQLite file by default, created and migrated on first
//!   start); [`Store::read`] lends a connection, [`Store::write`] opens the write
//!   transaction every change happens in.
//! - One module per part of the schema: [`accounts`] (accounts, sessions, stream
//!   tickets), [`brands`], [`payments`], [`conversations`], [`messages`], [`cards`]
//!   (cards and checkout links), [`attempts`] (payment attempts, subscriptions, the
//!   sandbox's ledger), [`events`] (the log live updates replay), [`portals`],
//!   [`gateways`] (configured gateways, their sessions and notifications).
//!
//! Functions take `&mut impl Db`: a pooled connection or a write transaction, so that
//! the same read serves inside and outside one. The SQL is written to run on SQLite and
//! PostgreSQL alike (`$1`-style parameters, no SQLite-only functions): the second
//! backend is a second connection type behind [`Db`], not a second set of queries.

pub mod accounts;
pub mod attempts;
pub mod brands;
pub mod cards;
pub mod conversations;
pub mod events;
pub mod gateways;
pub mod messages;
pub mod payments;
pub mod portals;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

pub use sqlx::Error;

/// The database every instance of the server shares.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

/// What a query runs on: a connection lent by the pool, or a write transaction.
pub trait Db: Send {
    fn connection(&mut self) -> &mut SqliteConnection;
}

/// A connection lent by the pool, for reads.
pub struct Conn(PoolConnection<Sqlite>);

/// The transaction a change happens in; nothing is written until [`Tx::commit`].
pub struct Tx(Transaction<'static, Sqlite>);

impl Db for Conn {
    fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

impl Db for Tx {
    fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        self.0.commit().await
    }
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    ///
    /// WAL lets readers (card GETs, stream replays) run while one writer commits; the
    /// busy timeout makes a second writer wait for the first instead of failing at once;
    /// foreign keys are off by default in SQLite and we rely on them.
    pub async fn open(url: &str) -> Result<Store, OpenError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| OpenError::Database(Error::Io(e)))?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A SQLite connection is a file handle in this process: it cannot go stale
            // as a network connection can, so pinging it before each use (a round trip
            // to its worker thread) only costs time.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Conn, Error> {
        Ok(Conn(self.pool.acquire().await?))
    }

    /// A write transaction. SQLite lets one run at a time (`BEGIN IMMEDIATE` takes the
    /// write lock at once): of two requests racing to change a card, the second sees
    /// the first's result; and events get their sequence numbers in commit order, which
    /// live streams rely on.
    pub async fn write(&self) -> Result<Tx, Error> {
        Ok(Tx(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// Whether the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut db = self.read().await?;
        sqlx::query("SELECT 1").execute(db.connection()).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await
    }

    /// The pool itself, for tests that set up states the API cannot reach.
    #[doc(hidden)]
    pub fn sqlite_pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database: {0}")]
    Database(#[from] Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The database URL without a password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// `$first, $first+1, …` for `n` values: an `IN (…)` list of binds, the same on every
/// backend.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/paycard"),
            "postgres://app:***@db:5432/paycard"
        );
        assert_eq!(
            redact("sqlite://data/paycard.db"),
            "sqlite://data/paycard.db"
        );
    }

    #[test]
    fn placeholders_number_binds() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }

    #[tokio::test]
    async fn creates_the_file_and_its_folder_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/paycard.db");
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.unwrap();
        assert!(path.exists());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.sqlite_pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.sqlite_pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // Migrating again (a restart) is a no-op, not an error.
        store.close().await;
        let store = Store::open(&url).await.unwrap();
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('brands', 'payments', 'accounts', 'account_brands')")
            .fetch_one(store.sqlite_pool())
            .await
            .unwrap();
        assert_eq!(tables, 4);
    }
}
