//! The mail outbox (SPEC §8.4): each message rendered when it is queued, in the
//! transaction of what it tells about, and sent later by the background worker.

use super::{Db, Error};

pub struct NewMail<'a> {
    pub id: &'a str,
    /// What it is about (`receipt:<attempt>`, `refund:<refund>`): one message each.
    pub about: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

/// Queues a message; one already queued about the same thing stays as it is.
pub async fn queue(db: &mut impl Db, mail: &NewMail<'_>, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO mail_outbox (id, about, to_address, subject, text_body, html_body, status, next_try_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)
         ON CONFLICT (about) DO NOTHING"
    )
    .bind(mail.id)
    .bind(mail.about)
    .bind(mail.to)
    .bind(mail.subject)
    .bind(mail.text_body)
    .bind(mail.html_body)
    .bind(now)
    .execute(c)
    .await
    })?;
    Ok(())
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct MailRow {
    pub id: String,
    pub about: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub tries: i64,
    pub created_at: String,
}

/// Messages due to be sent, oldest first.
pub async fn due(db: &mut impl Db, now: &str, limit: i64) -> Result<Vec<MailRow>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT id, about, to_address, subject, text_body, html_body, tries, created_at FROM mail_outbox
         WHERE status = 'pending' AND next_try_at <= $1 ORDER BY next_try_at, id LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await
    })
}

/// Sent: done with it.
pub async fn sent(db: &mut impl Db, id: &str, now: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', tries = tries + 1, sent_at = $1, last_try_at = $1 WHERE id = $2 AND status = 'pending'"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Not sent: try again at `next`, or give up (`next` = `None`).
pub async fn not_sent(
    db: &mut impl Db,
    id: &str,
    error: &str,
    next: Option<&str>,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE mail_outbox SET tries = tries + 1, last_error = $1,
             status = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'pending' END,
             next_try_at = COALESCE($2, $3), last_try_at = $3
         WHERE id = $4 AND status = 'pending'"
    )
    .bind(error)
    .bind(next)
    .bind(now)
    .bind(id)
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets the receipts sent (or given up on) before `before`.
pub async fn prune(db: &mut impl Db, before: &str) -> Result<u64, Error> {
    Ok(exec!(db, |c| {
        sqlx::query(
        "DELETE FROM mail_outbox
          WHERE created_at <= $1 AND COALESCE(sent_at, last_try_at, created_at) <= $1 AND status <> 'pending'"
    )
    .bind(before)
    .execute(c)
    .await
    })?)
}

/// How the outbox stands: pending and sent counts, and the last error (if the last
/// try of some message failed), with when.
pub async fn summary(db: &mut impl Db) -> Result<(i64, i64, Option<(String, String)>), Error> {
    let (pending, sent): (i64, i64) = on!(db, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM mail_outbox"
    )
    .fetch_one(c)
    .await
    })?;
    let last_error: Option<(String, String)> = on!(db, |c| sqlx::query_as(
        "SELECT last_error, last_try_at FROM mail_outbox
         WHERE last_error IS NOT NULL AND status <> 'sent' AND last_try_at IS NOT NULL
         ORDER BY last_try_at DESC LIMIT 1"
    )
    .fetch_optional(c)
    .await)?;
    Ok((pending, sent, last_error))
}
