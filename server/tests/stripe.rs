//! The Stripe gateway (SPEC §4 "Stripe") against a stand-in for Stripe's API started on
//! loopback: it checks each request's shape and key and answers as Stripe documents.
//! Webhooks are signed with the real scheme (HMAC-SHA256 of `t.body`).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use common::{assert_error, TestServer};
use paycard_server::domain::gateways::stripe::sign;
use serde_json::{json, Value};

const SECRET_KEY: &str = "sk_test_51PaycardStandInKey4242";
const WEBHOOK_SECRET: &str = "whsec_standInSigningSecret9876";
/// A second key of the same account, as while a key is being rolled: Stripe takes both.
const ROLLED_KEY: &str = "sk_test_51Replaced0000001111";
/// A restricted key that Stripe knows but that may not read the balance.
const RESTRICTED_KEY: &str = "rk_test_51Restricted000005555";

/// What the stand-in saw and holds.
#[derive(Default)]
struct Stripe {
    base: String,
    sessions: HashMap<String, Value>,
    by_idempotency_key: HashMap<String, String>,
    created: Vec<HashMap<String, String>>,
    expire_calls: Vec<String>,
    down: bool,
    /// Refunds made, by id; and what `POST /v1/refunds` answers as their status.
    refunds: Vec<Value>,
    refund_status: Option<String>,
    refunds_by_key: HashMap<String, usize>,
    /// How often a refund was read (`GET /v1/refunds/{id}`).
    refund_reads: usize,
    /// How often a connection test read the balance.
    balance_reads: usize,
}

type Shared = Arc<Mutex<Stripe>>;

fn stripe_error(status: StatusCode, message: &str) -> axum::response::Response {
    (
        status,
        Json(json!({"error": {"type": "invalid_request_error", "message": message}})),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    [SECRET_KEY, ROLLED_KEY]
        .iter()
        .any(|key| given == Some(&format!("Bearer {key}")))
}

/// `GET /v1/balance`: what a connection test reads.
async fn get_balance(State(shared): State<Shared>, headers: HeaderMap) -> axum::response::Response {
    let mut stripe = shared.lock().unwrap();
    stripe.balance_reads += 1;
    if stripe.down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if given == Some(&format!("Bearer {RESTRICTED_KEY}")) {
        return stripe_error(
            StatusCode::FORBIDDEN,
            "The provided key 'rk_test_********5555' does not have the required permissions for this endpoint.",
        );
    }
    if !authorized(&headers) {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "Invalid API Key provided: sk_test_********0000",
        );
    }
    Json(json!({"object": "balance", "available": [{"amount": 0, "currency": "eur"}], "livemode": false}))
        .into_response()
}

async fn create_session(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> axum::response::Response {
    let mut stripe = shared.lock().unwrap();
    if stripe.down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "the tests require an Idempotency-Key",
        );
    };
    if let Some(id) = stripe.by_idempotency_key.get(key) {
        return Json(stripe.sessions[id].clone()).into_response();
    }
    let p: HashMap<String, String> = params.into_iter().collect();
    let mode = p.get("mode").map(String::as_str);
    let mut required = vec![
        "mode",
        "client_reference_id",
        "success_url",
        "cancel_url",
        "line_items[0][quantity]",
        "line_items[0][price_data][currency]",
        "line_items[0][price_data][unit_amount]",
        "line_items[0][price_data][product_data][name]",
    ];
    if mode == Some("subscription") {
        required.push("line_items[0][price_data][recurring][interval]");
        required.push("line_items[0][price_data][recurring][interval_count]");
    }
    for name in required {
        if p.get(name).is_none_or(|v| v.is_empty()) {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                &format!("Missing required param: {name}."),
            );
        }
    }
    if !matches!(mode, Some("payment" | "subscription")) {
        return stripe_error(StatusCode::BAD_REQUEST, "Invalid mode");
    }
    if p["line_items[0][price_data][unit_amount]"]
        .parse::<i64>()
        .map_or(true, |a| a <= 0)
    {
        return stripe_error(StatusCode::BAD_REQUEST, "Invalid integer: unit_amount");
    }
    let id = format!("cs_test_{}", stripe.sessions.len() + 1);
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "url": format!("{}/c/pay/{id}", stripe.base),
        "status": "open",
        "payment_status": "unpaid",
        "mode": mode,
        "client_reference_id": p["client_reference_id"],
        "currency": p["line_items[0][price_data][currency]"],
        "amount_total": p["line_items[0][price_data][unit_amount]"].parse::<i64>().unwrap(),
    });
    stripe.sessions.insert(id.clone(), session.clone());
    stripe.by_idempotency_key.insert(key.to_owned(), id);
    stripe.created.push(p);
    Json(session).into_response()
}

async fn expire_session(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> axum::response::Response {
    if shared.lock().unwrap().down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    let mut stripe = shared.lock().unwrap();
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    stripe.expire_calls.push(id.clone());
    let Some(session) = stripe.sessions.get_mut(&id) else {
        return stripe_error(StatusCode::NOT_FOUND, "No such checkout.session");
    };
    if session["status"] != "open" {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "Only Checkout Sessions with a status in [\"open\"] can be expired.",
        );
    }
    session["status"] = json!("expired");
    Json(session.clone()).into_response()
}

