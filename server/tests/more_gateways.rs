//! PayPal and Razorpay (SPEC §8.7) against stand-ins for their APIs started on loopback.
//! Each stand-in checks credentials, idempotency headers and the parameters paycard must
//! send, answers in the provider's documented shapes (errors included), and keeps the
//! state a customer's actions change (approve an order, pay a link). PayPal's webhooks
//! are verified by asking (the stand-in of) PayPal; Razorpay's carry an HMAC.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use common::{assert_error, TestServer};
use paycard_server::domain::gateways::razorpay::sign as razorpay_sign;
use serde_json::{json, Value};

const PAYPAL_CLIENT_ID: &str = "AXstandInClientId000000000000001";
const PAYPAL_SECRET: &str = "ELstandInClientSecret00000000002";
const PAYPAL_WEBHOOK_ID: &str = "8PT597110X687430LKGECATA";
const PAYPAL_TOKEN: &str = "A21AAstandInAccessToken";

const RZP_KEY_ID: &str = "rzp_test_StandInKey01";
const RZP_KEY_SECRET: &str = "standInKeySecret0000000001";
const RZP_WEBHOOK_SECRET: &str = "standInWebhookSecret0001";

// ---------------------------------------------------------------- PayPal stand-in

#[derive(Default)]
struct PayPal {
    base: String,
    orders: HashMap<String, Value>,
    orders_by_request: HashMap<String, String>,
    created: Vec<(String, Value)>,
    captures_by_request: HashMap<String, Value>,
    capture_calls: usize,
    /// The next capture is declined by PayPal (the payer's funding source).
    decline_capture: bool,
    /// The next capture is refused with this issue (another reason than a decline).
    refuse_capture: Option<&'static str>,
    refunds: Vec<Value>,
    refunds_by_request: HashMap<String, Value>,
    refund_status: String,
    /// Webhooks PayPal "sent": transmission id -> (signature, event).
    transmissions: HashMap<String, (String, Value)>,
    verify_calls: usize,
    token_calls: usize,
    down: bool,
}

type SharedPayPal = Arc<Mutex<PayPal>>;

fn paypal_error(status: StatusCode, name: &str, issue: &str, description: &str) -> Response {
    (
        status,
        Json(
            json!({"name": name, "message": "The requested action could not be performed.",
            "debug_id": "f00ba4", "details": [{"issue": issue, "description": description}]}),
        ),
    )
        .into_response()
}

fn paypal_authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {PAYPAL_TOKEN}"))
}

macro_rules! paypal_guard {
    ($pp:expr, $headers:expr) => {
        if $pp.down {
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"name": "SERVICE_UNAVAILABLE"})))
                .into_response();
        }
        if !paypal_authorized(&$headers) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed due to invalid authentication credentials or a missing Authorization header."})),
            )
                .into_response();
        }
    };
}

/// The `PayPal-Request-Id` every call that makes something must carry (the stand-in
/// insists, so that paycard's retries are provably the same request).
fn request_id(headers: &HeaderMap) -> Result<&str, Response> {
    headers
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            paypal_error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "MISSING_REQUIRED_PARAMETER",
                "PayPal-Request-Id expected by the stand-in",
            )
        })
}

async fn paypal_token(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    {
        let mut pp = shared.lock().unwrap();
        if pp.down {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        pp.token_calls += 1;
    }
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{PAYPAL_CLIENT_ID}:{PAYPAL_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&basic) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": "Client Authentication failed"})),
        )
            .into_response();
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})),
        )
            .into_response();
    }
    Json(json!({"access_token": PAYPAL_TOKEN, "token_type": "Bearer", "expires_in": 32400}))
        .into_response()
}

async fn paypal_create_order(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    if let Some(id) = pp.orders_by_request.get(request_id) {
        return Json(pp.orders[id].clone()).into_response();
    }
    if body["intent"] != "CAPTURE" {
        return paypal_error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            "intent",
        );
    }
    let unit = &body["purchase_units"][0];
    let context = &body["payment_source"]["paypal"]["experience_context"];
    for (value, name) in [
        (&unit["amount"]["currency_code"], "currency_code"),
        (&unit["amount"]["value"], "value"),
        (&unit["custom_id"], "custom_id"),
        (&context["return_url"], "return_url"),
        (&context["cancel_url"], "cancel_url"),
    ] {
        if value.as_str().is_none_or(str::is_empty) {
            return paypal_error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "MISSING_REQUIRED_PARAMETER",
                name,
            );
        }
    }
    let currency = unit["amount"]["currency_code"].as_str().unwrap();
    let value = unit["amount"]["value"].as_str().unwrap();
    if !["EUR", "USD", "HUF", "JPY", "GBP"].contains(&currency) {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "CURRENCY_NOT_SUPPORTED",
            "Currency code is not currently supported.",
        );
    }
    let decimals = value.split_once('.').map_or(0, |(_, d)| d.len());
    let allowed = if ["HUF", "JPY"].contains(&currency) {
        0
    } else {
        2
    };
    if decimals != allowed {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            "If the currency supports decimals, only two decimal place precision is supported.",
        );
    }
    let id = format!("5O190127TN364{:04}", pp.orders.len() + 1);
    let order = json!({
        "id": id, "status": "PAYER_ACTION_REQUIRED", "intent": "CAPTURE",
        "purchase_units": [{"reference_id": "default", "custom_id": unit["custom_id"],
            "amount": unit["amount"]}],
        "return_url": context["return_url"], "cancel_url": context["cancel_url"],
        "links": [
            {"href": format!("{}/v2/checkout/orders/{id}", pp.base), "rel": "self", "method": "GET"},
            {"href": format!("{}/checkoutnow?token={id}", pp.base), "rel": "payer-action", "method": "GET"},
        ],
    });
    pp.orders.insert(id.clone(), order.clone());
    pp.orders_by_request.insert(request_id.to_owned(), id);
    pp.created.push((request_id.to_owned(), body));
    Json(order).into_response()
}

async fn paypal_get_order(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    match pp.orders.get(&id) {
        Some(order) => Json(order.clone()).into_response(),
        None => paypal_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        ),
    }
}

