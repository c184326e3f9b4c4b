//! The HTTP contract of SPEC §4, driven over real HTTP against the real router and a
//! real SQLite database: every endpoint's happy path, 401, 403, 404, 409 for refused
//! transitions, 400/413 for bad input, idempotent Share, ETag/304, races, live streams.

mod common;

use std::time::Duration;

use common::{assert_error, SseClient, TestServer};
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_millis(600);

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn login_gives_a_token_and_a_strict_http_only_cookie() {
    let s = TestServer::start().await;
    let res = s
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "Operator@Example.com", "password": common::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("paycard_session=pcs_"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert!(body["token"].as_str().unwrap().starts_with("pcs_"));
    assert_eq!(body["operator"]["email"], "operator@example.com");
    assert_eq!(body["operator"]["role"], "operator");
    assert_eq!(body["operator"]["brands"], json!(["acme"]));

    let me = s.get("/api/v1/auth/me", body["token"].as_str()).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["name"], "Oscar Operator");
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_https() {
    let body = json!({"email": "admin@example.com", "password": common::PASSWORD});
    let secure = |res: &reqwest::Response| {
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    };
    let login_saying_https = |s: &TestServer| {
        s.http
            .post(s.url("/api/v1/auth/login"))
            .header("x-forwarded-proto", "https")
            .json(&body)
            .send()
    };
    // Anyone may say https; only a trusted proxy is believed.
    let s = TestServer::start().await;
    let plain = s.post_json("/api/v1/auth/login", None, body.clone()).await;
    assert!(!secure(&plain));
    assert!(!secure(&login_saying_https(&s).await.unwrap()));
    let behind_proxy = TestServer::start_with(&[("PAYCARD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    assert!(secure(&login_saying_https(&behind_proxy).await.unwrap()));
    // A public URL in https makes every cookie Secure.
    let public = TestServer::start_with(&[("PAYCARD_PUBLIC_URL", "https://pay.example.com")]).await;
    assert!(secure(
        &public
            .post_json("/api/v1/auth/login", None, body.clone())
            .await
    ));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let s = TestServer::start().await;
    let wrong = s
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "operator@example.com", "password": "nope"}),
        )
        .await;
    let unknown = s
        .post_json(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.com", "password": "nope"}),
        )
        .await;
    let a = assert_error(wrong, 401, "invalid_credentials").await;
    let b = assert_error(unknown, 401, "invalid_credentials").await;
    assert_eq!(a, b);
    assert_error(
        s.post_json("/api/v1/auth/login", None, json!({"email": "x"}))
            .await,
        400,
        "invalid_json",
    )
    .await;
}

#[tokio::test]
async fn sign_in_is_limited_per_email_and_address_never_locking_the_owner_out() {
    // As behind a proxy, so that one test can play several client addresses.
    let s = TestServer::start_with(&[
        ("PAYCARD_TRUSTED_PROXIES", "127.0.0.1"),
        ("PAYCARD_LIMIT_LOGIN", "30/minute"),
        ("PAYCARD_LIMIT_LOGIN_ACCOUNT", "10/minute"),
    ])
    .await;
    let login = |from: &'static str, email: &str, password: &str| {
        s.http
            .post(s.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let attacker = "203.0.113.66";
    for _ in 0..10 {
        let res = login(attacker, "operator@example.com", "guess")
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let limited = login(attacker, "OPERATOR@example.com", common::PASSWORD)
        .await
        .unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(limited, 429, "too_many_requests").await;
    // The account's owner, from another address, signs in as usual.
    let owner = login("198.51.100.7", "operator@example.com", common::PASSWORD)
        .await
        .unwrap();
    assert_eq!(owner.status(), 200);
    // The attacker's address may still try other accounts, up to its own limit…
    let other = login(attacker, "admin@example.com", common::PASSWORD)
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    // …which a flood of emails soon meets.
    let mut codes = Vec::new();
    for i in 0..25 {
        let res = login(attacker, &format!("nobody{i}@example.com"), "x")
            .await
            .unwrap();
        codes.push(res.status().as_u16());
    }
    // 30 in all from the address: 12 above, 18 here.
    assert_eq!(codes.iter().filter(|c| **c == 401).count(), 18, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 7, "{codes:?}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    assert_eq!(s.post("/api/v1/auth/logout", Some(&op)).await.status(), 204);
    assert_error(
        s.get("/api/v1/auth/me", Some(&op)).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_session_cookie_works_for_same_site_requests_only() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, _) = s.conversation("acme").await;
    let cookie = format!("paycard_session={op}");
    let path = s.url(&format!("/api/v1/operator/conversations/{conv}/messages"));

    let read = s
        .http
        .get(&path)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "reading with the cookie");

    let forged = s
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_error(forged, 403, "cross_site_request").await;
    let no_origin = s
        .http
        .post(&path)
        .header("cookie", &cookie)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_error(no_origin, 403, "cross_site_request").await;

    let own = s
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201, "a same-origin request with the cookie");
}

#[tokio::test]
async fn tokens_open_only_their_own_side() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    // No token, a made-up token, the other side's token.
    assert_error(
        s.get(&format!("/api/v1/conversations/{conv}/messages"), None)
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some("pcv_forged"),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.get(&format!("/api/v1/conversations/{conv}/messages"), Some(&op))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.get("/api/v1/operator/conversations", Some(&visitor))
            .await,
        401,
        "unauthorized",
    )
    .await;
}

// ---------------------------------------------------------------- conversations and messages

#[tokio::test]
async fn polling_the_transcript_answers_304_until_something_happens() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let path = s.url(&format!("/api/v1/conversations/{conv}/messages"));
    let first = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let unchanged = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    // Activity elsewhere does not touch this conversation's tag.
    let (other, other_visitor) = s.conversation("acme").await;
    s.post_json(
        &format!("/api/v1/conversations/{other}/messages"),
        Some(&other_visitor),
        json!({"text": "elsewhere"}),
    )
    .await;
    assert_eq!(
        s.http
            .get(&path)
            .bearer_auth(&visitor)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap()
            .status(),
        304
    );

    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let changed = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let etag2 = changed.headers()["etag"].to_str().unwrap().to_owned();
    s.post(
        &format!(
            "/api/v1/operator/cards/{}/cancel",
            card["id"].as_str().unwrap()
        ),
        Some(&op),
    )
    .await;
    let after_cancel = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .header("if-none-match", &etag2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after_cancel.status(),
        200,
        "a card change is a change of the transcript"
    );
    let body: Value = after_cancel.json().await.unwrap();
    assert_eq!(body[0]["card"]["status"], "cancelled");
}