async fn get_session(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> axum::response::Response {
    if shared.lock().unwrap().down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    let stripe = shared.lock().unwrap();
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    match stripe.sessions.get(&id) {
        Some(s) => Json(s.clone()).into_response(),
        None => stripe_error(StatusCode::NOT_FOUND, "No such checkout.session"),
    }
}

/// `POST /v1/refunds`: a refund of (part of) a paid session's payment intent, never
/// more than what is left of it; once per Idempotency-Key.
async fn create_refund(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> axum::response::Response {
    let mut stripe = shared.lock().unwrap();
    if stripe.down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "the tests require an Idempotency-Key",
        );
    };
    if let Some(&i) = stripe.refunds_by_key.get(key) {
        return Json(stripe.refunds[i].clone()).into_response();
    }
    let p: HashMap<String, String> = params.into_iter().collect();
    let Some(intent) = p.get("payment_intent") else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "Missing required param: payment_intent.",
        );
    };
    let Some(paid) = stripe
        .sessions
        .values()
        .find(|s| s["payment_intent"] == intent.as_str() && s["payment_status"] == "paid")
        .map(|s| s["amount_total"].as_i64().unwrap())
    else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            &format!("No such payment_intent: '{intent}'"),
        );
    };
    let refunded: i64 = stripe
        .refunds
        .iter()
        .filter(|r| r["payment_intent"] == intent.as_str() && r["status"] != "failed")
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    let amount = p
        .get("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(paid - refunded);
    if amount <= 0 || amount > paid - refunded {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({})",
                paid - refunded
            ),
        );
    }
    let refund = json!({
        "id": format!("re_test_{}", stripe.refunds.len() + 1),
        "object": "refund",
        "amount": amount,
        "payment_intent": intent,
        "status": stripe.refund_status.clone().unwrap_or_else(|| "pending".into()),
        "metadata": {"refund_id": p.get("metadata[refund_id]")},
    });
    stripe.refunds.push(refund.clone());
    let i = stripe.refunds.len() - 1;
    stripe.refunds_by_key.insert(key.to_owned(), i);
    Json(refund).into_response()
}

