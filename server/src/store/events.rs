//! The event log: every change that live clients must see, appended in the transaction
//! of the change. `seq` orders the log; it is handed out in commit order (one write
//! transaction at a time on either backend, see [`super::Store::write`]), which is what
//! lets a stream resume after the last event it saw and miss nothing.

use super::{placeholders, Db, Error};

#[derive(sqlx::FromRow, Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub brand_id: String,
    /// `None` for a brand's event (a payment changed).
    pub conversation_id: Option<String>,
    pub kind: String,
    /// The SSE `data:`, JSON.
    pub data: String,
}

/// Written into each statement at compile time: no SQL is built per call.
macro_rules! event_columns {
    () => {
        "seq, brand_id, conversation_id, kind, data"
    };
}

/// Appends an event; returns its sequence number. On PostgreSQL the commit also
/// notifies [`super::EVENTS_CHANNEL`], so the live hub of every instance reads the log
/// (a notification is delivered at commit, once per transaction however many events).
pub async fn append(
    db: &mut impl Db,
    brand_id: &str,
    conversation_id: Option<&str>,
    kind: &str,
    data: &str,
    now: &str,
) -> Result<i64, Error> {
    let seq = on!(db, |c| {
        sqlx::query_scalar(
        "INSERT INTO events (brand_id, conversation_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING seq",
    )
    .bind(brand_id)
    .bind(conversation_id)
    .bind(kind)
    .bind(data)
    .bind(now)
    .fetch_one(c)
    .await
    })?;
    if let super::Connection::Postgres(c) = db.connection() {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(super::EVENTS_CHANNEL)
            .execute(c)
            .await?;
    }
    Ok(seq)
}

/// The newest event's sequence number (0 when there is none).
pub async fn latest(db: &mut impl Db) -> Result<i64, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM events"
    )
    .fetch_one(c)
    .await)
}

/// The newest event of a conversation (0 when there is none).
pub async fn latest_in_conversation(db: &mut impl Db, conversation_id: &str) -> Result<i64, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE conversation_id = $1"
    )
    .bind(conversation_id)
    .fetch_one(c)
    .await)
}

/// Up to `limit` events after `seq`, of every brand and conversation (the live hub's
/// one reader).
pub async fn after(db: &mut impl Db, seq: i64, limit: i64) -> Result<Vec<EventRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(seq)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Up to `limit` events of a conversation after `seq` (a stream catching up).
pub async fn in_conversation_after(
    db: &mut impl Db,
    conversation_id: &str,
    seq: i64,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(conversation_id)
    .bind(seq)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Up to `limit` events of `brands` after `seq` (an operator's stream catching up).
pub async fn of_brands_after(
    db: &mut impl Db,
    brands: &[String],
    seq: i64,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    if brands.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE seq > $1 AND brand_id IN ({}) ORDER BY seq LIMIT $2"
        ),
        placeholders(3, brands.len())
    );
    on!(db, |c| {
        let mut query = sqlx::query_as(&sql).bind(seq).bind(limit);
        for brand in brands {
            query = query.bind(brand);
        }
        query.fetch_all(c).await
    })
}
