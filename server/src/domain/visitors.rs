//! Who a conversation's visitor is, for the operator's context panel (issue 15): the
//! name and email (from their first checkout, or corrected by an operator), the widget's
//! language, the page the chat started on, their time zone, and every card they were
//! asked to pay with its attempts and refunds.

use paycard_core::api::VISITOR_NAME_MAX_CHARS;
use paycard_core::api::{ConversationEvent, VisitorCard, VisitorPatch, VisitorProfile};
use paycard_core::validation::{validate_email, validate_text};

use super::accounts::OperatorAuth;
use super::chat::brand_for;
use super::live::{self, EventKind};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, Db};

/// The longest start page kept.
const PAGE_MAX_CHARS: usize = 500;

/// An http(s) address without its query and fragment (they may hold what is nobody
/// else's business: tokens, emails); `None` for anything else.
pub fn page_without_query(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let bare = text.split(['?', '#']).next().unwrap_or_default();
    if bare.chars().any(char::is_control) || bare.len() <= "https://".len() {
        return None;
    }
    Some(bare.chars().take(PAGE_MAX_CHARS).collect())
}

/// Tells the consoles that a conversation changed — its visitor has a new name, it was
/// closed or opened again — with a `conversation` event holding it as it is now, in
/// the transaction that changed it.
pub async fn announce(db: &mut impl Db, conversation_id: &str) -> Result<(), AppError> {
    if let Some(conversation) = store::conversations::get(db, conversation_id).await? {
        let brand = conversation.brand_id.clone();
        live::record(
            db,
            &brand,
            Some(conversation_id),
            EventKind::Conversation,
            &ConversationEvent { conversation },
        )
        .await?;
    }
    Ok(())
}

pub async fn profile(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
) -> Result<VisitorProfile, AppError> {
    brand_for(state, who, conversation_id).await?;
    let mut db = state.store.read().await?;
    load(&mut db, conversation_id).await
}

async fn load(db: &mut impl Db, conversation_id: &str) -> Result<VisitorProfile, AppError> {
    let row = store::conversations::visitor(db, conversation_id)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
    let rows =
        store::cards::of_visitor(db, &row.id, &row.brand_id, row.visitor_email.as_deref()).await?;
    let mut cards = Vec::with_capacity(rows.len());
    for card in rows {
        let attempts = store::attempts::of_card(db, &card.id).await?;
        let refunds = store::refunds::of_card(db, &card.id)
            .await?
            .into_iter()
            .map(|r| r.into_api())
            .collect::<Result<Vec<_>, _>>()?;
        cards.push(VisitorCard {
            card: card.into_api()?,
            attempts,
            refunds,
        });
    }
    Ok(VisitorProfile {
        conversation_id: row.id,
        name: row.visitor_name,
        email: row.visitor_email,
        locale: row.visitor_locale,
        page: row.start_page,
        time_zone: row.visitor_time_zone,
        cards,
    })
}

/// The operator corrects the visitor's name or email.
pub async fn update(
    state: &AppState,
    who: &OperatorAuth,
    conversation_id: &str,
    patch: &VisitorPatch,
) -> Result<VisitorProfile, AppError> {
    brand_for(state, who, conversation_id).await?;
    let mut errors = Vec::new();
    let name = patch
        .name
        .as_deref()
        .map(|name| validate_text("name", name, VISITOR_NAME_MAX_CHARS, true))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let email = patch
        .email
        .as_deref()
        .map(|email| validate_email("email", email))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = state.store.write().await?;
    store::conversations::set_visitor(&mut tx, conversation_id, name.as_deref(), email.as_deref())
        .await?;
    if name.is_some() {
        announce(&mut tx, conversation_id).await?;
    }
    let profile = load(&mut tx, conversation_id).await?;
    state.commit(tx).await?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::page_without_query;

    #[test]
    fn start_pages_keep_no_query_or_fragment() {
        assert_eq!(
            page_without_query("https://shop.example/mugs?token=secret#top").as_deref(),
            Some("https://shop.example/mugs")
        );
        assert_eq!(
            page_without_query("HTTP://shop.example/").as_deref(),
            Some("HTTP://shop.example/")
        );
        for bad in [
            "javascript:alert(1)",
            "ftp://x.example/",
            "https://",
            "/relative",
            "https://a.example/\u{7}x",
        ] {
            assert_eq!(page_without_query(bad), None, "{bad}");
        }
    }
}