/// `GET /v1/refunds/{id}`: a refund as it now stands.
async fn get_refund(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> axum::response::Response {
    let mut stripe = shared.lock().unwrap();
    if stripe.down {
        return stripe_error(StatusCode::SERVICE_UNAVAILABLE, "down for the test");
    }
    if !authorized(&headers) {
        return stripe_error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    stripe.refund_reads += 1;
    match stripe.refunds.iter().find(|r| r["id"] == id.as_str()) {
        Some(refund) => Json(refund.clone()).into_response(),
        None => stripe_error(StatusCode::NOT_FOUND, &format!("No such refund: '{id}'")),
    }
}

async fn start_stand_in() -> Shared {
    let shared: Shared = Arc::default();
    let router = Router::new()
        .route("/v1/refunds", post(create_refund))
        .route("/v1/refunds/{id}", get(get_refund))
        .route("/v1/balance", get(get_balance))
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(get_session))
        .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    shared
}

/// The customer pays on Stripe's page (or starts a bank debit: `paid = false`).
fn customer_completes(stripe: &Shared, session: &str, paid: bool) {
    let mut s = stripe.lock().unwrap();
    let session = s.sessions.get_mut(session).unwrap();
    session["status"] = json!("complete");
    session["payment_status"] = json!(if paid { "paid" } else { "unpaid" });
    if paid {
        session["payment_intent"] = json!(payment_intent_of(session["id"].as_str().unwrap()));
    }
}

fn payment_intent_of(session: &str) -> String {
    format!("pi_for_{session}")
}

struct World {
    s: TestServer,
    stripe: Shared,
    gateway_id: String,
    op: String,
}

async fn world() -> World {
    let stripe = start_stand_in().await;
    let base = stripe.lock().unwrap().base.clone();
    let s = TestServer::start_with(&[("PAYCARD_STRIPE_API_BASE", &base)]).await;
    let admin = s.admin().await;
    let res = s
        .send(
            reqwest::Method::PUT,
            "/api/v1/admin/portal",
            Some(&admin),
            Some(
                json!({"name": "Acme Europe", "country": "ES", "currency": "EUR",
                        "time_zone": "Europe/Madrid", "edition": "free"}),
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "stripe", "credentials": {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let gateway: Value = res.json().await.unwrap();
    let op = s.operator().await;
    World {
        gateway_id: gateway["id"].as_str().unwrap().to_owned(),
        s,
        stripe,
        op,
    }
}

struct Paying {
    card_id: String,
    link: String,
}

impl World {
    /// The admin replaces the gateway's secret key (the webhook secret as before).
    async fn replace_key(&self, admin: &str, secret_key: &str) -> reqwest::Response {
        self.s
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/gateways/{}", self.gateway_id),
                Some(admin),
                Some(json!({"kind": "stripe", "credentials": {"secret_key": secret_key, "webhook_secret": WEBHOOK_SECRET}})),
            )
            .await
    }

    async fn share(&self, payment: &str) -> Paying {
        let (card_id, link) = self.s.shared_checkout(&self.op, payment).await;
        Paying { card_id, link }
    }

    /// Pay with Stripe on the hosted page: the 303's Location.
    async fn pay_with_stripe(&self, p: &Paying) -> String {
        self.s.pay_at_gateway(&p.link, "stripe").await
    }

    async fn card(&self, p: &Paying) -> Value {
        self.s
            .get_json(&format!("/api/v1/cards/{}", p.card_id), Some(&self.op))
            .await
    }

    async fn attempts(&self, p: &Paying) -> Vec<Value> {
        let path = format!("/api/v1/operator/cards/{}/attempts", p.card_id);
        self.s.get_json(&path, Some(&self.op)).await
    }

    /// Sends a webhook signed at `timestamp` with `secret`.
    async fn webhook_signed(
        &self,
        event: &Value,
        secret: &str,
        timestamp: i64,
    ) -> reqwest::Response {
        let body = serde_json::to_vec(event).unwrap();
        self.s
            .http
            .post(self.s.url(&format!("/webhooks/stripe/{}", self.gateway_id)))
            .header("content-type", "application/json")
            .header("stripe-signature", sign(&body, secret, timestamp))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn webhook(&self, event: &Value) -> reqwest::Response {
        self.webhook_signed(event, WEBHOOK_SECRET, now()).await
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn event(id: &str, kind: &str, session: &str, card_id: &str, payment_status: &str) -> Value {
    json!({
        "id": id,
        "object": "event",
        "type": kind,
        "data": {"object": {
            "id": session, "object": "checkout.session", "client_reference_id": card_id,
            "payment_status": payment_status,
            "payment_intent": if payment_status == "paid" { json!(payment_intent_of(session)) } else { Value::Null },
            "status": if kind == "checkout.session.expired" { "expired" } else { "complete" },
        }},
    })
}

fn session_of(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn stripe_is_offered_its_credentials_stay_secret_and_the_page_offers_it() {
    let w = world().await;
    let admin = w.s.admin().await;
    let kinds: Vec<Value> =
        w.s.get("/api/v1/admin/gateway-kinds", Some(&admin))
            .await
            .json()
            .await
            .unwrap();
    let stripe = kinds
        .iter()
        .find(|k| k["kind"] == "stripe")
        .expect("stripe offered");
    assert_eq!(
        stripe["fields"],
        json!([
            {"name": "secret_key", "label": "Secret key", "secret": true, "example": "sk_test_…"},
            {"name": "webhook_secret", "label": "Webhook signing secret", "secret": true, "example": "whsec_…"},
        ])
    );
    // Masked in every answer; never in clear in the database file.
    let listed =
        w.s.get("/api/v1/admin/gateways", Some(&admin))
            .await
            .text()
            .await
            .unwrap();
    assert!(
        listed.contains("sk_test_…4242") && listed.contains("whsec_…9876"),
        "{listed}"
    );
    assert!(!listed.contains(SECRET_KEY) && !listed.contains(WEBHOOK_SECRET));
    let file = w.s.stored_bytes().await;
    for secret in [
        SECRET_KEY,
        WEBHOOK_SECRET,
        "51PaycardStandIn",
        "standInSigning",
    ] {
        assert!(
            !file
                .windows(secret.len())
                .any(|win| win == secret.as_bytes()),
            "{secret} is in the database file"
        );
    }
    // Bad shapes are refused field by field; a second Stripe is a conflict.
    let res = w
        .s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "stripe", "credentials": {"secret_key": "pk_test_publishable0000000", "webhook_secret": ""}}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        body["error"]["fields"][0]["field"],
        "credentials.secret_key"
    );
    assert_eq!(
        body["error"]["fields"][1]["field"],
        "credentials.webhook_secret"
    );
    let res = w
        .s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "stripe", "credentials": {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}}),
        )
        .await;
    assert_error(res, 409, "gateway_exists").await;
    // Replaced credentials are masked anew.
    let res =
        w.s.send(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/gateways/{}", w.gateway_id),
            Some(&admin),
            Some(json!({"kind": "sandbox", "credentials": {}})),
        )
        .await;
    assert_error(res, 409, "gateway_kind_mismatch").await;
    let res = w.replace_key(&admin, ROLLED_KEY).await;
    assert_eq!(res.status(), 200);
    let replaced: Value = res.json().await.unwrap();
    assert_eq!(replaced["masked"]["secret_key"], "sk_test_…1111");

    // The checkout page offers Stripe (the only configured gateway), with no card fields.
    let p = w.share("pay_demo_mug").await;
    let res = w.s.get(&p.link, None).await;
    // The form may lead to Stripe's page (browsers apply form-action to the redirect).
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let stand_in = w.stripe.lock().unwrap().base.clone();
    assert!(
        csp.contains(&format!(
            "form-action 'self' https://checkout.stripe.com {stand_in};"
        )),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("value=\"stripe\""), "{page}");
    assert!(page.contains("Pay €25.00 with Stripe"));
    assert!(
        !page.contains("card_number"),
        "Stripe takes the card on its page"
    );
}

#[tokio::test]
async fn a_stripe_payment_goes_through_checkout_and_a_signed_webhook() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let location = w.pay_with_stripe(&p).await;
    let base = w.stripe.lock().unwrap().base.clone();
    assert!(
        location.starts_with(&format!("{base}/c/pay/cs_test_")),
        "{location}"
    );
    {
        let stripe = w.stripe.lock().unwrap();
        let sent = &stripe.created[0];
        assert_eq!(sent["mode"], "payment");
        assert_eq!(sent["client_reference_id"], p.card_id);
        assert_eq!(sent["line_items[0][price_data][currency]"], "eur");
        assert_eq!(sent["line_items[0][price_data][unit_amount]"], "2500");
        assert_eq!(
            sent["line_items[0][price_data][product_data][name]"],
            "Custom mug"
        );
        assert_eq!(sent["customer_email"], "ana@example.com");
        assert_eq!(
            sent["locale"], "en",
            "Stripe's page in the visitor's language"
        );
        let back = format!("{}{}", w.s.base, p.link);
        assert!(
            sent["success_url"].starts_with(&back),
            "{}",
            sent["success_url"]
        );
        assert!(sent["cancel_url"].starts_with(&back));
        let expires: i64 = sent["expires_at"].parse().unwrap();
        assert!(expires > now() + 30 * 60 && expires <= now() + 24 * 3600);
    }
    // Still payable until Stripe says otherwise; Pay again goes to the same session.
    assert_eq!(w.card(&p).await["status"], "pending");
    assert_eq!(w.pay_with_stripe(&p).await, location);
    assert_eq!(w.stripe.lock().unwrap().created.len(), 1);
    // Back from Stripe before the webhook: the page waits (and refreshes itself).
    let waiting =
        w.s.get(&format!("{}?return=stripe", p.link), None)
            .await
            .text()
            .await
            .unwrap();
    assert!(
        waiting.contains("waiting for the payment provider"),
        "{waiting}"
    );
    assert!(waiting.contains("http-equiv=\"refresh\""));

    let session = session_of(&location);
    customer_completes(&w.stripe, &session, true);
    let res = w
        .webhook(&event(
            "evt_1",
            "checkout.session.completed",
            &session,
            &p.card_id,
            "paid",
        ))
        .await;
    assert_eq!(res.status(), 200);
    let card = w.card(&p).await;
    assert_eq!(card["status"], "paid");
    let attempts = w.attempts(&p).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["gateway"], "stripe");
    assert_eq!(attempts[0]["status"], "succeeded");
    assert_eq!(attempts[0]["amount_minor"], 2500);
    let page = w.s.get(&p.link, None).await.text().await.unwrap();
    assert!(page.contains("Payment successful"));
}

