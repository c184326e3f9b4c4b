//! Reports (SPEC §8.6): the cards shared in a window of time with what became of them,
//! one row each, for the domain to count and sum in the portal's time zone.

use super::{Db, Error};

/// A card as reports see it: its outcome, its payment and its refunds in numbers.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ReportRow {
    pub id: String,
    pub conversation_id: String,
    pub brand_id: String,
    pub title: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub payer_email: Option<String>,
    /// What the admins gave back (automatic refunds of stray payments are not counted:
    /// their money never counted as paid).
    pub refunded_minor: i64,
    /// The successful attempt: when, and how much.
    pub paid_at: Option<String>,
    pub paid_minor: Option<i64>,
    pub failed_attempts: i64,
    /// Refunds asked for by admins that went through.
    pub refunds: i64,
}

/// The cards shared in `[since, until)` (RFC 3339 UTC text, which sorts as time), of
/// one brand or all, newest first.
pub async fn cards_shared(
    db: &mut impl Db,
    since: &str,
    until: &str,
    brand_id: Option<&str>,
) -> Result<Vec<ReportRow>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT c.id, c.conversation_id, v.brand_id, c.title, c.amount_minor, c.currency, c.status,
                c.failure_reason, c.created_at, c.payer_email, c.refunded_minor,
                (SELECT a.created_at FROM attempts a WHERE a.card_id = c.id AND a.status = 'succeeded') AS paid_at,
                (SELECT a.amount_minor FROM attempts a WHERE a.card_id = c.id AND a.status = 'succeeded') AS paid_minor,
                (SELECT COUNT(*) FROM attempts a WHERE a.card_id = c.id AND a.status = 'failed') AS failed_attempts,
                (SELECT COUNT(*) FROM refunds r
                  WHERE r.card_id = c.id AND r.status = 'succeeded' AND r.kind = 'requested') AS refunds
           FROM cards c JOIN conversations v ON v.id = c.conversation_id
          WHERE c.created_at >= $1 AND c.created_at < $2 AND ($3 IS NULL OR v.brand_id = $3)
          ORDER BY c.created_at DESC, c.id DESC"
    )
    .bind(since)
    .bind(until)
    .bind(brand_id)
    .fetch_all(c)
    .await
    })
}
