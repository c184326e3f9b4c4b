//! Gateways configured in a portal (credentials sealed by the vault, a masked copy to
//! show), the sessions opened at gateways that send the visitor to a page of their own,
//! and the gateway notifications already processed.

use paycard_core::SessionStatus;

use super::payments::corrupt;
use super::{Db, Error};

#[derive(sqlx::FromRow)]
pub struct GatewayRow {
    pub id: String,
    pub kind: String,
    /// A JSON object of masked credentials.
    pub masked: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The gateways of the connected portal, oldest first (none without a portal).
pub async fn configured(db: &mut impl Db) -> Result<Vec<GatewayRow>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT g.id, g.kind, g.masked, g.created_at, g.updated_at
         FROM gateways g JOIN portal_connection c ON c.portal_id = g.portal_id
         ORDER BY g.created_at, g.id",
    )
    .fetch_all(c)
    .await)
}

/// A gateway's kind and sealed credentials (any portal).
pub async fn sealed_credentials(
    db: &mut impl Db,
    id: &str,
) -> Result<Option<(String, String)>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT kind, credentials FROM gateways WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// The kind of a gateway of the connected portal.
pub async fn kind_in_connected_portal(db: &mut impl Db, id: &str) -> Result<Option<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT g.kind FROM gateways g JOIN portal_connection c ON c.portal_id = g.portal_id WHERE g.id = $1",
    )
    .bind(id)
    .fetch_optional(c).await
    })
}

pub async fn exists(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gateways WHERE id = $1)"
    )
    .bind(id)
    .fetch_one(c)
    .await)
}

/// Adds a gateway; `false` if the portal has one of that kind (nothing changes).
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &mut impl Db,
    id: &str,
    portal_id: &str,
    kind: &str,
    sealed: &str,
    masked: &str,
    now: &str,
) -> Result<bool, Error> {
    let inserted = exec!(db, |c| {
        sqlx::query(
        "INSERT INTO gateways (id, portal_id, kind, credentials, masked, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (portal_id, kind) DO NOTHING",
    )
    .bind(id)
    .bind(portal_id)
    .bind(kind)
    .bind(sealed)
    .bind(masked)
    .bind(now)
    .execute(c).await
    })?;
    Ok(inserted == 1)
}

pub async fn replace_credentials(
    db: &mut impl Db,
    id: &str,
    sealed: &str,
    masked: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE gateways SET credentials = $1, masked = $2, updated_at = $3 WHERE id = $4"
    )
    .bind(sealed)
    .bind(masked)
    .bind(now)
    .bind(id)
    .execute(c)
    .await)?;
    Ok(())
}

/// Whether payments are under way through a gateway: a session being made or open, one
/// completed whose payment it has yet to confirm, or any whose attempt is still pending
/// (a PayPal capture under way, even if a close ended its session meanwhile).
pub async fn in_use(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gateway_sessions s WHERE s.gateway_id = $1
           AND (s.status IN ('creating', 'open')
                OR (s.status = 'complete'
                    AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = s.attempt_id AND a.status <> 'pending'))
                OR EXISTS (SELECT 1 FROM attempts a WHERE a.id = s.attempt_id AND a.status = 'pending')))",
    )
    .bind(id)
    .fetch_one(c).await
    })
}

/// Removes a gateway; `false` if there is none.
pub async fn delete(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    let gone = exec!(db, |c| sqlx::query("DELETE FROM gateways WHERE id = $1")
        .bind(id)
        .execute(c)
        .await)?;
    Ok(gone == 1)
}

/// A session at a gateway: ours (`attempt_id`, also the Idempotency-Key sent), the
/// gateway's (`reference`), and where the visitor pays (`url`).
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct SessionRow {
    pub attempt_id: String,
    pub card_id: String,
    pub gateway_id: String,
    pub kind: String,
    pub reference: Option<String>,
    pub url: Option<String>,
    status: String,
}

