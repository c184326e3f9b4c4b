//! A conversation as a client holds it: the messages, kept current by live events.
//!
//! Both the widget and the console apply the server's events through this, so a card
//! update that arrives twice, or late, or before the message that carries the card (a
//! replay after a snapshot) never moves a card backwards or duplicates a message.

use crate::api::{Card, Message};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    messages: Vec<Message>,
}

impl Transcript {
    pub fn new(messages: Vec<Message>) -> Transcript {
        let mut t = Transcript::default();
        for m in messages {
            t.add_message(m);
        }
        t
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Adds a message, or updates it if already here (a replayed event). Messages stay
    /// ordered by id, which the server makes time-ordered.
    pub fn add_message(&mut self, message: Message) {
        match self.messages.binary_search_by(|m| m.id.cmp(&message.id)) {
            Ok(i) => {
                let keep_newer_card = match (&self.messages[i].card, &message.card) {
                    (Some(old), Some(new)) => old.version > new.version,
                    _ => false,
                };
                if !keep_newer_card {
                    self.messages[i] = message;
                }
            }
            Err(i) => self.messages.insert(i, message),
        }
    }

    /// Applies a card update to the message that carries the card, if it is newer.
    /// Returns whether anything changed.
    pub fn update_card(&mut self, card: Card) -> bool {
        for message in &mut self.messages {
            if let Some(current) = &mut message.card {
                if current.id == card.id {
                    if card.version > current.version {
                        *current = card;
                        return true;
                    }
                    return false;
                }
            }
        }
        false
    }

    /// The card with this id, as it now is.
    pub fn card(&self, id: &str) -> Option<&Card> {
        self.messages
            .iter()
            .filter_map(|m| m.card.as_ref())
            .find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Author;
    use crate::{CardStatus, Currency};

    fn card(id: &str, status: CardStatus, version: i64) -> Card {
        Card {
            id: id.into(),
            conversation_id: "c".into(),
            payment_id: "p".into(),
            title: "Mug".into(),
            description: String::new(),
            amount_minor: 2500,
            currency: Currency::from_code("EUR").unwrap(),
            recurrence: None,
            status,
            failure_reason: None,
            version,
            created_at: String::new(),
            updated_at: String::new(),
            expires_at: String::new(),
            refunded_minor: 0,
        }
    }

    fn text(id: &str, text: &str) -> Message {
        Message {
            id: id.into(),
            conversation_id: "c".into(),
            author: Author::Visitor,
            author_name: "Ana".into(),
            text: Some(text.into()),
            card: None,
            created_at: String::new(),
        }
    }

    fn card_message(id: &str, card: Card) -> Message {
        Message {
            text: None,
            card: Some(card),
            author: Author::Operator,
            ..text(id, "")
        }
    }

    #[test]
    fn messages_are_ordered_and_never_duplicated() {
        let mut t = Transcript::new(vec![text("m2", "two"), text("m1", "one")]);
        t.add_message(text("m3", "three"));
        t.add_message(text("m2", "two"));
        let ids: Vec<&str> = t.messages().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);
    }

    #[test]
    fn card_updates_only_move_forward() {
        let mut t = Transcript::new(vec![card_message("m1", card("k1", CardStatus::Pending, 1))]);
        assert!(t.update_card(card("k1", CardStatus::Cancelled, 2)));
        assert!(
            !t.update_card(card("k1", CardStatus::Pending, 1)),
            "a stale update is ignored"
        );
        assert!(
            !t.update_card(card("k2", CardStatus::Paid, 5)),
            "an unknown card changes nothing"
        );
        assert_eq!(t.card("k1").unwrap().status, CardStatus::Cancelled);
        // A replayed share event carrying the old card does not undo the cancel.
        t.add_message(card_message("m1", card("k1", CardStatus::Pending, 1)));
        assert_eq!(t.card("k1").unwrap().status, CardStatus::Cancelled);
    }
}