async fn paypal_capture(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    if let Some(answer) = pp.captures_by_request.get(request_id) {
        return Json(answer.clone()).into_response();
    }
    pp.capture_calls += 1;
    let Some(status) = pp
        .orders
        .get(&id)
        .map(|o| o["status"].as_str().unwrap().to_owned())
    else {
        return paypal_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        );
    };
    match status.as_str() {
        "APPROVED" => {}
        "COMPLETED" => {
            return paypal_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UNPROCESSABLE_ENTITY",
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.",
            )
        }
        _ => {
            return paypal_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UNPROCESSABLE_ENTITY",
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment.",
            )
        }
    }
    if let Some(issue) = pp.refuse_capture.take() {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            issue,
            "The request was refused.",
        );
    }
    if std::mem::take(&mut pp.decline_capture) {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "INSTRUMENT_DECLINED",
            "The instrument presented was either declined by the processor or bank.",
        );
    }
    let n = pp.captures_by_request.len() + 1;
    let order = pp.orders.get_mut(&id).unwrap();
    let amount = order["purchase_units"][0]["amount"].clone();
    let custom_id = order["purchase_units"][0]["custom_id"].clone();
    order["status"] = json!("COMPLETED");
    order["purchase_units"][0]["payments"] = json!({"captures": [{
        "id": format!("3C679366HH90{n:04}"), "status": "COMPLETED", "amount": amount,
        "custom_id": custom_id, "final_capture": true,
    }]});
    let answer = order.clone();
    pp.captures_by_request
        .insert(request_id.to_owned(), answer.clone());
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `GET /v2/payments/refunds/{id}`: a refund as it now stands.
async fn paypal_get_refund(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    match pp.refunds.iter().find(|r| r["id"] == id.as_str()) {
        Some(refund) => Json(refund.clone()).into_response(),
        None => paypal_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        ),
    }
}

async fn paypal_refund(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Path(capture): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    if let Some(answer) = pp.refunds_by_request.get(request_id) {
        return Json(answer.clone()).into_response();
    }
    let captured = pp.orders.values().find_map(|o| {
        let c = &o["purchase_units"][0]["payments"]["captures"][0];
        (c["id"] == capture.as_str()).then(|| c["amount"].clone())
    });
    let Some(captured) = captured else {
        return paypal_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        );
    };
    if body["amount"]["currency_code"] != captured["currency_code"] {
        return paypal_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "REFUND_CURRENCY_MISMATCH",
            "Refund must be in the same currency as the capture.",
        );
    }
    let status = if pp.refund_status.is_empty() {
        "COMPLETED".to_owned()
    } else {
        pp.refund_status.clone()
    };
    let refund = json!({
        "id": format!("1JU08902781691{:03}", pp.refunds.len() + 1), "status": status,
        "amount": body["amount"], "custom_id": body["custom_id"], "capture": capture,
    });
    pp.refunds.push(refund.clone());
    pp.refunds_by_request
        .insert(request_id.to_owned(), refund.clone());
    (StatusCode::CREATED, Json(refund)).into_response()
}

async fn paypal_verify(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    pp.verify_calls += 1;
    for field in [
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
        "webhook_event",
    ] {
        if body.get(field).is_none_or(Value::is_null) {
            return paypal_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "MISSING_REQUIRED_PARAMETER",
                field,
            );
        }
    }
    let sent = pp
        .transmissions
        .get(body["transmission_id"].as_str().unwrap_or_default());
    let ok = body["webhook_id"] == PAYPAL_WEBHOOK_ID
        && sent.is_some_and(|(sig, event)| {
            body["transmission_sig"] == sig.as_str() && &body["webhook_event"] == event
        });
    Json(json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }})).into_response()
}

async fn paypal_get_webhook(
    State(shared): State<SharedPayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let pp = shared.lock().unwrap();
    paypal_guard!(pp, headers);
    if id != PAYPAL_WEBHOOK_ID {
        return paypal_error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        );
    }
    Json(json!({"id": id, "url": "https://pay.example.com/webhooks/paypal/gw", "event_types": [{"name": "CHECKOUT.ORDER.APPROVED"}]}))
        .into_response()
}

async fn start_paypal() -> SharedPayPal {
    let shared: SharedPayPal = Arc::default();
    let router = Router::new()
        .route("/v1/oauth2/token", post(paypal_token))
        .route("/v2/checkout/orders", post(paypal_create_order))
        .route("/v2/checkout/orders/{id}", get(paypal_get_order))
        .route("/v2/checkout/orders/{id}/capture", post(paypal_capture))
        .route("/v2/payments/captures/{id}/refund", post(paypal_refund))
        .route("/v2/payments/refunds/{id}", get(paypal_get_refund))
        .route(
            "/v1/notifications/verify-webhook-signature",
            post(paypal_verify),
        )
        .route("/v1/notifications/webhooks/{id}", get(paypal_get_webhook))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    shared
}

/// The payer approves the order on PayPal's page.
fn approve(pp: &SharedPayPal, order: &str) {
    pp.lock().unwrap().orders.get_mut(order).unwrap()["status"] = json!("APPROVED");
}

fn order_of(location: &str) -> String {
    location.rsplit("token=").next().unwrap().to_owned()
}

// -------------------------------------------------------------- Razorpay stand-in

#[derive(Default)]
struct Razorpay {
    base: String,
    links: HashMap<String, Value>,
    created: Vec<Value>,
    cancel_calls: Vec<String>,
    refunds: Vec<Value>,
    /// The next refund is made but its answer is lost (a 502 after the fact).
    lose_refund_answer: bool,
    down: bool,
}

type SharedRazorpay = Arc<Mutex<Razorpay>>;

fn razorpay_error(status: StatusCode, description: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": description,
            "source": "business", "step": "payment_initiation", "reason": "input_validation_failed",
            "metadata": {}}}),
        ),
    )
        .into_response()
}

macro_rules! razorpay_guard {
    ($rz:expr, $headers:expr) => {
        if $rz.down {
            return (StatusCode::BAD_GATEWAY, "").into_response();
        }
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{RZP_KEY_ID}:{RZP_KEY_SECRET}"))
        );
        if $headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&basic) {
            return razorpay_error(StatusCode::UNAUTHORIZED, "Authentication failed");
        }
    };
}

async fn razorpay_payments(State(shared): State<SharedRazorpay>, headers: HeaderMap) -> Response {
    let rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    Json(json!({"entity": "collection", "count": 0, "items": []})).into_response()
}

async fn razorpay_create_link(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    for name in [
        "amount",
        "currency",
        "reference_id",
        "callback_url",
        "callback_method",
        "expire_by",
    ] {
        if body.get(name).is_none_or(Value::is_null) {
            return razorpay_error(
                StatusCode::BAD_REQUEST,
                &format!("The {name} field is required."),
            );
        }
    }
    if body["callback_method"] != "get" {
        return razorpay_error(StatusCode::BAD_REQUEST, "callback_method should be get");
    }
    let amount = body["amount"].as_i64().unwrap_or(0);
    if amount < 100 {
        return razorpay_error(
            StatusCode::BAD_REQUEST,
            "The amount must be atleast INR 1.00",
        );
    }
    if ["KWD", "BHD", "OMR"].contains(&body["currency"].as_str().unwrap_or_default())
        && amount % 10 != 0
    {
        return razorpay_error(
            StatusCode::BAD_REQUEST,
            "The amount for three decimal currencies must end with 0.",
        );
    }
    let now = chrono::Utc::now().timestamp();
    if body["expire_by"].as_i64().unwrap_or(0) < now + 15 * 60 {
        return razorpay_error(
            StatusCode::BAD_REQUEST,
            "expire_by should be at least 15 minutes after current time",
        );
    }
    let reference = body["reference_id"].as_str().unwrap().to_owned();
    if rz
        .links
        .values()
        .any(|l| l["reference_id"] == reference.as_str())
    {
        return razorpay_error(
            StatusCode::BAD_REQUEST,
            &format!("Payment Link with reference id {reference} already exists"),
        );
    }
    let id = format!("plink_Ex{:012}", rz.links.len() + 1);
    let link = json!({
        "id": id, "entity": "payment_link", "status": "created", "amount": amount,
        "currency": body["currency"], "reference_id": reference, "notes": body["notes"],
        "short_url": format!("{}/i/{id}", rz.base), "callback_url": body["callback_url"],
        "payments": null,
    });
    rz.links.insert(id, link.clone());
    rz.created.push(body);
    Json(link).into_response()
}