impl SessionRow {
    pub fn status(&self) -> Result<SessionStatus, Error> {
        SessionStatus::parse(&self.status).ok_or_else(|| {
            corrupt(format!(
                "session {} has status {:?}",
                self.attempt_id, self.status
            ))
        })
    }
}

/// Written into each statement at compile time: no SQL is built per call.
macro_rules! session_columns {
    () => {
        "attempt_id, card_id, gateway_id, kind, reference, url, status"
    };
}

/// The card's sessions in flight (being made or open), oldest first.
pub async fn sessions_in_flight(db: &mut impl Db, card_id: &str) -> Result<Vec<SessionRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM gateway_sessions
         WHERE card_id = $1 AND status IN ('creating', 'open') ORDER BY created_at"
    ))
    .bind(card_id)
    .fetch_all(c)
    .await)
}

/// The session a gateway's notification is about.
pub async fn session_by_reference(
    db: &mut impl Db,
    gateway_id: &str,
    reference: &str,
) -> Result<Option<SessionRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM gateway_sessions WHERE reference = $1 AND gateway_id = $2"
    ))
    .bind(reference)
    .bind(gateway_id)
    .fetch_optional(c)
    .await)
}

pub async fn session(db: &mut impl Db, attempt_id: &str) -> Result<Option<SessionRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM gateway_sessions WHERE attempt_id = $1"
    ))
    .bind(attempt_id)
    .fetch_optional(c)
    .await)
}

/// The card's sessions still `creating` since before `before`: a crash left them
/// half-made.
pub async fn creating_since(
    db: &mut impl Db,
    card_id: &str,
    before: &str,
) -> Result<Vec<String>, Error> {
    on!(db, |c| {
        sqlx::query_scalar(
        "SELECT attempt_id FROM gateway_sessions WHERE card_id = $1 AND status = 'creating' AND created_at <= $2",
    )
    .bind(card_id)
    .bind(before)
    .fetch_all(c).await
    })
}

/// Records a session being made (`creating`).
pub async fn insert_session(
    db: &mut impl Db,
    attempt_id: &str,
    card_id: &str,
    gateway_id: &str,
    kind: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO gateway_sessions (attempt_id, card_id, gateway_id, kind, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'creating', $5, $5)",
    )
    .bind(attempt_id)
    .bind(card_id)
    .bind(gateway_id)
    .bind(kind)
    .bind(now)
    .execute(c).await
    })?;
    Ok(())
}

/// Writes a session's new status, and what the gateway made of it when it is known.
pub async fn set_session(
    db: &mut impl Db,
    attempt_id: &str,
    status: SessionStatus,
    made: Option<(&str, &str)>,
    now: &str,
) -> Result<(), Error> {
    let (reference, url) = made.unzip();
    exec!(db, |c| {
        sqlx::query(
        "UPDATE gateway_sessions SET status = $1, reference = COALESCE($2, reference), url = COALESCE($3, url),
             updated_at = $4 WHERE attempt_id = $5",
    )
    .bind(status.as_str())
    .bind(reference)
    .bind(url)
    .bind(now)
    .bind(attempt_id)
    .execute(c).await
    })?;
    Ok(())
}

/// Records a gateway's notification id; `true` the first time it is seen.
pub async fn first_notification(
    db: &mut impl Db,
    gateway_id: &str,
    event_id: &str,
    now: &str,
) -> Result<bool, Error> {
    let inserted = exec!(db, |c| {
        sqlx::query(
        "INSERT INTO gateway_events (gateway_id, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(gateway_id)
    .bind(event_id)
    .bind(now)
    .execute(c).await
    })?;
    Ok(inserted == 1)
}

/// Forgets notification ids received before `before` (too old to be replayed).
pub async fn prune_notifications(db: &mut impl Db, before: &str) -> Result<u64, Error> {
    Ok(exec!(db, |c| sqlx::query(
        "DELETE FROM gateway_events WHERE received_at <= $1"
    )
    .bind(before)
    .execute(c)
    .await)?)
}