#[tokio::test]
async fn a_recurring_card_opens_a_subscription_session() {
    let w = world().await;
    let p = w.share("pay_demo_beans").await;
    let location = w.pay_with_stripe(&p).await;
    {
        let stripe = w.stripe.lock().unwrap();
        let sent = &stripe.created[0];
        assert_eq!(sent["mode"], "subscription");
        assert_eq!(
            sent["line_items[0][price_data][recurring][interval]"],
            "month"
        );
        assert_eq!(
            sent["line_items[0][price_data][recurring][interval_count]"],
            "1"
        );
        assert_eq!(sent["line_items[0][price_data][unit_amount]"], "4900");
    }
    let session = session_of(&location);
    customer_completes(&w.stripe, &session, true);
    w.webhook(&event(
        "evt_sub",
        "checkout.session.completed",
        &session,
        &p.card_id,
        "paid",
    ))
    .await;
    assert_eq!(w.card(&p).await["status"], "paid");
    let subscriptions: i64 =
        w.s.value(
            "SELECT CAST(COUNT(*) AS TEXT) FROM subscriptions WHERE card_id = $1",
            &[&p.card_id],
        )
        .await
        .parse()
        .unwrap();
    assert_eq!(subscriptions, 1);
}

#[tokio::test]
async fn a_delayed_payment_that_fails_leaves_the_card_to_retry() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    customer_completes(&w.stripe, &session, false);
    w.webhook(&event(
        "evt_a",
        "checkout.session.completed",
        &session,
        &p.card_id,
        "unpaid",
    ))
    .await;
    assert_eq!(
        w.card(&p).await["status"],
        "processing",
        "the bank debit is on its way"
    );
    let res = w
        .webhook(&event(
            "evt_b",
            "checkout.session.async_payment_failed",
            &session,
            &p.card_id,
            "unpaid",
        ))
        .await;
    assert_eq!(res.status(), 200);
    let card = w.card(&p).await;
    assert_eq!(card["status"], "failed");
    assert_eq!(card["failure_reason"], "payment_failed");
    assert_eq!(w.attempts(&p).await[0]["status"], "failed");
    // The visitor tries again: a new session.
    let again = w.pay_with_stripe(&p).await;
    assert_ne!(session_of(&again), session);
    customer_completes(&w.stripe, &session_of(&again), false);
    w.webhook(&event(
        "evt_c",
        "checkout.session.completed",
        &session_of(&again),
        &p.card_id,
        "unpaid",
    ))
    .await;
    w.webhook(&event(
        "evt_d",
        "checkout.session.async_payment_succeeded",
        &session_of(&again),
        &p.card_id,
        "paid",
    ))
    .await;
    assert_eq!(w.card(&p).await["status"], "paid");
    assert_eq!(w.attempts(&p).await.len(), 2);
}

#[tokio::test]
async fn an_expired_session_leaves_the_card_payable() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    let res = w
        .webhook(&event(
            "evt_x",
            "checkout.session.expired",
            &session,
            &p.card_id,
            "unpaid",
        ))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.card(&p).await["status"], "pending");
    assert!(w.attempts(&p).await.is_empty());
    let next = session_of(&w.pay_with_stripe(&p).await);
    assert_ne!(next, session, "a fresh session after expiry");
}

#[tokio::test]
async fn forged_stale_and_replayed_webhooks_change_nothing() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    customer_completes(&w.stripe, &session, true);
    let paid = event(
        "evt_once",
        "checkout.session.completed",
        &session,
        &p.card_id,
        "paid",
    );

    let forged = w
        .webhook_signed(&paid, "whsec_someoneElsesSecret000", now())
        .await;
    assert_error(forged, 401, "invalid_signature").await;
    let stale = w.webhook_signed(&paid, WEBHOOK_SECRET, now() - 301).await;
    assert_error(stale, 401, "invalid_signature").await;
    let unsigned =
        w.s.http
            .post(w.s.url(&format!("/webhooks/stripe/{}", w.gateway_id)))
            .body(serde_json::to_vec(&paid).unwrap())
            .send()
            .await
            .unwrap();
    assert_error(unsigned, 401, "invalid_signature").await;
    // A body changed after signing.
    let body = serde_json::to_vec(&paid).unwrap();
    let header = sign(&body, WEBHOOK_SECRET, now());
    let mut tampered = paid.clone();
    tampered["data"]["object"]["client_reference_id"] = json!("card_someone_else");
    let res =
        w.s.http
            .post(w.s.url(&format!("/webhooks/stripe/{}", w.gateway_id)))
            .header("stripe-signature", header)
            .body(serde_json::to_vec(&tampered).unwrap())
            .send()
            .await
            .unwrap();
    assert_error(res, 401, "invalid_signature").await;
    let res =
        w.s.http
            .post(w.s.url("/webhooks/stripe/gw_unknown"))
            .body("{}")
            .send()
            .await
            .unwrap();
    assert_error(res, 404, "not_found").await;
    assert_eq!(w.card(&p).await["status"], "pending", "nothing changed");
    assert!(w.attempts(&p).await.is_empty());

    // The genuine event, twice (Stripe retries): it takes effect once.
    assert_eq!(w.webhook(&paid).await.status(), 200);
    let version = w.card(&p).await["version"].clone();
    assert_eq!(w.webhook(&paid).await.status(), 200);
    assert_eq!(w.card(&p).await["version"], version);
    assert_eq!(w.attempts(&p).await.len(), 1);
}

