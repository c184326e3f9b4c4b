//! API keys (SPEC §8.5): a bot with a key does what an operator of its brands does — its
//! name as author, its stream live — and nothing an admin does, nor anything in another
//! brand; the key is shown once, kept hashed, and stops working when deleted.

mod common;

use std::time::Duration;

use common::{assert_error, SseClient, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn create_key(s: &TestServer, admin: &str, body: Value) -> reqwest::Response {
    s.post_json("/api/v1/admin/api-keys", Some(admin), body)
        .await
}

#[tokio::test]
async fn a_bot_with_a_key_works_as_an_operator_of_its_brands_and_nothing_more() {
    // Streams are checked every heartbeat: a key's must hold through them.
    let s = TestServer::start_with(&[("PAYCARD_HEARTBEAT_SECONDS", "1")]).await;
    let admin = s.admin().await;
    let res = create_key(
        &s,
        &admin,
        json!({"name": " Sales bot ", "brand_ids": ["acme"]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pck_"), "{key}");
    assert_eq!(created["name"], "Sales bot");
    assert_eq!(created["brand_ids"], json!(["acme"]));

    // Listed without the key, never used yet.
    let listed: Value = s
        .get("/api/v1/admin/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);
    assert_eq!(listed[0]["last_used_at"], Value::Null);
    assert!(!listed.to_string().contains(&key[4..]));
    // Kept as a hash only.
    let stored = s.stored_bytes().await;
    assert!(
        !String::from_utf8_lossy(&stored).contains(&key[4..]),
        "the key is in the database"
    );

    // The bot follows the brand's stream, writes in a conversation and shares a card.
    let ticket_free_stream = s.get("/api/v1/operator/events", Some(&key)).await;
    let mut stream = SseClient::connect(ticket_free_stream).await;
    let (conv, visitor) = s.conversation("acme").await;
    let said = s
        .post_json(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&key),
            json!({"text": "Hi, I can take your order"}),
        )
        .await;
    assert_eq!(said.status(), 201);
    let said: Value = said.json().await.unwrap();
    assert_eq!(said["author"], "operator");
    assert_eq!(said["author_name"], "Sales bot");
    let card = s.share(&key, &conv, "pay_demo_mug").await;
    assert_eq!(card["status"], "pending");
    let kinds: Vec<String> = stream
        .drain(Duration::from_millis(500))
        .await
        .into_iter()
        .filter_map(|e| e.event)
        .collect();
    assert!(kinds.iter().any(|k| k == "message"), "{kinds:?}");
    let later = stream.drain(Duration::from_millis(2500)).await;
    assert!(
        !later.iter().any(|e| e.event.as_deref() == Some("closed")),
        "a live key's stream outlasts the heartbeat checks: {later:?}"
    );
    // The visitor sees it as any operator's card.
    let seen = s
        .get(
            &format!("/api/v1/cards/{}", card["id"].as_str().unwrap()),
            Some(&visitor),
        )
        .await;
    assert_eq!(seen.status(), 200);

    // Nothing an admin does; nothing in another brand.
    assert_error(
        s.get("/api/v1/admin/brands", Some(&key)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        create_key(&s, &key, json!({"name": "x", "brand_ids": ["acme"]})).await,
        403,
        "forbidden",
    )
    .await;
    let (zen_conv, _) = s.conversation("zen").await;
    let other = s
        .post_json(
            &format!("/api/v1/operator/conversations/{zen_conv}/cards"),
            Some(&key),
            json!({"payment_id": "pay_demo_dropin"}),
        )
        .await;
    assert_error(other, 403, "forbidden").await;
    // Nor can it sign in as a person (its account has no password).
    let email = s
        .value("SELECT email FROM accounts WHERE name = 'Sales bot'", &[])
        .await;
    let login = s
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": "!"}),
        )
        .await;
    assert_eq!(login.status(), 401);

    // Its use is noted.
    let listed: Value = s
        .get("/api/v1/admin/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // Deleted: refused at once, its stream ends, the card it shared stays.
    let id = created["id"].as_str().unwrap();
    let gone = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status(), 204);
    assert_error(
        s.get("/api/v1/operator/conversations", Some(&key)).await,
        401,
        "unauthorized",
    )
    .await;
    let last = stream.drain(Duration::from_millis(500)).await;
    assert!(
        last.iter().any(|e| e.event.as_deref() == Some("closed")),
        "the key's stream ends: {last:?}"
    );
    let listed: Value = s
        .get("/api/v1/admin/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let messages: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        messages.to_string().contains("Sales bot"),
        "its messages keep their author"
    );
    let again = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn keys_are_checked_like_everything_else_an_admin_writes() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let bad = create_key(&s, &admin, json!({"name": "", "brand_ids": []})).await;
    let body = assert_error(bad, 400, "validation_failed").await;
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "brand_ids"]);
    let bad = create_key(
        &s,
        &admin,
        json!({"name": "Bot", "brand_ids": ["Not A Brand"]}),
    )
    .await;
    assert_error(bad, 400, "validation_failed").await;
    let unknown = create_key(&s, &admin, json!({"name": "Bot", "brand_ids": ["nope"]})).await;
    assert_error(unknown, 404, "not_found").await;
    // An operator makes no keys.
    let op = s.operator().await;
    let refused = create_key(&s, &op, json!({"name": "Bot", "brand_ids": ["acme"]})).await;
    assert_error(refused, 403, "forbidden").await;
    // A brand the admin does not work for.
    s.sql("DELETE FROM account_brands WHERE brand_id = 'zen'", &[])
        .await;
    let admin = s.admin().await;
    let other = create_key(
        &s,
        &admin,
        json!({"name": "Bot", "brand_ids": ["acme", "zen"]}),
    )
    .await;
    assert_error(other, 403, "forbidden").await;
}
