//! The merchant's webhook endpoints and the outbox of their deliveries (SPEC §8.5).

use paycard_core::api::{DeliveryStatus, WebhookDelivery, WebhookEndpoint};

use super::payments::corrupt;
use super::{Db, Error};

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub brand_ids: String,
    pub events: String,
    pub sealed_secret: String,
    pub created_at: String,
}

fn list_of(text: &str, id: &str) -> Result<Vec<String>, Error> {
    serde_json::from_str(text).map_err(|_| corrupt(format!("webhook endpoint {id}: {text:?}")))
}

impl EndpointRow {
    pub fn brand_ids(&self) -> Result<Vec<String>, Error> {
        list_of(&self.brand_ids, &self.id)
    }

    pub fn events(&self) -> Result<Vec<String>, Error> {
        list_of(&self.events, &self.id)
    }

    pub fn into_api(self) -> Result<WebhookEndpoint, Error> {
        Ok(WebhookEndpoint {
            brand_ids: self.brand_ids()?,
            events: self.events()?,
            id: self.id,
            url: self.url,
            created_at: self.created_at,
        })
    }
}

pub async fn insert(db: &mut impl Db, row: &EndpointRow) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, brand_ids, events, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&row.id)
    .bind(&row.url)
    .bind(&row.brand_ids)
    .bind(&row.events)
    .bind(&row.sealed_secret)
    .bind(&row.created_at)
    .execute(c)
    .await)?;
    Ok(())
}

/// Every endpoint, oldest first (a handful: read whole on each card change).
pub async fn all(db: &mut impl Db) -> Result<Vec<EndpointRow>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT id, url, brand_ids, events, sealed_secret, created_at FROM webhook_endpoints ORDER BY created_at, id"
    )
    .fetch_all(c)
    .await
    })
}

pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<EndpointRow>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT id, url, brand_ids, events, sealed_secret, created_at FROM webhook_endpoints WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await
    })
}

/// Removes an endpoint and its deliveries.
pub async fn delete(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    exec!(db, |c| sqlx::query(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = $1"
    )
    .bind(id)
    .execute(c)
    .await)?;
    let deleted = exec!(db, |c| sqlx::query(
        "DELETE FROM webhook_endpoints WHERE id = $1"
    )
    .bind(id)
    .execute(c)
    .await)?;
    Ok(deleted == 1)
}

pub struct NewDelivery<'a> {
    pub id: &'a str,
    pub endpoint_id: &'a str,
    pub event_id: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
}

pub async fn queue(db: &mut impl Db, d: &NewDelivery<'_>, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, payload, status, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING"
    )
    .bind(d.id)
    .bind(d.endpoint_id)
    .bind(d.event_id)
    .bind(d.kind)
    .bind(d.payload)
    .bind(now)
    .execute(c)
    .await
    })?;
    Ok(())
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

impl DeliveryRow {
    pub fn into_api(self) -> Result<WebhookDelivery, Error> {
        Ok(WebhookDelivery {
            status: DeliveryStatus::parse(&self.status).ok_or_else(|| {
                corrupt(format!("delivery {} has status {:?}", self.id, self.status))
            })?,
            id: self.id,
            event_id: self.event_id,
            kind: self.kind,
            attempts: self.attempts,
            last_status_code: self.last_status_code,
            last_error: self.last_error,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
        })
    }
}

macro_rules! delivery_columns {
    () => {
        "id, endpoint_id, event_id, type, payload, status, attempts, last_status_code, last_error, next_attempt_at, created_at"
    };
}

/// Deliveries due now, oldest first.
pub async fn due(db: &mut impl Db, now: &str, limit: i64) -> Result<Vec<DeliveryRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// An endpoint's latest deliveries, newest first.
pub async fn of_endpoint(
    db: &mut impl Db,
    endpoint_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

pub async fn get_delivery(db: &mut impl Db, id: &str) -> Result<Option<DeliveryRow>, Error> {
    on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM webhook_deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// How one try went: delivered (`next` = `None`, `delivered`), to try again at `next`,
/// or given up (`next` = `None`).
pub async fn tried(
    db: &mut impl Db,
    id: &str,
    delivered: bool,
    status_code: Option<i64>,
    error: Option<&str>,
    next: Option<&str>,
    now: &str,
) -> Result<(), Error> {
    let status = match (delivered, next) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    exec!(db, |c| sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $1, last_status_code = $2,
             last_error = $3, next_attempt_at = $4,
             finished_at = CASE WHEN $1 = 'pending' THEN NULL ELSE $6 END
         WHERE id = $5 AND status = 'pending'"
    )
    .bind(status)
    .bind(status_code)
    .bind(error)
    .bind(next)
    .bind(id)
    .bind(now)
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets the deliveries delivered (or given up on) before `before`.
pub async fn prune(db: &mut impl Db, before: &str) -> Result<u64, Error> {
    Ok(exec!(db, |c| sqlx::query(
        "DELETE FROM webhook_deliveries
          WHERE created_at <= $1 AND finished_at <= $1 AND status <> 'pending'"
    )
    .bind(before)
    .execute(c)
    .await)?)
}

/// "Send again": due now, whatever became of it.
pub async fn send_again(db: &mut impl Db, id: &str, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, finished_at = NULL WHERE id = $2"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(())
}
