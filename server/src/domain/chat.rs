//! Conversations and their messages, from both sides, and the Payments picker.

use std::collections::HashMap;
use std::net::IpAddr;

use paycard_core::api::{
    Author, Conversation, ConversationCreated, ConversationEvent, ConversationPage, Message,
    MessageEvent, NewConversation, Payment, MESSAGE_MAX_CHARS, VISITOR_NAME_MAX_CHARS,
};
use paycard_core::validation::{validate_brand_id, validate_text, FieldError};
use paycard_core::Locale;
use rand::Rng;

use super::accounts::{OperatorAuth, VisitorAuth};
use super::live::{self, EventKind};
use crate::error::AppError;
use crate::secrets::{self, new_id, new_secret};
use crate::state::AppState;
use crate::store;

/// The brand of a conversation, or 404.
pub async fn brand_of(state: &AppState, conversation_id: &str) -> Result<String, AppError> {
    let mut db = state.store.read().await?;
    store::conversations::brand_of(&mut db, conversation_id)
        .await?
        .ok_or(AppError::NotFound("conversation"))
}

/// A visitor may open only their own conversation: 404 if there is no such
/// conversation, 403 if it is someone else's.
pub async fn ensure_own(state: &AppState, visitor: &VisitorAuth, id: &str) -> Result<(), AppError> {
    if visitor.conversation_id == id {
        return Ok(());
    }
    brand_of(state, id).await?;
    Err(AppError::Forbidden)
}

/// The brand of a conversation an operator works for: 404 if there is none, 403 if
/// another brand's.
pub async fn brand_for(state: &AppState, who: &OperatorAuth, id: &str) -> Result<String, AppError> {
    let brand = brand_of(state, id).await?;
    who.ensure_brand(&brand)?;
    Ok(brand)
}