/// The page's Content-Security-Policy, checked for SPEC §8.1's directives; returns its
/// `frame-ancestors` part.
async fn page_policy(s: &TestServer, path: &str) -> String {
    let res = s.get(path, None).await;
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{path}: {directive} missing from {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let (_, ancestors) = policy
        .split_once("frame-ancestors")
        .expect("frame-ancestors");
    format!("frame-ancestors{ancestors}")
}

#[tokio::test]
async fn the_console_may_be_framed_only_for_one_conversation_by_its_own_site() {
    let s = TestServer::start().await;
    assert_eq!(
        page_policy(&s, "/console/conversations/conv_1").await,
        "frame-ancestors 'none'"
    );
    assert_eq!(
        page_policy(&s, "/console/embed/conversations/conv_1").await,
        "frame-ancestors 'self'"
    );
    assert_eq!(page_policy(&s, "/demo").await, "frame-ancestors 'none'");
}

#[tokio::test]
async fn the_widget_page_may_be_framed_only_by_the_brands_sites() {
    let s = TestServer::start().await;
    s.sql(
        "UPDATE brands SET allowed_origins = '[\"https://shop.example\"]' WHERE id = 'acme'",
        &[],
    )
    .await;
    assert_eq!(
        page_policy(&s, "/widget/?brand=acme").await,
        "frame-ancestors 'self' https://shop.example"
    );
    assert_eq!(
        page_policy(&s, "/widget/?brand=zen").await,
        "frame-ancestors 'self'"
    );
}

#[tokio::test]
async fn a_visitor_opens_a_conversation_and_chats_with_an_operator() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;

    let sent = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": "  Do you ship to Lisbon?  "}),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["text"], "Do you ship to Lisbon?");
    assert_eq!(sent["author"], "visitor");

    let list: Value = s
        .get("/api/v1/operator/conversations", Some(&op))
        .await
        .json()
        .await
        .unwrap();
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conv.as_str())
        .expect("listed");
    assert_eq!(row["visitor_name"], "Ana");
    assert_eq!(row["last_message"]["text"], "Do you ship to Lisbon?");

    let reply = s
        .post_json(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&op),
            json!({"text": "We do!"}),
        )
        .await;
    assert_eq!(reply.status(), 201);
    let res = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
        )
        .await;
    assert!(res.headers().contains_key("last-event-id"));
    let messages: Value = res.json().await.unwrap();
    let texts: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Do you ship to Lisbon?", "We do!"]);
    assert_eq!(messages[1]["author"], "operator");
    assert_eq!(messages[1]["author_name"], "Oscar Operator");
    let op_view: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(op_view, messages);
}

