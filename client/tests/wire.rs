//! The visitor's path reads and writes its JSON by hand (`paycard_client::wire`) while
//! the server writes it with serde (`paycard_core::api`'s derives): every type must read
//! exactly what serde writes, refuse what serde refuses, and write what serde reads.
#![cfg(target_arch = "wasm32")]

use paycard_client::outbox::Outgoing;
use paycard_client::wire::{self, ErrorCode, FromJs, ToJs};
use paycard_core::api::{
    Author, Card, CardEvent, Checkout, Conversation, ConversationCreated, ConversationEvent,
    LastMessage, Message, MessageEvent, NewConversation, NewMessage, StreamTicket,
};
use paycard_core::{CardStatus, Currency, Recurrence};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the server writes for `value`, read back by hand, is `value`.
fn reads_as_serde_writes<T>(value: &T)
where
    T: Serialize + FromJs + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).unwrap();
    assert_eq!(
        wire::parse::<T>(&text).as_ref(),
        Some(value),
        "reading {text}"
    );
}

/// What is written by hand, serde reads back as `value`.
fn serde_reads_as_written<T>(value: &T)
where
    T: ToJs + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = wire::stringify(value).unwrap();
    assert_eq!(
        &serde_json::from_str::<T>(&text).unwrap(),
        value,
        "serde reading {text}"
    );
}

fn card(status: CardStatus, recurrence: Option<Recurrence>) -> Card {
    Card {
        id: "card_1".into(),
        conversation_id: "conv_1".into(),
        payment_id: "pay_1".into(),
        title: "Mug «ñ» ☕".into(),
        description: "".into(),
        amount_minor: 4900,
        currency: Currency::from_code("EUR").unwrap(),
        recurrence,
        status,
        failure_reason: (status == CardStatus::Failed).then(|| "card_declined".into()),
        refunded_minor: if status == CardStatus::Paid { 1000 } else { 0 },
        version: 7,
        created_at: "2026-12-05T10:00:00Z".into(),
        updated_at: "2026-12-05T10:01:00Z".into(),
        expires_at: "2026-12-06T10:00:00Z".into(),
    }
}

fn message(card: Option<Card>) -> Message {
    Message {
        id: "msg_1".into(),
        conversation_id: "conv_1".into(),
        author: if card.is_some() {
            Author::Operator
        } else {
            Author::Visitor
        },
        author_name: "Visitor 12".into(),
        text: card.is_none().then(|| "Hello \"there\"\n".into()),
        card,
        created_at: "2026-12-05T10:00:00Z".into(),
    }
}

fn conversation(closed: bool) -> Conversation {
    Conversation {
        id: "conv_1".into(),
        brand_id: "brand_1".into(),
        visitor_name: "Ana".into(),
        created_at: "2026-12-05T10:00:00Z".into(),
        updated_at: "2026-12-05T10:02:00Z".into(),
        last_message: closed.then(|| LastMessage {
            author: Author::Visitor,
            text: "Thanks".into(),
            created_at: "2026-12-05T10:02:00Z".into(),
        }),
        unread: 3,
        closed_at: closed.then(|| "2026-12-05T11:00:00Z".into()),
    }
}

#[wasm_bindgen_test]
fn every_card_reads_as_the_server_writes_it() {
    let monthly = Some(Recurrence::MONTHLY);
    for status in CardStatus::ALL {
        reads_as_serde_writes(&card(status, None));
        reads_as_serde_writes(&card(status, monthly));
        reads_as_serde_writes(&CardEvent {
            card: card(status, Some(Recurrence::QUARTERLY)),
        });
    }
}

#[wasm_bindgen_test]
fn messages_conversations_and_answers_read_as_written() {
    let with_card = message(Some(card(CardStatus::Pending, None)));
    reads_as_serde_writes(&with_card);
    reads_as_serde_writes(&message(None));
    reads_as_serde_writes(&vec![message(None), with_card.clone()]);
    reads_as_serde_writes(&Vec::<Message>::new());
    reads_as_serde_writes(&MessageEvent { message: with_card });
    for closed in [false, true] {
        reads_as_serde_writes(&conversation(closed));
        reads_as_serde_writes(&ConversationEvent {
            conversation: conversation(closed),
        });
    }
    reads_as_serde_writes(&ConversationCreated {
        conversation: conversation(false),
        visitor_token: "vt_abc".into(),
    });
    reads_as_serde_writes(&Checkout {
        checkout_url: "http://127.0.0.1/pay/tok".into(),
    });
    reads_as_serde_writes(&StreamTicket {
        ticket: "t".into(),
        expires_in_seconds: 60,
    });
}

