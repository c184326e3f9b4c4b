//! The store: every SQL statement of the server, the rows they read and the shapes of
//! the transactions that write them. Nothing else names a query.
//!
//! - [`Store`]: the database, SQLite (a file, created and migrated on first start; one
//!   instance) or PostgreSQL (any number of instances), chosen by `DATABASE_URL`'s
//!   scheme. [`Store::read`] lends a connection, [`Store::write`] opens the write
//!   transaction every change happens in.
//! - One module per part of the schema: [`accounts`] (accounts, sessions, stream
//!   tickets), [`api_keys`], [`brands`], [`payments`], [`conversations`], [`messages`], [`cards`]
//!   (cards and checkout links), [`attempts`] (payment attempts, subscriptions, the
//!   sandbox's ledger), [`events`] (the log live updates replay), [`portals`],
//!   [`gateways`] (configured gateways, their sessions and notifications), [`refunds`],
//!   [`reports`] (the cards of a window of time with their outcome), [`mail`] (the
//!   receipts' outbox), [`webhooks`] (merchants' endpoints and their deliveries).
//!
//! Functions take `&mut impl Db`: a pooled connection or a write transaction, so that
//! the same read serves inside and outside one. Each statement is written once, in SQL
//! both databases run (`$1` parameters, no functions of one only), and [`on!`] runs it
//! on whichever connection it is given: the two backends cannot drift apart, because
//! they have one set of queries. What differs lives here and nowhere else: how a write
//! transaction begins (see [`Store::write`]), the migrations (`migrations/sqlite`,
//! `migrations/postgres`), the wake-up of other instances ([`events::append`]) and the
//! job lease ([`Store::lease`]).

/// Runs `$body` with `$c` bound to the database connection of `$db`, whichever backend
/// it is: the statement is written once and compiled for each.
macro_rules! on {
    ($db:expr, |$c:ident| $body:expr) => {
        match $crate::store::Db::connection($db) {
            $crate::store::Connection::Sqlite($c) => $body,
            $crate::store::Connection::Postgres($c) => $body,
        }
    };
}

/// [`on!`] for a statement that returns no rows: the number of rows it changed.
macro_rules! exec {
    ($db:expr, |$c:ident| $body:expr) => {
        match $crate::store::Db::connection($db) {
            $crate::store::Connection::Sqlite($c) => $body.map(|done| done.rows_affected()),
            $crate::store::Connection::Postgres($c) => $body.map(|done| done.rows_affected()),
        }
    };
}

pub mod accounts;
pub mod api_keys;
pub mod attempts;
pub mod brands;
pub mod cards;
pub mod conversations;
pub mod events;
pub mod gateways;
pub mod mail;
pub mod messages;
pub mod payments;
pub mod portals;
pub mod refunds;
pub mod reports;
pub mod search;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

pub use sqlx::Error;

/// The channel a PostgreSQL commit with new events notifies: every instance's live hub
/// listens to it (the payload is empty; the log is the message).
pub const EVENTS_CHANNEL: &str = "paycard_events";

/// The transaction-scoped advisory lock every PostgreSQL write transaction takes first
/// (see [`Store::write`]). Any fixed number; this one spells "payc".
const WRITE_LOCK: i64 = 0x7061_7963;

/// The database every instance of the server shares.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a connection belongs to, for [`on!`].
pub enum Connection<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// What a query runs on: a connection lent by the pool, or a write transaction.
pub trait Db: Send {
    fn connection(&mut self) -> Connection<'_>;
}

/// A connection lent by the pool, for reads.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// The transaction a change happens in; nothing is written until [`Tx::commit`].
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db for Conn {
    fn connection(&mut self) -> Connection<'_> {
        match self {
            Conn::Sqlite(c) => Connection::Sqlite(c),
            Conn::Postgres(c) => Connection::Postgres(c),
        }
    }
}

