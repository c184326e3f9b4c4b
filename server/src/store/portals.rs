//! Payment portals, and the one connected (the single row of `portal_connection`).

use paycard_core::api::{ConnectedBy, Portal};
use paycard_core::validation::ValidPortal;

use super::{Db, Error};

#[derive(sqlx::FromRow)]
struct PortalRow {
    id: String,
    name: String,
    country: String,
    currency: String,
    time_zone: String,
    edition: String,
    connected_name: Option<String>,
    connected_email: Option<String>,
    connected_at: Option<String>,
}

impl From<PortalRow> for Portal {
    fn from(r: PortalRow) -> Portal {
        let connected_by = r
            .connected_name
            .zip(r.connected_email)
            .map(|(name, email)| ConnectedBy { name, email });
        Portal {
            id: r.id,
            name: r.name,
            country: r.country,
            currency: r.currency,
            time_zone: r.time_zone,
            edition: r.edition,
            connected_by,
            connected_at: r.connected_at,
        }
    }
}

const SELECT: &str = "SELECT p.id, p.name, p.country, p.currency, p.time_zone, p.edition,
        a.name AS connected_name, a.email AS connected_email, c.connected_at
     FROM portals p
     LEFT JOIN portal_connection c ON c.portal_id = p.id
     LEFT JOIN accounts a ON a.id = c.connected_by";

/// The connected portal, with who connected it.
pub async fn connected(db: &mut impl Db) -> Result<Option<Portal>, Error> {
    let row: Option<PortalRow> = on!(db, |c| sqlx::query_as(&format!(
        "{SELECT} WHERE c.singleton = 1"
    ))
    .fetch_optional(c)
    .await)?;
    Ok(row.map(Portal::from))
}

/// Every portal known, by name.
pub async fn list(db: &mut impl Db) -> Result<Vec<Portal>, Error> {
    let rows: Vec<PortalRow> = on!(db, |c| sqlx::query_as(&format!(
        "{SELECT} ORDER BY lower(p.name)"
    ))
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(Portal::from).collect())
}

/// Connects the portal named `valid.name` (its settings updated), creating it as
/// `new_id` if it is new. Who connected it changes only when another portal was.
pub async fn connect(
    db: &mut impl Db,
    new_id: &str,
    valid: &ValidPortal,
    account_id: &str,
    now: &str,
) -> Result<(), Error> {
    let id: String = on!(db, |c| {
        sqlx::query_scalar(
        "INSERT INTO portals (id, name, country, currency, time_zone, edition, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (name) DO UPDATE SET country = excluded.country, currency = excluded.currency,
             time_zone = excluded.time_zone, edition = excluded.edition, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(new_id)
    .bind(&valid.name)
    .bind(&valid.country)
    .bind(valid.currency.code())
    .bind(&valid.time_zone)
    .bind(valid.edition.as_str())
    .bind(now)
    .fetch_one(c).await
    })?;
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO portal_connection (singleton, portal_id, connected_by, connected_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (singleton) DO UPDATE SET portal_id = excluded.portal_id,
             connected_by = CASE WHEN portal_connection.portal_id = excluded.portal_id
                                 THEN portal_connection.connected_by ELSE excluded.connected_by END,
             connected_at = CASE WHEN portal_connection.portal_id = excluded.portal_id
                                 THEN portal_connection.connected_at ELSE excluded.connected_at END",
    )
    .bind(&id)
    .bind(account_id)
    .bind(now)
    .execute(c).await
    })?;
    Ok(())
}

/// Disconnects the portal; `false` if none was.
pub async fn disconnect(db: &mut impl Db) -> Result<bool, Error> {
    let gone = exec!(db, |c| sqlx::query("DELETE FROM portal_connection")
        .execute(c)
        .await)?;
    Ok(gone > 0)
}