/// Opens a conversation for a website visitor of a brand. No sign-in: the answer's
/// `visitor_token` is the visitor's key to this conversation and nothing else. A
/// visitor with no name gets a generated one, with a number to tell them apart.
pub async fn open(
    state: &AppState,
    client: IpAddr,
    locale: Option<Locale>,
    input: NewConversation,
) -> Result<ConversationCreated, AppError> {
    state.limits.conversations.check(&client)?;
    let mut errors = Vec::new();
    if let Err(e) = validate_brand_id(&input.brand_id) {
        errors.push(FieldError::new("brand_id", e.problem));
    }
    let visitor_name = match input.visitor_name.as_deref() {
        // One form in every language: each reader shows it in theirs.
        None => paycard_core::api::generated_visitor_name(rand::thread_rng().gen_range(0..10_000)),
        Some(name) => validate_text("visitor_name", name, VISITOR_NAME_MAX_CHARS, true)
            .map_err(|e| errors.push(e))
            .unwrap_or_default(),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (visitor_token, token_hash) = new_secret(secrets::VISITOR_TOKEN);
    let now = secrets::now();
    let conversation = Conversation {
        id: new_id("conv"),
        brand_id: input.brand_id,
        visitor_name,
        created_at: now.clone(),
        updated_at: now,
        last_message: None,
        unread: 0,
        closed_at: None,
    };
    let mut tx = state.store.write().await?;
    // A well-formed id of no brand: there is no such website to chat on.
    if !store::brands::exists(&mut tx, &conversation.brand_id).await? {
        return Err(AppError::NotFound("brand"));
    }
    let context = store::conversations::VisitorContext {
        page: input
            .page
            .as_deref()
            .and_then(super::visitors::page_without_query),
        time_zone: input
            .time_zone
            .filter(|tz| super::settings::is_time_zone(tz)),
        locale: input
            .locale
            .filter(|l| matches!(l.as_str(), "en" | "es"))
            .or_else(|| locale.map(|l| l.tag().to_owned())),
    };
    store::conversations::insert(&mut tx, &conversation, &token_hash, &context).await?;
    let event = ConversationEvent {
        conversation: conversation.clone(),
    };
    live::record(
        &mut tx,
        &conversation.brand_id,
        Some(&conversation.id),
        EventKind::Conversation,
        &event,
    )
    .await?;
    state.commit(tx).await?;
    tracing::info!(conversation = %conversation.id, brand = %conversation.brand_id, "conversation opened");
    Ok(ConversationCreated {
        conversation,
        visitor_token,
    })
}

/// Writes a text message and its event. With an `Idempotency-Key` this side already
/// sent, answers that message again and writes nothing.
pub async fn post(
    state: &AppState,
    conversation_id: &str,
    brand_id: &str,
    author: Author,
    author_name: &str,
    text: &str,
    idempotency_key: Option<&str>,
) -> Result<Message, AppError> {
    let text = validate_text("text", text, MESSAGE_MAX_CHARS, false)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let message = Message {
        id: new_id("msg"),
        conversation_id: conversation_id.to_owned(),
        author,
        author_name: author_name.to_owned(),
        text: Some(text),
        card: None,
        created_at: secrets::now(),
    };
    let mut tx = state.store.write().await?;
    // Sent before (the client retried after losing the answer): that message, once.
    if let Some(key) = idempotency_key {
        if let Some(sent) = store::messages::with_key(&mut tx, conversation_id, author, key).await?
        {
            return Ok(Message {
                author: sent.author(),
                id: sent.id,
                conversation_id: sent.conversation_id,
                author_name: sent.author_name,
                text: sent.text,
                card: None,
                created_at: sent.created_at,
            });
        }
    }
    store::messages::insert_with_key(&mut tx, &message, idempotency_key).await?;
    // The visitor writes again: the conversation is open again for every operator.
    if author == Author::Visitor && store::conversations::reopen(&mut tx, conversation_id).await? {
        super::visitors::announce(&mut tx, conversation_id).await?;
    }
    live::record(
        &mut tx,
        brand_id,
        Some(conversation_id),
        EventKind::Message,
        &MessageEvent {
            message: message.clone(),
        },
    )
    .await?;
    state.commit(tx).await?;
    Ok(message)
}

/// Which version of a conversation a client holds: the newest event of all (where a
/// stream opened with this snapshot resumes) and the newest of the conversation (it
/// changes with every event of it: the transcript's ETag).
pub struct Version {
    pub latest: i64,
    pub conversation: i64,
}

pub async fn version(state: &AppState, conversation_id: &str) -> Result<Version, AppError> {
    let mut db = state.store.read().await?;
    // The newest of all first: a stream resumed from it replays anything newer.
    let latest = store::events::latest(&mut db).await?;
    let conversation = store::events::latest_in_conversation(&mut db, conversation_id).await?;
    Ok(Version {
        latest,
        conversation,
    })
}

/// A conversation's messages, oldest first, card messages with their card as it is now.
pub async fn messages(state: &AppState, conversation_id: &str) -> Result<Vec<Message>, AppError> {
    let mut db = state.store.read().await?;
    let rows = store::messages::list(&mut db, conversation_id).await?;
    let mut cards: HashMap<String, store::cards::CardRow> =
        store::cards::in_conversation(&mut db, conversation_id)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows {
        let card = match row.card_id.as_ref().and_then(|id| cards.remove(id)) {
            Some(card) => Some(card.into_api()?),
            None => None,
        };
        messages.push(Message {
            author: row.author(),
            id: row.id,
            conversation_id: row.conversation_id,
            author_name: row.author_name,
            text: row.text,
            card,
            created_at: row.created_at,
        });
    }
    Ok(messages)
}

/// Where one page of the operators' list ends: the last conversation's activity time
/// and id, the list's order (`2026-11-27T10:00:00.000Z/conv_…`). Opaque to clients; its
/// pattern is in the schema.
pub fn cursor(conversation: &Conversation) -> String {
    write_cursor(&conversation.updated_at, &conversation.id)
}

/// A keyset cursor: a stored timestamp, `/`, an id ([`read_cursor`] reads it back).
pub fn write_cursor(at: &str, id: &str) -> String {
    format!("{at}/{id}")
}

/// Reads a [`cursor`]: a timestamp as stored, `/`, an id.
pub fn read_cursor(text: &str) -> Option<(String, String)> {
    let (at, id) = text.split_once('/')?;
    let shape = "0000-00-00T00:00:00.000Z";
    let at_ok = at.len() == shape.len()
        && at.bytes().zip(shape.bytes()).all(|(b, s)| {
            if s == b'0' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        });
    let id_ok =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (at_ok && id_ok).then(|| (at.to_owned(), id.to_owned()))
}

/// One page of the conversations of the operator's brands, most recent activity first,
/// and the event it reflects.
pub async fn page(
    state: &AppState,
    who: &OperatorAuth,
    list: &ListQuery,
    before: Option<(String, String)>,
    limit: u32,
) -> Result<(ConversationPage, i64), AppError> {
    // One brand of the caller's, or all of them; another brand's shows nothing.
    let brands: Vec<String> = match &list.brand {
        Some(brand) => who
            .account
            .brands
            .iter()
            .filter(|b| *b == brand)
            .cloned()
            .collect(),
        None => who.account.brands.clone(),
    };
    let search = list
        .search
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let filter = store::conversations::Filter {
        open: list.open,
        // A generated name as a reader sees it ("Visitante 0042" in Spanish) is stored
        // in another form: its number finds it in every form.
        search: search.map(|q| paycard_core::api::generated_visitor_number(q).unwrap_or(q)),
        id: None,
    };
    let mut db = state.store.read().await?;
    // Read before the list: a stream resumed from it replays anything newer.
    let seq = store::events::latest(&mut db).await?;
    // One more than asked: whether there is a next page.
    let mut items = store::conversations::page(
        &mut db,
        &who.account.id,
        &brands,
        filter,
        before.as_ref().map(|(at, id)| (at.as_str(), id.as_str())),
        limit + 1,
    )
    .await?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(cursor)
    } else {
        None
    };
    Ok((ConversationPage { items, next }, seq))
}

