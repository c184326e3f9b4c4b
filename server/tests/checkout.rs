//! The hosted checkout and the sandbox gateway (SPEC §2.5 steps 5–7, §3, §4), over real
//! HTTP against the real router and a real SQLite file.

mod common;

use std::time::Duration;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

const GOOD: &str = "4242 4242 4242 4242";

struct Paying {
    op: String,
    visitor: String,
    card: Value,
    /// The path of the checkout link, `/pay/pck_…`.
    link: String,
}

async fn shared(s: &TestServer, payment: &str) -> Paying {
    let op = s.operator().await;
    let (conv, visitor) = s.conversation("acme").await;
    let card = s.share(&op, &conv, payment).await;
    let checkout: Value = s
        .post(
            &format!("/api/v1/cards/{}/checkout", card["id"].as_str().unwrap()),
            Some(&visitor),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = checkout["checkout_url"].as_str().unwrap();
    let link = url.strip_prefix(&s.base).unwrap().to_owned();
    Paying {
        op,
        visitor,
        card,
        link,
    }
}

fn form(number: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Ana García".into()),
        ("email", "ana@example.com".into()),
        ("card_number", number.into()),
        ("expiry", "12/34".into()),
        ("cvc", "123".into()),
    ]
}

async fn pay(s: &TestServer, link: &str, fields: &[(&str, String)]) -> (StatusCode, String) {
    let res = s.http.post(s.url(link)).form(fields).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn card(s: &TestServer, p: &Paying) -> Value {
    s.get(
        &format!("/api/v1/cards/{}", p.card["id"].as_str().unwrap()),
        Some(&p.op),
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn attempts(s: &TestServer, p: &Paying) -> Vec<Value> {
    let res: Value = s
        .get(
            &format!(
                "/api/v1/operator/cards/{}/attempts",
                p.card["id"].as_str().unwrap()
            ),
            Some(&p.op),
        )
        .await
        .json()
        .await
        .unwrap();
    res.as_array().unwrap().clone()
}

#[tokio::test]
async fn the_page_shows_the_payment_and_its_form_with_strict_headers() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_beans").await;
    let res = s.get(&p.link, None).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-frame-options"], "DENY");
    let html = res.text().await.unwrap();
    for needle in [
        "Acme Coffee",
        "Coffee subscription",
        "€49.00 / month",
        ">Name</label>",
        ">Email</label>",
        ">Card number</label>",
        ">Expiry (MM/YY)</label>",
        ">CVC</label>",
        "Pay €49.00</button>",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    let es = s
        .http
        .get(s.url(&p.link))
        .header("accept-language", "es-ES,es;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "49,00 € / mes",
        ">Nombre</label>",
        ">Correo electrónico</label>",
        ">Número de tarjeta</label>",
        ">Caducidad (MM/AA)</label>",
        "Pagar 49,00 €</button>",
        "lang=\"es\"",
    ] {
        assert!(es.contains(needle), "{needle} missing in Spanish");
    }
    let forced = s
        .get(&format!("{}?lang=en", p.link), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(forced.contains(">Card number</label>"));
}

#[tokio::test]
async fn a_good_card_pays_once_and_both_sides_learn_it() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let (status, html) = pay(&s, &p.link, &form(GOOD)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Payment successful"));
    let c = card(&s, &p).await;
    assert_eq!(
        (
            c["status"].as_str(),
            c["version"].as_i64(),
            &c["failure_reason"]
        ),
        (Some("paid"), Some(3), &Value::Null)
    );
    let a = attempts(&s, &p).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["status"], "succeeded");
    assert_eq!(a[0]["card_last4"], "4242");
    assert_eq!(a[0]["gateway"], "sandbox");
    assert_eq!(
        (a[0]["amount_minor"].as_i64(), a[0]["currency"].as_str()),
        (Some(2500), Some("EUR"))
    );
    // The chat learns it through the event log: processing, then paid.
    let statuses: Vec<String> = s
        .rows(
            "SELECT data FROM events WHERE kind = 'card' ORDER BY seq",
            &[],
        )
        .await
        .into_iter()
        .map(|row| card_status_in(row[0].as_deref().unwrap()))
        .collect();
    assert_eq!(statuses, ["processing", "paid"]);

    // The link now says it is paid, with no form; paying again changes nothing.
    let again = s.get(&p.link, None).await.text().await.unwrap();
    assert!(again.contains("already paid") && !again.contains("<form"));
    let (status, html) = pay(&s, &p.link, &form(GOOD)).await;
    assert!(!html.contains("<form"), "{status}");
    assert_eq!(attempts(&s, &p).await.len(), 1);
    // Cancel after payment: the payment won.
    assert_eq!(
        s.post(
            &format!(
                "/api/v1/operator/cards/{}/cancel",
                p.card["id"].as_str().unwrap()
            ),
            Some(&p.op)
        )
        .await
        .status(),
        409
    );
}

#[tokio::test]
async fn each_declining_test_card_fails_with_its_reason_and_a_retry_can_pay() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let cases = [
        (
            "4000 0000 0000 0002",
            "card_declined",
            "The card was declined.",
        ),
        (
            "4000 0000 0000 9995",
            "insufficient_funds",
            "Insufficient funds.",
        ),
        (
            "4000 0000 0000 0069",
            "expired_card",
            "The card has expired.",
        ),
        (
            "4000 0000 0000 0119",
            "processing_error",
            "A processing error occurred",
        ),
    ];
    for (i, (number, reason, words)) in cases.iter().enumerate() {
        let (status, html) = pay(&s, &p.link, &form(number)).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Payment failed") && html.contains(words),
            "{reason}"
        );
        assert!(html.contains("<form"), "the form is there to try again");
        assert!(
            html.contains("value=\"Ana García\""),
            "name kept for the retry"
        );
        let c = card(&s, &p).await;
        assert_eq!(
            (c["status"].as_str(), c["failure_reason"].as_str()),
            (Some("failed"), Some(*reason))
        );
        let a = attempts(&s, &p).await;
        assert_eq!(a.len(), i + 1);
        assert_eq!(
            (
                a[i]["status"].as_str(),
                a[i]["failure_reason"].as_str(),
                a[i]["card_last4"].as_str()
            ),
            (
                Some("failed"),
                Some(*reason),
                Some(&number[number.len() - 4..])
            )
        );
    }
    // The failed card's page says so and offers the form.
    let page = s.get(&p.link, None).await.text().await.unwrap();
    assert!(page.contains("Payment failed") && page.contains("<form"));
    let (_, html) = pay(&s, &p.link, &form(GOOD)).await;
    assert!(html.contains("Payment successful"));
    assert_eq!(card(&s, &p).await["status"], "paid");
    let a = attempts(&s, &p).await;
    assert_eq!(a.iter().filter(|a| a["status"] == "succeeded").count(), 1);
}

#[tokio::test]
async fn bad_card_data_is_shown_by_its_field_and_is_not_an_attempt() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let mut fields = form("4242 4242 4242 4241");
    fields[1].1 = "ana@".into();
    fields[3].1 = "01/20".into();
    fields[4].1 = "12".into();
    let (status, html) = pay(&s, &p.link, &fields).await;
    assert_eq!(status, 400);
    for (id, message) in [
        ("card_number", "Check the card number."),
        ("email", "Enter an email address"),
        ("expiry", "This card has expired."),
        ("cvc", "The CVC is the 3 digits"),
    ] {
        assert!(
            html.contains(&format!("id=\"{id}-error\"")),
            "{id} error element"
        );
        assert!(html.contains(message), "{message}");
        assert!(html.contains(&format!(
            "name=\"{id}\" type=\"{}\"",
            if id == "email" { "email" } else { "text" }
        )));
    }
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("value=\"Ana García\"")
            && html.contains("value=\"4242 4242 4242 4241\"")
            && html.contains("value=\"01/20\""),
        "values kept"
    );
    assert!(
        !html.contains("value=\"12\""),
        "the CVC is never written back"
    );
    assert!(attempts(&s, &p).await.is_empty());
    assert_eq!(card(&s, &p).await["status"], "pending");
    // An empty post is the same: errors, no attempt.
    let (status, _) = pay(&s, &p.link, &[]).await;
    assert_eq!(status, 400);
    // Only the sandbox is offered for now.
    let mut stripe = form(GOOD);
    stripe.push(("gateway", "stripe".into()));
    let (status, html) = pay(&s, &p.link, &stripe).await;
    assert_eq!(status, 400);
    assert!(html.contains("not available"));
    assert!(attempts(&s, &p).await.is_empty());
}

