//! The admin settings API (SPEC §2.1–2.4, the admin rows of §4) over real HTTP: who may
//! call it, every validation error, and what the rest of the product sees of a change.

mod common;

use std::time::Duration;

use common::{assert_error, SseClient, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_millis(400);

fn fields(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn connect_portal(s: &TestServer, admin: &str, name: &str) -> Value {
    let res = s
        .send(
            Method::PUT,
            "/api/v1/admin/portal",
            Some(admin),
            Some(json!({"name": name, "country": "ES", "currency": "EUR",
                        "time_zone": "Europe/Madrid", "edition": "standard"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn operators_get_403_and_strangers_401_from_every_admin_endpoint() {
    let s = TestServer::start().await;
    let op = s.operator().await;
    let endpoints: &[(Method, &str, Option<Value>)] = &[
        (Method::GET, "/api/v1/admin/countries", None),
        (
            Method::GET,
            "/api/v1/admin/portal/defaults?country=ES",
            None,
        ),
        (Method::GET, "/api/v1/admin/portal", None),
        (
            Method::PUT,
            "/api/v1/admin/portal",
            Some(
                json!({"name": "x", "country": "ES", "currency": "EUR", "time_zone": "Europe/Madrid", "edition": "free"}),
            ),
        ),
        (Method::DELETE, "/api/v1/admin/portal", None),
        (Method::GET, "/api/v1/admin/portals", None),
        (Method::GET, "/api/v1/admin/gateway-kinds", None),
        (Method::GET, "/api/v1/admin/gateways", None),
        (
            Method::POST,
            "/api/v1/admin/gateways",
            Some(json!({"kind": "sandbox"})),
        ),
        (
            Method::PUT,
            "/api/v1/admin/gateways/gw_1",
            Some(json!({"credentials": {}})),
        ),
        (Method::DELETE, "/api/v1/admin/gateways/gw_1", None),
        (Method::GET, "/api/v1/admin/payments", None),
        (
            Method::POST,
            "/api/v1/admin/payments",
            Some(json!({"brand_id": "acme", "title": "x", "amount_minor": 1, "currency": "EUR"})),
        ),
        (Method::GET, "/api/v1/admin/payments/pay_demo_mug", None),
        (
            Method::PATCH,
            "/api/v1/admin/payments/pay_demo_mug",
            Some(json!({"title": "Hacked"})),
        ),
        (Method::DELETE, "/api/v1/admin/payments/pay_demo_mug", None),
        (Method::GET, "/api/v1/admin/brands", None),
        (
            Method::POST,
            "/api/v1/admin/brands",
            Some(json!({"id": "evil", "name": "Evil"})),
        ),
        (
            Method::PATCH,
            "/api/v1/admin/brands/acme",
            Some(json!({"name": "Hacked"})),
        ),
    ];
    for (method, path, body) in endpoints {
        let res = s.send(method.clone(), path, Some(&op), body.clone()).await;
        assert_error(res, 403, "forbidden").await;
        let res = s.send(method.clone(), path, None, body.clone()).await;
        assert_error(res, 401, "unauthorized").await;
    }
    // Nothing changed.
    let admin = s.admin().await;
    let mug: Value = s
        .get("/api/v1/admin/payments/pay_demo_mug", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mug["title"], "Custom mug");
    assert_eq!(mug["active"], true);
}

#[tokio::test]
async fn a_country_fills_in_currency_and_time_zone() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let es: Value = s
        .get("/api/v1/admin/portal/defaults?country=ES", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(es["country"], "ES");
    assert_eq!(es["currency"], "EUR");
    assert_eq!(es["time_zone"], "Europe/Madrid");
    assert!(es["time_zones"]
        .as_array()
        .unwrap()
        .contains(&json!("Atlantic/Canary")));
    let jp: Value = s
        .get("/api/v1/admin/portal/defaults?country=JP", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (jp["currency"].as_str(), jp["time_zone"].as_str()),
        (Some("JPY"), Some("Asia/Tokyo"))
    );
    // A small country its own zone (zone.tab), not the neighbour's it shares clocks with.
    let kw: Value = s
        .get("/api/v1/admin/portal/defaults?country=KW", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (kw["currency"].as_str(), kw["time_zone"].as_str()),
        (Some("KWD"), Some("Asia/Kuwait"))
    );
    assert_eq!(kw["time_zones"], json!(["Asia/Kuwait"]));

    assert_error(
        s.get("/api/v1/admin/portal/defaults", Some(&admin)).await,
        400,
        "bad_request",
    )
    .await;
    // Codes as the countries list gives them.
    let body = assert_error(
        s.get("/api/v1/admin/portal/defaults?country=es", Some(&admin))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&body), pairs(&[("country", "not_found")]));
    let body = assert_error(
        s.get("/api/v1/admin/portal/defaults?country=XX", Some(&admin))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&body), pairs(&[("country", "not_found")]));

    let countries: Vec<Value> = s
        .get("/api/v1/admin/countries", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(countries.len() > 240);
    assert!(countries.contains(&json!({"code": "ES", "name": "Spain"})));
}

#[tokio::test]
async fn an_admin_connects_sees_and_disconnects_a_portal() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    assert_error(
        s.get("/api/v1/admin/portal", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;

    let bad = s
        .send(
            Method::PUT,
            "/api/v1/admin/portal",
            Some(&admin),
            Some(json!({"name": " ", "country": "XX", "currency": "EURO",
                        "time_zone": "Mars/Olympus", "edition": "gold"})),
        )
        .await;
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(
        fields(&body),
        pairs(&[
            ("name", "required"),
            ("country", "not_found"),
            ("currency", "unknown_currency"),
            ("time_zone", "not_found"),
            ("edition", "invalid_format"),
        ])
    );
    let missing = s
        .send(
            Method::PUT,
            "/api/v1/admin/portal",
            Some(&admin),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(missing, 400, "invalid_json").await;

    let portal = connect_portal(&s, &admin, "Acme Europe").await;
    assert_eq!(portal["name"], "Acme Europe");
    assert_eq!(portal["currency"], "EUR");
    assert_eq!(portal["edition"], "standard");
    assert_eq!(
        portal["connected_by"],
        json!({"name": "Ada Admin", "email": "admin@example.com"})
    );
    let again: Value = s
        .get("/api/v1/admin/portal", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, portal);

    let res = s
        .send(Method::DELETE, "/api/v1/admin/portal", Some(&admin), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        s.get("/api/v1/admin/portal", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    let res = s
        .send(Method::DELETE, "/api/v1/admin/portal", Some(&admin), None)
        .await;
    assert_error(res, 404, "not_found").await;

    // The portal stays known, to be picked again: same id, new settings.
    let portals: Vec<Value> = s
        .get("/api/v1/admin/portals", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(portals.len(), 1);
    assert_eq!(portals[0]["name"], "Acme Europe");
    assert_eq!(portals[0]["connected_by"], Value::Null);
    let res = s
        .send(
            Method::PUT,
            "/api/v1/admin/portal",
            Some(&admin),
            Some(
                json!({"name": "acme europe", "country": "JP", "currency": "JPY",
                        "time_zone": "Asia/Tokyo", "edition": "free"}),
            ),
        )
        .await;
    let back: Value = res.json().await.unwrap();
    assert_eq!(back["id"], portal["id"]);
    assert_eq!(
        (back["currency"].as_str(), back["edition"].as_str()),
        (Some("JPY"), Some("free"))
    );
}

#[tokio::test]
async fn gateways_need_a_portal_and_an_offered_kind() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    assert_error(
        s.get("/api/v1/admin/gateway-kinds", Some(&admin)).await,
        409,
        "no_portal",
    )
    .await;
    let res = s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_error(res, 409, "no_portal").await;
    let none: Vec<Value> = s
        .get("/api/v1/admin/gateways", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());

    connect_portal(&s, &admin, "Acme Europe").await;
    let kinds: Vec<Value> = s
        .get("/api/v1/admin/gateway-kinds", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = kinds.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert!(names.contains(&"sandbox"));
    assert!(
        names.contains(&"paypal") && names.contains(&"razorpay"),
        "the standard edition offers PayPal and Razorpay: {names:?}"
    );
    let sandbox = kinds.iter().find(|k| k["kind"] == "sandbox").unwrap();
    assert_eq!(sandbox["fields"], json!([]));

    for (kind, code) in [
        ("square", "not_found"),
        ("", "required"),
        ("bitcoin", "not_found"),
    ] {
        let res = s
            .post_json(
                "/api/v1/admin/gateways",
                Some(&admin),
                json!({"kind": kind}),
            )
            .await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(fields(&body), pairs(&[("kind", code)]), "{kind}");
    }
    let res = s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "sandbox", "credentials": {"api_key": "x"}}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        fields(&body),
        pairs(&[("credentials.api_key", "not_found")])
    );

    let res = s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let gateway: Value = res.json().await.unwrap();
    assert_eq!(
        (gateway["kind"].as_str(), gateway["name"].as_str()),
        (Some("sandbox"), Some("Sandbox"))
    );
    let res = s
        .post_json(
            "/api/v1/admin/gateways",
            Some(&admin),
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_error(res, 409, "gateway_exists").await;
    let listed: Vec<Value> = s
        .get("/api/v1/admin/gateways", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, vec![gateway.clone()]);

    let id = gateway["id"].as_str().unwrap();
    let res = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/gateways/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/gateways/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = s
        .send(
            Method::PUT,
            &format!("/api/v1/admin/gateways/{id}"),
            Some(&admin),
            Some(json!({"kind": "sandbox", "credentials": {}})),
        )
        .await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_payment_is_validated_by_the_shared_rules() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "No Brand", "title": "", "description": "x".repeat(2001),
                   "amount_minor": 0, "currency": "EURO",
                   "recurrence": {"interval": "week", "count": 0}}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        fields(&body),
        pairs(&[
            ("brand_id", "invalid_format"),
            ("title", "required"),
            ("description", "too_long"),
            ("currency", "unknown_currency"),
            ("amount_minor", "not_positive"),
            ("recurrence.count", "out_of_range"),
        ])
    );
    // A well-formed id of no brand: nothing to add the payment to.
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "nope", "title": "Mug", "amount_minor": 100, "currency": "EUR"}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // Codes are taken as the schema lists them; whole numbers may come as 2500.0.
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Mug", "amount_minor": 100, "currency": "eur"}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(fields(&body), pairs(&[("currency", "unknown_currency")]));
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Mug", "amount_minor": 2500.0, "currency": "EUR",
                   "recurrence": {"interval": "month", "count": 3.0}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Big", "amount_minor": 100_000_000, "currency": "EUR"}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["max"], 99_999_999);
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Yen", "amount_minor": "lots", "currency": "JPY"}),
        )
        .await;
    assert_error(res, 400, "invalid_json").await;
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "x", "amount_minor": 1, "currency": "EUR",
                   "recurrence": {"interval": "fortnight", "count": 1}}),
        )
        .await;
    assert_error(res, 400, "invalid_json").await;
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/payments/pay_demo_mug",
            Some(&admin),
            Some(json!({"amount_minor": -5, "brand_id": "nope"})),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(fields(&body), pairs(&[("amount_minor", "not_positive")]));
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/payments/pay_demo_mug",
            Some(&admin),
            Some(json!({"brand_id": "nope"})),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/payments/pay_nope",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn payments_are_added_edited_moved_and_withdrawn_and_pickers_follow_live() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let op = s.operator().await; // works for acme only
    let (conv, visitor) = s.conversation("acme").await;
    let mut op_live = SseClient::connect(s.get("/api/v1/operator/events", Some(&op)).await).await;
    let mut visitor_live = SseClient::connect(
        s.get(
            &format!("/api/v1/conversations/{conv}/events"),
            Some(&visitor),
        )
        .await,
    )
    .await;

    // Add: a custom frequency, every 2 weeks, in yen (no minor unit).
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "  Tasting club ", "description": "Beans to try",
                   "amount_minor": 1500, "currency": "JPY",
                   "recurrence": {"interval": "week", "count": 2}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let added: Value = res.json().await.unwrap();
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["title"], "Tasting club");
    assert_eq!(added["currency"], "JPY");
    assert_eq!(added["recurrence"], json!({"interval": "week", "count": 2}));
    assert_eq!(added["active"], true);
    let event = op_live
        .next(Duration::from_secs(5))
        .await
        .expect("payment event");
    assert_eq!(event.event.as_deref(), Some("payment"));
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["payment"], added);
    assert!(picker(&s, &op, &conv)
        .await
        .contains(&"Tasting club".to_owned()));

    // Shared as it is now; a later edit does not touch the card's snapshot.
    let card = s.share(&op, &conv, &id).await;
    let res = s
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/payments/{id}"),
            Some(&admin),
            Some(json!({"title": "Tasting club XL", "amount_minor": 2500, "recurrence": null})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["recurrence"], Value::Null);
    assert_eq!(
        edited["description"], "Beans to try",
        "fields left out are kept"
    );
    let card_now: Value = s
        .get(
            &format!("/api/v1/cards/{}", card["id"].as_str().unwrap()),
            Some(&op),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card_now["title"], "Tasting club");
    assert_eq!(card_now["amount_minor"], 1500);

    // Moved to zen: acme's operator hears it leave; it is gone from acme's picker.
    let res = s
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/payments/{id}"),
            Some(&admin),
            Some(json!({"brand_id": "zen"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let events = op_live.drain(SHORT).await;
    let moved: Vec<Value> = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("payment"))
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["payment"].clone())
        .collect();
    assert!(
        moved
            .iter()
            .any(|p| p["id"] == id.as_str() && p["brand_id"] == "zen"),
        "{moved:?}"
    );
    assert!(!picker(&s, &op, &conv)
        .await
        .contains(&"Tasting club XL".to_owned()));

    // Deleting a payment with a card: gone for the API, kept (inactive) for its cards.
    let res = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/payments/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        s.get(&format!("/api/v1/admin/payments/{id}"), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    let listed: Vec<Value> = s
        .get("/api/v1/admin/payments", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(!listed.iter().any(|p| p["id"] == id.as_str()));
    let kept = s
        .rows(
            "SELECT CASE WHEN active THEN 'yes' ELSE 'no' END, deleted_at FROM payments WHERE id = $1",
            &[&id],
        )
        .await;
    assert!(
        kept[0][0].as_deref() == Some("no") && kept[0][1].is_some(),
        "the row stays for its cards"
    );

    // Deactivate and reactivate: the picker follows.
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/payments/pay_demo_mug",
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(!picker(&s, &op, &conv)
        .await
        .contains(&"Custom mug".to_owned()));
    s.send(
        Method::PATCH,
        "/api/v1/admin/payments/pay_demo_mug",
        Some(&admin),
        Some(json!({"active": true})),
    )
    .await;
    assert!(picker(&s, &op, &conv)
        .await
        .contains(&"Custom mug".to_owned()));

    // A payment never shared is deleted outright.
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "Gift wrap", "amount_minor": 300, "currency": "EUR"}),
        )
        .await;
    let wrap: Value = res.json().await.unwrap();
    let wrap_id = wrap["id"].as_str().unwrap();
    let res = s
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/payments/{wrap_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        s.get(&format!("/api/v1/admin/payments/{wrap_id}"), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;

    // Zen's payments never reach acme's operator; visitors never see payment events.
    let res = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "zen", "title": "Mat", "amount_minor": 3000, "currency": "EUR"}),
        )
        .await;
    let mat: Value = res.json().await.unwrap();
    let seen = op_live.drain(SHORT).await;
    assert!(!seen
        .iter()
        .any(|e| e.data.contains(mat["id"].as_str().unwrap())));
    let visitor_events = visitor_live.drain(SHORT).await;
    assert!(
        visitor_events
            .iter()
            .all(|e| e.event.as_deref() != Some("payment")),
        "{visitor_events:?}"
    );
}

