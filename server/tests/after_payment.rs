//! After the payment (SPEC §8.4, §8.5): receipts by email through a real SMTP server on
//! loopback, and signed webhooks to a real receiver, both from persistent outboxes.

mod common;

use std::time::Duration;

use common::receivers::{free_port, signature_is_valid, SmtpSink, WebhookReceiver};
use common::{assert_error, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(15);

async fn add_endpoint(s: &TestServer, admin: &str, body: Value) -> Value {
    let res = s
        .post_json("/api/v1/admin/webhooks", Some(admin), body)
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A server that sends receipts to an SMTP sink and every event of acme to a webhook
/// receiver, both on loopback.
struct Notified {
    smtp: SmtpSink,
    receiver: WebhookReceiver,
    s: TestServer,
    admin: String,
    /// The endpoint as created (its secret is shown this once).
    endpoint: Value,
}

async fn notified(more: &[(&str, &str)]) -> Notified {
    let smtp = SmtpSink::start().await;
    let receiver = WebhookReceiver::start().await;
    let url = smtp.url();
    let mut vars = vec![
        ("PAYCARD_SMTP_URL", url.as_str()),
        ("PAYCARD_MAIL_FROM", "Acme Payments <pay@acme.test>"),
        ("PAYCARD_WEBHOOK_ALLOW_PRIVATE", "1"),
    ];
    vars.extend_from_slice(more);
    let s = TestServer::start_with(&vars).await;
    let admin = s.admin().await;
    let endpoint = add_endpoint(
        &s,
        &admin,
        json!({"url": receiver.url, "brand_ids": ["acme"]}),
    )
    .await;
    Notified {
        smtp,
        receiver,
        s,
        admin,
        endpoint,
    }
}

/// The mail status (`GET /api/v1/admin/mail`) once `ready` holds of it, or as it is
/// after [`WAIT`]: the caller asserts on it.
async fn mail_status_once(s: &TestServer, admin: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let status: Value = s
            .get("/api/v1/admin/mail", Some(admin))
            .await
            .json()
            .await
            .unwrap();
        if ready(&status) || tokio::time::Instant::now() >= until {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn refund(s: &TestServer, admin: &str, card: &str, body: Value) -> Value {
    let res = s
        .post_json(
            &format!("/api/v1/admin/cards/{card}/refunds"),
            Some(admin),
            body,
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_payment_and_its_refunds_send_receipts_and_signed_webhooks() {
    let Notified {
        smtp,
        receiver,
        s,
        admin,
        endpoint,
    } = notified(&[]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{endpoint}");
    assert_eq!(
        endpoint["events"],
        json!([]),
        "no events named: all of them"
    );
    let listed: Value = s
        .get("/api/v1/admin/webhooks", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once: {listed}"
    );

    let (card, _) = s.paid_card("pay_demo_mug").await; // 25.00 EUR

    // The receipt.
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail[0].to, vec!["<ana@example.com>"]);
    assert!(mail[0].from.contains("pay@acme.test"));
    assert!(
        mail[0].subject().starts_with("Your receipt from Acme"),
        "{}",
        mail[0].subject()
    );
    let text = mail[0].text();
    assert!(text.contains("Amount: €25.00"), "{text}");
    assert!(text.contains("Reference: att_"), "{text}");
    assert!(
        text.contains("(Europe/Madrid)") || text.contains("(UTC)"),
        "{text}"
    );
    assert!(mail[0].html().contains("<table"), "an HTML part too");

    // card.shared and card.paid, signed with the endpoint's secret.
    let shared = receiver.wait_for("card.shared", WAIT).await;
    let paid = receiver.wait_for("card.paid", WAIT).await;
    for d in [&shared, &paid] {
        assert!(signature_is_valid(d, &secret), "signature {}", d.signature);
        assert!(
            !signature_is_valid(d, "whsec_another"),
            "only with its secret"
        );
        assert!(d.json()["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(d.json()["data"]["card"]["id"], card.as_str());
    }
    assert_eq!(paid.json()["data"]["card"]["status"], "paid");

    // A part, then the rest: a receipt and a card.refunded each.
    let first = refund(&s, &admin, &card, json!({"amount_minor": 1000})).await;
    assert_eq!(first["status"], "succeeded");
    let mail = smtp.wait_for(2, WAIT).await;
    assert!(
        mail[1].subject().starts_with("Refund from Acme"),
        "{}",
        mail[1].subject()
    );
    let text = mail[1].text();
    assert!(text.contains("Refunded: €10.00"), "{text}");
    assert!(text.contains(first["id"].as_str().unwrap()), "{text}");
    let refunded = receiver.wait_for("card.refunded", WAIT).await;
    assert!(signature_is_valid(&refunded, &secret));
    assert_eq!(refunded.json()["data"]["card"]["refunded_minor"], 1000);
    assert_eq!(refunded.json()["data"]["card"]["status"], "paid");

    refund(&s, &admin, &card, json!({})).await;
    let mail = smtp.wait_for(3, WAIT).await;
    assert!(
        mail[2].text().contains("Refunded in total: €25.00"),
        "{}",
        mail[2].text()
    );
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let full = receiver.got.lock().unwrap().iter().any(|d| {
            d.json()["type"] == "card.refunded" && d.json()["data"]["card"]["status"] == "refunded"
        });
        if full {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no card.refunded for the rest"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // What the admin sees.
    let id = endpoint["id"].as_str().unwrap();
    let deliveries: Value = s
        .get(
            &format!("/api/v1/admin/webhooks/{id}/deliveries"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let deliveries = deliveries.as_array().unwrap();
    assert_eq!(deliveries.len(), 4, "{deliveries:?}");
    assert!(deliveries
        .iter()
        .all(|d| d["status"] == "delivered" && d["last_status_code"] == 200));
    let status: Value = s
        .get("/api/v1/admin/mail", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["configured"], true);
    assert_eq!(status["sent"], 3);
    assert_eq!(status["pending"], 0);
    assert_eq!(status["last_error"], Value::Null);
}

#[tokio::test]
async fn a_receipt_in_spanish_says_the_recurrence_and_the_next_charge() {
    let smtp = SmtpSink::start().await;
    let s = TestServer::start_with(&[("PAYCARD_SMTP_URL", &smtp.url())]).await;
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, "pay_demo_beans").await;
    let id = card["id"].as_str().unwrap();
    assert!(
        card["recurrence"].is_object(),
        "a recurring demo payment: {card}"
    );
    s.pay_with_sandbox(id, &visitor, "lucia@example.com", "es")
        .await;
    let mail = smtp.wait_for(1, WAIT).await;
    assert!(
        mail[0].subject().starts_with("Recibo de Acme"),
        "{}",
        mail[0].subject()
    );
    let text = mail[0].text();
    assert!(text.contains("Gracias por su pago"), "{text}");
    assert!(text.contains("Próximo cargo: "), "{text}");
    assert!(text.contains("Importe: "), "{text}");
    assert!(text.contains(" / mes") || text.contains("cada "), "{text}");
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_goes_when_it_is_back() {
    let port = free_port().await;
    let s =
        TestServer::start_with(&[("PAYCARD_SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]).await;
    let admin = s.admin().await;
    s.paid_card("pay_demo_mug").await;
    // The first try fails: the receipt waits, the console says why.
    let status = mail_status_once(&s, &admin, |status| !status["last_error"].is_null()).await;
    assert!(
        !status["last_error"].is_null(),
        "no error recorded: {status}"
    );
    assert_eq!(status["pending"], 1, "{status}");
    assert_eq!(status["sent"], 0);
    assert!(status["last_error_at"].is_string());
    assert_eq!(
        s.value("SELECT CAST(tries AS TEXT) FROM mail_outbox", &[])
            .await,
        "1"
    );

    // The server is back; the retry (made due now rather than in 30 s) delivers it.
    let smtp = SmtpSink::on(port).await;
    s.sql(
        "UPDATE mail_outbox SET next_try_at = '2000-01-01T00:00:00.000Z'",
        &[],
    )
    .await;
    let mail = smtp.wait_for(1, WAIT).await;
    assert!(mail[0].subject().starts_with("Your receipt from Acme"));
    // The sink has the message as soon as the server's send completes; the server marks
    // it sent right after: wait for that rather than race it.
    let status = mail_status_once(&s, &admin, |status| status["sent"].as_i64() == Some(1)).await;
    assert_eq!(
        (status["pending"].as_i64(), status["sent"].as_i64()),
        (Some(0), Some(1)),
        "{status}"
    );
    assert_eq!(status["last_error"], Value::Null);
}

#[tokio::test]
async fn without_smtp_nothing_is_sent_and_the_settings_say_so() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let status: Value = s
        .get("/api/v1/admin/mail", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["configured"], false);
    assert_eq!(status["from"], Value::Null);
    let op = s.operator().await;
    assert_error(
        s.get("/api/v1/admin/mail", Some(&op)).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_redirects_are_not_followed_and_send_again_works() {
    let receiver = WebhookReceiver::start().await;
    let s = TestServer::start_with(&[("PAYCARD_WEBHOOK_ALLOW_PRIVATE", "1")]).await;
    let admin = s.admin().await;
    let endpoint = add_endpoint(
        &s,
        &admin,
        json!({"url": receiver.url, "brand_ids": ["acme"], "events": ["card.paid"]}),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    receiver.answer(StatusCode::TEMPORARY_REDIRECT);
    s.paid_card("pay_demo_mug").await;
    receiver.wait_for("card.paid", WAIT).await;
    let until = tokio::time::Instant::now() + WAIT;
    let d = loop {
        let d = deliveries(&s, &admin, id).await;
        if d[0]["attempts"] == 1 {
            break d;
        }
        assert!(tokio::time::Instant::now() < until, "{d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        d.as_array().unwrap().len(),
        1,
        "only card.paid was asked for: {d}"
    );
    assert_eq!(d[0]["type"], "card.paid");
    assert_eq!(d[0]["status"], "pending", "tried again later: {d}");
    assert_eq!(d[0]["last_status_code"], 307, "a redirect is not followed");
    assert!(d[0]["next_attempt_at"].as_str().unwrap() > d[0]["created_at"].as_str().unwrap());
    assert_eq!(receiver.got.lock().unwrap().len(), 1);

    // "Send again" after the receiver is fixed.
    receiver.answer(StatusCode::NO_CONTENT);
    let delivery = d[0]["id"].as_str().unwrap();
    let res = s
        .post(
            &format!("/api/v1/admin/webhooks/{id}/deliveries/{delivery}/retry"),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let d = deliveries(&s, &admin, id).await;
        if d[0]["status"] == "delivered" {
            assert_eq!(d[0]["last_status_code"], 204);
            assert_eq!(d[0]["attempts"], 2);
            assert_eq!(d[0]["next_attempt_at"], Value::Null);
            break;
        }
        assert!(tokio::time::Instant::now() < until, "{d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].json()["id"],
        got[1].json()["id"],
        "the same event, again"
    );

    // Removed: nothing more is sent, and its deliveries go with it.
    let res = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/webhooks/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        s.get(
            &format!("/api/v1/admin/webhooks/{id}/deliveries"),
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn endpoints_must_be_public_https_and_only_admins_of_the_brand_set_them() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    for url in [
        "http://hooks.example.com/paycard",
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://user:secret@hooks.example.com/",
        "hooks.example.com",
    ] {
        let res = s
            .post_json("/api/v1/admin/webhooks", Some(&admin), json!({"url": url}))
            .await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["field"], "url", "{url}: {body}");
    }
    let res = s
        .post_json(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"url": "https://hooks.example.com/x", "events": ["card.teleported"]}),
        )
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = s
        .post_json(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"url": "https://hooks.example.com/x", "events": vec!["card.paid"; 8]}),
        )
        .await;
    assert_error(res, 400, "validation_failed").await;
    let res = s
        .post_json(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"url": "https://hooks.example.com/x", "brand_ids": ["nobody"]}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let op = s.operator().await;
    let res = s
        .post_json(
            "/api/v1/admin/webhooks",
            Some(&op),
            json!({"url": "https://hooks.example.com/x"}),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    // A public https name is taken; with no brands named, every brand of the admin's.
    let created = add_endpoint(&s, &admin, json!({"url": "https://hooks.example.com/x"})).await;
    assert!(!created["brand_ids"].as_array().unwrap().is_empty());
}

/// The statuses of an endpoint's deliveries, sorted.
async fn kept_statuses(s: &TestServer, admin: &str, endpoint: &str) -> Vec<String> {
    let mut statuses: Vec<String> = deliveries(s, admin, endpoint)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .collect();
    statuses.sort();
    statuses
}

async fn deliveries(s: &TestServer, admin: &str, endpoint: &str) -> Value {
    s.get(
        &format!("/api/v1/admin/webhooks/{endpoint}/deliveries"),
        Some(admin),
    )
    .await
    .json()
    .await
    .unwrap()
}

#[tokio::test]
async fn receipts_and_webhook_deliveries_are_forgotten_30_days_after_they_are_done() {
    let Notified {
        smtp,
        receiver,
        s,
        admin,
        endpoint,
    } = notified(&[
        // Housekeeping every 2 s.
        ("PAYCARD_CARD_TTL_SECONDS", "8"),
    ])
    .await;
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    let (card, _) = s.paid_card("pay_demo_mug").await;
    smtp.wait_for(1, WAIT).await;
    receiver.wait_for("card.paid", WAIT).await;
    let status = mail_status_once(&s, &admin, |m| m["sent"] == 1).await;
    assert_eq!(status["sent"], 1);

    // Both deliveries recorded as delivered (the receiver has them before the worker
    // writes that down), so the worker writes nothing more of them.
    let until = tokio::time::Instant::now() + WAIT;
    while kept_statuses(&s, &admin, &endpoint).await != ["delivered", "delivered"] {
        assert!(
            tokio::time::Instant::now() < until,
            "deliveries not recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Done 31 days ago: the sent receipt and the delivered card.shared go; a delivery
    // still being retried stays, however old (card.paid, made to wait). One statement
    // each, so housekeeping never sees a half-aged row.
    let old = "2000-01-01T00:00:00.000Z";
    s.sql(
        "UPDATE mail_outbox SET created_at = $1, sent_at = $1, last_try_at = $1",
        &[old],
    )
    .await;
    s.sql(
        "UPDATE webhook_deliveries SET created_at = $1,
             finished_at = CASE WHEN type = 'card.paid' THEN NULL ELSE $1 END,
             status = CASE WHEN type = 'card.paid' THEN 'pending' ELSE status END,
             next_attempt_at = CASE WHEN type = 'card.paid' THEN '2999-01-01T00:00:00.000Z' ELSE next_attempt_at END",
        &[old],
    )
    .await;
    // And what happens now is kept: a refund's receipt and card.refunded.
    refund(&s, &admin, &card, json!({"amount_minor": 500})).await;
    smtp.wait_for(2, WAIT).await;
    receiver.wait_for("card.refunded", WAIT).await;

    let kept = |d: &Value| {
        let mut types: Vec<String> = d
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["type"].as_str().unwrap().to_owned())
            .collect();
        types.sort();
        types
    };
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let left = kept(&deliveries(&s, &admin, &endpoint).await);
        if left == ["card.paid", "card.refunded"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "old deliveries were not forgotten: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = mail_status_once(&s, &admin, |m| m["sent"] == 1).await;
    assert_eq!(
        status["sent"], 1,
        "only the refund's receipt is kept: {status}"
    );
    assert_eq!(
        s.value("SELECT subject FROM mail_outbox", &[])
            .await
            .split(' ')
            .next(),
        Some("Refund")
    );
}
