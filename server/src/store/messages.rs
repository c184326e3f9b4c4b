//! Messages: text, or a payment card (`card_id`). Ids are UUIDv7, so ordering by id is
//! ordering by time.

use paycard_core::api::{Author, Message};

use super::{Db, Error};

/// How an author is stored.
fn author_text(author: Author) -> &'static str {
    match author {
        Author::Visitor => "visitor",
        Author::Operator => "operator",
    }
}

pub(super) fn author(text: &str) -> Author {
    if text == "operator" {
        Author::Operator
    } else {
        Author::Visitor
    }
}

/// Writes a message (text or card) and marks its conversation as active.
pub async fn insert(db: &mut impl Db, message: &Message) -> Result<(), Error> {
    insert_with_key(db, message, None).await
}

/// [`insert`], remembering the client's `Idempotency-Key` (see [`with_key`]).
pub async fn insert_with_key(
    db: &mut impl Db,
    message: &Message,
    idempotency_key: Option<&str>,
) -> Result<(), Error> {
    let author = author_text(message.author);
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO messages (id, conversation_id, author, author_name, text, card_id, created_at, idempotency_key,
             text_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&message.id)
    .bind(&message.conversation_id)
    .bind(author)
    .bind(&message.author_name)
    .bind(&message.text)
    .bind(message.card.as_ref().map(|c| &c.id))
    .bind(&message.created_at)
    .bind(idempotency_key)
    .bind(message.text.as_deref().map(paycard_core::search::key))
    .execute(c)
    .await
    })?;
    super::conversations::touch(db, &message.conversation_id, &message.created_at).await
}

/// A message as stored: its card, if any, by id.
#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    author: String,
    pub author_name: String,
    pub text: Option<String>,
    pub card_id: Option<String>,
    pub created_at: String,
}

impl MessageRow {
    pub fn author(&self) -> Author {
        author(&self.author)
    }
}

/// The message this side of the conversation already sent with this `Idempotency-Key`.
pub async fn with_key(
    db: &mut impl Db,
    conversation_id: &str,
    author: Author,
    key: &str,
) -> Result<Option<MessageRow>, Error> {
    let author = author_text(author);
    on!(db, |c| sqlx::query_as(
        "SELECT id, conversation_id, author, author_name, text, card_id, created_at FROM messages
         WHERE conversation_id = $1 AND author = $2 AND idempotency_key = $3",
    )
    .bind(conversation_id)
    .bind(author)
    .bind(key)
    .fetch_optional(c)
    .await)
}

/// A conversation's messages, oldest first.
pub async fn list(db: &mut impl Db, conversation_id: &str) -> Result<Vec<MessageRow>, Error> {
    on!(db, |c| sqlx::query_as(
        "SELECT id, conversation_id, author, author_name, text, card_id, created_at FROM messages
         WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(c)
    .await)
}
