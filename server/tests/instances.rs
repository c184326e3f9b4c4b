//! Two real server processes on one PostgreSQL database, as behind a load balancer: the
//! visitor on instance A, the operator on instance B. Live events cross instances, racing
//! pays, cancels and declines split over both charge a card at most once, racing refunds
//! over both never give back more than was paid, and a visitor
//! whose instance is killed resumes on the other without missing or repeating an event.
//!
//! Needs `PAYCARD_TEST_DATABASE_URL` (a PostgreSQL server; `make test` starts one). On
//! SQLite there is one instance by design, so without it the test says so and returns.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::binary::{start_on, Server};
use common::SseClient;
use serde_json::{json, Value};

const PASSWORD: &str = "instances-test-password";
/// Both instances must seal gateway credentials with the same key.
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const GOOD_CARD: &str = "4242 4242 4242 4242";

fn settings() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PAYCARD_SECRET_KEY", SECRET_KEY),
        ("PAYCARD_LIMIT_CONVERSATIONS", "off"),
        ("PAYCARD_LIMIT_MESSAGES", "off"),
        ("PAYCARD_LIMIT_LOGIN", "off"),
        ("PAYCARD_LIMIT_LOGIN_ACCOUNT", "off"),
        ("PAYCARD_LIMIT_CHECKOUT_LINKS", "off"),
        ("PAYCARD_LIMIT_PAYMENTS", "off"),
        ("PAYCARD_SANDBOX_LATENCY_MS", "30"),
    ]
}

struct Instance {
    server: Server,
    http: reqwest::Client,
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Shares `payment` in `conv` as the operator `op`; returns the card's id.
    async fn share(&self, op: &str, conv: &str, payment: &str) -> String {
        let res = self
            .post(
                &format!("/api/v1/operator/conversations/{conv}/cards"),
                Some(op),
                Some(json!({"payment_id": payment})),
            )
            .await;
        assert_eq!(res.status(), 201, "share");
        let card: Value = res.json().await.unwrap();
        card["id"].as_str().unwrap().to_owned()
    }

    async fn stream(&self, path: &str, token: &str, last_event_id: Option<&str>) -> SseClient {
        let mut req = self.http.get(self.url(path)).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        SseClient::connect(req.send().await.unwrap()).await
    }
}

