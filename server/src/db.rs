//! The database: a SQLite file by default, created and migrated on first start.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub type Pool = SqlitePool;

/// Opens (creating if needed) the database and brings its schema up to date.
///
/// WAL lets readers (card GETs, stream replays) run while one writer commits; the busy
/// timeout makes a second writer wait for the first instead of failing at once; foreign
/// keys are off by default in SQLite and we rely on them.
pub async fn connect(url: &str) -> Result<Pool, crate::StartError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    if let Some(parent) = options.get_filename().parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| crate::StartError::Database(sqlx::Error::Io(e)))?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
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

    #[tokio::test]
    async fn creates_the_file_and_its_folder_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/paycard.db");
        let pool = connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        assert!(path.exists());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // Migrating again (a restart) is a no-op, not an error.
        pool.close().await;
        let pool = connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('brands', 'payments', 'accounts', 'account_brands')")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(tables, 4);
    }
}