async fn razorpay_get_link(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    match rz.links.get(&id) {
        Some(link) => Json(link.clone()).into_response(),
        None => razorpay_error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

async fn razorpay_cancel_link(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    rz.cancel_calls.push(id.clone());
    let Some(link) = rz.links.get_mut(&id) else {
        return razorpay_error(StatusCode::BAD_REQUEST, "The id provided does not exist");
    };
    match link["status"].as_str().unwrap() {
        "created" => {
            link["status"] = json!("cancelled");
            Json(link.clone()).into_response()
        }
        "paid" => razorpay_error(
            StatusCode::BAD_REQUEST,
            "Payment Link cannot be cancelled as it is already paid",
        ),
        other => razorpay_error(
            StatusCode::BAD_REQUEST,
            &format!("Payment Link cannot be cancelled in {other} status"),
        ),
    }
}

fn refunds_of_payment(rz: &Razorpay, payment: &str) -> Vec<Value> {
    rz.refunds
        .iter()
        .filter(|r| r["payment_id"] == payment)
        .cloned()
        .collect()
}

async fn razorpay_list_refunds(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Path(payment): Path<String>,
) -> Response {
    let rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    let items = refunds_of_payment(&rz, &payment);
    Json(json!({"entity": "collection", "count": items.len(), "items": items})).into_response()
}

/// `GET /v1/refunds/{id}`: a refund as it now stands.
async fn razorpay_get_refund(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    match rz.refunds.iter().find(|r| r["id"] == id.as_str()) {
        Some(refund) => Json(refund.clone()).into_response(),
        None => razorpay_error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

async fn razorpay_refund(
    State(shared): State<SharedRazorpay>,
    headers: HeaderMap,
    Path(payment): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut rz = shared.lock().unwrap();
    razorpay_guard!(rz, headers);
    let paid = rz.links.values().find_map(|l| {
        let p = &l["payments"][0];
        (p["payment_id"] == payment.as_str()).then(|| p["amount"].as_i64().unwrap())
    });
    let Some(paid) = paid else {
        return razorpay_error(StatusCode::BAD_REQUEST, "The id provided does not exist");
    };
    let refunded: i64 = refunds_of_payment(&rz, &payment)
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum();
    let amount = body["amount"].as_i64().unwrap_or(paid - refunded);
    if amount <= 0 || amount > paid - refunded {
        return razorpay_error(
            StatusCode::BAD_REQUEST,
            "The refund amount provided is greater than amount captured",
        );
    }
    let refund = json!({
        "id": format!("rfnd_FP8QHiV938{:04}", rz.refunds.len() + 1), "entity": "refund",
        "amount": amount, "payment_id": payment, "notes": body["notes"], "receipt": body["receipt"],
        "status": "pending",
    });
    rz.refunds.push(refund.clone());
    if std::mem::take(&mut rz.lose_refund_answer) {
        return (StatusCode::BAD_GATEWAY, "").into_response();
    }
    Json(refund).into_response()
}

async fn start_razorpay() -> SharedRazorpay {
    let shared: SharedRazorpay = Arc::default();
    let router = Router::new()
        .route("/v1/payments", get(razorpay_payments))
        .route("/v1/payment_links", post(razorpay_create_link))
        .route("/v1/payment_links/{id}", get(razorpay_get_link))
        .route("/v1/payment_links/{id}/cancel", post(razorpay_cancel_link))
        .route("/v1/payments/{id}/refunds", get(razorpay_list_refunds))
        .route("/v1/payments/{id}/refund", post(razorpay_refund))
        .route("/v1/refunds/{id}", get(razorpay_get_refund))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    shared
}

/// The customer pays the link on Razorpay's page; returns the payment id.
fn customer_pays(rz: &SharedRazorpay, link: &str) -> String {
    let mut rz = rz.lock().unwrap();
    let link = rz.links.get_mut(link).unwrap();
    let payment = format!("pay_{}", &link["id"].as_str().unwrap()[6..]);
    link["status"] = json!("paid");
    link["payments"] =
        json!([{"payment_id": payment, "amount": link["amount"], "status": "captured"}]);
    payment
}

fn link_of(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_owned()
}

// ------------------------------------------------------------------------ world

struct World {
    s: TestServer,
    paypal: SharedPayPal,
    razorpay: SharedRazorpay,
    op: String,
    admin: String,
    paypal_id: String,
    razorpay_id: String,
}

struct Paying {
    card_id: String,
    link: String,
}

/// A portal of the standard edition with PayPal and Razorpay configured.
async fn world() -> World {
    let paypal = start_paypal().await;
    let razorpay = start_razorpay().await;
    let pp_base = paypal.lock().unwrap().base.clone();
    let rz_base = razorpay.lock().unwrap().base.clone();
    let s = TestServer::start_with(&[
        ("PAYCARD_PAYPAL_API_BASE", &pp_base),
        ("PAYCARD_RAZORPAY_API_BASE", &rz_base),
    ])
    .await;
    let admin = s.admin().await;
    let res = s
        .send(
            reqwest::Method::PUT,
            "/api/v1/admin/portal",
            Some(&admin),
            Some(json!({"name": "Acme", "country": "ES", "currency": "EUR",
                "time_zone": "Europe/Madrid", "edition": "standard"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut ids = Vec::new();
    for body in [
        json!({"kind": "paypal", "credentials": {"client_id": PAYPAL_CLIENT_ID,
            "client_secret": PAYPAL_SECRET, "webhook_id": PAYPAL_WEBHOOK_ID}}),
        json!({"kind": "razorpay", "credentials": {"key_id": RZP_KEY_ID,
            "key_secret": RZP_KEY_SECRET, "webhook_secret": RZP_WEBHOOK_SECRET}}),
    ] {
        let res = s
            .post_json("/api/v1/admin/gateways", Some(&admin), body)
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let gateway: Value = res.json().await.unwrap();
        ids.push(gateway["id"].as_str().unwrap().to_owned());
    }
    let op = s.operator().await;
    World {
        s,
        paypal,
        razorpay,
        op,
        admin,
        razorpay_id: ids.pop().unwrap(),
        paypal_id: ids.pop().unwrap(),
    }
}

impl World {
    async fn share(&self, payment: &str) -> Paying {
        let (card_id, link) = self.s.shared_checkout(&self.op, payment).await;
        Paying { card_id, link }
    }

    /// A payment of the demo brand in another currency, shared.
    async fn share_new(&self, title: &str, amount_minor: i64, currency: &str) -> Paying {
        let res = self
            .s
            .post_json(
                "/api/v1/admin/payments",
                Some(&self.admin),
                json!({"brand_id": "acme", "title": title, "description": "", "amount_minor": amount_minor,
                    "currency": currency, "recurrence": null}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let payment: Value = res.json().await.unwrap();
        self.share(payment["id"].as_str().unwrap()).await
    }

    /// Presses Pay with `gateway` on the hosted page: the answer, not followed.
    async fn press_pay(&self, p: &Paying, gateway: &str) -> reqwest::Response {
        self.s.press_pay(&p.link, gateway).await
    }

    /// Pay with `gateway`: the 303's Location.
    async fn pay_with(&self, p: &Paying, gateway: &str) -> String {
        self.s.pay_at_gateway(&p.link, gateway).await
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

    async fn cancel(&self, p: &Paying) -> reqwest::Response {
        self.s
            .post(
                &format!("/api/v1/operator/cards/{}/cancel", p.card_id),
                Some(&self.op),
            )
            .await
    }

    async fn page(&self, path: &str) -> String {
        self.s.get(path, None).await.text().await.unwrap()
    }

    /// The payer back on the checkout from PayPal's page (its return URL with the
    /// order as `token`): the page shown.
    async fn back_from_paypal(&self, p: &Paying, order: &str) -> String {
        self.page(&format!("{}?lang=en&return=paypal&token={order}", p.link))
            .await
    }

    /// A PayPal webhook as PayPal sends it: the stand-in records the transmission, so
    /// that verifying it with PayPal succeeds. `forged`: a transmission PayPal never made.
    async fn paypal_webhook(&self, event: &Value, forged: bool) -> reqwest::Response {
        let body = serde_json::to_string(event).unwrap();
        let transmission = format!("tx-{}", uuid_like());
        let sig = format!("sig-{transmission}");
        if !forged {
            self.paypal
                .lock()
                .unwrap()
                .transmissions
                .insert(transmission.clone(), (sig.clone(), event.clone()));
        }
        self.s
            .http
            .post(self.s.url(&format!("/webhooks/paypal/{}", self.paypal_id)))
            .header("content-type", "application/json")
            .header("paypal-auth-algo", "SHA256withRSA")
            .header(
                "paypal-cert-url",
                "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
            )
            .header("paypal-transmission-id", transmission)
            .header("paypal-transmission-sig", sig)
            .header("paypal-transmission-time", chrono::Utc::now().to_rfc3339())
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A Razorpay webhook, signed with `secret`, under event id `id`.
    async fn razorpay_webhook(&self, id: &str, event: &Value, secret: &str) -> reqwest::Response {
        let body = serde_json::to_vec(event).unwrap();
        self.s
            .http
            .post(
                self.s
                    .url(&format!("/webhooks/razorpay/{}", self.razorpay_id)),
            )
            .header("content-type", "application/json")
            .header("x-razorpay-event-id", id)
            .header("x-razorpay-signature", razorpay_sign(&body, secret))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The visitor back from Razorpay's page with its signed callback (`secret`: the
    /// key secret Razorpay signs with, or another to forge it).
    async fn razorpay_return(&self, p: &Paying, link: &str, payment: &str, secret: &str) -> String {
        let reference = self.razorpay.lock().unwrap().links[link]["reference_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let signature = razorpay_sign(
            format!("{link}|{reference}|paid|{payment}").as_bytes(),
            secret,
        );
        self.page(&format!(
            "{}?lang=en&return=razorpay&razorpay_payment_id={payment}&razorpay_payment_link_id={link}\
             &razorpay_payment_link_reference_id={reference}&razorpay_payment_link_status=paid\
             &razorpay_signature={signature}",
            p.link
        ))
        .await
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn order_event(id: &str, kind: &str, order: &Value) -> Value {
    json!({"id": id, "event_version": "1.0", "resource_type": "checkout-order",
        "event_type": kind, "summary": "An order has been approved by buyer", "resource": order})
}

fn capture_event(id: &str, kind: &str, order: &Value) -> Value {
    let mut capture = order["purchase_units"][0]["payments"]["captures"][0].clone();
    capture["supplementary_data"] = json!({"related_ids": {"order_id": order["id"]}});
    json!({"id": id, "event_version": "1.0", "resource_type": "capture",
        "event_type": kind, "resource": capture})
}

fn link_event(kind: &str, link: &Value, payment: Option<&str>) -> Value {
    let mut payload = json!({"payment_link": {"entity": link}});
    if let Some(payment) = payment {
        payload["payment"] =
            json!({"entity": {"id": payment, "entity": "payment", "status": "captured"}});
    }
    json!({"entity": "event", "account_id": "acc_standin", "event": kind,
        "contains": ["payment_link"], "payload": payload, "created_at": chrono::Utc::now().timestamp()})
}

// ------------------------------------------------------------------------ tests

#[tokio::test]
async fn both_are_offered_their_credentials_checked_and_masked_and_the_page_offers_them() {
    let w = world().await;
    let gateways: Vec<Value> =
        w.s.get("/api/v1/admin/gateways", Some(&w.admin))
            .await
            .json()
            .await
            .unwrap();
    let paypal = gateways.iter().find(|g| g["kind"] == "paypal").unwrap();
    assert_eq!(
        paypal["masked"]["client_id"], PAYPAL_CLIENT_ID,
        "an id is not a secret"
    );
    assert_eq!(paypal["masked"]["client_secret"], "…0002");
    assert_eq!(
        paypal["webhook_path"],
        format!("/webhooks/paypal/{}", w.paypal_id)
    );
    assert!(paypal["webhook_events"]
        .as_array()
        .unwrap()
        .contains(&json!("CHECKOUT.ORDER.APPROVED")));
    let razorpay = gateways.iter().find(|g| g["kind"] == "razorpay").unwrap();
    assert_eq!(razorpay["masked"]["key_secret"], "…0001");
    assert_eq!(
        razorpay["webhook_path"],
        format!("/webhooks/razorpay/{}", w.razorpay_id)
    );
    assert!(razorpay["webhook_events"]
        .as_array()
        .unwrap()
        .contains(&json!("payment_link.paid")));
    let stored = String::from_utf8_lossy(&w.s.stored_bytes().await).into_owned();
    assert!(
        !stored.contains(PAYPAL_SECRET) && !stored.contains(RZP_KEY_SECRET),
        "secrets are sealed"
    );

    // Keys the provider refuses are not saved: its words under the key field.
    for (body, field, words) in [
        (
            json!({"kind": "paypal", "credentials": {"client_id": PAYPAL_CLIENT_ID,
            "client_secret": "ELmistypedSecret0000000000000", "webhook_id": PAYPAL_WEBHOOK_ID}}),
            "credentials.client_id",
            "Client Authentication failed",
        ),
        (
            json!({"kind": "razorpay", "credentials": {"key_id": RZP_KEY_ID,
            "key_secret": "mistypedSecret00000000", "webhook_secret": RZP_WEBHOOK_SECRET}}),
            "credentials.key_id",
            "Authentication failed",
        ),
    ] {
        let res =
            w.s.send(
                reqwest::Method::PUT,
                &format!(
                    "/api/v1/admin/gateways/{}",
                    if field.contains("client") {
                        &w.paypal_id
                    } else {
                        &w.razorpay_id
                    }
                ),
                Some(&w.admin),
                Some(body),
            )
            .await;
        let err = assert_error(res, 400, "validation_failed").await;
        assert_eq!(err["error"]["fields"][0]["field"], field, "{err}");
        assert!(
            err["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(words),
            "{err}"
        );
    }
    // A webhook id PayPal does not know for this app: blamed on that field.
    let res =
        w.s.send(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/gateways/{}", w.paypal_id),
            Some(&w.admin),
            Some(
                json!({"kind": "paypal", "credentials": {"client_id": PAYPAL_CLIENT_ID,
                "client_secret": PAYPAL_SECRET, "webhook_id": "0000000000WRONG000000000"}}),
            ),
        )
        .await;
    let err = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        err["error"]["fields"][0]["field"], "credentials.webhook_id",
        "{err}"
    );
    assert!(
        err["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("INVALID_RESOURCE_ID"),
        "{err}"
    );
    // Test connection asks each provider again.
    for id in [&w.paypal_id, &w.razorpay_id] {
        let check: Value =
            w.s.post(
                &format!("/api/v1/admin/gateways/{id}/check"),
                Some(&w.admin),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(check["result"], "accepted", "{check}");
    }
    w.paypal.lock().unwrap().down = true;
    let check: Value =
        w.s.post(
            &format!("/api/v1/admin/gateways/{}/check", w.paypal_id),
            Some(&w.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check["result"], "unreachable");
    w.paypal.lock().unwrap().down = false;

    // A free portal offers neither.
    let kinds: Vec<Value> =
        w.s.get("/api/v1/admin/gateway-kinds", Some(&w.admin))
            .await
            .json()
            .await
            .unwrap();
    assert!(
        kinds.iter().any(|k| k["kind"] == "paypal")
            && kinds.iter().any(|k| k["kind"] == "razorpay")
    );

    let p = w.share("pay_demo_mug").await;
    let page = w.page(&p.link).await;
    assert!(page.contains("Pay €25.00 with PayPal"), "{page}");
    assert!(page.contains("Pay €25.00 with Razorpay"));
    assert!(
        !page.contains("value=\"sandbox\""),
        "configured gateways only"
    );
}

#[tokio::test]
async fn a_paypal_payment_is_approved_on_paypals_page_and_captured_on_the_way_back() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let location = w.pay_with(&p, "paypal").await;
    let base = w.paypal.lock().unwrap().base.clone();
    assert!(
        location.starts_with(&format!("{base}/checkoutnow?token=")),
        "{location}"
    );
    let order = order_of(&location);
    {
        let pp = w.paypal.lock().unwrap();
        let (request_id, sent) = &pp.created[0];
        assert!(
            request_id.starts_with("att_"),
            "PayPal-Request-Id is the attempt"
        );
        let unit = &sent["purchase_units"][0];
        assert_eq!(unit["custom_id"], p.card_id);
        assert_eq!(
            unit["amount"],
            json!({"currency_code": "EUR", "value": "25.00"})
        );
        let context = &sent["payment_source"]["paypal"]["experience_context"];
        assert!(context["return_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}{}", w.s.base, p.link)));
        assert!(context["return_url"]
            .as_str()
            .unwrap()
            .contains("return=paypal"));
        assert_eq!(context["locale"], "en-US");
    }
    // Pay again before approving: the same order.
    assert_eq!(w.pay_with(&p, "paypal").await, location);
    // Back without approving (PayPal's cancel link): nothing captured, still payable.
    let page = w.back_from_paypal(&p, &order).await;
    assert!(page.contains("waiting for the payment provider"), "{page}");
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 0);

    // Approved; back with no webhook yet: paycard captures, the card is paid at once.
    approve(&w.paypal, &order);
    let page = w
        .page(&format!(
            "{}?lang=en&return=paypal&token={order}&PayerID=QYR5Z8XDVJNXQ",
            p.link
        ))
        .await;
    assert!(page.contains("Payment successful"), "{page}");
    let card = w.card(&p).await;
    assert_eq!(card["status"], "paid");
    let attempts = w.attempts(&p).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (
            attempts[0]["gateway"].as_str(),
            attempts[0]["status"].as_str()
        ),
        (Some("paypal"), Some("succeeded"))
    );

    // The approval and the completion arrive late, then again: nothing more happens.
    let completed = w.paypal.lock().unwrap().orders[&order].clone();
    for event in [
        order_event("WH-1", "CHECKOUT.ORDER.APPROVED", &completed),
        capture_event("WH-2", "PAYMENT.CAPTURE.COMPLETED", &completed),
        capture_event("WH-2", "PAYMENT.CAPTURE.COMPLETED", &completed),
    ] {
        assert_eq!(w.paypal_webhook(&event, false).await.status(), 200);
    }
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 1, "captured once");
    // The access token granted to the credentials' check served every call since.
    assert_eq!(w.paypal.lock().unwrap().token_calls, 1, "the token is kept");
    assert_eq!(w.attempts(&p).await.len(), 1);
    assert_eq!(w.card(&p).await["status"], "paid");
}

#[tokio::test]
async fn a_paypal_approval_webhook_captures_when_the_visitor_never_comes_back() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    approve(&w.paypal, &order);
    let approved = w.paypal.lock().unwrap().orders[&order].clone();
    // A forged approval (PayPal says it never sent it) changes nothing.
    let res = w
        .paypal_webhook(
            &order_event("WH-forged", "CHECKOUT.ORDER.APPROVED", &approved),
            true,
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(w.card(&p).await["status"], "pending");
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 0);
    // PayPal's own: captured, paid.
    let res = w
        .paypal_webhook(
            &order_event("WH-A1", "CHECKOUT.ORDER.APPROVED", &approved),
            false,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.card(&p).await["status"], "paid");
    // Replayed: the capture is not asked again.
    w.paypal_webhook(
        &order_event("WH-A1", "CHECKOUT.ORDER.APPROVED", &approved),
        false,
    )
    .await;
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 1);
    // PayPal cannot be asked to verify: 409, PayPal sends it again later.
    w.paypal.lock().unwrap().down = true;
    let res = w
        .paypal_webhook(
            &order_event("WH-A2", "CHECKOUT.ORDER.APPROVED", &approved),
            false,
        )
        .await;
    assert_error(res, 409, "gateway_unavailable").await;
}

#[tokio::test]
async fn a_declined_paypal_capture_fails_the_attempt_and_the_card_can_be_paid_again() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    approve(&w.paypal, &order);
    w.paypal.lock().unwrap().decline_capture = true;
    let page = w.back_from_paypal(&p, &order).await;
    assert!(
        page.contains("Pay €25.00 with PayPal"),
        "the form again: {page}"
    );
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["failure_reason"].as_str()),
        (Some("failed"), Some("card_declined"))
    );
    // A new order for the next try.
    let again = order_of(&w.pay_with(&p, "paypal").await);
    assert_ne!(again, order);
    approve(&w.paypal, &again);
    let page = w.back_from_paypal(&p, &again).await;
    assert!(page.contains("Payment successful"), "{page}");
    let attempts = w.attempts(&p).await;
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded"]);

    // Refused for another reason than a decline: no money moved, the attempt fails and
    // the card can be paid again (never left processing).
    let q = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&q, "paypal").await);
    approve(&w.paypal, &order);
    w.paypal.lock().unwrap().refuse_capture = Some("PAYEE_BLOCKED_TRANSACTION");
    w.back_from_paypal(&q, &order).await;
    let card = w.card(&q).await;
    assert_eq!(
        (card["status"].as_str(), card["failure_reason"].as_str()),
        (Some("failed"), Some("processing_error"))
    );
}

#[tokio::test]
async fn a_paypal_cancel_wins_before_the_capture_and_loses_after_it() {
    let w = world().await;
    // Cancelled while the visitor is on PayPal's page: their approval comes too late,
    // and nothing is captured.
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    assert_eq!(w.cancel(&p).await.status(), 200);
    approve(&w.paypal, &order);
    let approved = w.paypal.lock().unwrap().orders[&order].clone();
    assert_eq!(
        w.paypal_webhook(
            &order_event("WH-late", "CHECKOUT.ORDER.APPROVED", &approved),
            false
        )
        .await
        .status(),
        200
    );
    let page = w.back_from_paypal(&p, &order).await;
    assert!(page.contains("cancelled"), "{page}");
    assert_eq!(w.card(&p).await["status"], "cancelled");
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 0, "never captured");

    // Captured first: the cancel is refused and the card stays paid.
    let q = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&q, "paypal").await);
    approve(&w.paypal, &order);
    w.back_from_paypal(&q, &order).await;
    assert_error(w.cancel(&q).await, 409, "card_final").await;
    assert_eq!(w.card(&q).await["status"], "paid");

    // PayPal down at the cancel: nothing is captured without paycard, and paycard
    // captures only a card it took first, so the cancel needs nothing from PayPal.
    let r = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&r, "paypal").await);
    w.paypal.lock().unwrap().down = true;
    assert_eq!(w.cancel(&r).await.status(), 200);
    assert_eq!(w.card(&r).await["status"], "cancelled");
    // Down at Pay: a message, nothing charged.
    let s2 = w.share("pay_demo_mug").await;
    let res = w.press_pay(&s2, "paypal").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("cannot be reached"));
    w.paypal.lock().unwrap().down = false;
    // The cancelled card's order approved later is never captured.
    approve(&w.paypal, &order);
    w.back_from_paypal(&r, &order).await;
    assert_eq!(
        w.paypal.lock().unwrap().capture_calls,
        1,
        "only q's capture"
    );
}

