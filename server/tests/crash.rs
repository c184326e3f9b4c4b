//! `kill -9` under concurrent writes, then a restart on the same database: everything the
//! server acknowledged (a 201 for a message, a share, a conversation) is still there.

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::binary::start_with;
use serde_json::{json, Value};

const PASSWORD: &str = "crash-test-password";
const NO_LIMITS: &[(&str, &str)] = &[
    ("PAYCARD_LIMIT_CONVERSATIONS", "off"),
    ("PAYCARD_LIMIT_MESSAGES", "off"),
    ("PAYCARD_LIMIT_LOGIN", "off"),
    ("PAYCARD_LIMIT_LOGIN_ACCOUNT", "off"),
];

#[derive(Default)]
struct Acknowledged {
    /// (conversation id, visitor token)
    conversations: Vec<(String, String)>,
    messages: HashSet<String>,
    cards: HashSet<String>,
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_to_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("paycard.db");
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    for round in 0..3 {
        let server = start_with(&db, Some(PASSWORD), NO_LIMITS, Stdio::null());
        let base = server.base.clone();
        let http = reqwest::Client::new();
        let op: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "operator@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let op = op["token"].as_str().unwrap().to_owned();
        // Writers: each opens a conversation, then writes and shares in it for ever.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (http, base, op, acked) = (http.clone(), base.clone(), op.clone(), acked.clone());
                tokio::spawn(async move {
                    let Ok(res) = http
                        .post(format!("{base}/api/v1/conversations"))
                        .json(&json!({"brand_id": "acme"}))
                        .send()
                        .await
                    else {
                        return;
                    };
                    if res.status() != 201 {
                        return;
                    }
                    let Ok(created) = res.json::<Value>().await else { return };
                    let conv = created["conversation"]["id"].as_str().unwrap().to_owned();
                    let token = created["visitor_token"].as_str().unwrap().to_owned();
                    acked.lock().unwrap().conversations.push((conv.clone(), token.clone()));
                    for i in 0.. {
                        let res = if i % 5 == 4 {
                            http.post(format!("{base}/api/v1/operator/conversations/{conv}/cards"))
                                .bearer_auth(&op)
                                .json(&json!({"payment_id": "pay_demo_mug"}))
                                .send()
                                .await
                        } else {
                            http.post(format!("{base}/api/v1/conversations/{conv}/messages"))
                                .bearer_auth(&token)
                                .json(&json!({"text": format!("round {round} writer {w} message {i}")}))
                                .send()
                                .await
                        };
                        let Ok(res) = res else { return };
                        if res.status() != 201 {
                            return;
                        }
                        let Ok(body) = res.json::<Value>().await else { return };
                        let id = body["id"].as_str().unwrap().to_owned();
                        let mut acked = acked.lock().unwrap();
                        if i % 5 == 4 {
                            acked.cards.insert(id);
                        } else {
                            acked.messages.insert(id);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 250 * round)).await;
        server.kill9();
        for writer in writers {
            let _ = writer.await;
        }
    }

    // Back up on the same database: every acknowledged write is there.
    let server = start_with(&db, Some(PASSWORD), NO_LIMITS, Stdio::null());
    let http = reqwest::Client::new();
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.messages.len() > 50,
        "the writers wrote: {}",
        acked.messages.len()
    );
    assert!(!acked.cards.is_empty());
    let mut found_messages = HashSet::new();
    let mut found_cards = HashSet::new();
    for (conv, token) in &acked.conversations {
        let res = http
            .get(format!(
                "{}/api/v1/conversations/{conv}/messages",
                server.base
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "conversation {conv} is there");
        let messages: Vec<Value> = res.json().await.unwrap();
        for m in messages {
            found_messages.insert(m["id"].as_str().unwrap().to_owned());
            if let Some(card) = m["card"]["id"].as_str() {
                found_cards.insert(card.to_owned());
            }
        }
    }
    let lost_messages: Vec<_> = acked.messages.difference(&found_messages).collect();
    let lost_cards: Vec<_> = acked.cards.difference(&found_cards).collect();
    assert!(
        lost_messages.is_empty(),
        "lost {} messages: {lost_messages:?}",
        lost_messages.len()
    );
    assert!(lost_cards.is_empty(), "lost cards: {lost_cards:?}");
    println!(
        "kill -9 three times: {} messages, {} cards and {} conversations acknowledged, none lost",
        acked.messages.len(),
        acked.cards.len(),
        acked.conversations.len()
    );
}