#[tokio::test]
async fn dead_links_say_why_and_offer_no_form() {
    let s = TestServer::start().await;
    for (how, words) in [
        ("cancel", "was cancelled"),
        ("decline", "was declined"),
        ("expire", "has expired"),
    ] {
        let p = shared(&s, "pay_demo_mug").await;
        let id = p.card["id"].as_str().unwrap();
        match how {
            "cancel" => assert_eq!(
                s.post(&format!("/api/v1/operator/cards/{id}/cancel"), Some(&p.op))
                    .await
                    .status(),
                200
            ),
            "decline" => assert_eq!(
                s.post(&format!("/api/v1/cards/{id}/decline"), Some(&p.visitor))
                    .await
                    .status(),
                200
            ),
            _ => {
                s.sql(
                    "UPDATE cards SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = $1",
                    &[id],
                )
                .await;
            }
        }
        let res = s.get(&p.link, None).await;
        assert_eq!(res.status(), 409, "{how}");
        let html = res.text().await.unwrap();
        assert!(html.contains(words) && !html.contains("<form"), "{how}");
        let (status, html) = pay(&s, &p.link, &form(GOOD)).await;
        assert_eq!(status, 409);
        assert!(!html.contains("<form"));
        assert!(attempts(&s, &p).await.is_empty(), "{how}: no attempt");
    }
    let expired: Value = s
        .get("/api/v1/operator/conversations", Some(&s.operator().await))
        .await
        .json()
        .await
        .unwrap();
    assert!(!expired["items"].as_array().unwrap().is_empty());
    let res = s.get("/pay/pck_not-a-real-link", None).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("not valid"));
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let res = s
        .http
        .post(s.url(&p.link))
        .header("origin", "https://evil.example")
        .form(&form(GOOD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = s
        .http
        .post(s.url(&p.link))
        .header("sec-fetch-site", "cross-site")
        .form(&form(GOOD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(attempts(&s, &p).await.is_empty());
    let own = s
        .http
        .post(s.url(&p.link))
        .header("origin", &s.base)
        .form(&form(GOOD))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_clicks_two_tabs_and_a_racing_cancel_charge_at_most_once() {
    let s = TestServer::start().await;
    let mut paid_rounds = 0;
    for round in 0..15 {
        let p = shared(&s, "pay_demo_mug").await;
        let id = p.card["id"].as_str().unwrap().to_owned();
        let good = form(GOOD);
        let clicks = (0..4).map(|_| pay(&s, &p.link, &good));
        let cancel = s
            .http
            .post(s.url(&format!("/api/v1/operator/cards/{id}/cancel")))
            .bearer_auth(&p.op)
            .send();
        let (results, cancel) = tokio::join!(futures_util::future::join_all(clicks), cancel);
        let cancel = cancel.unwrap().status();
        let successes = results
            .iter()
            .filter(|(_, html)| {
                html.contains("Payment successful") && !html.contains("already paid")
            })
            .count();
        let a = attempts(&s, &p).await;
        let succeeded = a.iter().filter(|a| a["status"] == "succeeded").count();
        let c = card(&s, &p).await;
        assert!(succeeded <= 1, "round {round}: charged {succeeded} times");
        assert_eq!(
            successes, succeeded,
            "round {round}: pages agree with attempts"
        );
        match c["status"].as_str().unwrap() {
            "paid" => {
                paid_rounds += 1;
                assert_eq!(succeeded, 1, "round {round}");
                assert_eq!(
                    cancel, 409,
                    "round {round}: a cancel that loses the race gets 409"
                );
            }
            "cancelled" => {
                assert_eq!(succeeded, 0, "round {round}");
                assert_eq!(cancel, 200);
            }
            other => panic!("round {round}: card ended {other}"),
        }
    }
    assert!(
        paid_rounds > 0,
        "payments must win some races, or nothing was tested"
    );
}

#[tokio::test]
async fn a_paid_recurring_card_starts_a_subscription() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_beans").await;
    let (_, html) = pay(&s, &p.link, &form(GOOD)).await;
    assert!(html.contains("Payment successful") && html.contains("€49.00 / month"));
    let row = s
        .rows(
            "SELECT interval, CAST(count AS TEXT), started_on, next_charge_on FROM subscriptions WHERE card_id = $1",
            &[p.card["id"].as_str().unwrap()],
        )
        .await
        .remove(0);
    let [interval, count, started, next] = <[Option<String>; 4]>::try_from(row)
        .unwrap()
        .map(Option::unwrap);
    assert_eq!((interval.as_str(), count.as_str()), ("month", "1"));
    let started = chrono::NaiveDate::parse_from_str(&started, "%Y-%m-%d").unwrap();
    let expected = paycard_core::Recurrence::MONTHLY
        .next_charge_date(started)
        .unwrap();
    assert_eq!(next, expected.to_string());
    // A one-time card starts none.
    let one_time = shared(&s, "pay_demo_mug").await;
    pay(&s, &one_time.link, &form(GOOD)).await;
    let subs: i64 = s
        .value("SELECT CAST(count(*) AS TEXT) FROM subscriptions", &[])
        .await
        .parse()
        .unwrap();
    assert_eq!(subs, 1);
}

#[tokio::test]
async fn unpaid_cards_expire_on_time_for_both_sides() {
    let s = TestServer::start_with(&[("PAYCARD_CARD_TTL_SECONDS", "1")]).await;
    let p = shared(&s, "pay_demo_mug").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        paycard_server::domain::charges::expire_due(&s.state).await,
        1
    );
    assert_eq!(card(&s, &p).await["status"], "expired");
    let last = card_status_in(
        &s.value(
            "SELECT data FROM events WHERE kind = 'card' ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await,
    );
    assert_eq!(last, "expired", "the chat hears of it");
    assert_eq!(
        paycard_server::domain::charges::expire_due(&s.state).await,
        0,
        "once"
    );
}

#[tokio::test]
async fn card_numbers_never_reach_the_database() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    pay(&s, &p.link, &form("4000 0000 0000 0002")).await;
    pay(&s, &p.link, &form(GOOD)).await;
    let last4: Vec<String> = attempts(&s, &p)
        .await
        .iter()
        .map(|a| a["card_last4"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        last4,
        ["0002", "4242"],
        "both attempts were made and keep their last four digits"
    );
    let bytes = s.stored_bytes().await;
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4000000000000002",
        "4000 0000 0000 0002",
    ] {
        assert!(!text.contains(secret), "{secret} found in the database");
    }
}

/// The card status in an event's data (`{"card": {"status": …}}`).
fn card_status_in(data: &str) -> String {
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    data["card"]["status"].as_str().unwrap().to_owned()
}

/// Takes a card to `processing` with its attempt on record, as the checkout does just
/// before it calls the gateway; `created_at` dates the attempt.
async fn taken(s: &TestServer, p: &Paying, attempt: &str, created_at: &str) {
    let id = p.card["id"].as_str().unwrap();
    s.force_status(id, "processing").await;
    s.sql(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, created_at)
         VALUES ($1, $2, 'pending', 2500, 'EUR', 'sandbox', '4242', $3)",
        &[attempt, id, created_at],
    )
    .await;
}

#[tokio::test]
async fn a_payment_whose_request_died_is_settled_by_asking_the_gateway() {
    let s = TestServer::start().await;
    let long_ago = "2000-01-01T00:00:00.000Z";
    // The sandbox charged this one, but the answer never reached the card.
    let charged = shared(&s, "pay_demo_mug").await;
    taken(&s, &charged, "att_charged", long_ago).await;
    s.sql("INSERT INTO sandbox_charges (idempotency_key, outcome, created_at) VALUES ('att_charged', 'succeeded', $1)", &[long_ago])
        .await;
    // The request died before the sandbox saw this one.
    let unseen = shared(&s, "pay_demo_mug").await;
    taken(&s, &unseen, "att_unseen", long_ago).await;
    // This one is in flight right now.
    let fresh = shared(&s, "pay_demo_mug").await;
    taken(&s, &fresh, "att_fresh", &paycard_server::secrets::now()).await;

    assert_eq!(
        paycard_server::domain::charges::settle_stuck(&s.state).await,
        2
    );
    // What the gateway said: paid, and never charged (so payable again).
    assert_eq!(card(&s, &charged).await["status"], "paid");
    let tried: Vec<(String, String)> = attempts(&s, &charged)
        .await
        .iter()
        .map(|a| {
            (
                a["status"].as_str().unwrap().into(),
                a["card_last4"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(tried, [("succeeded".to_owned(), "4242".to_owned())]);
    let c = card(&s, &unseen).await;
    assert_eq!(
        (c["status"].as_str(), c["failure_reason"].as_str()),
        (Some("failed"), Some("processing_error"))
    );
    assert_eq!(
        card(&s, &fresh).await["status"],
        "processing",
        "in flight: left alone"
    );
    assert!(
        attempts(&s, &fresh).await.is_empty(),
        "a pending attempt is not listed"
    );

    // The lost request for `unseen` arriving now charges nothing: its key is voided.
    let ledger = s
        .rows(
            "SELECT outcome, failure_reason FROM sandbox_charges WHERE idempotency_key = 'att_unseen'",
            &[],
        )
        .await;
    assert_eq!(
        ledger,
        [[
            Some("failed".to_owned()),
            Some("processing_error".to_owned())
        ]]
    );
    // And the visitor can pay again.
    let (_, html) = pay(&s, &unseen.link, &form(GOOD)).await;
    assert!(html.contains("Payment successful"));
    // Asking again changes nothing.
    assert_eq!(
        paycard_server::domain::charges::settle_stuck(&s.state).await,
        0
    );
}

#[tokio::test]
async fn a_card_left_processing_with_nothing_on_record_fails_after_a_while() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let id = p.card["id"].as_str().unwrap();
    // Data from before attempts were recorded ahead of the charge.
    s.sql("UPDATE cards SET status = 'processing', version = version + 1, updated_at = '2000-01-01T00:00:00.000Z' WHERE id = $1", &[id])
        .await;
    assert_eq!(
        paycard_server::domain::charges::settle_stuck(&s.state).await,
        1
    );
    let c = card(&s, &p).await;
    assert_eq!(
        (c["status"].as_str(), c["failure_reason"].as_str()),
        (Some("failed"), Some("processing_error"))
    );
}

#[tokio::test]
async fn a_card_succeeds_at_most_once_also_in_the_database() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let (_, html) = pay(&s, &p.link, &form(GOOD)).await;
    assert!(html.contains("Payment successful"));
    let second = s
        .try_sql(
            "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, created_at)
             VALUES ('att_second', $1, 'succeeded', 2500, 'EUR', 'sandbox', '2026-01-01T00:00:00.000Z')",
            &[p.card["id"].as_str().unwrap()],
        )
        .await;
    assert!(
        second.is_err(),
        "a second success is refused by the database"
    );
}

#[tokio::test]
async fn expired_sessions_and_tickets_are_pruned() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    s.post("/api/v1/stream-tickets", Some(&op)).await;
    s.post("/api/v1/stream-tickets", Some(&op)).await;
    s.sql(
        "UPDATE stream_tickets SET expires_at = '2000-01-01T00:00:00.000Z'",
        &[],
    )
    .await;
    assert_eq!(
        paycard_server::domain::accounts::prune_expired(&s.state)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.get("/api/v1/auth/me", Some(&op)).await.status(),
        200,
        "a live session stays"
    );
}

/// The open page follows its card (issue 15): it may ask whether the card can still be
/// paid, and its script is allowed by hash only, with requests to this origin alone.
#[tokio::test]
async fn an_open_checkout_can_ask_whether_its_card_is_still_payable() {
    let s = TestServer::start().await;
    let p = shared(&s, "pay_demo_mug").await;
    let res = s.get(&p.link, None).await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'sha256-") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    let path = p.link.as_str();
    assert!(
        html.contains(&format!("data-follow=\"{path}/status\"")),
        "{html}"
    );
    let status = |path: String| {
        let s = &s;
        async move {
            let res = s.get(&path, None).await;
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["cache-control"], "no-store");
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        status(format!("{path}/status")).await,
        serde_json::json!({"status": "pending", "payable": true})
    );
    let op = s.operator().await;
    let res = s
        .post(
            &format!(
                "/api/v1/operator/cards/{}/cancel",
                p.card["id"].as_str().unwrap()
            ),
            Some(&op),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        status(format!("{path}/status")).await,
        serde_json::json!({"status": "cancelled", "payable": false})
    );
    // A link that is no card's says so the same way.
    assert_eq!(
        status("/pay/nothing-here/status".into()).await,
        serde_json::json!({"status": null, "payable": false})
    );
}