#[tokio::test]
async fn cancel_expires_an_open_session_but_loses_to_a_completed_one() {
    let w = world().await;
    // Open session, nobody paid: the cancel expires it at Stripe and wins.
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
            Some(&w.op),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.card(&p).await["status"], "cancelled");
    {
        let stripe = w.stripe.lock().unwrap();
        assert_eq!(stripe.expire_calls, vec![session.clone()]);
        assert_eq!(stripe.sessions[&session]["status"], "expired");
    }

    // The customer paid a moment before the cancel, the webhook not yet here: the
    // payment wins, the cancel gets 409, and the late webhook changes nothing more.
    let q = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&q).await);
    customer_completes(&w.stripe, &session, true);
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", q.card_id),
            Some(&w.op),
        )
        .await;
    assert_error(res, 409, "card_final").await;
    assert_eq!(w.card(&q).await["status"], "paid");
    w.webhook(&event(
        "evt_late",
        "checkout.session.completed",
        &session,
        &q.card_id,
        "paid",
    ))
    .await;
    assert_eq!(w.card(&q).await["status"], "paid");
    assert_eq!(w.attempts(&q).await.len(), 1, "paid once");

    // Stripe down: the cancel cannot know whether the customer paid, so it is refused
    // (409, try again) and the card stays as it was.
    let r = w.share("pay_demo_mug").await;
    w.pay_with_stripe(&r).await;
    w.stripe.lock().unwrap().down = true;
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", r.card_id),
            Some(&w.op),
        )
        .await;
    assert_error(res, 409, "gateway_unavailable").await;
    assert_eq!(w.card(&r).await["status"], "pending");
    w.stripe.lock().unwrap().down = false;
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", r.card_id),
            Some(&w.op),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn stripe_down_is_a_message_on_the_page_and_nothing_is_charged() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    w.stripe.lock().unwrap().down = true;
    let res =
        w.s.http
            .post(w.s.url(&p.link))
            .form(&[
                ("name", "Ana García"),
                ("email", "ana@example.com"),
                ("gateway", "stripe"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("cannot be reached"), "{page}");
    assert_eq!(w.card(&p).await["status"], "pending");
    w.stripe.lock().unwrap().down = false;
    let location = w.pay_with_stripe(&p).await;
    assert!(location.contains("cs_test_"));
    // A bad account field is shown before Stripe is asked.
    let q = w.share("pay_demo_mug").await;
    let res =
        w.s.http
            .post(w.s.url(&q.link))
            .form(&[
                ("name", ""),
                ("email", "not-an-email"),
                ("gateway", "stripe"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(w.stripe.lock().unwrap().created.len(), 1);
}

#[tokio::test]
async fn with_both_gateways_a_card_is_paid_once_whichever_tab_wins() {
    let w = world().await;
    let admin = w.s.admin().await;
    let res =
        w.s.post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let card_form = [
        ("name", "Ana García"),
        ("email", "ana@example.com"),
        ("card_number", "4242 4242 4242 4242"),
        ("expiry", "12/34"),
        ("cvc", "123"),
        ("gateway", "sandbox"),
    ];

    // The page offers both: the test card first (Enter in its fields pays with it).
    let p = w.share("pay_demo_mug").await;
    let page = w.s.get(&p.link, None).await.text().await.unwrap();
    let (sandbox_at, stripe_at) = (
        page.find("value=\"sandbox\"").unwrap(),
        page.find("value=\"stripe\"").unwrap(),
    );
    assert!(sandbox_at < stripe_at);

    // Tab 1 opened Stripe's page; tab 2 pays with a card: Stripe's session is expired
    // first, so it can no longer be paid.
    let session = session_of(&w.pay_with_stripe(&p).await);
    let res =
        w.s.http
            .post(w.s.url(&p.link))
            .form(&card_form)
            .send()
            .await
            .unwrap();
    assert!(res.text().await.unwrap().contains("Payment successful"));
    assert_eq!(w.card(&p).await["status"], "paid");
    assert_eq!(
        w.stripe.lock().unwrap().sessions[&session]["status"],
        "expired"
    );
    assert_eq!(w.attempts(&p).await.len(), 1);

    // Stripe's tab paid first: the card attempt finds it paid and charges nothing.
    let q = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&q).await);
    customer_completes(&w.stripe, &session, true);
    let res =
        w.s.http
            .post(w.s.url(&q.link))
            .form(&card_form)
            .send()
            .await
            .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("already paid"), "{page}");
    let attempts = w.attempts(&q).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["gateway"], "stripe");
}

#[tokio::test]
async fn pay_again_asks_stripe_about_the_open_session_when_its_webhook_never_came() {
    let w = world().await;
    // Stripe expired the session, but its webhook was lost: a new session is made.
    let p = w.share("pay_demo_mug").await;
    let first = session_of(&w.pay_with_stripe(&p).await);
    w.stripe.lock().unwrap().sessions.get_mut(&first).unwrap()["status"] = json!("expired");
    let second = session_of(&w.pay_with_stripe(&p).await);
    assert_ne!(first, second);
    // The customer paid, the webhook is late: Pay again shows it paid, charges nothing.
    customer_completes(&w.stripe, &second, true);
    let res =
        w.s.http
            .post(w.s.url(&p.link))
            .form(&[
                ("name", "Ana García"),
                ("email", "ana@example.com"),
                ("gateway", "stripe"),
            ])
            .send()
            .await
            .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("already paid"), "{page}");
    assert_eq!(w.card(&p).await["status"], "paid");
    assert_eq!(w.attempts(&p).await.len(), 1);
    assert_eq!(w.stripe.lock().unwrap().created.len(), 2);
}

#[tokio::test]
async fn a_session_left_creating_by_a_crash_does_not_block_the_card() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    w.s.sql(
        "INSERT INTO gateway_sessions (attempt_id, card_id, gateway_id, kind, status, created_at, updated_at)
         VALUES ('att_crashed', $1, $2, 'stripe', 'creating', $3, $3)",
        &[&p.card_id, &w.gateway_id, &long_ago],
    )
    .await;
    let location = w.pay_with_stripe(&p).await;
    assert!(location.contains("cs_test_"), "{location}");
}

#[tokio::test]
async fn back_from_stripe_the_page_asks_stripe_when_the_webhook_is_lost() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    customer_completes(&w.stripe, &session, true);
    // No webhook (a misconfigured endpoint): the success URL settles it by asking Stripe.
    let page =
        w.s.get(&format!("{}?return=stripe", p.link), None)
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("Payment successful"), "{page}");
    assert!(page.contains("Thank you!"));
    assert_eq!(w.card(&p).await["status"], "paid");
    // The webhook, when it comes after all, changes nothing more.
    w.webhook(&event(
        "evt_late",
        "checkout.session.completed",
        &session,
        &p.card_id,
        "paid",
    ))
    .await;
    assert_eq!(w.attempts(&p).await.len(), 1);

    // A bank debit still on its way: the page says so and waits.
    let q = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&q).await);
    customer_completes(&w.stripe, &session, false);
    let page =
        w.s.get(&format!("{}?return=stripe", q.link), None)
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("Payment in progress"), "{page}");
    assert_eq!(w.card(&q).await["status"], "processing");
}

