//! API keys: each is the hash of a bearer key and the account it acts as (the account
//! has the key's name and brands; see the migration).

use super::{placeholders, Db, Error};

#[derive(sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub account_id: String,
    pub key_hash: String,
}

/// Records a key for `account_id` (made just before by [`super::accounts::insert_bot`]).
pub async fn insert(
    db: &mut impl Db,
    id: &str,
    account_id: &str,
    key_hash: &str,
    created_by: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO api_keys (id, account_id, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(account_id)
    .bind(key_hash)
    .bind(created_by)
    .bind(now)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Every key that works for at least one of `brands`, oldest first.
pub async fn list(db: &mut impl Db, brands: &[String]) -> Result<Vec<ApiKeyRow>, Error> {
    if brands.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT k.id, a.name, k.created_at, k.last_used_at, k.account_id, k.key_hash
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
         WHERE EXISTS (SELECT 1 FROM account_brands b WHERE b.account_id = k.account_id AND b.brand_id IN ({}))
         ORDER BY k.created_at, k.id",
        placeholders(1, brands.len())
    );
    on!(db, |c| {
        let mut query = sqlx::query_as(&sql);
        for brand in brands {
            query = query.bind(brand);
        }
        query.fetch_all(c).await
    })
}

pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<ApiKeyRow>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT k.id, a.name, k.created_at, k.last_used_at, k.account_id, k.key_hash
         FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// The key with this hash: its id and the account it acts as.
pub async fn by_hash(db: &mut impl Db, key_hash: &str) -> Result<Option<(String, String)>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, account_id FROM api_keys WHERE key_hash = $1"
    )
    .bind(key_hash)
    .fetch_optional(c)
    .await)
}

/// Notes a use at `now`, unless one was noted after `since`: at most one write a minute
/// per key, however busy the bot.
pub async fn touch(db: &mut impl Db, id: &str, now: &str, since: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(since)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Deletes a key; its account keeps authorship of what it wrote but no longer works for
/// any brand. Returns whether there was such a key.
pub async fn delete(db: &mut impl Db, id: &str, account_id: &str) -> Result<bool, Error> {
    let gone = exec!(db, |c| sqlx::query("DELETE FROM api_keys WHERE id = $1")
        .bind(id)
        .execute(c)
        .await)?;
    exec!(db, |c| sqlx::query(
        "DELETE FROM account_brands WHERE account_id = $1"
    )
    .bind(account_id)
    .execute(c)
    .await)?;
    Ok(gone == 1)
}
