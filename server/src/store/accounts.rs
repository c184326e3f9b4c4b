//! Console accounts and the brands they work for, their sessions, and the stream tickets
//! an `EventSource` opens a stream with. Secrets are stored as SHA-256 hashes only.

use std::collections::HashMap;

use paycard_core::api::{OperatorAccount, Role};

use super::{placeholders, Db, Error};

/// An account with the brands it works for (sorted) and their names.
pub async fn account(db: &mut impl Db, id: &str) -> Result<Option<OperatorAccount>, Error> {
    let row: Option<(String, String, String, String)> = on!(db, |c| sqlx::query_as(
        "SELECT id, name, email, role FROM accounts WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?;
    let Some((id, name, email, role)) = row else {
        return Ok(None);
    };
    let named: Vec<(String, String)> = on!(db, |c| sqlx::query_as(
        "SELECT ab.brand_id, b.name FROM account_brands ab JOIN brands b ON b.id = ab.brand_id
         WHERE ab.account_id = $1 ORDER BY ab.brand_id",
    )
    .bind(&id)
    .fetch_all(c)
    .await)?;
    let brands = named.iter().map(|(id, _)| id.clone()).collect();
    let brand_names = named.into_iter().collect();
    let role = if role == "admin" {
        Role::Admin
    } else {
        Role::Operator
    };
    Ok(Some(OperatorAccount {
        id,
        name,
        email,
        role,
        brands,
        brand_names,
    }))
}

/// The account of an email (compared without case) and its password hash.
pub async fn password_hash(
    db: &mut impl Db,
    email: &str,
) -> Result<Option<(String, String)>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, password_hash FROM accounts WHERE lower(email) = lower($1)"
    )
    .bind(email)
    .fetch_optional(c)
    .await)
}

/// Creates an account, or sets the password of the one with that email (the demo's).
pub async fn upsert(
    db: &mut impl Db,
    id: &str,
    email: &str,
    name: &str,
    role: &str,
    password_hash: &str,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO accounts (id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
    )
    .bind(id)
    .bind(email)
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .bind(now)
    .execute(c).await
    })?;
    Ok(())
}

/// The account of `email` works for `brand` (idempotent).
pub async fn join_brand(db: &mut impl Db, email: &str, brand: &str) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "INSERT INTO account_brands (account_id, brand_id)
         SELECT id, $1 FROM accounts WHERE email = $2 ON CONFLICT DO NOTHING",
    )
    .bind(brand)
    .bind(email)
    .execute(c)
    .await)?;
    Ok(())
}

/// Every admin works for a new brand.
pub async fn admins_join_brand(db: &mut impl Db, brand: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO account_brands (account_id, brand_id) SELECT id, $1 FROM accounts WHERE role = 'admin'
         ON CONFLICT DO NOTHING",
    )
    .bind(brand)
    .execute(c).await
    })?;
    Ok(())
}

/// The account an API key acts as: role operator, an email no one owns, and a password
/// hash that no password matches (so it cannot sign in), working for `brands`.
pub async fn insert_bot(
    db: &mut impl Db,
    id: &str,
    name: &str,
    brands: &[String],
    now: &str,
) -> Result<(), Error> {
    let email = format!("{id}@api-keys.invalid");
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO accounts (id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, 'operator', '!', $4)",
    )
    .bind(id)
    .bind(&email)
    .bind(name)
    .bind(now)
    .execute(c)
    .await
    })?;
    for brand in brands {
        exec!(db, |c| sqlx::query(
            "INSERT INTO account_brands (account_id, brand_id) VALUES ($1, $2)"
        )
        .bind(id)
        .bind(brand)
        .execute(c)
        .await)?;
    }
    Ok(())
}

pub async fn insert_session(
    db: &mut impl Db,
    token_hash: &str,
    account_id: &str,
    created_at: &str,
    expires_at: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(account_id)
    .bind(created_at)
    .bind(expires_at)
    .execute(c).await
    })?;
    Ok(())
}

/// The account of a session that has not expired at `now`.
pub async fn session_account(
    db: &mut impl Db,
    token_hash: &str,
    now: &str,
) -> Result<Option<String>, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT account_id FROM sessions WHERE token_hash = $1 AND expires_at > $2"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(c)
    .await)
}

pub async fn delete_session(db: &mut impl Db, token_hash: &str) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1"
    )
    .bind(token_hash)
    .execute(c)
    .await)?;
    Ok(())
}

/// Of `hashes`, the console credentials that still hold at `now` — sessions not yet
/// expired and API keys not deleted — each with its account and the brands that account
/// works for (sorted).
pub async fn live_credentials(
    db: &mut impl Db,
    hashes: &[String],
    now: &str,
) -> Result<HashMap<String, (String, Vec<String>)>, Error> {
    let mut live: HashMap<String, (String, Vec<String>)> = HashMap::new();
    // A few hundred at a time: SQL has a limit on binds.
    for chunk in hashes.chunks(500) {
        let sql = format!(
            "SELECT held.hash, held.account_id, b.brand_id FROM (
                 SELECT token_hash AS hash, account_id FROM sessions WHERE expires_at > $1
                 UNION ALL
                 SELECT key_hash AS hash, account_id FROM api_keys
             ) held
             LEFT JOIN account_brands b ON b.account_id = held.account_id
             WHERE held.hash IN ({})
             ORDER BY held.hash, b.brand_id",
            placeholders(2, chunk.len())
        );
        let rows: Vec<(String, String, Option<String>)> = on!(db, |c| {
            let mut query = sqlx::query_as(&sql).bind(now);
            for hash in chunk {
                query = query.bind(hash);
            }
            query.fetch_all(c).await
        })?;
        for (hash, account_id, brand) in rows {
            live.entry(hash)
                .or_insert_with(|| (account_id, Vec::new()))
                .1
                .extend(brand);
        }
    }
    Ok(live)
}

/// A stream ticket, for whoever holds `credential_hash` (a session or a visitor token):
/// an account's, or a conversation's visitor's.
pub async fn insert_stream_ticket(
    db: &mut impl Db,
    ticket_hash: &str,
    account_id: Option<&str>,
    conversation_id: Option<&str>,
    credential_hash: &str,
    expires_at: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO stream_tickets (ticket_hash, account_id, conversation_id, credential_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(ticket_hash)
    .bind(account_id)
    .bind(conversation_id)
    .bind(credential_hash)
    .bind(expires_at)
    .execute(c).await
    })?;
    Ok(())
}

/// Who a stream ticket was for: (account, conversation, credential).
pub type TicketHolder = (Option<String>, Option<String>, String);

/// Spends a ticket that has not expired at `now`: it is gone whatever happens next.
pub async fn redeem_stream_ticket(
    db: &mut impl Db,
    ticket_hash: &str,
    now: &str,
) -> Result<Option<TicketHolder>, Error> {
    on!(db, |c| sqlx::query_as(
        "DELETE FROM stream_tickets WHERE ticket_hash = $1 AND expires_at > $2
         RETURNING account_id, conversation_id, credential_hash",
    )
    .bind(ticket_hash)
    .bind(now)
    .fetch_optional(c)
    .await)
}

/// Deletes sessions and stream tickets past their expiry; returns how many.
pub async fn prune(db: &mut impl Db, now: &str) -> Result<u64, Error> {
    let sessions = exec!(db, |c| sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1"
    )
    .bind(now)
    .execute(c)
    .await)?;
    let tickets = exec!(db, |c| sqlx::query(
        "DELETE FROM stream_tickets WHERE expires_at <= $1"
    )
    .bind(now)
    .execute(c)
    .await)?;
    Ok(sessions + tickets)
}