#[tokio::test]
async fn a_capture_whose_answer_was_lost_is_settled_by_asking_paypal() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    approve(&w.paypal, &order);
    // The card was taken for the capture (processing, attempt pending) and the server
    // went away before the capture's answer: what the job finds after the wait.
    let attempt =
        w.s.value(
            "SELECT attempt_id FROM gateway_sessions WHERE card_id = $1",
            &[&p.card_id],
        )
        .await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    w.s.force_status(&p.card_id, "processing").await;
    w.s.sql(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, created_at)
         VALUES ($1, $2, 'pending', 2500, 'EUR', 'paypal', $3)",
        &[&attempt, &p.card_id, &long_ago],
    )
    .await;
    // A cancel meanwhile is refused: a capture may be under way. Nor can the gateway
    // be removed: the capture's answer is still to be asked for.
    assert_error(w.cancel(&p).await, 409, "invalid_transition").await;
    let res =
        w.s.send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/gateways/{}", w.paypal_id),
            Some(&w.admin),
            None,
        )
        .await;
    assert_error(res, 409, "gateway_in_use").await;
    // The job asks PayPal: the order is still approved, so it is captured now (with
    // the attempt's request id: one capture), and the card is paid.
    assert_eq!(
        paycard_server::domain::charges::settle_stuck(&w.s.state).await,
        1
    );
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 1);
    assert_eq!(w.card(&p).await["status"], "paid");
    assert_eq!(w.attempts(&p).await.len(), 1);
}