#[tokio::test]
async fn events_out_of_order_do_not_reopen_a_settled_payment() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    customer_completes(&w.stripe, &session, false);
    // Stripe does not promise order: the failure arrives before the completion.
    w.webhook(&event(
        "evt_2",
        "checkout.session.async_payment_failed",
        &session,
        &p.card_id,
        "unpaid",
    ))
    .await;
    assert_eq!(w.card(&p).await["status"], "failed");
    w.webhook(&event(
        "evt_1",
        "checkout.session.completed",
        &session,
        &p.card_id,
        "unpaid",
    ))
    .await;
    assert_eq!(w.card(&p).await["status"], "failed", "still payable again");
    assert_eq!(w.attempts(&p).await.len(), 1);
}

#[tokio::test]
async fn a_cancel_loses_to_a_bank_debit_under_way_without_calling_it_paid() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    // The customer completed with a bank debit; the money is not there yet.
    customer_completes(&w.stripe, &session, false);
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
            Some(&w.op),
        )
        .await;
    assert_error(res, 409, "invalid_transition").await;
    assert_eq!(
        w.card(&p).await["status"],
        "processing",
        "not paid, not cancelled"
    );
    assert!(w.attempts(&p).await.is_empty(), "nothing settled yet");
    w.webhook(&event(
        "evt_ok",
        "checkout.session.async_payment_succeeded",
        &session,
        &p.card_id,
        "paid",
    ))
    .await;
    assert_eq!(w.card(&p).await["status"], "paid");
}

#[tokio::test]
async fn a_gateway_with_payments_under_way_cannot_be_removed() {
    let w = world().await;
    let admin = w.s.admin().await;
    let p = w.share("pay_demo_mug").await;
    w.pay_with_stripe(&p).await;
    let path = format!("/api/v1/admin/gateways/{}", w.gateway_id);
    let remove = || w.s.send(reqwest::Method::DELETE, &path, Some(&admin), None);
    assert_error(remove().await, 409, "gateway_in_use").await;
    // Cancel and decline still reach it: the card's session is closed first.
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
            Some(&w.op),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.stripe.lock().unwrap().expire_calls.len(), 1);
    // Nothing under way any more: it may go.
    assert_eq!(remove().await.status(), 204);
}

#[tokio::test]
async fn a_cancel_while_the_visitor_is_being_sent_to_stripe_waits_for_a_sure_answer() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    // The visitor pressed Pay this instant: the session is being created at Stripe.
    w.s.sql(
        "INSERT INTO gateway_sessions (attempt_id, card_id, gateway_id, kind, status, created_at, updated_at)
         VALUES ('att_now', $1, $2, 'stripe', 'creating', $3, $3)",
        &[&p.card_id, &w.gateway_id, &paycard_server::secrets::now()],
    )
    .await;
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
            Some(&w.op),
        )
        .await;
    assert_error(res, 409, "payment_in_progress").await;
    assert_eq!(
        w.card(&p).await["status"],
        "pending",
        "the card is unchanged"
    );
}

#[tokio::test]
async fn the_expiry_job_goes_on_past_a_card_whose_gateway_is_down() {
    let w = world().await;
    let stuck = w.share("pay_demo_mug").await;
    w.pay_with_stripe(&stuck).await;
    let plain = w.share("pay_demo_mug").await;
    w.s.sql(
        "UPDATE cards SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id IN ($1, $2)",
        &[&stuck.card_id, &plain.card_id],
    )
    .await;
    w.stripe.lock().unwrap().down = true;
    // The card with a session Stripe cannot close waits; the other expires.
    assert_eq!(
        paycard_server::domain::charges::expire_due(&w.s.state).await,
        1
    );
    assert_eq!(w.card(&stuck).await["status"], "pending");
    assert_eq!(w.card(&plain).await["status"], "expired");
    // Stripe back: the next round expires it.
    w.stripe.lock().unwrap().down = false;
    assert_eq!(
        paycard_server::domain::charges::expire_due(&w.s.state).await,
        1
    );
    assert_eq!(w.card(&stuck).await["status"], "expired");
}

#[tokio::test]
async fn webhook_errors_are_json_too() {
    let w = world().await;
    let res =
        w.s.http
            .post(w.s.url(&format!("/webhooks/stripe/{}", w.gateway_id)))
            .header("content-type", "application/json")
            .body(vec![b'x'; 2 * 1024 * 1024])
            .send()
            .await
            .unwrap();
    assert_error(res, 413, "payload_too_large").await;
}

/// A card paid through Stripe: the customer completed the session and its webhook came.
async fn paid_by_stripe(w: &World, payment: &str) -> Paying {
    let p = w.share(payment).await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    customer_completes(&w.stripe, &session, true);
    let res = w
        .webhook(&event(
            &format!("evt_paid_{session}"),
            "checkout.session.completed",
            &session,
            &p.card_id,
            "paid",
        ))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.card(&p).await["status"], "paid");
    p
}

/// Stripe moves its refund `i` to `status`, and the event it sends about it.
fn refund_event(w: &World, id: &str, kind: &str, i: usize, status: &str) -> Value {
    let mut stripe = w.stripe.lock().unwrap();
    let refund = &mut stripe.refunds[i];
    refund["status"] = json!(status);
    if status == "failed" {
        refund["failure_reason"] = json!("expired_or_canceled_card");
    }
    let refund = refund.clone();
    json!({"id": id, "object": "event", "type": kind, "data": {"object": refund}})
}