#[tokio::test]
async fn brands_are_listed_with_their_payments_added_and_edited() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let brands: Vec<Value> = s
        .get("/api/v1/admin/brands", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let acme = brands.iter().find(|b| b["id"] == "acme").unwrap();
    assert_eq!(acme["name"], "Acme Coffee");
    let titles: Vec<&str> = acme["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Custom mug"), "{titles:?}");
    assert!(acme["payments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["brand_id"] == "acme"));

    let res = s
        .post_json(
            "/api/v1/admin/brands",
            Some(&admin),
            json!({"id": "Bad Slug", "name": "", "allowed_origins": ["https://ok.example", "ftp://x"]}),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        fields(&body),
        pairs(&[
            ("id", "invalid_format"),
            ("name", "required"),
            ("allowed_origins.1", "invalid_format")
        ])
    );
    let res = s
        .post_json(
            "/api/v1/admin/brands",
            Some(&admin),
            json!({"id": "acme", "name": "Again"}),
        )
        .await;
    assert_error(res, 409, "brand_exists").await;

    let res = s
        .post_json(
            "/api/v1/admin/brands",
            Some(&admin),
            json!({"id": "tea-house", "name": "Tea House", "allowed_origins": ["https://tea.example/"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let tea: Value = res.json().await.unwrap();
    assert_eq!(
        tea,
        json!({"id": "tea-house", "name": "Tea House",
               "allowed_origins": ["https://tea.example"], "payments": [],
               "embed_tag": format!("<script src=\"{}/widget.js\" data-brand=\"tea-house\" async></script>", s.base)})
    );
    // Admins work for a new brand at once.
    let me: Value = s
        .get("/api/v1/auth/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(me["brands"]
        .as_array()
        .unwrap()
        .contains(&json!("tea-house")));

    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/brands/tea-house",
            Some(&admin),
            Some(json!({"allowed_origins": ["https://tea.example", "http://localhost:3000"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tea: Value = res.json().await.unwrap();
    assert_eq!(tea["name"], "Tea House");
    assert_eq!(
        tea["allowed_origins"],
        json!(["https://tea.example", "http://localhost:3000"])
    );
    // The brand's widget page may now be framed by exactly those sites.
    let widget = s.get("/widget/?brand=tea-house", None).await;
    let policy = widget.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        policy.ends_with("; frame-ancestors 'self' https://tea.example http://localhost:3000"),
        "{policy}"
    );
    // And its scripts are only ours (SPEC §8.1).
    assert!(policy.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"));
    assert!(policy.contains("object-src 'none'; base-uri 'none'"));
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/brands/tea-house",
            Some(&admin),
            Some(json!({"allowed_origins": ["https://tea.example/shop"]})),
        )
        .await;
    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(
        fields(&body),
        pairs(&[("allowed_origins.0", "invalid_format")])
    );
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/brands/nope",
            Some(&admin),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_error(res, 404, "not_found").await;

    // Move a payment to the new brand: both lists follow.
    let res = s
        .send(
            Method::PATCH,
            "/api/v1/admin/payments/pay_demo_mug",
            Some(&admin),
            Some(json!({"brand_id": "tea-house"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let brands: Vec<Value> = s
        .get("/api/v1/admin/brands", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let tea = brands.iter().find(|b| b["id"] == "tea-house").unwrap();
    assert_eq!(tea["payments"][0]["id"], "pay_demo_mug");
    let acme = brands.iter().find(|b| b["id"] == "acme").unwrap();
    assert!(!acme["payments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "pay_demo_mug"));
}

/// The titles in the operator's Payments picker for a conversation.
async fn picker(s: &TestServer, op: &str, conv: &str) -> Vec<String> {
    let path = format!("/api/v1/operator/conversations/{conv}/payments");
    let list: Vec<Value> = s.get(&path, Some(op)).await.json().await.unwrap();
    list.into_iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}