#[tokio::test]
async fn paypal_refunds_give_back_the_capture_once() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    approve(&w.paypal, &order);
    w.back_from_paypal(&p, &order).await;
    assert_eq!(w.card(&p).await["status"], "paid");
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&w.admin),
            json!({"amount_minor": 1000}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let refund: Value = res.json().await.unwrap();
    assert_eq!(refund["status"], "succeeded", "{refund}");
    {
        let pp = w.paypal.lock().unwrap();
        assert_eq!(pp.refunds.len(), 1);
        assert_eq!(
            pp.refunds[0]["amount"],
            json!({"currency_code": "EUR", "value": "10.00"})
        );
        assert_eq!(pp.refunds[0]["custom_id"], refund["id"]);
        let capture = &pp.orders[&order]["purchase_units"][0]["payments"]["captures"][0]["id"];
        assert_eq!(&pp.refunds[0]["capture"], capture);
    }
    assert_eq!(w.card(&p).await["refunded_minor"], 1000);
    // A pending one settles by PayPal's webhook, once.
    w.paypal.lock().unwrap().refund_status = "PENDING".into();
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&w.admin),
            json!({}),
        )
        .await;
    let rest: Value = res.json().await.unwrap();
    assert_eq!(rest["status"], "pending");
    let mut made = w.paypal.lock().unwrap().refunds[1].clone();
    made["status"] = json!("COMPLETED");
    let event = json!({"id": "WH-R1", "event_type": "PAYMENT.CAPTURE.REFUNDED", "resource_type": "refund", "resource": made});
    assert_eq!(w.paypal_webhook(&event, false).await.status(), 200);
    assert_eq!(w.paypal_webhook(&event, false).await.status(), 200);
    let card = w.card(&p).await;
    assert_eq!(
        (card["status"].as_str(), card["refunded_minor"].as_i64()),
        (Some("refunded"), Some(2500))
    );
}

