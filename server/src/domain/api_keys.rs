//! API keys for bots and the merchant's systems (SPEC §8.5): an admin makes one per
//! integration, for some of their brands; it is a bearer token that can do what an
//! operator of those brands does, and nothing an admin does. Shown once, stored hashed,
//! deleted at once.
//!
//! Each key acts through an account of its own (see `store::accounts::insert_bot`), so
//! everything built for people — brand checks, authorship, live streams and their
//! revocation — holds for keys without a second path.

use chrono::{Duration, Utc};
use paycard_core::api::{ApiKey, CreatedApiKey, NewApiKey};
use paycard_core::validation::validate_api_key;

use super::accounts::OperatorAuth;
use crate::error::AppError;
use crate::secrets::{self, hash_secret, new_id, new_secret, timestamp};
use crate::state::AppState;
use crate::store;

/// Makes a key working for `input.brand_ids`, each a brand the admin works for.
pub async fn create(
    state: &AppState,
    admin: &OperatorAuth,
    input: &NewApiKey,
) -> Result<CreatedApiKey, AppError> {
    let (name, brands) =
        validate_api_key(&input.name, &input.brand_ids).map_err(AppError::Validation)?;
    let now = secrets::now();
    let id = new_id("key");
    let account_id = new_id("bot");
    let (key, key_hash) = new_secret(secrets::API_KEY);
    let mut tx = state.store.write().await?;
    for brand in &brands {
        if !store::brands::exists(&mut tx, brand).await? {
            return Err(AppError::NotFound("brand"));
        }
        admin.ensure_brand(brand)?;
    }
    store::accounts::insert_bot(&mut tx, &account_id, &name, &brands, &now).await?;
    store::api_keys::insert(
        &mut tx,
        &id,
        &account_id,
        &key_hash,
        &admin.account.id,
        &now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(key = %id, by = %admin.account.email, "API key created");
    Ok(CreatedApiKey {
        id,
        name,
        brand_ids: brands,
        key,
        created_at: now,
    })
}

/// The keys that work for any brand of the admin's, oldest first.
pub async fn list(state: &AppState, admin: &OperatorAuth) -> Result<Vec<ApiKey>, AppError> {
    let mut db = state.store.read().await?;
    let rows = store::api_keys::list(&mut db, &admin.account.brands).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let brand_ids = store::accounts::account(&mut db, &row.account_id)
            .await?
            .map(|account| account.brands)
            .unwrap_or_default();
        keys.push(ApiKey {
            id: row.id,
            name: row.name,
            brand_ids,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        });
    }
    Ok(keys)
}

/// Deletes a key, for an admin of every brand it works for. Requests with it fail from
/// now on; its open live streams end now too.
pub async fn delete(state: &AppState, admin: &OperatorAuth, id: &str) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let row = store::api_keys::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    let brands = store::accounts::account(&mut tx, &row.account_id)
        .await?
        .map(|account| account.brands)
        .unwrap_or_default();
    if !brands.iter().any(|b| admin.works_for(b)) {
        // Not one of this admin's: as if it did not exist.
        return Err(AppError::NotFound("API key"));
    }
    for brand in &brands {
        admin.ensure_brand(brand)?;
    }
    store::api_keys::delete(&mut tx, id, &row.account_id).await?;
    tx.commit().await?;
    state.streams.revoke(&row.key_hash);
    tracing::info!(key = %id, by = %admin.account.email, "API key deleted");
    Ok(())
}

/// The operator a bearer `key` acts as, if it is a key that exists. Notes the use (at
/// most once a minute per key, outside any write transaction: it is bookkeeping).
pub async fn operator(state: &AppState, key: &str) -> Result<Option<OperatorAuth>, AppError> {
    let credential = hash_secret(key);
    let mut db = state.store.read().await?;
    let Some((id, account_id)) = store::api_keys::by_hash(&mut db, &credential).await? else {
        return Ok(None);
    };
    let Some(account) = store::accounts::account(&mut db, &account_id).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let since = timestamp(now - Duration::minutes(1));
    if let Err(err) = store::api_keys::touch(&mut db, &id, &timestamp(now), &since).await {
        tracing::warn!(key = %id, error = %err, "noting an API key's use failed");
    }
    Ok(Some(OperatorAuth {
        account,
        credential,
    }))
}