impl Db for Tx {
    fn connection(&mut self) -> Connection<'_> {
        match self {
            Tx::Sqlite(t) => Connection::Sqlite(t),
            Tx::Postgres(t) => Connection::Postgres(t),
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Which database a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// By the URL's scheme; anything else is refused rather than guessed (a
    /// `postgres://` URL once became a SQLite file named `postgres:`).
    pub fn of(url: &str) -> Result<Backend, OpenError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(OpenError::Scheme(redact(url))),
        }
    }
}

impl Store {
    /// Opens the database `url` names and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store, OpenError> {
        match Backend::of(url)? {
            Backend::Sqlite => Store::open_sqlite(url).await,
            Backend::Postgres => Store::open_postgres(url).await,
        }
    }

    /// A SQLite file, created if needed with its folder.
    ///
    /// WAL lets readers (card GETs, stream replays) run while one writer commits; the
    /// busy timeout makes a second writer wait for the first instead of failing at once;
    /// foreign keys are off by default in SQLite and we rely on them.
    async fn open_sqlite(url: &str) -> Result<Store, OpenError> {
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
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store::Sqlite(pool))
    }

    /// A PostgreSQL database (14 or newer). The migrator holds an advisory lock while it
    /// runs, so instances starting together migrate once, one after the other.
    async fn open_postgres(url: &str) -> Result<Store, OpenError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store::Postgres(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Conn, Error> {
        Ok(match self {
            Store::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Store::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }

    /// A write transaction; one runs at a time, on either backend. Of two requests
    /// racing to change a card, the second sees the first's result; and events get their
    /// sequence numbers in commit order, which live streams rely on to resume without
    /// skipping one that committed late.
    ///
    /// SQLite: `BEGIN IMMEDIATE` takes the database's write lock at once. PostgreSQL:
    /// the transaction first takes one transaction-scoped advisory lock, held until it
    /// commits or rolls back, so writes from every instance queue as SQLite's do, and
    /// reads never wait. Our writes are short (no gateway is called inside one), so
    /// one at a time costs little at a chat's write rates, and every rule the domain
    /// checks before it writes holds on both backends for the same reason. Card updates
    /// also carry the version they read (a conditional update), as a second guard.
    pub async fn write(&self) -> Result<Tx, Error> {
        match self {
            Store::Sqlite(pool) => Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(Tx::Postgres(tx))
            }
        }
    }

    /// Whether the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut db = self.read().await?;
        exec!(&mut db, |c| sqlx::query("SELECT 1").execute(c).await)?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool) => pool.close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }

    /// A lease on the background job `job` (a fixed number) for as long as the lease
    /// lives: `None` when another instance holds it. On SQLite, one instance runs, and
    /// the lease is always granted. On PostgreSQL it is a transaction-scoped advisory
    /// lock taken without waiting, so of several instances running the same timer one
    /// does the work; if that instance dies, its connection closes, the lock goes, and
    /// the next tick of another instance takes it.
    pub async fn lease(&self, job: i64) -> Result<Option<Lease>, Error> {
        match self {
            Store::Sqlite(_) => Ok(Some(Lease { _held: None })),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                    .bind(job)
                    .fetch_one(&mut *tx)
                    .await?;
                Ok(held.then_some(Lease { _held: Some(tx) }))
            }
        }
    }

    /// A listener on [`EVENTS_CHANNEL`] (PostgreSQL only; `None` on SQLite, where the
    /// one instance's own commits are all there is).
    pub async fn listen(&self) -> Option<Result<PgListener, Error>> {
        match self {
            Store::Sqlite(_) => None,
            Store::Postgres(pool) => Some(
                async {
                    let mut listener = PgListener::connect_with(pool).await?;
                    listener.listen(EVENTS_CHANNEL).await?;
                    Ok(listener)
                }
                .await,
            ),
        }
    }

    /// Runs one statement with text parameters, for tests that set up states the API
    /// cannot reach. Returns the rows changed.
    #[doc(hidden)]
    pub async fn exec_for_tests(&self, sql: &str, binds: &[&str]) -> Result<u64, Error> {
        let mut db = self.read().await?;
        exec!(&mut db, |c| {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.execute(c).await
        })
    }

    /// The rows of a query with text parameters, each column as text (`NULL` as `None`),
    /// for tests that look at what was stored. Cast other types in the SQL
    /// (`CAST(x AS TEXT)`).
    #[doc(hidden)]
    pub async fn rows_for_tests(
        &self,
        sql: &str,
        binds: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, Error> {
        use sqlx::Row;
        let mut db = self.read().await?;
        on!(&mut db, |c| {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            let rows = query.fetch_all(c).await?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.try_get::<Option<String>, _>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()
        })
    }
}