/// Asks for a refund of `amount` on a paid card: the refund as answered.
async fn ask_refund(w: &World, p: &Paying, amount: i64) -> Value {
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&w.admin),
            json!({"amount_minor": amount}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// Waits until the card's refunded total is `total`, asking about pending refunds now.
async fn until_refunded(w: &World, p: &Paying, total: i64) {
    w.s.until_pending_refunds_settle(
        "the pending refund was not settled by asking its gateway",
        || async { w.card(p).await["refunded_minor"] == total },
    )
    .await;
}

#[tokio::test]
async fn refunds_left_pending_at_paypal_and_razorpay_settle_by_asking_when_no_webhook_comes() {
    let w = world().await;
    // PayPal takes it as PENDING and completes it without a word.
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    approve(&w.paypal, &order);
    w.back_from_paypal(&p, &order).await;
    w.paypal.lock().unwrap().refund_status = "PENDING".into();
    assert_eq!(ask_refund(&w, &p, 800).await["status"], "pending");
    assert_eq!(w.card(&p).await["refunded_minor"], 0);
    w.paypal.lock().unwrap().refunds[0]["status"] = json!("COMPLETED");
    until_refunded(&w, &p, 800).await;

    // Razorpay answers pending and processes it without a word.
    let p = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&p, "razorpay").await);
    let payment = customer_pays(&w.razorpay, &link);
    w.razorpay_return(&p, &link, &payment, RZP_KEY_SECRET).await;
    let refund = ask_refund(&w, &p, 600).await;
    assert_eq!(refund["status"], "pending");
    w.razorpay.lock().unwrap().refunds[0]["status"] = json!("processed");
    until_refunded(&w, &p, 600).await;
    assert_eq!(
        w.s.value(
            "SELECT status FROM refunds WHERE id = $1",
            &[refund["id"].as_str().unwrap()]
        )
        .await,
        "succeeded"
    );
}