#[wasm_bindgen_test]
fn defaults_apply_where_serde_has_them() {
    let mut text = serde_json::to_value(card(CardStatus::Pending, None)).unwrap();
    text.as_object_mut().unwrap().remove("refunded_minor");
    let read = wire::parse::<Card>(&text.to_string()).unwrap();
    assert_eq!(read.refunded_minor, 0);

    let mut text = serde_json::to_value(conversation(false)).unwrap();
    text.as_object_mut().unwrap().remove("unread");
    // `closed_at` is left out by the server when open; `last_message` may be null.
    assert!(!text.as_object().unwrap().contains_key("closed_at"));
    let read = wire::parse::<Conversation>(&text.to_string()).unwrap();
    assert_eq!(
        (read.unread, read.closed_at, read.last_message),
        (0, None, None)
    );
}

#[wasm_bindgen_test]
fn what_serde_refuses_is_refused() {
    let good = serde_json::to_value(card(CardStatus::Failed, None)).unwrap();
    let broken = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        match value {
            serde_json::Value::Null if field.starts_with('-') => {
                v.as_object_mut().unwrap().remove(&field[1..]);
            }
            other => {
                v[field] = other;
            }
        }
        v.to_string()
    };
    let cases = [
        broken("amount_minor", serde_json::json!(49.5)),
        broken("amount_minor", serde_json::json!("4900")),
        broken("currency", serde_json::json!("NOPE")),
        broken("status", serde_json::json!("lost")),
        broken(
            "recurrence",
            serde_json::json!({"interval": "fortnight", "count": 1}),
        ),
        broken(
            "recurrence",
            serde_json::json!({"interval": "month", "count": -1}),
        ),
        broken("title", serde_json::json!(null)),
        broken("-id", serde_json::Value::Null),
        broken("-version", serde_json::Value::Null),
    ];
    for text in cases {
        assert!(
            serde_json::from_str::<Card>(&text).is_err(),
            "serde takes {text}"
        );
        assert_eq!(wire::parse::<Card>(&text), None, "read {text}");
    }
    for text in ["", "not json", "null", "[]", "42", "{}", r#"[{"id":1}]"#] {
        assert_eq!(wire::parse::<Card>(text), None, "read {text}");
    }
    assert_eq!(wire::parse::<Vec<Message>>(r#"[{"id": "m"}]"#), None);
    // Unknown fields are ignored, as serde does.
    let mut extra = good.clone();
    extra["added_later"] = serde_json::json!({"x": 1});
    assert_eq!(
        wire::parse::<Card>(&extra.to_string()),
        Some(card(CardStatus::Failed, None))
    );
}

#[wasm_bindgen_test]
fn error_bodies_give_their_code_and_message() {
    let body = r#"{"error": {"code": "validation_failed", "message": "Bad text",
        "fields": [{"field": "text", "code": "too_long"}]}}"#;
    assert_eq!(
        wire::parse::<ErrorCode>(body),
        Some(ErrorCode {
            code: "validation_failed".into(),
            message: "Bad text".into()
        })
    );
    assert_eq!(wire::parse::<ErrorCode>(r#"{"error": "nope"}"#), None);
    assert_eq!(wire::parse::<ErrorCode>("<html>502</html>"), None);
}

#[wasm_bindgen_test]
fn request_bodies_are_what_the_server_reads() {
    serde_reads_as_written(&NewConversation {
        brand_id: "brand_1".into(),
        visitor_name: None,
        page: Some("https://shop.example/cart?x=1".into()),
        time_zone: Some("Europe/Madrid".into()),
        locale: Some("es".into()),
    });
    let bare = NewConversation {
        brand_id: "brand_1".into(),
        visitor_name: None,
        page: None,
        time_zone: None,
        locale: None,
    };
    serde_reads_as_written(&bare);
    // Absent values are left out, as the server's own writer does.
    assert_eq!(
        wire::stringify(&bare).unwrap(),
        serde_json::to_string(&bare).unwrap()
    );
    serde_reads_as_written(&NewMessage {
        text: "¿Cuánto es? \u{1F600}".into(),
    });
}

#[wasm_bindgen_test]
fn the_kept_outbox_reads_back_including_queues_kept_before_arrived() {
    let queue = vec![
        Outgoing {
            key: "message-1".into(),
            text: "first".into(),
            waiting: true,
            arrived: false,
        },
        Outgoing {
            key: "message-2".into(),
            text: "second".into(),
            waiting: false,
            arrived: true,
        },
    ];
    let text = wire::stringify(&queue).unwrap();
    assert_eq!(wire::parse::<Vec<Outgoing>>(&text), Some(queue));
    let old = r#"[{"key": "k", "text": "t", "waiting": false}]"#;
    assert!(!wire::parse::<Vec<Outgoing>>(old).unwrap()[0].arrived);
}
