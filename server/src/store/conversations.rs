//! Conversations: a brand's visitor, the visitor's token (hashed), and the time of the
//! last activity, which orders the operators' list.

use std::collections::HashSet;

use paycard_core::api::{Conversation, LastMessage};

use super::search::contains_pattern;
use super::{placeholders, Db, Error};
use paycard_core::search::key;

/// What the visitor's browser said about them when the conversation opened.
#[derive(Debug, Clone, Default)]
pub struct VisitorContext {
    pub page: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
}

/// Opens a conversation.
pub async fn insert(
    db: &mut impl Db,
    conversation: &Conversation,
    token_hash: &str,
    context: &VisitorContext,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO conversations (id, brand_id, visitor_name, visitor_token_hash, created_at, updated_at,
             start_page, visitor_time_zone, visitor_locale, visitor_name_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&conversation.id)
    .bind(&conversation.brand_id)
    .bind(&conversation.visitor_name)
    .bind(token_hash)
    .bind(&conversation.created_at)
    .bind(&conversation.updated_at)
    .bind(&context.page)
    .bind(&context.time_zone)
    .bind(&context.locale)
    .bind(key(&conversation.visitor_name))
    .execute(c).await
    })?;
    Ok(())
}

/// A conversation as the API shows it, without its last message or unread count.
pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<Conversation>, Error> {
    type Row = (String, String, String, String, String, Option<String>);
    let row: Option<Row> = on!(db, |c| {
        sqlx::query_as(
        "SELECT id, brand_id, visitor_name, created_at, updated_at, closed_at FROM conversations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await
    })?;
    Ok(row.map(
        |(id, brand_id, visitor_name, created_at, updated_at, closed_at)| Conversation {
            id,
            brand_id,
            visitor_name,
            created_at,
            updated_at,
            last_message: None,
            unread: 0,
            closed_at,
        },
    ))
}

/// Closes an open conversation (`closed_at` = `at`); false when it was closed already.
pub async fn close(db: &mut impl Db, id: &str, by: &str, at: &str) -> Result<bool, Error> {
    let done = exec!(db, |c| {
        sqlx::query(
        "UPDATE conversations SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL"
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(done == 1)
}

/// Opens a closed conversation again; false when it was open.
pub async fn reopen(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    let done = exec!(db, |c| {
        sqlx::query(
        "UPDATE conversations SET closed_at = NULL, closed_by = NULL WHERE id = $1 AND closed_at IS NOT NULL"
    )
    .bind(id)
    .execute(c)
    .await
    })?;
    Ok(done == 1)
}

/// Who a conversation's visitor is, as the operator's context panel shows them.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct VisitorRow {
    pub id: String,
    pub brand_id: String,
    pub visitor_name: String,
    pub visitor_email: Option<String>,
    pub visitor_locale: Option<String>,
    pub start_page: Option<String>,
    pub visitor_time_zone: Option<String>,
}

pub async fn visitor(db: &mut impl Db, id: &str) -> Result<Option<VisitorRow>, Error> {
    on!(db, |c| {
        sqlx::query_as(
        "SELECT id, brand_id, visitor_name, visitor_email, visitor_locale, start_page, visitor_time_zone
           FROM conversations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await
    })
}

/// An operator corrects the visitor's name or email (`None` leaves it).
pub async fn set_visitor(
    db: &mut impl Db,
    id: &str,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE conversations SET visitor_name = COALESCE($1, visitor_name),
                visitor_email = COALESCE($2, visitor_email),
                visitor_name_key = COALESCE($4, visitor_name_key),
                visitor_email_key = COALESCE($5, visitor_email_key) WHERE id = $3"
    )
    .bind(name)
    .bind(email)
    .bind(id)
    .bind(name.map(key))
    .bind(email.map(key))
    .execute(c)
    .await)?;
    Ok(())
}

/// The brand of a conversation.
pub async fn brand_of(db: &mut impl Db, id: &str) -> Result<Option<String>, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT brand_id FROM conversations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// A conversation's brand and the brand's name.
pub async fn brand_name(db: &mut impl Db, id: &str) -> Result<Option<String>, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT b.name FROM brands b JOIN conversations c ON c.brand_id = b.id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// The visitor of a conversation: (conversation, brand, visitor's name).
pub type Visitor = (String, String, String);

/// The conversation whose visitor token has this hash.
pub async fn by_visitor_token(
    db: &mut impl Db,
    token_hash: &str,
) -> Result<Option<Visitor>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, brand_id, visitor_name FROM conversations WHERE visitor_token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await)
}

/// (brand, visitor's name) of a conversation.
pub async fn visitor_of(db: &mut impl Db, id: &str) -> Result<Option<(String, String)>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT brand_id, visitor_name FROM conversations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Of `token_hashes`, those of conversations that still exist.
pub async fn live_visitor_tokens(
    db: &mut impl Db,
    token_hashes: &[String],
) -> Result<HashSet<String>, Error> {
    let mut live = HashSet::new();
    for chunk in token_hashes.chunks(500) {
        let sql = format!(
            "SELECT visitor_token_hash FROM conversations WHERE visitor_token_hash IN ({})",
            placeholders(1, chunk.len())
        );
        let found: Vec<String> = on!(db, |c| {
            let mut query = sqlx::query_scalar(&sql);
            for hash in chunk {
                query = query.bind(hash);
            }
            query.fetch_all(c).await
        })?;
        live.extend(found);
    }
    Ok(live)
}