#[tokio::test]
async fn a_razorpay_payment_link_is_paid_and_the_signed_callback_settles_it() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let location = w.pay_with(&p, "razorpay").await;
    let base = w.razorpay.lock().unwrap().base.clone();
    assert!(
        location.starts_with(&format!("{base}/i/plink_")),
        "{location}"
    );
    let link = link_of(&location);
    {
        let rz = w.razorpay.lock().unwrap();
        let sent = &rz.created[0];
        assert_eq!(sent["amount"], 2500);
        assert_eq!(sent["currency"], "EUR");
        assert!(sent["reference_id"].as_str().unwrap().starts_with("att_"));
        assert_eq!(sent["notes"]["card_id"], p.card_id);
        assert_eq!(sent["callback_method"], "get");
        assert!(sent["callback_url"]
            .as_str()
            .unwrap()
            .contains("return=razorpay"));
    }
    assert_eq!(w.pay_with(&p, "razorpay").await, location, "the same link");
    let payment = customer_pays(&w.razorpay, &link);
    // A forged callback (not signed with the key secret) is not believed: Razorpay is
    // asked instead — and the link really is paid, so the card is paid by that answer.
    // Down, a forged callback changes nothing.
    w.razorpay.lock().unwrap().down = true;
    let page = w
        .razorpay_return(&p, &link, &payment, "not-the-key-secret")
        .await;
    assert!(!page.contains("Payment successful"), "{page}");
    assert_eq!(w.card(&p).await["status"], "pending");
    // Signed: believed, even with Razorpay unreachable.
    let page = w.razorpay_return(&p, &link, &payment, RZP_KEY_SECRET).await;
    assert!(page.contains("Payment successful"), "{page}");
    w.razorpay.lock().unwrap().down = false;
    let attempts = w.attempts(&p).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["gateway"], "razorpay");
    // The webhook, late and replayed: nothing more.
    let paid_link = w.razorpay.lock().unwrap().links[&link].clone();
    let event = link_event("payment_link.paid", &paid_link, Some(&payment));
    assert_eq!(
        w.razorpay_webhook("evt_1", &event, RZP_WEBHOOK_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(
        w.razorpay_webhook("evt_1", &event, RZP_WEBHOOK_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(w.attempts(&p).await.len(), 1);
}

#[tokio::test]
async fn razorpay_webhooks_settle_forged_ones_do_not_and_out_of_order_ones_change_nothing() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&p, "razorpay").await);
    let payment = customer_pays(&w.razorpay, &link);
    let paid = w.razorpay.lock().unwrap().links[&link].clone();
    let event = link_event("payment_link.paid", &paid, Some(&payment));
    let res = w
        .razorpay_webhook("evt_forged", &event, "another-secret")
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(w.card(&p).await["status"], "pending");
    assert_eq!(
        w.razorpay_webhook("evt_paid", &event, RZP_WEBHOOK_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(w.card(&p).await["status"], "paid");
    // An expiry sent before it but arriving after does not reopen it.
    let mut expired = paid.clone();
    expired["status"] = json!("expired");
    assert_eq!(
        w.razorpay_webhook(
            "evt_exp",
            &link_event("payment_link.expired", &expired, None),
            RZP_WEBHOOK_SECRET
        )
        .await
        .status(),
        200
    );
    assert_eq!(w.card(&p).await["status"], "paid");

    // A link that expired unpaid leaves the card payable through a new link.
    let q = w.share("pay_demo_mug").await;
    let first = link_of(&w.pay_with(&q, "razorpay").await);
    let mut gone = w.razorpay.lock().unwrap().links[&first].clone();
    gone["status"] = json!("expired");
    w.razorpay
        .lock()
        .unwrap()
        .links
        .insert(first.clone(), gone.clone());
    w.razorpay_webhook(
        "evt_q_exp",
        &link_event("payment_link.expired", &gone, None),
        RZP_WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(w.card(&q).await["status"], "pending");
    let second = link_of(&w.pay_with(&q, "razorpay").await);
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_razorpay_cancel_cancels_the_link_but_loses_to_a_paid_one() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&p, "razorpay").await);
    assert_eq!(w.cancel(&p).await.status(), 200);
    assert_eq!(w.razorpay.lock().unwrap().cancel_calls, vec![link.clone()]);
    assert_eq!(
        w.razorpay.lock().unwrap().links[&link]["status"],
        "cancelled"
    );

    // Paid a moment before the cancel, no webhook yet: the payment wins.
    let q = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&q, "razorpay").await);
    customer_pays(&w.razorpay, &link);
    assert_error(w.cancel(&q).await, 409, "card_final").await;
    assert_eq!(w.card(&q).await["status"], "paid");

    // Razorpay down: the cancel cannot be sure, so it is refused; at Pay, a message.
    let r = w.share("pay_demo_mug").await;
    w.pay_with(&r, "razorpay").await;
    w.razorpay.lock().unwrap().down = true;
    assert_error(w.cancel(&r).await, 409, "gateway_unavailable").await;
    let s2 = w.share("pay_demo_mug").await;
    let res = w.press_pay(&s2, "razorpay").await;
    assert!(res.text().await.unwrap().contains("cannot be reached"));
    assert_eq!(w.card(&s2).await["status"], "pending");
    w.razorpay.lock().unwrap().down = false;
    assert_eq!(w.cancel(&r).await.status(), 200);
}