/// Which conversations an operator's list shows (all of theirs when every field is
/// `None`).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `Some(true)`: open only; `Some(false)`: closed only.
    pub open: Option<bool>,
    pub brand: Option<String>,
    pub search: Option<String>,
}

/// Closes (`close`) or reopens a conversation, announcing it to every open list; the
/// conversation as it is now. Closing a closed one (or opening an open one) changes
/// nothing and answers it as it is.
pub async fn set_closed(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
    close: bool,
) -> Result<Conversation, AppError> {
    let brand = brand_for(state, who, conversation_id).await?;
    let mut tx = state.store.write().await?;
    let changed = if close {
        store::conversations::close(&mut tx, conversation_id, &who.account.id, &secrets::now())
            .await?
    } else {
        store::conversations::reopen(&mut tx, conversation_id).await?
    };
    if changed {
        super::visitors::announce(&mut tx, conversation_id).await?;
    }
    // Its line as the caller's list shows it: their unread count, the last message.
    let filter = store::conversations::Filter {
        id: Some(conversation_id),
        ..Default::default()
    };
    let conversation =
        store::conversations::page(&mut tx, &who.account.id, &[brand], filter, None, 1)
            .await?
            .pop()
            .ok_or(AppError::NotFound("conversation"))?;
    if changed {
        state.commit(tx).await?;
        tracing::info!(conversation = %conversation_id, by = %who.account.email, closed = close, "conversation closed or reopened");
    }
    Ok(conversation)
}

/// The operator has read the conversation up to its newest message.
pub async fn mark_read(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
) -> Result<(), AppError> {
    brand_for(state, who, conversation_id).await?;
    let mut tx = state.store.write().await?;
    store::conversations::mark_read(&mut tx, &who.account.id, conversation_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The Payments picker: the active payments of the conversation's brand, by title.
pub async fn picker(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
    search: Option<&str>,
) -> Result<Vec<Payment>, AppError> {
    let brand = brand_for(state, who, conversation_id).await?;
    let search = search.map(str::trim).filter(|q| !q.is_empty());
    let mut db = state.store.read().await?;
    Ok(store::payments::picker(&mut db, &brand, search).await?)
}

/// Gives searchable texts written without a search key (before keys existed, or by an
/// older instance during an upgrade) theirs, some at a time: the housekeeping job's.
pub async fn fill_search_keys(state: &AppState) -> Result<u64, AppError> {
    Ok(store::search::fill_missing(&state.store, 5_000).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursors_read_back_and_nothing_else_does() {
        let c = paycard_core::api::Conversation {
            id: "conv_01ab".into(),
            brand_id: "acme".into(),
            visitor_name: "Ana".into(),
            created_at: "2026-11-27T10:00:00.000Z".into(),
            updated_at: "2026-11-27T10:00:00.000Z".into(),
            last_message: None,
            unread: 0,
            closed_at: None,
        };
        let text = super::cursor(&c);
        assert_eq!(
            super::read_cursor(&text),
            Some((c.updated_at.clone(), c.id.clone()))
        );
        for bad in [
            "",
            "yesterday",
            "2026-11-27T10:00:00.000Z/",
            "2026-11-27/conv_1",
            "2026-11-27T10:00:00.000Z/a b",
        ] {
            assert_eq!(super::read_cursor(bad), None, "{bad}");
        }
    }
}