#[tokio::test]
async fn conversation_input_is_checked() {
    let s = TestServer::start().await;
    // A well-formed id of no brand: 404; a malformed one: 400 with the field.
    assert_error(
        s.post_json("/api/v1/conversations", None, json!({"brand_id": "nope"}))
            .await,
        404,
        "not_found",
    )
    .await;
    let body = assert_error(
        s.post_json(
            "/api/v1/conversations",
            None,
            json!({"brand_id": "Not A Slug"}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["fields"][0],
        json!({"field": "brand_id", "code": "invalid_format"})
    );
    // Arrays are not objects, even when serde could read them field by field.
    assert_error(
        s.post_json("/api/v1/conversations", None, json!(["acme", null]))
            .await,
        400,
        "invalid_json",
    )
    .await;
    let body = assert_error(
        s.post_json(
            "/api/v1/conversations",
            None,
            json!({"brand_id": "acme", "visitor_name": "x".repeat(81)}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["fields"][0]["field"], "visitor_name");
    let anonymous: Value = s
        .post_json("/api/v1/conversations", None, json!({"brand_id": "zen"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(anonymous["conversation"]["visitor_name"]
        .as_str()
        .unwrap()
        .starts_with("Visitor "));
    let spanish: Value = s
        .http
        .post(s.url("/api/v1/conversations"))
        .header("accept-language", "es-ES,es;q=0.9,en;q=0.5")
        .json(&json!({"brand_id": "zen"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // One form in every language (each reader shows it in theirs); the browser's
    // language is the visitor's.
    let name = spanish["conversation"]["visitor_name"].as_str().unwrap();
    assert!(name.starts_with("Visitor "), "{name}");
    let admin = s.admin().await; // zen is the admin's
    let id = spanish["conversation"]["id"].as_str().unwrap();
    let profile: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{id}/visitor"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["locale"], "es", "{profile}");
}

#[tokio::test]
async fn bad_requests_get_json_errors_never_a_5xx() {
    let s = TestServer::start().await;
    let (conv, visitor) = s.conversation("acme").await;
    let path = s.url(&format!("/api/v1/conversations/{conv}/messages"));
    let malformed = s
        .http
        .post(&path)
        .bearer_auth(&visitor)
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, "malformed_json").await;
    let wrong_type = s
        .http
        .post(&path)
        .bearer_auth(&visitor)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_error(wrong_type, 400, "unsupported_media_type").await;
    let wrong_shape = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": 42}),
        )
        .await;
    assert_error(wrong_shape, 400, "invalid_json").await;
    let empty = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": "   "}),
        )
        .await;
    assert_error(empty, 400, "validation_failed").await;
    let long = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": "x".repeat(4001)}),
        )
        .await;
    assert_error(long, 400, "validation_failed").await;
    let huge = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": "x".repeat(70_000)}),
        )
        .await;
    assert_error(huge, 413, "payload_too_large").await;
    assert_error(s.get("/api/v1/nothing/here", None).await, 404, "not_found").await;
    // Rejections from axum's own extractors are JSON too.
    let op = s.operator().await;
    assert_error(
        s.get("/api/v1/operator/cards/%FF/attempts", Some(&op))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        s.http
            .delete(s.url("/api/v1/conversations"))
            .send()
            .await
            .unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
    // Nothing of that was stored.
    let messages: Value = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(messages, json!([]));
}

#[tokio::test]
async fn each_side_sees_only_its_own_conversations() {
    let s = TestServer::start().await;
    let op = s.operator().await; // acme only
    let admin = s.admin().await; // acme and zen
    let (acme, acme_visitor) = s.conversation("acme").await;
    let (zen, zen_visitor) = s.conversation("zen").await;

    assert_error(
        s.get(
            &format!("/api/v1/conversations/{zen}/messages"),
            Some(&acme_visitor),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get(
            "/api/v1/conversations/conv_missing/messages",
            Some(&acme_visitor),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        s.post_json(
            &format!("/api/v1/conversations/{acme}/messages"),
            Some(&zen_visitor),
            json!({"text": "hi"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    assert_error(
        s.get(
            &format!("/api/v1/operator/conversations/{zen}/messages"),
            Some(&op),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.post_json(
            &format!("/api/v1/operator/conversations/{zen}/messages"),
            Some(&op),
            json!({"text": "hi"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get(
            "/api/v1/operator/conversations/conv_missing/messages",
            Some(&op),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let ids = |v: Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s
            .get("/api/v1/operator/conversations", Some(&op))
            .await
            .json()
            .await
            .unwrap()),
        std::slice::from_ref(&acme)
    );
    let all = ids(s
        .get("/api/v1/operator/conversations", Some(&admin))
        .await
        .json()
        .await
        .unwrap());
    assert!(all.contains(&acme) && all.contains(&zen));
}

#[tokio::test]
async fn the_picker_lists_the_brands_active_payments() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (acme, _) = s.conversation("acme").await;
    let (zen, _) = s.conversation("zen").await;
    s.sql(
        "UPDATE payments SET active = FALSE WHERE id = 'pay_demo_workshop'",
        &[],
    )
    .await;

    let list: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{acme}/payments"),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Coffee subscription", "Custom mug"]);
    let subscription = &list[0];
    assert_eq!(
        subscription["recurrence"],
        json!({"interval": "month", "count": 1})
    );
    assert_eq!(subscription["amount_minor"], 4900);
    assert_eq!(subscription["currency"], "EUR");

    let found: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{acme}/payments?q=MUG"),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let none: Value = s
        .get(
            &format!("/api/v1/operator/conversations/{acme}/payments?q=%25"),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]), "a % in the search is a literal");

    assert_error(
        s.get(
            &format!("/api/v1/operator/conversations/{zen}/payments"),
            Some(&op),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

// ---------------------------------------------------------------- cards

#[tokio::test]
async fn share_puts_a_snapshot_card_into_the_conversation_for_both_sides() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, "pay_demo_beans").await;
    assert_eq!(card["status"], "pending");
    assert_eq!(card["version"], 1);
    assert_eq!(card["title"], "Coffee subscription");
    assert_eq!(card["amount_minor"], 4900);
    assert_eq!(card["recurrence"], json!({"interval": "month", "count": 1}));
    assert_eq!(card["failure_reason"], Value::Null);
    assert!(card["expires_at"].as_str().unwrap() > card["created_at"].as_str().unwrap());

    // A later edit of the payment does not change the card.
    s.sql(
        "UPDATE payments SET title = 'Renamed', amount_minor = 1 WHERE id = 'pay_demo_beans'",
        &[],
    )
    .await;
    let messages: Value = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(messages.as_array().unwrap().len(), 1);
    assert_eq!(messages[0]["text"], Value::Null);
    assert_eq!(messages[0]["card"], card);
}

#[tokio::test]
async fn share_refuses_foreign_missing_and_inactive_payments() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (acme, _) = s.conversation("acme").await;
    let (zen, _) = s.conversation("zen").await;
    let share = |conv: String, payment: &'static str| {
        let s = &s;
        let op = op.clone();
        async move {
            s.post_json(
                &format!("/api/v1/operator/conversations/{conv}/cards"),
                Some(&op),
                json!({"payment_id": payment}),
            )
            .await
        }
    };
    assert_error(
        share(acme.clone(), "pay_demo_dropin").await,
        404,
        "not_found",
    )
    .await;
    assert_error(share(acme.clone(), "pay_nope").await, 404, "not_found").await;
    assert_error(
        share(zen.clone(), "pay_demo_dropin").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        share("conv_missing".into(), "pay_demo_mug").await,
        404,
        "not_found",
    )
    .await;
    s.sql(
        "UPDATE payments SET active = FALSE WHERE id = 'pay_demo_mug'",
        &[],
    )
    .await;
    assert_error(
        share(acme.clone(), "pay_demo_mug").await,
        409,
        "payment_inactive",
    )
    .await;
    assert_error(
        s.post_json(
            &format!("/api/v1/operator/conversations/{acme}/cards"),
            Some(&op),
            json!({}),
        )
        .await,
        400,
        "invalid_json",
    )
    .await;
}

#[tokio::test]
async fn share_with_the_same_idempotency_key_gives_the_same_card() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let path = s.url(&format!("/api/v1/operator/conversations/{conv}/cards"));
    let send = |key: &'static str, payment: &'static str| {
        s.http
            .post(&path)
            .bearer_auth(&op)
            .header("idempotency-key", key)
            .json(&json!({"payment_id": payment}))
            .send()
    };
    // Concurrent retries of one request, then a late one.
    let (a, b) = tokio::join!(
        send("share-1", "pay_demo_mug"),
        send("share-1", "pay_demo_mug")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    let c: Value = send("share-1", "pay_demo_mug")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["id"], c["id"]);
    let messages: Value = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        messages.as_array().unwrap().len(),
        1,
        "one card, one message"
    );

    assert_error(
        send("share-1", "pay_demo_beans").await.unwrap(),
        409,
        "idempotency_key_reused",
    )
    .await;
    let other: Value = send("share-2", "pay_demo_mug")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other["id"], a["id"], "another key is another card");
}

#[tokio::test]
async fn card_get_answers_304_until_the_card_changes() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let path = s.url(&format!("/api/v1/cards/{}", card["id"].as_str().unwrap()));

    let first = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.json::<Value>().await.unwrap(), card);
    let cached = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"].to_str().unwrap(), etag);
    // The operator reads it too.
    assert_eq!(
        s.http
            .get(&path)
            .bearer_auth(&op)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap()
            .status(),
        304
    );

    s.post(
        &format!("/api/v1/cards/{}/decline", card["id"].as_str().unwrap()),
        Some(&visitor),
    )
    .await;
    let fresh = s
        .http
        .get(&path)
        .bearer_auth(&visitor)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    assert_ne!(fresh.headers()["etag"].to_str().unwrap(), etag);
    let body: Value = fresh.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["version"].as_i64()),
        (Some("declined"), Some(2))
    );
}

#[tokio::test]
async fn cards_are_private_to_their_conversation_and_brand() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let admin = s.admin().await;
    let (acme, _) = s.conversation("acme").await;
    let (_, stranger) = s.conversation("acme").await;
    let (zen, zen_visitor) = s.conversation("zen").await;
    let card = s.share(&op, &acme, "pay_demo_mug").await;
    let zen_card = s.share(&admin, &zen, "pay_demo_dropin").await;
    let id = card["id"].as_str().unwrap();
    let zen_id = zen_card["id"].as_str().unwrap();

    assert_error(
        s.get(&format!("/api/v1/cards/{id}"), Some(&stranger)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get(&format!("/api/v1/cards/{id}"), None).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.get("/api/v1/cards/card_missing", Some(&stranger)).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        s.get(&format!("/api/v1/cards/{zen_id}"), Some(&op)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.post(&format!("/api/v1/cards/{id}/decline"), Some(&stranger))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.post(&format!("/api/v1/cards/{id}/checkout"), Some(&zen_visitor))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.post(
            &format!("/api/v1/operator/cards/{zen_id}/cancel"),
            Some(&op),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get(
            &format!("/api/v1/operator/cards/{zen_id}/attempts"),
            Some(&op),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.post(
            &format!("/api/v1/operator/cards/{id}/cancel"),
            Some(&stranger),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.post("/api/v1/operator/cards/card_missing/cancel", Some(&op))
            .await,
        404,
        "not_found",
    )
    .await;

    // Nothing changed.
    let still: Value = s
        .get(&format!("/api/v1/cards/{id}"), Some(&op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "pending");
    let attempts: Value = s
        .get(&format!("/api/v1/operator/cards/{id}/attempts"), Some(&op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attempts, json!([]));
}

#[tokio::test]
async fn checkout_links_exist_only_while_the_card_can_be_paid() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let id = card["id"].as_str().unwrap();
    let link: Value = s
        .post(&format!("/api/v1/cards/{id}/checkout"), Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    let url = link["checkout_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/pay/pck_", s.base)), "{url}");
    let again: Value = s
        .post(&format!("/api/v1/cards/{id}/checkout"), Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again["checkout_url"], link["checkout_url"]);
    // Only the operator's side cannot ask for one.
    assert_error(
        s.post(&format!("/api/v1/cards/{id}/checkout"), Some(&op))
            .await,
        401,
        "unauthorized",
    )
    .await;

    s.force_status(id, "failed").await;
    assert_eq!(
        s.post(&format!("/api/v1/cards/{id}/checkout"), Some(&visitor))
            .await
            .status(),
        200,
        "a failed card can be retried"
    );
    for status in ["processing", "paid", "cancelled", "declined", "expired"] {
        s.force_status(id, status).await;
        let res = s
            .post(&format!("/api/v1/cards/{id}/checkout"), Some(&visitor))
            .await;
        assert_eq!(res.status(), 409, "checkout while {status}");
    }
}

#[tokio::test]
async fn cancel_and_decline_follow_the_state_machine() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;

    // Allowed from pending and failed.
    for (from, action, to) in [
        ("pending", "cancel", "cancelled"),
        ("failed", "cancel", "cancelled"),
        ("pending", "decline", "declined"),
        ("failed", "decline", "declined"),
    ] {
        let card = s.share(&op, &conv, "pay_demo_mug").await;
        let id = card["id"].as_str().unwrap();
        if from != "pending" {
            s.force_status(id, from).await;
        }
        let res = match action {
            "cancel" => {
                s.post(&format!("/api/v1/operator/cards/{id}/cancel"), Some(&op))
                    .await
            }
            _ => {
                s.post(&format!("/api/v1/cards/{id}/decline"), Some(&visitor))
                    .await
            }
        };
        assert_eq!(res.status(), 200, "{action} from {from}");
        assert_eq!(res.json::<Value>().await.unwrap()["status"], to);
    }
    // Refused, with the card unchanged, from every other state.
    for from in ["processing", "paid", "cancelled", "declined", "expired"] {
        let card = s.share(&op, &conv, "pay_demo_mug").await;
        let id = card["id"].as_str().unwrap();
        s.force_status(id, from).await;
        let before: Value = s
            .get(&format!("/api/v1/cards/{id}"), Some(&op))
            .await
            .json()
            .await
            .unwrap();
        let code = if from == "processing" {
            "invalid_transition"
        } else {
            "card_final"
        };
        assert_error(
            s.post(&format!("/api/v1/operator/cards/{id}/cancel"), Some(&op))
                .await,
            409,
            code,
        )
        .await;
        assert_error(
            s.post(&format!("/api/v1/cards/{id}/decline"), Some(&visitor))
                .await,
            409,
            code,
        )
        .await;
        let after: Value = s
            .get(&format!("/api/v1/cards/{id}"), Some(&op))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(before, after, "refused from {from}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cancel_and_decline_end_in_exactly_one_terminal_state() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    for round in 0..25 {
        let card = s.share(&op, &conv, "pay_demo_mug").await;
        let id = card["id"].as_str().unwrap().to_owned();
        let cancel = s
            .http
            .post(s.url(&format!("/api/v1/operator/cards/{id}/cancel")))
            .bearer_auth(&op)
            .send();
        let decline = s
            .http
            .post(s.url(&format!("/api/v1/cards/{id}/decline")))
            .bearer_auth(&visitor)
            .send();
        let (cancel, decline) = tokio::join!(cancel, decline);
        let (cancel, decline) = (
            cancel.unwrap().status().as_u16(),
            decline.unwrap().status().as_u16(),
        );
        let mut statuses = [cancel, decline];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: exactly one wins");
        let final_card: Value = s
            .get(&format!("/api/v1/cards/{id}"), Some(&op))
            .await
            .json()
            .await
            .unwrap();
        let expected = if cancel == 200 {
            "cancelled"
        } else {
            "declined"
        };
        assert_eq!(final_card["status"], expected, "round {round}");
        assert_eq!(final_card["version"], 2, "round {round}: one change only");
        let card_events: i64 = s
            .value(
                "SELECT CAST(count(*) AS TEXT) FROM events WHERE kind = 'card' AND data LIKE $1",
                &[&format!("%{id}%")],
            )
            .await
            .parse()
            .unwrap();
        assert_eq!(card_events, 1, "round {round}: one event");
    }
}

// ---------------------------------------------------------------- live streams

async fn visitor_stream(
    s: &TestServer,
    conv: &str,
    token: &str,
    last_event_id: Option<&str>,
) -> SseClient {
    let mut req = s
        .http
        .get(s.url(&format!("/api/v1/conversations/{conv}/events")))
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    SseClient::connect(req.send().await.unwrap()).await
}

#[tokio::test]
async fn both_sides_see_shares_messages_and_card_changes_live() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let mut visitor_live = visitor_stream(&s, &conv, &visitor, None).await;
    let mut operator_live =
        SseClient::connect(s.get("/api/v1/operator/events", Some(&op)).await).await;

    s.post_json(
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(&visitor),
        json!({"text": "hello"}),
    )
    .await;
    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let id = card["id"].as_str().unwrap();
    s.post(&format!("/api/v1/operator/cards/{id}/cancel"), Some(&op))
        .await;

    for live in [&mut visitor_live, &mut operator_live] {
        let events = live.drain(SHORT).await;
        let kinds: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
        assert_eq!(kinds, ["message", "message", "card"]);
        let data: Vec<Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        assert_eq!(data[0]["message"]["text"], "hello");
        assert_eq!(
            data[1]["message"]["card"], card,
            "the shared card arrives inside its message"
        );
        assert_eq!(data[2]["card"]["status"], "cancelled");
        let ids: Vec<i64> = events
            .iter()
            .map(|e| e.id.as_ref().unwrap().parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
}

#[tokio::test]
async fn a_reconnecting_client_sees_every_missed_event_once_in_order() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let mut seen: Vec<SseEvent> = Vec::new();

    let mut live = visitor_stream(&s, &conv, &visitor, None).await;
    for i in 0..3 {
        s.post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": format!("before {i}")}),
        )
        .await;
    }
    seen.extend(live.drain(SHORT).await);
    assert_eq!(seen.len(), 3);
    drop(live); // the visitor's network drops

    for i in 0..5 {
        s.post_json(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&op),
            json!({"text": format!("missed {i}")}),
        )
        .await;
    }
    let last = seen.last().unwrap().id.clone().unwrap();
    let mut live = visitor_stream(&s, &conv, &visitor, Some(&last)).await;
    s.post_json(
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(&visitor),
        json!({"text": "after"}),
    )
    .await;
    seen.extend(live.drain(SHORT).await);

    let texts: Vec<String> = seen
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["message"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "before 0", "before 1", "before 2", "missed 0", "missed 1", "missed 2", "missed 3",
            "missed 4", "after"
        ]
    );
    let ids: Vec<i64> = seen
        .iter()
        .map(|e| e.id.as_ref().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in order, none twice: {ids:?}"
    );
}

#[tokio::test]
async fn a_snapshot_then_a_stream_from_its_event_id_misses_nothing() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    s.post_json(
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(&visitor),
        json!({"text": "one"}),
    )
    .await;
    let snapshot = s
        .get(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
        )
        .await;
    let seq = snapshot.headers()["last-event-id"]
        .to_str()
        .unwrap()
        .to_owned();
    // Something happens between the snapshot and the stream.
    s.post_json(
        &format!("/api/v1/operator/conversations/{conv}/messages"),
        Some(&op),
        json!({"text": "two"}),
    )
    .await;
    let res = s
        .http
        .get(s.url(&format!(
            "/api/v1/conversations/{conv}/events?last_event_id={seq}"
        )))
        .bearer_auth(&visitor)
        .send()
        .await
        .unwrap();
    let events = SseClient::connect(res).await.drain(SHORT).await;
    assert_eq!(events.len(), 1);
    assert!(events[0].data.contains("\"two\""));
}

#[tokio::test]
async fn streams_carry_only_what_the_caller_may_see() {
    let s = TestServer::start().await;
    let op = s.operator().await; // acme only
    let admin = s.admin().await;
    let (acme, acme_visitor) = s.conversation("acme").await;
    let (zen, zen_visitor) = s.conversation("zen").await;
    let mut op_live = SseClient::connect(s.get("/api/v1/operator/events", Some(&op)).await).await;
    let mut acme_live = visitor_stream(&s, &acme, &acme_visitor, None).await;

    s.post_json(
        &format!("/api/v1/conversations/{zen}/messages"),
        Some(&zen_visitor),
        json!({"text": "zen secret"}),
    )
    .await;
    s.post_json(
        &format!("/api/v1/operator/conversations/{zen}/messages"),
        Some(&admin),
        json!({"text": "zen reply"}),
    )
    .await;
    s.post_json(
        &format!("/api/v1/conversations/{acme}/messages"),
        Some(&acme_visitor),
        json!({"text": "acme hello"}),
    )
    .await;
    let (_, _) = s.conversation("acme").await; // a new acme conversation: operators see it appear

    let op_events = op_live.drain(SHORT).await;
    let kinds: Vec<&str> = op_events
        .iter()
        .map(|e| e.event.as_deref().unwrap())
        .collect();
    assert_eq!(kinds, ["message", "conversation"]);
    assert!(op_events.iter().all(|e| !e.data.contains("zen")));
    let acme_events = acme_live.drain(SHORT).await;
    assert_eq!(acme_events.len(), 1);
    assert!(acme_events[0].data.contains("acme hello"));

    // Another visitor's stream, an operator on the visitor endpoint, no credentials.
    assert_error(
        s.get(
            &format!("/api/v1/conversations/{zen}/events"),
            Some(&acme_visitor),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get(&format!("/api/v1/conversations/{acme}/events"), Some(&op))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get("/api/v1/operator/events", Some(&acme_visitor)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        s.get("/api/v1/operator/events", None).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.get(
            &format!("/api/v1/conversations/{acme}/events?last_event_id=abc"),
            Some(&acme_visitor),
        )
        .await,
        400,
        "invalid_last_event_id",
    )
    .await;
}

#[tokio::test]
async fn stream_tickets_are_single_use_and_bound_to_their_holder() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let (other, _) = s.conversation("acme").await;
    let ticket = |token: String| {
        let s = &s;
        async move {
            let res = s.post("/api/v1/stream-tickets", Some(&token)).await;
            assert_eq!(res.status(), 201);
            let body: Value = res.json().await.unwrap();
            assert!(body["expires_in_seconds"].as_u64().unwrap() <= 60);
            body["ticket"].as_str().unwrap().to_owned()
        }
    };

    let t = ticket(visitor.clone()).await;
    let res = s
        .http
        .get(s.url(&format!("/api/v1/conversations/{conv}/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    let mut live = SseClient::connect(res).await;
    s.post_json(
        &format!("/api/v1/operator/conversations/{conv}/messages"),
        Some(&op),
        json!({"text": "via ticket"}),
    )
    .await;
    assert!(live.next(SHORT).await.unwrap().data.contains("via ticket"));
    let reused = s
        .http
        .get(s.url(&format!("/api/v1/conversations/{conv}/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_error(reused, 401, "unauthorized").await;

    let t = ticket(visitor.clone()).await;
    let elsewhere = s
        .http
        .get(s.url(&format!("/api/v1/conversations/{other}/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_error(elsewhere, 403, "forbidden").await;

    let t = ticket(op.clone()).await;
    let res = s
        .http
        .get(s.url(&format!("/api/v1/operator/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_error(
        s.http
            .get(s.url("/api/v1/operator/events?ticket=pct_forged"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        s.post("/api/v1/stream-tickets", None).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn idle_streams_send_heartbeats() {
    let s = TestServer::start_with(&[("PAYCARD_HEARTBEAT_SECONDS", "1")]).await;
    let (conv, visitor) = s.conversation("acme").await;
    let mut live = visitor_stream(&s, &conv, &visitor, None).await;
    assert!(
        live.next(Duration::from_millis(2500)).await.is_none(),
        "no events on an idle conversation"
    );
    assert!(
        live.comments.iter().filter(|c| *c == "heartbeat").count() >= 2,
        "{:?}",
        live.comments
    );
}

#[tokio::test]
async fn stale_stream_tickets_are_refused() {
    let s = TestServer::start().await;
    let (conv, visitor) = s.conversation("acme").await;
    let body: Value = s
        .post("/api/v1/stream-tickets", Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    s.sql(
        "UPDATE stream_tickets SET expires_at = '2000-01-01T00:00:00.000Z'",
        &[],
    )
    .await;
    let res = s
        .http
        .get(s.url(&format!(
            "/api/v1/conversations/{conv}/events?ticket={}",
            body["ticket"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn live_streams_end_when_the_server_shuts_down() {
    let s = TestServer::start().await;
    let (conv, visitor) = s.conversation("acme").await;
    let mut live = visitor_stream(&s, &conv, &visitor, None).await;
    s.state.begin_shutdown();
    // The stream closes instead of holding the graceful shutdown open.
    assert!(live.next(Duration::from_secs(3)).await.is_none());
}

// ---------------------------------------------------------------- OpenAPI

#[tokio::test]
async fn the_openapi_document_covers_the_contract() {
    let s = TestServer::start().await;
    let doc: Value = s.get("/api/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/events",
        "/api/v1/cards/{id}",
        "/api/v1/cards/{id}/checkout",
        "/api/v1/cards/{id}/decline",
        "/api/v1/operator/conversations",
        "/api/v1/operator/conversations/{id}/messages",
        "/api/v1/operator/conversations/{id}/payments",
        "/api/v1/operator/conversations/{id}/cards",
        "/api/v1/operator/cards/{id}/cancel",
        "/api/v1/operator/cards/{id}/attempts",
        "/api/v1/operator/events",
        "/api/v1/stream-tickets",
        "/api/v1/admin/portal/defaults",
        "/api/v1/admin/portal",
        "/api/v1/admin/gateway-kinds",
        "/api/v1/admin/gateways",
        "/api/v1/admin/gateways/{id}",
        "/api/v1/admin/payments",
        "/api/v1/admin/payments/{id}",
        "/api/v1/admin/brands",
        "/api/v1/admin/brands/{id}",
        "/webhooks/stripe/{gateway_id}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Card"]["properties"]["amount_minor"].is_object());
    // Every operation the server answers, each once: the document and the routes come
    // from the same declarations, so one left out of a module's routes is missing here.
    let mut operations: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    operations.sort();
    let mut expected = vec![
        "GET /api/v1/admin/api-keys",
        "POST /api/v1/admin/api-keys",
        "DELETE /api/v1/admin/api-keys/{id}",
        "GET /api/v1/admin/brands",
        "POST /api/v1/admin/brands",
        "PATCH /api/v1/admin/brands/{id}",
        "GET /api/v1/admin/cards/{id}/refunds",
        "POST /api/v1/admin/cards/{id}/refunds",
        "GET /api/v1/admin/countries",
        "GET /api/v1/admin/gateway-kinds",
        "GET /api/v1/admin/gateways",
        "POST /api/v1/admin/gateways",
        "PUT /api/v1/admin/gateways/{id}",
        "DELETE /api/v1/admin/gateways/{id}",
        "POST /api/v1/admin/gateways/{id}/check",
        "GET /api/v1/admin/mail",
        "GET /api/v1/admin/payments",
        "POST /api/v1/admin/payments",
        "GET /api/v1/admin/payments/{id}",
        "PATCH /api/v1/admin/payments/{id}",
        "DELETE /api/v1/admin/payments/{id}",
        "GET /api/v1/admin/portal",
        "PUT /api/v1/admin/portal",
        "DELETE /api/v1/admin/portal",
        "GET /api/v1/admin/portal/defaults",
        "GET /api/v1/admin/portals",
        "GET /api/v1/admin/reports/cards",
        "GET /api/v1/admin/reports/summary",
        "GET /api/v1/admin/webhooks",
        "POST /api/v1/admin/webhooks",
        "DELETE /api/v1/admin/webhooks/{id}",
        "GET /api/v1/admin/webhooks/{id}/deliveries",
        "POST /api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/logout",
        "GET /api/v1/auth/me",
        "GET /api/v1/cards/{id}",
        "POST /api/v1/cards/{id}/checkout",
        "POST /api/v1/cards/{id}/decline",
        "POST /api/v1/conversations",
        "GET /api/v1/conversations/{id}/events",
        "GET /api/v1/conversations/{id}/messages",
        "POST /api/v1/conversations/{id}/messages",
        "GET /api/v1/operator/cards/{id}/attempts",
        "POST /api/v1/operator/cards/{id}/cancel",
        "GET /api/v1/operator/conversations",
        "POST /api/v1/operator/conversations/{id}/cards",
        "POST /api/v1/operator/conversations/{id}/close",
        "GET /api/v1/operator/conversations/{id}/messages",
        "POST /api/v1/operator/conversations/{id}/messages",
        "GET /api/v1/operator/conversations/{id}/payments",
        "POST /api/v1/operator/conversations/{id}/read",
        "POST /api/v1/operator/conversations/{id}/reopen",
        "GET /api/v1/operator/conversations/{id}/visitor",
        "PATCH /api/v1/operator/conversations/{id}/visitor",
        "GET /api/v1/operator/events",
        "POST /api/v1/stream-tickets",
        "POST /webhooks/paypal/{gateway_id}",
        "POST /webhooks/razorpay/{gateway_id}",
        "POST /webhooks/stripe/{gateway_id}",
    ];
    expected.sort();
    assert_eq!(operations, expected);
    // Each API module declares its own routes: the document has every operation of a
    // path (not only the first method), its tag once, and what is added after the
    // routes are gathered (the time zones, the security schemes).
    let payment = &paths["/api/v1/admin/payments/{id}"];
    for method in ["get", "patch", "delete"] {
        assert!(payment[method].is_object(), "{method} missing");
    }
    assert_eq!(payment["patch"]["tags"], serde_json::json!(["admin"]));
    let zones = doc["components"]["schemas"]["PortalInput"]["properties"]["time_zone"]["enum"]
        .as_array()
        .expect("the portal's time zones are listed");
    assert!(zones.contains(&Value::from("Asia/Kuwait")));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

use common::SseEvent;

#[tokio::test]
async fn links_start_with_the_public_url_whatever_the_host_header_says() {
    let s = TestServer::start_with(&[("PAYCARD_PUBLIC_URL", "https://pay.example.com/")]).await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let link: Value = s
        .http
        .post(s.url(&format!(
            "/api/v1/cards/{}/checkout",
            card["id"].as_str().unwrap()
        )))
        .bearer_auth(&visitor)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["checkout_url"].as_str().unwrap();
    assert!(url.starts_with("https://pay.example.com/pay/pck_"), "{url}");
    // So do the embed tag and a gateway's webhook address the console shows.
    let admin = s.admin().await;
    let brands: Vec<Value> = s
        .get("/api/v1/admin/brands", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        brands[0]["embed_tag"],
        format!(
            "<script src=\"https://pay.example.com/widget.js\" data-brand=\"{}\" async></script>",
            brands[0]["id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn the_operator_list_comes_in_pages_newest_activity_first() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let mut opened = Vec::new();
    for _ in 0..7 {
        opened.push(s.conversation("acme").await.0);
    }
    // Activity moves one to the top.
    let oldest = opened[0].clone();
    s.post_json(
        &format!("/api/v1/operator/conversations/{oldest}/messages"),
        Some(&op),
        json!({"text": "Still there?"}),
    )
    .await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/operator/conversations?limit=3".to_owned();
    loop {
        let res = s.get(&path, Some(&op)).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("last-event-id"));
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/operator/conversations?limit=3&before={next}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = opened[1..].iter().rev().cloned().collect();
    expected.insert(0, oldest);
    assert_eq!(
        seen, expected,
        "every conversation once, newest activity first"
    );
    // The default page is 50; limits and cursors are checked.
    let all: Value = s
        .get("/api/v1/operator/conversations", Some(&op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    assert_eq!(all["next"], Value::Null);
    for bad in ["limit=0", "limit=201", "limit=ten", "before=yesterday"] {
        let res = s
            .get(&format!("/api/v1/operator/conversations?{bad}"), Some(&op))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn streams_end_when_their_session_is_revoked_anywhere() {
    let s = TestServer::start_with(&[("PAYCARD_HEARTBEAT_SECONDS", "1")]).await;
    let admin = s.admin().await;
    let open_stream = |token: String| {
        let s = &s;
        async move {
            common::SseClient::connect(s.get("/api/v1/operator/events", Some(&token)).await).await
        }
    };
    // Signed out on another instance (the session row is gone): ends within a heartbeat.
    let mut stream = open_stream(admin.clone()).await;
    s.sql(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[&paycard_server::secrets::hash_secret(&admin)],
    )
    .await;
    let ended = stream
        .next(Duration::from_secs(4))
        .await
        .expect("a last event");
    assert_eq!(ended.event.as_deref(), Some("closed"));
    assert!(ended.data.contains("revoked"), "{}", ended.data);
    assert!(
        stream.next(Duration::from_secs(1)).await.is_none(),
        "and nothing after"
    );

    // An account that loses a brand: its stream (of the old brands) ends.
    let admin = s.admin().await;
    let mut stream = open_stream(admin.clone()).await;
    s.sql("DELETE FROM account_brands WHERE brand_id = 'zen'", &[])
        .await;
    let ended = stream
        .next(Duration::from_secs(4))
        .await
        .expect("a last event");
    assert_eq!(ended.event.as_deref(), Some("closed"));
    // A new stream carries the brands the account has now.
    let _fresh = open_stream(admin).await;
    assert_eq!(s.state.streams.count(), 1);
}

#[tokio::test]
async fn arrays_are_not_objects() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    for path in [
        "/api/v1/admin/brands/acme",
        "/api/v1/admin/payments/pay_demo_mug",
    ] {
        let res = s
            .send(
                reqwest::Method::PATCH,
                path,
                Some(&admin),
                Some(json!([null, null])),
            )
            .await;
        assert_error(res, 400, "invalid_json").await;
    }
}

/// A message sent again with its `Idempotency-Key` (the client lost the first answer, or
/// was offline and retries) is written once, on either side, and answered again; the
/// same key on the other side, or in another conversation, is another message.
#[tokio::test]
async fn a_message_retried_with_its_idempotency_key_is_written_once() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let send = |path: String, token: String, key: &'static str, text: &'static str| {
        let s = &s;
        async move {
            s.http
                .post(s.url(&path))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&json!({"text": text}))
                .send()
                .await
                .unwrap()
        }
    };
    let visitor_path = format!("/api/v1/conversations/{conv}/messages");
    let operator_path = format!("/api/v1/operator/conversations/{conv}/messages");
    let first = send(visitor_path.clone(), visitor.clone(), "msg-1", "Hello?").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // Retried at once and concurrently: still one message.
    let (again, again2) = tokio::join!(
        send(visitor_path.clone(), visitor.clone(), "msg-1", "Hello?"),
        send(visitor_path.clone(), visitor.clone(), "msg-1", "Hello?"),
    );
    for res in [again, again2] {
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["id"], first["id"]);
        assert_eq!(body["text"], "Hello?");
    }
    // The operator's own key space.
    let reply = send(operator_path.clone(), op.clone(), "msg-1", "Hi!").await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    assert_ne!(reply["id"], first["id"]);
    assert_eq!(
        send(operator_path.clone(), op.clone(), "msg-1", "Hi!")
            .await
            .status(),
        201
    );
    let messages: Vec<Value> = s
        .get(&visitor_path, Some(&visitor))
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Hello?", "Hi!"]);
    // A key that is not printable ASCII is refused.
    let bad = s
        .http
        .post(s.url(&visitor_path))
        .bearer_auth(&visitor)
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes("café".as_bytes()).unwrap(),
        )
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(bad, 400, "invalid_idempotency_key").await;
}

/// Unread counts are kept on the server per operator (issue 15): the visitor's messages
/// after what each operator marked read; one operator reading does not read for another.
#[tokio::test]
async fn unread_counts_are_kept_per_operator() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let admin = s.admin().await;
    let (conv, visitor) = s.conversation("acme").await;
    let unread = |token: String| {
        let s = &s;
        let conv = conv.clone();
        async move {
            let page: Value = s
                .get("/api/v1/operator/conversations", Some(&token))
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == conv.as_str())
                .unwrap()["unread"]
                .as_i64()
                .unwrap()
        }
    };
    let write = |text: &'static str| {
        let (s, conv, visitor) = (&s, conv.clone(), visitor.clone());
        async move {
            let res = s
                .post_json(
                    &format!("/api/v1/conversations/{conv}/messages"),
                    Some(&visitor),
                    json!({"text": text}),
                )
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    let read = |token: String| {
        let (s, conv) = (&s, conv.clone());
        async move {
            s.post(
                &format!("/api/v1/operator/conversations/{conv}/read"),
                Some(&token),
            )
            .await
            .status()
        }
    };
    assert_eq!(unread(op.clone()).await, 0);
    // Marking an empty conversation read is fine, and changes nothing.
    assert_eq!(read(op.clone()).await, 204);
    write("Hello").await;
    write("Anyone there?").await;
    assert_eq!(unread(op.clone()).await, 2);
    assert_eq!(unread(admin.clone()).await, 2);
    assert_eq!(read(op.clone()).await, 204);
    assert_eq!(unread(op.clone()).await, 0);
    assert_eq!(unread(admin.clone()).await, 2, "the admin has not read it");
    // The operator's own answer is not unread for anyone; the visitor's next line is.
    let res = s
        .post_json(
            &format!("/api/v1/operator/conversations/{conv}/messages"),
            Some(&op),
            json!({"text": "Yes!"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    write("Great").await;
    assert_eq!(unread(op.clone()).await, 1);
    assert_eq!(unread(admin.clone()).await, 3);
    // Another brand's conversation cannot be marked; nor can a stranger mark anything.
    let (zen, _) = s.conversation("zen").await;
    let res = s
        .post(
            &format!("/api/v1/operator/conversations/{zen}/read"),
            Some(&op),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 403 | 404),
        "{}",
        res.status()
    );
    assert_eq!(
        s.post(&format!("/api/v1/operator/conversations/{conv}/read"), None)
            .await
            .status(),
        401
    );
}

/// The list scales (issue 15): search by name, email or message text, narrow by brand
/// and by open/closed; operators close conversations, and a visitor writing again
/// opens theirs for everyone, live.
#[tokio::test]
async fn the_list_searches_narrows_and_closed_conversations_come_back_when_the_visitor_writes() {
    let s = TestServer::start().await;
    let op = s.operator().await; // acme only
    let admin = s.admin().await; // acme and zen
    let (ana, ana_visitor) = s.conversation("acme").await; // "Ana"
    let anonymous: Value = s
        .post_json("/api/v1/conversations", None, json!({"brand_id": "acme"}))
        .await
        .json()
        .await
        .unwrap();
    let other = anonymous["conversation"]["id"].as_str().unwrap().to_owned();
    let other_visitor = anonymous["visitor_token"].as_str().unwrap().to_owned();
    let (zen, _) = s.conversation("zen").await;
    let say = |conv: String, token: String, text: &'static str| {
        let s = &s;
        async move {
            let res = s
                .post_json(
                    &format!("/api/v1/conversations/{conv}/messages"),
                    Some(&token),
                    json!({"text": text}),
                )
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    say(ana.clone(), ana_visitor.clone(), "Where is my MUG order?").await;
    say(
        other.clone(),
        other_visitor.clone(),
        "Do you ship 100% of orders_abroad?",
    )
    .await;
    let ids = |query: &'static str, token: String| {
        let s = &s;
        async move {
            let res = s
                .get(
                    &format!("/api/v1/operator/conversations{query}"),
                    Some(&token),
                )
                .await;
            assert_eq!(res.status(), 200, "{query}");
            let page: Value = res.json().await.unwrap();
            let mut ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Search: message text and names, without case; wildcards are literal.
    assert_eq!(ids("?q=mug", op.clone()).await, vec![ana.clone()]);
    assert_eq!(
        ids("?q=%20aNa%20", op.clone()).await,
        vec![ana.clone()],
        "trimmed"
    );
    assert_eq!(ids("?q=100%25", op.clone()).await, vec![other.clone()]);
    assert_eq!(
        ids("?q=orders_abroad", op.clone()).await,
        vec![other.clone()]
    );
    assert_eq!(
        ids("?q=orders%25abroad", op.clone()).await,
        Vec::<String>::new()
    );
    assert_eq!(ids("?q=ders_ab", op.clone()).await, vec![other.clone()]);
    assert_eq!(
        ids("?q=o_ders", op.clone()).await,
        Vec::<String>::new(),
        "_ is no wildcard"
    );
    let long = format!("?q={}", "a".repeat(101));
    let res = s
        .get(&format!("/api/v1/operator/conversations{long}"), Some(&op))
        .await;
    assert_error(res, 400, "invalid_search").await;
    // By brand: one of the caller's; another brand's shows nothing.
    assert_eq!(ids("?brand_id=zen", admin.clone()).await, vec![zen.clone()]);
    assert_eq!(ids("?brand_id=zen", op.clone()).await, Vec::<String>::new());
    assert_eq!(
        ids("", admin.clone()).await,
        sorted(vec![ana.clone(), other.clone(), zen.clone()])
    );
    // The admin's account names its brands, for the labels.
    let me: Value = s
        .get("/api/v1/auth/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["brand_names"],
        json!({"acme": "Acme Coffee", "zen": "Zen Yoga"})
    );

    // Closing: live for the other consoles, out of the open list, in the closed one.
    let mut admin_live =
        SseClient::connect(s.get("/api/v1/operator/events", Some(&admin)).await).await;
    let res = s
        .post(
            &format!("/api/v1/operator/conversations/{ana}/close"),
            Some(&op),
        )
        .await;
    assert_eq!(res.status(), 200);
    let closed: Value = res.json().await.unwrap();
    let closed_at = closed["closed_at"].as_str().unwrap().to_owned();
    assert_eq!(closed["id"], ana.as_str());
    // The answer is the line as the caller's list shows it.
    assert_eq!(closed["unread"], 1, "{closed}");
    assert_eq!(closed["last_message"]["text"], "Where is my MUG order?");
    let event = admin_live
        .next(std::time::Duration::from_secs(5))
        .await
        .expect("the close is announced");
    assert_eq!(event.event.as_deref(), Some("conversation"));
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["conversation"]["closed_at"], closed_at.as_str());
    assert_eq!(ids("?status=open", op.clone()).await, vec![other.clone()]);
    assert_eq!(ids("?status=closed", op.clone()).await, vec![ana.clone()]);
    assert_eq!(
        ids("", op.clone()).await,
        sorted(vec![ana.clone(), other.clone()]),
        "both"
    );
    // Closing again changes nothing; neither does an operator's own line.
    let again: Value = s
        .post(
            &format!("/api/v1/operator/conversations/{ana}/close"),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["closed_at"], closed_at.as_str());
    let res = s
        .post_json(
            &format!("/api/v1/operator/conversations/{ana}/messages"),
            Some(&op),
            json!({"text": "It shipped today."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(ids("?status=closed", op.clone()).await, vec![ana.clone()]);
    // The visitor writes again: open for everyone, announced before the message.
    let _ = admin_live
        .drain(std::time::Duration::from_millis(300))
        .await;
    say(ana.clone(), ana_visitor.clone(), "Thanks! One more thing").await;
    let events = admin_live
        .drain(std::time::Duration::from_millis(800))
        .await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(kinds, vec!["conversation", "message"], "{events:?}");
    let reopened: Value = serde_json::from_str(&events[0].data).unwrap();
    assert!(
        reopened["conversation"].get("closed_at").is_none(),
        "{reopened}"
    );
    assert_eq!(
        ids("?status=open", op.clone()).await,
        sorted(vec![ana.clone(), other.clone()])
    );
    // Reopen by hand; another brand's or a stranger's close is refused.
    s.post(
        &format!("/api/v1/operator/conversations/{other}/close"),
        Some(&op),
    )
    .await;
    let res = s
        .post(
            &format!("/api/v1/operator/conversations/{other}/reopen"),
            Some(&op),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .json::<Value>()
        .await
        .unwrap()
        .get("closed_at")
        .is_none());
    let res = s
        .post(
            &format!("/api/v1/operator/conversations/{zen}/close"),
            Some(&op),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 403 | 404),
        "{}",
        res.status()
    );
    assert_eq!(
        s.post(&format!("/api/v1/operator/conversations/{ana}/close"), None)
            .await
            .status(),
        401
    );
    let res = s
        .post("/api/v1/operator/conversations/conv_nope/close", Some(&op))
        .await;
    assert_error(res, 404, "not_found").await;
    // A bad status is refused; the list is still all of them.
    let res = s
        .get("/api/v1/operator/conversations?status=archived", Some(&op))
        .await;
    assert_eq!(res.status(), 400);
}

/// The operator's context panel (issue 15): what the visitor's browser said when the
/// chat opened, the name and email from their first checkout, their cards with attempts
/// (and, by email, their cards in the brand's other conversations); operators correct it.
#[tokio::test]
async fn the_visitor_profile_gathers_context_checkout_details_and_history() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let res = s
        .post_json(
            "/api/v1/conversations",
            None,
            json!({"brand_id": "acme", "page": "https://shop.example/mugs?token=secret#top",
                   "time_zone": "Europe/Madrid", "locale": "es"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let conv = created["conversation"]["id"].as_str().unwrap().to_owned();
    let visitor = created["visitor_token"].as_str().unwrap().to_owned();
    let profile = |conv: String| {
        let (s, op) = (&s, op.clone());
        async move {
            let res = s
                .get(
                    &format!("/api/v1/operator/conversations/{conv}/visitor"),
                    Some(&op),
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let first = profile(conv.clone()).await;
    assert_eq!(
        first["page"], "https://shop.example/mugs",
        "no query, no fragment"
    );
    assert_eq!(first["time_zone"], "Europe/Madrid");
    assert_eq!(first["locale"], "es");
    assert_eq!(first["email"], Value::Null);
    assert_eq!(first["cards"], json!([]));
    assert!(
        first["name"].as_str().unwrap().starts_with("Visit"),
        "{first}"
    );

    // What cannot be trusted is left out, never refused.
    let res = s
        .post_json(
            "/api/v1/conversations",
            None,
            json!({"brand_id": "acme", "page": "javascript:alert(1)", "time_zone": "Mars/Olympus", "locale": "fr"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let odd: Value = res.json().await.unwrap();
    let odd = profile(odd["conversation"]["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (&odd["page"], &odd["time_zone"], &odd["locale"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );

    // The first checkout names the visitor; the card shows with its attempt.
    let card = s.share(&op, &conv, "pay_demo_mug").await;
    let card_id = card["id"].as_str().unwrap().to_owned();
    s.pay_with_sandbox(&card_id, &visitor, "ana@example.com", "es")
        .await;
    let paid = profile(conv.clone()).await;
    assert_eq!(paid["name"], "Ana García");
    assert_eq!(paid["email"], "ana@example.com");
    assert_eq!(paid["cards"][0]["card"]["id"], card_id.as_str());
    assert_eq!(paid["cards"][0]["card"]["status"], "paid");
    assert_eq!(paid["cards"][0]["attempts"][0]["card_last4"], "4242");
    assert_eq!(paid["cards"][0]["attempts"][0]["status"], "succeeded");
    let list: Value = s
        .get("/api/v1/operator/conversations", Some(&op))
        .await
        .json()
        .await
        .unwrap();
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conv.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        listed["visitor_name"], "Ana García",
        "the list names them too"
    );

    // Another conversation, the same payer: their history comes along.
    let (other, other_visitor) = s.conversation("acme").await;
    let second = s.share(&op, &other, "pay_demo_workshop").await;
    s.pay_with_sandbox(
        second["id"].as_str().unwrap(),
        &other_visitor,
        "ANA@example.com",
        "en",
    )
    .await;
    let history = profile(other.clone()).await;
    let ids: Vec<&str> = history["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["card"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [second["id"].as_str().unwrap(), card_id.as_str()],
        "newest first"
    );

    // The operator corrects the name; a bad email is refused, field by field.
    let res = s
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/operator/conversations/{conv}/visitor"),
            Some(&op),
            Some(json!({"name": "Ana G. (VIP)"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(
        (&patched["name"], &patched["email"]),
        (&json!("Ana G. (VIP)"), &json!("ana@example.com"))
    );
    let res = s
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/operator/conversations/{conv}/visitor"),
            Some(&op),
            Some(json!({"email": "not an email", "name": "  "})),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "email"]);
    // Another brand's operator sees nothing of it.
    let (zen, _) = s.conversation("zen").await;
    let res = s
        .get(
            &format!("/api/v1/operator/conversations/{zen}/visitor"),
            Some(&op),
        )
        .await;
    assert!(matches!(res.status().as_u16(), 403 | 404));
}

/// Operators find a conversation or a payment as they would type it, in any case and
/// with or without accents: "jose" finds "José", "DIRECCION" finds "dirección".
#[tokio::test]
async fn searches_ignore_case_and_accents_in_names_emails_messages_and_payments() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let admin = s.admin().await;
    let (conv, visitor) = s.conversation("acme").await;
    let res = s
        .post_json(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            json!({"text": "Quiero cambiar la DIRECCIÓN de envío"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = s
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/operator/conversations/{conv}/visitor"),
            Some(&op),
            Some(json!({"name": "José Álvarez", "email": "angel.munoz@example.com"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let found = |q: &'static str| {
        let s = &s;
        let op = op.clone();
        async move {
            let page: Value = s
                .get(&format!("/api/v1/operator/conversations?q={q}"), Some(&op))
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for q in [
        "jose",
        "%C3%81LVAREZ",
        "alvarez",
        "direccion",
        "ENV%C3%8DO",
        "ANGEL.MUNOZ",
    ] {
        assert_eq!(found(q).await, vec![conv.clone()], "{q}");
    }
    assert!(found("josefina").await.is_empty());

    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Café de Colombia", "description": "Tostado MEDIO",
                   "amount_minor": 1200, "currency": "EUR"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    for q in ["cafe", "CAF%C3%89", "tostado%20medio"] {
        let titles: Value = s
            .get(
                &format!("/api/v1/operator/conversations/{conv}/payments?q={q}"),
                Some(&op),
            )
            .await
            .json()
            .await
            .unwrap();
        let titles: Vec<&str> = titles
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Café de Colombia"], "{q}");
    }
}