#[tokio::test]
async fn razorpay_refunds_are_made_once_even_when_an_answer_is_lost() {
    let w = world().await;
    let p = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&p, "razorpay").await);
    let payment = customer_pays(&w.razorpay, &link);
    w.razorpay_return(&p, &link, &payment, RZP_KEY_SECRET).await;
    assert_eq!(w.card(&p).await["status"], "paid");
    // Razorpay makes the refund, but its answer is lost: the retry finds it.
    w.razorpay.lock().unwrap().lose_refund_answer = true;
    let res =
        w.s.post_json(
            &format!("/api/v1/admin/cards/{}/refunds", p.card_id),
            Some(&w.admin),
            json!({"amount_minor": 500}),
        )
        .await;
    let refund: Value = res.json().await.unwrap();
    assert_eq!(refund["status"], "pending");
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        // Due now rather than after its back-off, again each round: a try still under way
        // writes its own back-off when it ends.
        w.s.sql(
            "UPDATE refunds SET next_try_at = '2000-01-01T00:00:00.000Z' WHERE reference IS NULL",
            &[],
        )
        .await;
        let reference =
            w.s.value(
                "SELECT COALESCE(reference, '') FROM refunds WHERE id = $1",
                &[refund["id"].as_str().unwrap()],
            )
            .await;
        if !reference.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the refund was not looked for again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let made = w.razorpay.lock().unwrap().refunds.clone();
    assert_eq!(made.len(), 1, "one refund at Razorpay");
    assert_eq!(made[0]["notes"]["refund_id"], refund["id"]);
    // Razorpay processes it: the webhook settles it.
    let mut processed = made[0].clone();
    processed["status"] = json!("processed");
    let event = json!({"entity": "event", "event": "refund.processed", "contains": ["refund"],
        "payload": {"refund": {"entity": processed}}});
    assert_eq!(
        w.razorpay_webhook("evt_r", &event, RZP_WEBHOOK_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(w.card(&p).await["refunded_minor"], 500);
}

#[tokio::test]
async fn two_tabs_with_two_gateways_pay_a_card_once() {
    let w = world().await;
    // Tab 1 went to PayPal; tab 2 picks Razorpay: PayPal's order is closed first (it
    // will never be captured), and Razorpay's link is paid.
    let p = w.share("pay_demo_mug").await;
    let order = order_of(&w.pay_with(&p, "paypal").await);
    let link = link_of(&w.pay_with(&p, "razorpay").await);
    // Tab 1 approves at PayPal after all and comes back: nothing is taken there, and
    // the page says so instead of waiting on tab 2's link.
    approve(&w.paypal, &order);
    let page = w.back_from_paypal(&p, &order).await;
    assert!(page.contains("That payment was not taken"), "{page}");
    assert!(!page.contains("http-equiv=\"refresh\""), "not waiting");
    assert_eq!(w.paypal.lock().unwrap().capture_calls, 0);
    let payment = customer_pays(&w.razorpay, &link);
    w.razorpay_return(&p, &link, &payment, RZP_KEY_SECRET).await;
    assert_eq!(w.card(&p).await["status"], "paid");
    approve(&w.paypal, &order);
    let approved = w.paypal.lock().unwrap().orders[&order].clone();
    w.paypal_webhook(
        &order_event("WH-tab1", "CHECKOUT.ORDER.APPROVED", &approved),
        false,
    )
    .await;
    assert_eq!(
        w.paypal.lock().unwrap().capture_calls,
        0,
        "the other tab's order is not captured"
    );
    assert_eq!(w.attempts(&p).await.len(), 1);

    // Tab 1 went to Razorpay and paid; tab 2 then picks PayPal: the paid link wins,
    // no order is made.
    let q = w.share("pay_demo_mug").await;
    let link = link_of(&w.pay_with(&q, "razorpay").await);
    customer_pays(&w.razorpay, &link);
    let orders_before = w.paypal.lock().unwrap().orders.len();
    let res = w.press_pay(&q, "paypal").await;
    assert!(res.text().await.unwrap().contains("already paid"));
    assert_eq!(w.paypal.lock().unwrap().orders.len(), orders_before);
    assert_eq!(w.card(&q).await["status"], "paid");
}

#[tokio::test]
async fn the_checkout_offers_only_the_gateways_that_take_the_cards_currency_and_recurrence() {
    let w = world().await;
    // Rupees: Razorpay only.
    let inr = w.share_new("Consultation", 49_900, "INR").await;
    let page = w.page(&inr.link).await;
    assert!(
        page.contains("with Razorpay") && !page.contains("with PayPal"),
        "{page}"
    );
    let res = w.press_pay(&inr, "paypal").await;
    assert_eq!(res.status(), 400, "PayPal is not on offer for rupees");
    // Three-decimal dinars: Razorpay takes amounts ending in 0 only; PayPal not KWD.
    let kwd = w.share_new("Dinar fine", 295_991, "KWD").await;
    let page = w.page(&kwd.link).await;
    assert!(page.contains("cannot be paid online"), "{page}");
    assert!(
        page.contains("Razorpay takes KWD amounts in coarser steps only."),
        "{page}"
    );
    assert!(page.contains("PayPal does not take KWD."));
    assert!(
        w.razorpay.lock().unwrap().created.is_empty(),
        "nobody was sent away"
    );
    let kwd = w.share_new("Dinar round", 295_990, "KWD").await;
    assert!(w.page(&kwd.link).await.contains("with Razorpay"));
    // Forints in whole units for PayPal.
    let huf = w.share_new("Forint", 150_000, "HUF").await;
    let location = w.pay_with(&huf, "paypal").await;
    assert!(location.contains("token="));
    let sent = w.paypal.lock().unwrap().created[0].1["purchase_units"][0]["amount"].clone();
    assert_eq!(sent, json!({"currency_code": "HUF", "value": "1500"}));
    // Paid, its refunds go back in whole forints too: a part PayPal would round is
    // refused before anything is sent.
    let order = order_of(&location);
    approve(&w.paypal, &order);
    w.back_from_paypal(&huf, &order).await;
    assert_eq!(w.card(&huf).await["status"], "paid");
    let refunds_path = format!("/api/v1/admin/cards/{}/refunds", huf.card_id);
    let refund = |amount: i64| {
        w.s.post_json(
            &refunds_path,
            Some(&w.admin),
            json!({"amount_minor": amount}),
        )
    };
    let err = assert_error(refund(50_050).await, 400, "validation_failed").await;
    assert_eq!(err["error"]["fields"][0]["field"], "amount_minor");
    assert!(w.paypal.lock().unwrap().refunds.is_empty());
    assert_eq!(refund(50_000).await.status(), 201);
    assert_eq!(
        w.paypal.lock().unwrap().refunds[0]["amount"],
        json!({"currency_code": "HUF", "value": "500"})
    );

    // A monthly payment: neither takes recurring payments; in Spanish too.
    let monthly = w.share("pay_demo_beans").await;
    let page = w.page(&format!("{}?lang=es", monthly.link)).await;
    assert!(page.contains("PayPal solo acepta pagos únicos."), "{page}");
    let res = w.press_pay(&monthly, "razorpay").await;
    assert_eq!(res.status(), 409);
    // With the sandbox added, the monthly card is offered the sandbox alone.
    let res =
        w.s.post_json(
            "/api/v1/admin/gateways",
            Some(&w.admin),
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let page = w.page(&monthly.link).await;
    assert!(
        page.contains("value=\"sandbox\"")
            && !page.contains("with PayPal")
            && !page.contains("with Razorpay"),
        "{page}"
    );
}