async fn refunds_of(w: &World, admin: &str, p: &Paying) -> Vec<Value> {
    w.s.get(
        &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
        Some(admin),
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn ask_refund(w: &World, admin: &str, p: &Paying, body: Value) -> Value {
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(admin),
            body,
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_stripe_card_is_refunded_in_part_then_in_full_as_stripe_settles_each_refund() {
    let w = world().await;
    let admin = w.s.admin().await;
    let p = paid_by_stripe(&w, "pay_demo_mug").await; // 2500

    // A part: Stripe takes it (pending); the card changes when Stripe says it succeeded.
    let first = ask_refund(
        &w,
        &admin,
        &p,
        json!({"amount_minor": 1000, "reason": "Late"}),
    )
    .await;
    assert_eq!(first["status"], "pending");
    {
        let stripe = w.stripe.lock().unwrap();
        assert_eq!(stripe.refunds.len(), 1);
        let sent = &stripe.refunds[0];
        assert!(sent["payment_intent"]
            .as_str()
            .unwrap()
            .starts_with("pi_for_cs_test_"));
        assert_eq!(sent["amount"], 1000);
        assert_eq!(sent["metadata"]["refund_id"], first["id"]);
    }
    assert_eq!(w.card(&p).await["refunded_minor"], 0);
    let settled = refund_event(&w, "evt_r1", "refund.updated", 0, "succeeded");
    assert_eq!(w.webhook(&settled).await.status(), 200);
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["refunded_minor"].as_i64()),
        (Some("paid"), Some(1000))
    );
    // Replayed, or sent again under another event id: counted once.
    assert_eq!(w.webhook(&settled).await.status(), 200);
    let again = refund_event(&w, "evt_r1_again", "refund.updated", 0, "succeeded");
    assert_eq!(w.webhook(&again).await.status(), 200);
    assert_eq!(w.card(&p).await["refunded_minor"], 1000);

    // A refund Stripe fails gives the amount back to refund.
    let second = ask_refund(&w, &admin, &p, json!({"amount_minor": 500})).await;
    let failed = refund_event(&w, "evt_r2", "refund.failed", 1, "failed");
    assert_eq!(w.webhook(&failed).await.status(), 200);
    let listed = refunds_of(&w, &admin, &p).await;
    assert_eq!(listed[1]["id"], second["id"]);
    assert_eq!(listed[1]["status"], "failed");
    assert_eq!(w.card(&p).await["refunded_minor"], 1000);

    // The rest (1500), settled by charge.refunded listing the charge's refunds.
    let rest = ask_refund(&w, &admin, &p, json!({})).await;
    assert_eq!(rest["amount_minor"], 1500);
    let refunds: Vec<Value> = w
        .stripe
        .lock()
        .unwrap()
        .refunds
        .iter()
        .cloned()
        .map(|mut r| {
            if r["status"] == "pending" {
                r["status"] = json!("succeeded");
            }
            r
        })
        .collect();
    let charge_refunded = json!({"id": "evt_r3", "object": "event", "type": "charge.refunded",
        "data": {"object": {"id": "ch_1", "object": "charge", "refunds": {"object": "list", "data": refunds}}}});
    assert_eq!(w.webhook(&charge_refunded).await.status(), 200);
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["refunded_minor"].as_i64()),
        (Some("refunded"), Some(2500))
    );
    assert_error(
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&admin),
            json!({}),
        )
        .await,
        409,
        "not_refundable",
    )
    .await;
}

#[tokio::test]
async fn a_refund_asked_while_stripe_is_down_is_sent_when_it_is_back() {
    let w = world().await;
    let admin = w.s.admin().await;
    let p = paid_by_stripe(&w, "pay_demo_mug").await;
    w.stripe.lock().unwrap().down = true;
    let refund = ask_refund(&w, &admin, &p, json!({"amount_minor": 700})).await;
    assert_eq!(refund["status"], "pending");
    assert!(w.stripe.lock().unwrap().refunds.is_empty());
    // A second refund cannot take what the first one holds.
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&admin),
            json!({"amount_minor": 1801}),
        )
        .await;
    assert_error(res, 400, "validation_failed").await;

    w.stripe.lock().unwrap().down = false;
    w.stripe.lock().unwrap().refund_status = Some("succeeded".into());
    w.s.until_pending_refunds_settle("the refund was not sent again", || async {
        w.card(&p).await["refunded_minor"] == 700
    })
    .await;
    assert_eq!(w.stripe.lock().unwrap().refunds.len(), 1, "sent once");
    assert_eq!(refunds_of(&w, &admin, &p).await[0]["status"], "succeeded");
}

#[tokio::test]
async fn a_refund_whose_notification_never_comes_is_settled_by_asking_stripe() {
    let w = world().await;
    let admin = w.s.admin().await;
    let p = paid_by_stripe(&w, "pay_demo_mug").await; // 2500
    let first = ask_refund(&w, &admin, &p, json!({"amount_minor": 900})).await;
    assert_eq!(first["status"], "pending");
    let first_id = first["id"].as_str().unwrap();

    // Stripe's notification has minutes to come before Stripe is asked: not at once.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(w.stripe.lock().unwrap().refund_reads, 0);
    let next_ask = "SELECT next_try_at FROM refunds WHERE id = $1";
    let planned = w.s.value(next_ask, &[first_id]).await;
    assert!(
        planned.as_str() > "2001",
        "a first ask is planned: {planned}"
    );

    // Asked while Stripe still says pending: nothing changes, and it is asked again later.
    w.s.until_pending_refunds_settle("Stripe was not asked about the refund", || async {
        w.stripe.lock().unwrap().refund_reads > 0
    })
    .await;
    let waits_again = || async { w.s.value(next_ask, &[first_id]).await.as_str() > "2001" };
    w.s.until_pending_refunds_settle(
        "the refund was not put off after a pending answer",
        || async {
            // Asked and not made due by this loop since: the worker put it off.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            waits_again().await
        },
    )
    .await;
    assert_eq!(refunds_of(&w, &admin, &p).await[0]["status"], "pending");
    assert_eq!(w.card(&p).await["refunded_minor"], 0);

    // Stripe settled it without a word: asked, the card has it.
    w.stripe.lock().unwrap().refunds[0]["status"] = json!("succeeded");
    w.s.until_pending_refunds_settle("the settled refund did not reach the card", || async {
        w.card(&p).await["refunded_minor"] == 900
    })
    .await;
    assert_eq!(refunds_of(&w, &admin, &p).await[0]["status"], "succeeded");
    assert_eq!(w.card(&p).await["status"], "paid");

    // One Stripe cancelled: failed, with its reason, and its amount can be refunded again.
    let second = ask_refund(&w, &admin, &p, json!({"amount_minor": 1600})).await;
    {
        let mut stripe = w.stripe.lock().unwrap();
        stripe.refunds[1]["status"] = json!("canceled");
        stripe.refunds[1]["failure_reason"] = json!("expired_or_canceled_card");
    }
    w.s.until_pending_refunds_settle("the cancelled refund was not failed", || async {
        refunds_of(&w, &admin, &p).await[1]["status"] == "failed"
    })
    .await;
    let listed = refunds_of(&w, &admin, &p).await;
    assert_eq!(listed[1]["id"], second["id"]);
    let reason = "SELECT failure_reason FROM refunds WHERE id = $1";
    assert_eq!(
        w.s.value(reason, &[second["id"].as_str().unwrap()]).await,
        "expired_or_canceled_card"
    );
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["refunded_minor"].as_i64()),
        (Some("paid"), Some(900))
    );
    assert_eq!(
        ask_refund(&w, &admin, &p, json!({"amount_minor": 1600})).await["amount_minor"],
        1600
    );
}

