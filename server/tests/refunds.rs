//! Refunds (SPEC §8.3) of sandbox payments: part, then the rest, live on the chat; never
//! more than was paid, however many arrive at once; once per Idempotency-Key.

mod common;

use std::time::Duration;

use common::{assert_error, SseClient, TestServer};
use serde_json::{json, Value};

async fn refund(s: &TestServer, admin: &str, card: &str, body: Value) -> reqwest::Response {
    s.post_json(
        &format!("/api/v1/admin/cards/{card}/refunds"),
        Some(admin),
        body,
    )
    .await
}

#[tokio::test]
async fn part_then_the_rest_reaches_both_chat_sides_live() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (card, visitor) = s.paid_card("pay_demo_mug").await; // 25.00 EUR
    let conv_stream = s
        .get(
            &format!("/api/v1/conversations/{}/events", {
                let c: Value = s
                    .get(&format!("/api/v1/cards/{card}"), Some(&visitor))
                    .await
                    .json()
                    .await
                    .unwrap();
                c["conversation_id"].as_str().unwrap().to_owned()
            }),
            Some(&visitor),
        )
        .await;
    let mut stream = SseClient::connect(conv_stream).await;

    let res = refund(
        &s,
        &admin,
        &card,
        json!({"amount_minor": 1000.0, "reason": "Chipped handle"}), // 1000.0: the whole number it is
    )
    .await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["amount_minor"], 1000);
    assert_eq!(first["currency"], "EUR");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["reason"], "Chipped handle");
    let event = stream
        .next(Duration::from_secs(3))
        .await
        .expect("the visitor hears of it");
    assert_eq!(event.event.as_deref(), Some("card"));
    let seen: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(seen["card"]["status"], "paid");
    assert_eq!(seen["card"]["refunded_minor"], 1000);

    // More than is left: refused, with what is left.
    let res = refund(&s, &admin, &card, json!({"amount_minor": 1501})).await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "amount_minor");
    assert_error(
        refund(&s, &admin, &card, json!({"amount_minor": 0})).await,
        400,
        "validation_failed",
    )
    .await;

    // No amount: the rest. The card is refunded.
    let res = refund(&s, &admin, &card, json!({})).await;
    assert_eq!(res.status(), 201);
    let rest: Value = res.json().await.unwrap();
    assert_eq!(rest["amount_minor"], 1500);
    let now: Value = s
        .get(&format!("/api/v1/cards/{card}"), Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "refunded");
    assert_eq!(now["refunded_minor"], 2500);
    let event = stream.next(Duration::from_secs(3)).await.unwrap();
    assert!(event.data.contains("\"refunded\""), "{}", event.data);
    assert_error(
        refund(&s, &admin, &card, json!({})).await,
        409,
        "not_refundable",
    )
    .await;

    let listed: Value = s
        .get(&format!("/api/v1/admin/cards/{card}/refunds"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let amounts: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [1000, 1500], "oldest first");
}

#[tokio::test]
async fn only_admins_refund_only_paid_cards_and_a_retry_refunds_once() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let op = s.operator().await;
    let (conv, _) = s.conversation("acme").await;
    let unpaid = s.share(&op, &conv, "pay_demo_mug").await;
    let unpaid = unpaid["id"].as_str().unwrap();
    assert_error(
        refund(&s, &admin, unpaid, json!({})).await,
        409,
        "not_refundable",
    )
    .await;
    assert_error(
        refund(&s, &admin, "card_nope", json!({})).await,
        404,
        "not_found",
    )
    .await;
    let (card, _) = s.paid_card("pay_demo_mug").await;
    assert_error(refund(&s, &op, &card, json!({})).await, 403, "forbidden").await;

    let again = |key: &'static str| {
        let (s, admin, card) = (&s, admin.clone(), card.clone());
        async move {
            s.http
                .post(s.url(&format!("/api/v1/admin/cards/{card}/refunds")))
                .bearer_auth(admin)
                .header("Idempotency-Key", key)
                .json(&json!({"amount_minor": 700}))
                .send()
                .await
                .unwrap()
        }
    };
    let first: Value = again("refund-1").await.json().await.unwrap();
    let second: Value = again("refund-1").await.json().await.unwrap();
    assert_eq!(first["id"], second["id"], "the same refund");
    let card_now: Value = s
        .get(&format!("/api/v1/cards/{card}"), Some(&op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card_now["refunded_minor"], 700, "refunded once");
}

#[tokio::test]
async fn racing_refunds_never_give_back_more_than_was_paid() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (card, visitor) = s.paid_card("pay_demo_mug").await; // 2500
    let races = (0..12).map(|_| refund(&s, &admin, &card, json!({"amount_minor": 400})));
    let answers: Vec<u16> = futures_util::future::join_all(races)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let made = answers.iter().filter(|&&c| c == 201).count();
    assert_eq!(made, 6, "2500 holds six refunds of 400: {answers:?}");
    assert!(answers.iter().all(|&c| c == 201 || c == 400), "{answers:?}");
    // What is left (100) can still go back; then nothing more.
    assert_eq!(refund(&s, &admin, &card, json!({})).await.status(), 201);
    let now: Value = s
        .get(&format!("/api/v1/cards/{card}"), Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (now["status"].as_str(), now["refunded_minor"].as_i64()),
        (Some("refunded"), Some(2500))
    );
    let total: i64 = s
        .value(
            "SELECT CAST(SUM(amount_minor) AS TEXT) FROM refunds WHERE card_id = $1 AND status = 'succeeded'",
            &[&card],
        )
        .await
        .parse()
        .unwrap();
    assert_eq!(total, 2500);
}