/// A background job's lease; see [`Store::lease`]. Dropping it lets the job go (the
/// transaction holding the lock rolls back).
pub struct Lease {
    _held: Option<Transaction<'static, Postgres>>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {0:?}: use sqlite://PATH (one instance) or postgres://… (several)")]
    Scheme(String),
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
    fn the_url_scheme_chooses_the_database_and_nothing_else_is_guessed() {
        assert_eq!(
            Backend::of("sqlite://data/paycard.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of("postgres://u:p@db/paycard").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::of("postgresql://db/paycard").unwrap(),
            Backend::Postgres
        );
        for url in ["mysql://db/paycard", "data/paycard.db", ""] {
            let err = Backend::of(url).unwrap_err().to_string();
            assert!(
                err.contains("sqlite://") && err.contains("postgres://"),
                "{err}"
            );
        }
        // The password never reaches the message.
        let err = Backend::of("mysql://app:s3cret@db/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn placeholders_number_binds() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }

    /// A SQLite database at `dir` migrated up to (not including) migration `version`,
    /// holding `rows` (SQL): a server's database from before a change. Returns its URL.
    async fn database_before(dir: &tempfile::TempDir, version: i64, rows: &str) -> String {
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("./migrations/sqlite");
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&pool).await.unwrap();
        sqlx::raw_sql(rows).execute(&pool).await.unwrap();
        pool.close().await;
        url
    }

    /// Texts written before search keys existed are found as before (by `lower()`)
    /// until the housekeeping job gives them their keys; then without accents too.
    #[tokio::test]
    async fn texts_from_before_search_keys_are_found_and_given_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let t = "2026-11-01T10:00:00.000Z";
        let url = database_before(&dir, 13, &format!(
            "INSERT INTO brands (id, name, created_at) VALUES ('acme', 'Acme', '{t}');
             INSERT INTO payments (id, brand_id, title, description, amount_minor, currency, created_at, updated_at)
                 VALUES ('pay_1', 'acme', 'Café', 'De COLOMBIA', 2500, 'EUR', '{t}', '{t}');
             INSERT INTO conversations (id, brand_id, visitor_name, visitor_email, visitor_token_hash, created_at, updated_at)
                 VALUES ('conv_1', 'acme', 'José', 'ÁNGEL@example.com', 'h', '{t}', '{t}'),
                        ('conv_2', 'acme', 'ANA', NULL, 'h2', '{t}', '{t}');
             INSERT INTO messages (id, conversation_id, author, author_name, text, created_at)
                 VALUES ('msg_1', 'conv_1', 'visitor', 'José', '¿Dónde está?', '{t}');"
        ))
        .await;

        let store = Store::open(&url).await.unwrap();
        let search = |text: &'static str| {
            let store = &store;
            async move {
                let mut db = store.read().await.unwrap();
                let filter = conversations::Filter {
                    search: Some(text),
                    ..Default::default()
                };
                conversations::page(&mut db, "acct_1", &["acme".to_owned()], filter, None, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(search("ana").await, ["conv_2"], "found as before meanwhile");
        assert!(search("jose").await.is_empty());

        assert_eq!(search::fill_missing(&store, 1_000).await.unwrap(), 6);
        assert_eq!(
            search::fill_missing(&store, 1_000).await.unwrap(),
            0,
            "once"
        );
        let mut db = store.read().await.unwrap();
        let keys: (String, String, String, String, String) = on!(&mut db, |c| sqlx::query_as(
            "SELECT c.visitor_name_key, c.visitor_email_key, m.text_key, p.title_key, p.description_key
               FROM conversations c, messages m, payments p WHERE c.id = 'conv_1'"
        )
        .fetch_one(c)
        .await)
        .unwrap();
        assert_eq!(
            keys,
            (
                "jose".into(),
                "angel@example.com".into(),
                "¿donde esta?".into(),
                "cafe".into(),
                "de colombia".into()
            )
        );
        assert_eq!(search("DONDE").await, ["conv_1"]);
        assert_eq!(search("jose").await, ["conv_1"]);
    }

    /// The refunds migration rebuilds `cards` under the tables that refer to it: a
    /// database with paid cards, their messages, attempts and links comes through whole.
    #[tokio::test]
    async fn the_refunds_migration_keeps_every_card_and_what_refers_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let t = "2026-11-01T10:00:00.000Z";
        let url = database_before(&dir, 8, &format!(
            "INSERT INTO brands (id, name, created_at) VALUES ('acme', 'Acme', '{t}');
             INSERT INTO payments (id, brand_id, title, amount_minor, currency, created_at, updated_at)
                 VALUES ('pay_1', 'acme', 'Mug', 2500, 'EUR', '{t}', '{t}');
             INSERT INTO accounts (id, email, name, role, password_hash, created_at)
                 VALUES ('acct_1', 'op@example.com', 'Op', 'operator', '!', '{t}');
             INSERT INTO conversations (id, brand_id, visitor_name, visitor_token_hash, created_at, updated_at)
                 VALUES ('conv_1', 'acme', 'Ana', 'h', '{t}', '{t}');
             INSERT INTO cards (id, conversation_id, payment_id, title, description, amount_minor, currency,
                     status, version, shared_by, created_at, updated_at, expires_at)
                 VALUES ('card_1', 'conv_1', 'pay_1', 'Mug', '', 2500, 'EUR', 'paid', 3, 'acct_1', '{t}', '{t}', '{t}'),
                        ('card_2', 'conv_1', 'pay_1', 'Mug', '', 2500, 'EUR', 'pending', 1, 'acct_1', '{t}', '{t}', '{t}');
             INSERT INTO messages (id, conversation_id, author, author_name, card_id, created_at)
                 VALUES ('msg_1', 'conv_1', 'operator', 'Op', 'card_1', '{t}');
             INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, created_at)
                 VALUES ('att_1', 'card_1', 'succeeded', 2500, 'EUR', 'sandbox', '{t}');
             INSERT INTO checkout_tokens (token_hash, card_id, created_at) VALUES ('tok', 'card_2', '{t}');"
        ))
        .await;

        let store = Store::open(&url).await.unwrap();
        let Store::Sqlite(pool) = &store else {
            unreachable!()
        };
        let cards: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT id, status, version, refunded_minor FROM cards ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(
            cards,
            [
                ("card_1".into(), "paid".into(), 3, 0),
                ("card_2".into(), "pending".into(), 1, 0)
            ]
        );
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(pool)
                .await
                .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        // The references still hold: a card with children cannot go.
        assert!(sqlx::query("DELETE FROM cards WHERE id = 'card_1'")
            .execute(pool)
            .await
            .is_err());
        // And the new status is allowed.
        sqlx::query(
            "UPDATE cards SET status = 'refunded', refunded_minor = 2500 WHERE id = 'card_1'",
        )
        .execute(pool)
        .await
        .unwrap();
        assert!(
            sqlx::query("UPDATE cards SET refunded_minor = 2501 WHERE id = 'card_1'")
                .execute(pool)
                .await
                .is_err(),
            "never more than the amount"
        );
    }

    #[tokio::test]
    async fn creates_the_file_and_its_folder_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/paycard.db");
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.unwrap();
        assert!(path.exists());
        let Store::Sqlite(pool) = &store else {
            panic!("a sqlite:// URL opened {:?}", store.backend())
        };
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // Migrating again (a restart) is a no-op, not an error.
        store.close().await;
        let store = Store::open(&url).await.unwrap();
        let Store::Sqlite(pool) = &store else {
            unreachable!()
        };
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('brands', 'payments', 'accounts', 'account_brands')")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(tables, 4);
    }
}