#[tokio::test]
async fn a_payment_completed_for_a_cancelled_card_is_refunded_automatically() {
    let w = world().await;
    let admin = w.s.admin().await;
    let p = w.share("pay_demo_mug").await;
    let session = session_of(&w.pay_with_stripe(&p).await);
    let res =
        w.s.post(
            &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
            Some(&w.op),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Stripe says the customer paid anyway (a completion racing the expiry).
    customer_completes(&w.stripe, &session, true);
    let res = w
        .webhook(&event(
            "evt_late",
            "checkout.session.completed",
            &session,
            &p.card_id,
            "paid",
        ))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        w.card(&p).await["status"],
        "cancelled",
        "a closed card stays closed"
    );
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while w.stripe.lock().unwrap().refunds.is_empty() {
        assert!(tokio::time::Instant::now() < until, "no automatic refund");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let sent = w.stripe.lock().unwrap().refunds[0].clone();
    assert_eq!(sent["payment_intent"], payment_intent_of(&session));
    assert_eq!(sent["amount"], 2500, "all of it");
    let listed = refunds_of(&w, &admin, &p).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("automatic"));
    // Stripe settles it; the card is not touched.
    let settled = refund_event(&w, "evt_auto", "refund.updated", 0, "succeeded");
    assert_eq!(w.webhook(&settled).await.status(), 200);
    assert_eq!(refunds_of(&w, &admin, &p).await[0]["status"], "succeeded");
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["refunded_minor"].as_i64()),
        (Some("cancelled"), Some(0))
    );
}

/// Issue 15: a key Stripe refuses is never saved (the admin reads Stripe's words under
/// the field), Stripe down saves nothing either, and "Test connection" asks Stripe about
/// the stored key without changing anything.
#[tokio::test]
async fn keys_stripe_refuses_are_not_saved_and_a_connection_test_asks_stripe() {
    let w = world().await;
    let admin = w.s.admin().await;
    let path = format!("/api/v1/admin/gateways/{}", w.gateway_id);
    let reads_before = w.stripe.lock().unwrap().balance_reads;
    assert_eq!(reads_before, 1, "adding the gateway asked Stripe once");

    // A well-formed key Stripe does not know: a field error in Stripe's words.
    let res = w
        .replace_key(&admin, "sk_test_51Typo0000000000000000")
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        body["error"]["fields"],
        json!([{"field": "credentials.secret_key", "code": "rejected",
                "message": "Invalid API Key provided: sk_test_********0000"}])
    );
    let listed: Vec<Value> =
        w.s.get("/api/v1/admin/gateways", Some(&admin))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        listed[0]["masked"]["secret_key"], "sk_test_…4242",
        "the old key stays"
    );

    // The stored key, tested: accepted.
    let check_path = format!("{path}/check");
    let res = w.s.post_json(&check_path, Some(&admin), json!({})).await;
    assert_eq!(res.status(), 200);
    let check: Value = res.json().await.unwrap();
    assert_eq!(check["result"], "accepted");
    assert!(check.get("message").is_none());
    assert!(check["checked_at"].as_str().unwrap().ends_with('Z'));

    // Stripe down: the test says so; a save is refused, nothing changes.
    w.stripe.lock().unwrap().down = true;
    let check: Value =
        w.s.post_json(&check_path, Some(&admin), json!({}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(check["result"], "unreachable");
    assert!(check["message"]
        .as_str()
        .unwrap()
        .contains("down for the test"));
    let res = w.replace_key(&admin, ROLLED_KEY).await;
    let body = assert_error(res, 409, "gateway_unreachable").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing was saved"));
    w.stripe.lock().unwrap().down = false;

    // Only admins test, and only gateways that exist; nothing was created at Stripe.
    let res = w.s.post_json(&check_path, Some(&w.op), json!({})).await;
    assert_error(res, 403, "forbidden").await;
    let res =
        w.s.post_json(
            "/api/v1/admin/gateways/gw_nope/check",
            Some(&admin),
            json!({}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    {
        let stripe = w.stripe.lock().unwrap();
        assert_eq!(stripe.balance_reads, reads_before + 4);
        assert!(stripe.sessions.is_empty() && stripe.refunds.is_empty());
    }

    // A restricted key Stripe knows, without the right to read the balance: accepted.
    let res = w.replace_key(&admin, RESTRICTED_KEY).await;
    assert_eq!(res.status(), 200);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["masked"]["secret_key"], "rk_test_…5555");
    let check: Value =
        w.s.post_json(&check_path, Some(&admin), json!({}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(check["result"], "accepted");
}

/// A second Stripe is refused before Stripe is asked about its key.
#[tokio::test]
async fn a_second_stripe_is_refused_without_asking_stripe() {
    let w = world().await;
    let admin = w.s.admin().await;
    let res = w
        .s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "stripe", "credentials": {"secret_key": ROLLED_KEY, "webhook_secret": WEBHOOK_SECRET}}),
        )
        .await;
    assert_error(res, 409, "gateway_exists").await;
    assert_eq!(w.stripe.lock().unwrap().balance_reads, 1);
}