/// Marks a conversation as active at `at` (a message was written).
pub async fn touch(db: &mut impl Db, id: &str, at: &str) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE conversations SET updated_at = $1 WHERE id = $2"
    )
    .bind(at)
    .bind(id)
    .execute(c)
    .await)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    brand_id: String,
    visitor_name: String,
    created_at: String,
    updated_at: String,
    last_author: Option<String>,
    last_text: Option<String>,
    last_card_title: Option<String>,
    last_at: Option<String>,
    /// The visitor's messages the reader has not seen.
    unread: i64,
    closed_at: Option<String>,
}

impl ListRow {
    fn into_api(self) -> Conversation {
        Conversation {
            last_message: self.last_at.map(|created_at| LastMessage {
                author: super::messages::author(self.last_author.as_deref().unwrap_or("visitor")),
                text: self.last_text.or(self.last_card_title).unwrap_or_default(),
                created_at,
            }),
            id: self.id,
            brand_id: self.brand_id,
            visitor_name: self.visitor_name,
            created_at: self.created_at,
            updated_at: self.updated_at,
            unread: self.unread,
            closed_at: self.closed_at,
        }
    }
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// `Some(true)`: open only; `Some(false)`: closed only.
    pub open: Option<bool>,
    /// Words in the visitor's name or email, or in a message (in any case, with or
    /// without accents, as typed: no wildcards; see `store::search`).
    pub search: Option<&'a str>,
    /// This one conversation only (its line as the list shows it to a reader).
    pub id: Option<&'a str>,
}

/// Up to `limit` conversations of `brands` that pass `filter`, most recent activity
/// first, after the position `before` (activity time, id) of a previous page, with what
/// `reader` has not read of each.
pub async fn page(
    db: &mut impl Db,
    reader: &str,
    brands: &[String],
    filter: Filter<'_>,
    before: Option<(&str, &str)>,
    limit: u32,
) -> Result<Vec<Conversation>, Error> {
    if brands.is_empty() {
        return Ok(Vec::new());
    }
    let (before_at, before_id) = before.unzip();
    let open = filter.open.map(i64::from);
    let search = filter.search.map(contains_pattern);
    let sql = format!(
        "SELECT c.id, c.brand_id, c.visitor_name, c.created_at, c.updated_at, c.closed_at,
                m.author AS last_author, m.text AS last_text, k.title AS last_card_title, m.created_at AS last_at,
                (SELECT COUNT(*) FROM messages v WHERE v.conversation_id = c.id AND v.author = 'visitor'
                   AND v.id > COALESCE((SELECT r.read_until FROM conversation_reads r
                                         WHERE r.account_id = $4 AND r.conversation_id = c.id), '')) AS unread
         FROM conversations c
         LEFT JOIN messages m ON m.id = (SELECT id FROM messages WHERE conversation_id = c.id ORDER BY id DESC LIMIT 1)
         LEFT JOIN cards k ON k.id = m.card_id
         WHERE ($1 IS NULL OR (c.updated_at, c.id) < ($1, $2)) AND c.brand_id IN ({})
           AND ($5 IS NULL OR ($5 = 1) = (c.closed_at IS NULL))
           AND ($6 IS NULL OR COALESCE(c.visitor_name_key, lower(c.visitor_name)) LIKE $6 ESCAPE '\\'
                OR COALESCE(c.visitor_email_key, lower(c.visitor_email), '') LIKE $6 ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM messages s WHERE s.conversation_id = c.id
                             AND COALESCE(s.text_key, lower(s.text)) LIKE $6 ESCAPE '\\'))
           AND ($7 IS NULL OR c.id = $7)
         ORDER BY c.updated_at DESC, c.id DESC
         LIMIT $3",
        placeholders(8, brands.len())
    );
    let rows: Vec<ListRow> = on!(db, |c| {
        let mut query = sqlx::query_as(&sql)
            .bind(before_at)
            .bind(before_id)
            .bind(i64::from(limit))
            .bind(reader)
            .bind(open)
            .bind(search.as_deref())
            .bind(filter.id);
        for brand in brands {
            query = query.bind(brand);
        }
        query.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(ListRow::into_api).collect())
}

/// Marks everything in the conversation up to now as read by `reader` (never back:
/// a late, older mark does not undo a newer one).
pub async fn mark_read(db: &mut impl Db, reader: &str, conversation_id: &str) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO conversation_reads (account_id, conversation_id, read_until)
         SELECT $1, $2, latest FROM (SELECT MAX(id) AS latest FROM messages WHERE conversation_id = $2) newest
         WHERE latest IS NOT NULL
         ON CONFLICT (account_id, conversation_id)
         DO UPDATE SET read_until = excluded.read_until WHERE excluded.read_until > conversation_reads.read_until"
    )
    .bind(reader)
    .bind(conversation_id)
    .execute(c)
    .await
    })?;
    Ok(())
}