/// The next event of `kind` on `stream` (others are skipped), within a few seconds.
async fn next_of(stream: &mut SseClient, kind: &str) -> common::SseEvent {
    loop {
        let event = stream
            .next(Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("no {kind} event within 5 s"));
        if event.event.as_deref() == Some(kind) {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_act_as_one() {
    if !std::env::var("PAYCARD_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("skipped: several instances need PostgreSQL (PAYCARD_TEST_DATABASE_URL)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = common::test_database_url(dir.path()).await;
    let vars = settings();
    // Both start at once: migrations and the demo data must not trip over each other.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start_on(&url, Some(PASSWORD), &vars, Stdio::inherit()));
        let b = scope.spawn(|| start_on(&url, Some(PASSWORD), &vars, Stdio::inherit()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let http = reqwest::Client::new();
    let a = Instance {
        server: a,
        http: http.clone(),
    };
    let mut b = Instance { server: b, http };

    // The visitor on A, the operator on B.
    let conversation: Value = a
        .post(
            "/api/v1/conversations",
            None,
            Some(json!({"brand_id": "acme", "visitor_name": "Ana"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let conv = conversation["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let visitor = conversation["visitor_token"].as_str().unwrap().to_owned();
    let login: Value = b
        .post(
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "operator@example.com", "password": PASSWORD})),
        )
        .await
        .json()
        .await
        .unwrap();
    let op = login["token"].as_str().unwrap().to_owned();
    let events_path = format!("/api/v1/conversations/{conv}/events");
    let mut visitor_stream = a.stream(&events_path, &visitor, Some("0")).await;
    let mut operator_stream = b.stream("/api/v1/operator/events", &op, None).await;
    let mut seen: Vec<String> = Vec::new();

    // Share on B reaches the visitor's stream on A.
    let card = b.share(&op, &conv, "pay_demo_mug").await;
    loop {
        let event = visitor_stream
            .next(Duration::from_secs(5))
            .await
            .expect("the share reaches A");
        seen.push(event.id.clone().unwrap());
        if event.data.contains(card.as_str()) {
            break;
        }
    }

    // A visitor's message on A reaches the operator's stream on B.
    let sent = a
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&visitor),
            Some(json!({"text": "Hola from A"})),
        )
        .await;
    assert_eq!(sent.status(), 201);
    loop {
        let event = next_of(&mut operator_stream, "message").await;
        if event.data.contains("Hola from A") {
            break;
        }
    }

    // A's listener connection is cut (a database restart, a network blip): A reconnects
    // and catches up from the log, well before its 10-second safety net would.
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let cut: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(cut, [true, true], "each instance had one listener");
    }
    let after_cut = b.share(&op, &conv, "pay_demo_beans").await;
    loop {
        let event = visitor_stream
            .next(Duration::from_secs(5))
            .await
            .expect("events still reach A");
        seen.push(event.id.clone().unwrap());
        if event.data.contains(after_cut.as_str()) {
            break;
        }
    }

    // Ten cards, each paid on A while the operator cancels on B and the visitor declines
    // on B, all at once: each card ends in one state, and is charged at most once.
    let mut cards = Vec::new();
    for _ in 0..10 {
        let card = b.share(&op, &conv, "pay_demo_mug").await;
        let id = card.as_str().to_owned();
        let checkout: Value = a
            .post(
                &format!("/api/v1/cards/{id}/checkout"),
                Some(&visitor),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let link = checkout["checkout_url"].as_str().unwrap();
        let path = link[link.find("/pay/").unwrap()..].to_owned();
        cards.push((id, path));
    }
    let races = cards.iter().enumerate().map(|(i, (id, path))| {
        let (a, b) = (&a, &b);
        let (op, visitor) = (op.clone(), visitor.clone());
        async move {
            // Alternate which instance pays, so both sides of each race are exercised.
            let (payer, other) = if i % 2 == 0 { (a, b) } else { (b, a) };
            let form = [
                ("name", "Ana García"),
                ("email", "ana@example.com"),
                ("card_number", GOOD_CARD),
                ("expiry", "12/34"),
                ("cvc", "123"),
            ];
            let pay = payer.http.post(payer.url(path)).form(&form).send();
            let (cancel_path, decline_path) = (
                format!("/api/v1/operator/cards/{id}/cancel"),
                format!("/api/v1/cards/{id}/decline"),
            );
            let cancel = other.post(&cancel_path, Some(&op), None);
            let decline = other.post(&decline_path, Some(&visitor), None);
            let (paid, cancelled, declined) = tokio::join!(pay, cancel, decline);
            for res in [
                paid.unwrap().status().as_u16(),
                cancelled.status().as_u16(),
                declined.status().as_u16(),
            ] {
                assert!(res < 500, "card {id}: a racing request answered {res}");
            }
        }
    });
    futures_util::future::join_all(races).await;
    // Let any payment still running on its instance finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&url).await.unwrap()
    };
    let mut db = db;
    let mut paid = 0;
    for (id, _) in &cards {
        let status: String = sqlx::query_scalar("SELECT status FROM cards WHERE id = $1")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
        let successes: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM attempts WHERE card_id = $1 AND status = 'succeeded'",
        )
        .bind(id)
        .fetch_one(&mut db)
        .await
        .unwrap();
        let charged: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sandbox_charges s JOIN attempts t ON t.id = s.idempotency_key
             WHERE t.card_id = $1 AND s.outcome = 'succeeded'",
        )
        .bind(id)
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert!(
            ["paid", "cancelled", "declined"].contains(&status.as_str()),
            "card {id} ended {status}"
        );
        assert!(charged <= 1, "card {id} was charged {charged} times");
        assert_eq!(
            successes,
            i64::from(status == "paid"),
            "card {id}: {status}, {successes} successes"
        );
        assert_eq!(
            charged, successes,
            "card {id}: the gateway and our records agree"
        );
        paid += successes;
    }
    eprintln!("racing pay/cancel/decline over two instances: {paid} of 10 paid, the rest closed");

    // Refunds racing over both instances never give back more than was paid: one more
    // card, paid on A; twelve refunds of 4.00 of its 25.00, half on A, half on B.
    let refunded = b.share(&op, &conv, "pay_demo_mug").await;
    let checkout: Value = a
        .post(
            &format!("/api/v1/cards/{refunded}/checkout"),
            Some(&visitor),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let link = checkout["checkout_url"].as_str().unwrap();
    let form = [
        ("name", "Ana García"),
        ("email", "ana@example.com"),
        ("card_number", GOOD_CARD),
        ("expiry", "12/34"),
        ("cvc", "123"),
    ];
    let page = a
        .http
        .post(a.url(&link[link.find("/pay/").unwrap()..]))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("Payment successful"));
    let admin = json!({"email": "admin@example.com", "password": PASSWORD});
    let admin_a: Value = a
        .post("/api/v1/auth/login", None, Some(admin.clone()))
        .await
        .json()
        .await
        .unwrap();
    let admin_b: Value = b
        .post("/api/v1/auth/login", None, Some(admin))
        .await
        .json()
        .await
        .unwrap();
    let refund_path = format!("/api/v1/admin/cards/{refunded}/refunds");
    let races = (0..12).map(|i| {
        let (instance, token) = if i % 2 == 0 {
            (&a, admin_a["token"].as_str().unwrap())
        } else {
            (&b, admin_b["token"].as_str().unwrap())
        };
        let path = refund_path.clone();
        async move {
            instance
                .post(&path, Some(token), Some(json!({"amount_minor": 400})))
                .await
                .status()
                .as_u16()
        }
    });
    let answers: Vec<u16> = futures_util::future::join_all(races).await;
    assert_eq!(
        answers.iter().filter(|&&c| c == 201).count(),
        6,
        "25.00 holds six refunds of 4.00: {answers:?}"
    );
    assert!(answers.iter().all(|&c| c == 201 || c == 400), "{answers:?}");
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE card_id = $1 AND status = 'succeeded'",
    )
    .bind(&refunded)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let on_card: i64 = sqlx::query_scalar("SELECT refunded_minor FROM cards WHERE id = $1")
        .bind(&refunded)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!((total, on_card), (2400, 2400));

    // Read what the visitor's stream has so far, then kill A without a goodbye.
    seen.extend(
        visitor_stream
            .drain(Duration::from_millis(800))
            .await
            .into_iter()
            .map(|e| e.id.unwrap()),
    );
    let last = seen.last().unwrap().clone();
    a.server.kill9();
    // While the visitor is away, the operator on B shares one more card.
    let late = b.share(&op, &conv, "pay_demo_mug").await;
    // The visitor's EventSource reconnects through the balancer, now to B.
    let mut resumed = b.stream(&events_path, &visitor, Some(&last)).await;
    let mut after = resumed.drain(Duration::from_millis(800)).await;
    assert!(
        after.iter().any(|e| e.data.contains(late.as_str())),
        "the card shared while the visitor was away arrives"
    );
    seen.extend(after.drain(..).map(|e| e.id.unwrap()));
    // Nothing twice, nothing missing: exactly the conversation's log, in order.
    let logged: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM events WHERE conversation_id = $1 ORDER BY seq")
            .bind(&conv)
            .fetch_all(&mut db)
            .await
            .unwrap();
    let seen: Vec<i64> = seen.iter().map(|id| id.parse().unwrap()).collect();
    assert_eq!(
        seen, logged,
        "the visitor saw every event of the conversation once, in order"
    );
    assert!(b.server.child.try_wait().unwrap().is_none(), "B still runs");
}
