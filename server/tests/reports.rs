//! Reports (SPEC §8.6): totals per currency, counts by outcome, conversion and paid money
//! per day for the cards shared in a range of days of the portal's time zone; the cards
//! themselves as JSON pages and as CSV. Admins only, and only of their brands.

mod common;

use chrono::{Days, NaiveDate};
use common::{assert_error, TestServer};
use serde_json::{json, Value};

/// Submits a card's checkout with `number` (the sandbox's good card pays, 4000…0002 is
/// declined).
async fn submit(s: &TestServer, card: &str, visitor: &str, number: &str, email: &str) -> String {
    let checkout: Value = s
        .post(&format!("/api/v1/cards/{card}/checkout"), Some(visitor))
        .await
        .json()
        .await
        .unwrap();
    let url = checkout["checkout_url"].as_str().unwrap();
    let form = [
        ("name", "Ana García"),
        ("email", email),
        ("card_number", number),
        ("expiry", "12/34"),
        ("cvc", "123"),
    ];
    reqwest::Client::new()
        .post(url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn summary(s: &TestServer, admin: &str, query: &str) -> Value {
    let res = s
        .get(
            &format!("/api/v1/admin/reports/summary{query}"),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

/// A card of `payment` in a new conversation of `brand`, shared by `who`: (card id, visitor).
async fn shared(s: &TestServer, who: &str, brand: &str, payment: &str) -> (String, String) {
    let (conversation, visitor) = s.conversation(brand).await;
    let card = s.share(who, &conversation, payment).await;
    (card["id"].as_str().unwrap().to_owned(), visitor)
}

#[tokio::test]
async fn a_report_counts_outcomes_and_sums_money_per_currency_and_day() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let op = s.operator().await;
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
    let usd = s
        .post_json(
            "/api/v1/admin/payments",
            Some(&admin),
            json!({"brand_id": "acme", "title": "=1+1 sticker", "amount_minor": 300, "currency": "USD"}),
        )
        .await;
    assert_eq!(usd.status(), 201);
    let usd: Value = usd.json().await.unwrap();

    // Nothing shared yet: zeros, and the days are the portal's.
    let empty = summary(&s, &admin, "").await;
    assert_eq!(empty["time_zone"], "Europe/Madrid");
    assert_eq!(empty["counts"]["shared"], 0);
    assert_eq!(empty["conversion"], 0.0);
    assert_eq!(empty["currencies"], json!([]));
    let today = NaiveDate::parse_from_str(empty["to"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(
        empty["from"],
        (today - Days::new(29)).to_string(),
        "the last 30 days"
    );

    // Paid, then 10.00 of it given back.
    let (refunded, visitor) = shared(&s, &op, "acme", "pay_demo_mug").await;
    s.pay_with_sandbox(&refunded, &visitor, "ana@example.com", "en")
        .await;
    let res = s
        .post_json(
            &format!("/api/v1/admin/cards/{refunded}/refunds"),
            Some(&admin),
            json!({"amount_minor": 1000, "reason": "chipped"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // Declined by the bank once, then paid.
    let (retried, visitor) = shared(&s, &op, "acme", "pay_demo_mug").await;
    let page = submit(
        &s,
        &retried,
        &visitor,
        "4000 0000 0000 0002",
        "bo@example.com",
    )
    .await;
    assert!(page.contains("declined"), "{page}");
    let page = submit(
        &s,
        &retried,
        &visitor,
        "4242 4242 4242 4242",
        "bo@example.com",
    )
    .await;
    assert!(page.contains("Payment successful"), "{page}");
    // Cancelled by the operator, declined by the visitor, expired, still pending.
    let (cancelled, _) = shared(&s, &op, "acme", "pay_demo_workshop").await;
    assert_eq!(
        s.post(
            &format!("/api/v1/operator/cards/{cancelled}/cancel"),
            Some(&op)
        )
        .await
        .status(),
        200
    );
    let (declined, visitor) = shared(&s, &op, "acme", "pay_demo_mug").await;
    assert_eq!(
        s.post(&format!("/api/v1/cards/{declined}/decline"), Some(&visitor))
            .await
            .status(),
        200
    );
    let (expired, _) = shared(&s, &op, "acme", "pay_demo_mug").await;
    s.force_status(&expired, "expired").await;
    let (_pending, _) = shared(&s, &op, "acme", usd["id"].as_str().unwrap()).await;
    // Another brand, another currency.
    let (usd_paid, visitor) = shared(&s, &op, "acme", usd["id"].as_str().unwrap()).await;
    s.pay_with_sandbox(&usd_paid, &visitor, "=cmd@example.com", "en")
        .await;
    let (zen, visitor) = shared(&s, &admin, "zen", "pay_demo_dropin").await;
    s.pay_with_sandbox(&zen, &visitor, "zoe@example.com", "es")
        .await;

    let report = summary(&s, &admin, &format!("?from={today}&to={today}")).await;
    assert_eq!(
        report["counts"],
        json!({"shared": 8, "paid": 4, "failed_attempts": 1, "cancelled": 1,
               "declined": 1, "expired": 1, "refunded": 1})
    );
    assert_eq!(report["conversion"], 0.5);
    assert_eq!(
        report["currencies"],
        json!([
            {"currency": "EUR", "paid_minor": 6500, "refunded_minor": 1000, "net_minor": 5500},
            {"currency": "USD", "paid_minor": 300, "refunded_minor": 0, "net_minor": 300},
        ])
    );
    assert_eq!(
        report["by_day"],
        json!([
            {"date": today.to_string(), "currency": "EUR", "paid_minor": 6500},
            {"date": today.to_string(), "currency": "USD", "paid_minor": 300},
        ])
    );

    // One brand.
    let zen_only = summary(
        &s,
        &admin,
        &format!("?from={today}&to={today}&brand_id=zen"),
    )
    .await;
    assert_eq!(zen_only["brand_id"], "zen");
    assert_eq!(zen_only["counts"]["shared"], 1);
    assert_eq!(zen_only["currencies"][0]["paid_minor"], 1500);

    // Days are the portal's: 23:30 UTC the day before is already `today` in Madrid
    // (UTC+1 or +2), 21:30 UTC the day before is not yet.
    let before = today - Days::new(1);
    s.sql(
        "UPDATE cards SET created_at = $1 WHERE id = $2",
        &[&format!("{before}T23:30:00.000Z"), &cancelled],
    )
    .await;
    s.sql(
        "UPDATE cards SET created_at = $1 WHERE id = $2",
        &[&format!("{before}T21:30:00.000Z"), &declined],
    )
    .await;
    let shifted = summary(&s, &admin, &format!("?from={today}&to={today}")).await;
    assert_eq!(shifted["counts"]["shared"], 7);
    assert_eq!(shifted["counts"]["cancelled"], 1);
    assert_eq!(shifted["counts"]["declined"], 0);
    let day_before = summary(&s, &admin, &format!("?from={before}&to={before}")).await;
    assert_eq!(day_before["counts"]["shared"], 1);
    assert_eq!(day_before["counts"]["declined"], 1);

    // The cards, a page at a time, newest shared first, each once.
    let mut seen = Vec::new();
    let mut query = format!("?from={before}&to={today}&limit=3");
    loop {
        let res = s
            .get(&format!("/api/v1/admin/reports/cards{query}"), Some(&admin))
            .await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|card| (card["shared_at"].as_str().unwrap().to_owned(), card.clone())),
        );
        match page["next"].as_str() {
            Some(next) => query = format!("?from={before}&to={today}&limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
    let card = |id: &str| {
        seen.iter()
            .map(|(_, c)| c)
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let first = card(&refunded);
    assert_eq!(first["status"], "paid");
    assert_eq!(first["paid_minor"], 2500);
    assert_eq!(first["refunded_minor"], 1000);
    assert_eq!(first["refunds"], 1);
    assert_eq!(first["payer_email"], "ana@example.com");
    assert!(first["paid_at"].is_string());
    assert_eq!(card(&retried)["failed_attempts"], 1);
    assert_eq!(card(&declined)["paid_at"], Value::Null);

    // By status.
    let paid: Value = s
        .get(
            &format!("/api/v1/admin/reports/cards?from={before}&to={today}&status=paid"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ids: Vec<&str> = paid["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![
        refunded.as_str(),
        retried.as_str(),
        usd_paid.as_str(),
        zen.as_str(),
    ];
    want.sort();
    assert_eq!(ids, want);

    // As CSV: every card, a header row, plain decimals, formulas made inert.
    let res = s
        .get(
            &format!("/api/v1/admin/reports/cards?from={before}&to={today}&format=csv"),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("paycard-cards-{before}-{today}.csv")));
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header[..6],
        [
            "card_id",
            "shared_at",
            "brand_id",
            "conversation_id",
            "title",
            "status"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = |id: &str| rows.iter().find(|r| &r[0] == id).unwrap();
    let r = row(&refunded);
    assert_eq!(&r[column("amount")], "25.00");
    assert_eq!(&r[column("paid")], "25.00");
    assert_eq!(&r[column("refunded")], "10.00");
    assert_eq!(&r[column("net")], "15.00");
    assert_eq!(&r[column("payer_email")], "ana@example.com");
    let u = row(&usd_paid);
    assert_eq!(&u[column("title")], "'=1+1 sticker");
    assert_eq!(&u[column("payer_email")], "'=cmd@example.com");
    assert_eq!(&u[column("currency")], "USD");
}

#[tokio::test]
async fn reports_are_for_admins_of_the_brand_and_ranges_must_make_sense() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let op = s.operator().await;
    for path in [
        "/api/v1/admin/reports/summary",
        "/api/v1/admin/reports/cards",
    ] {
        assert_eq!(s.get(path, None).await.status(), 401);
        assert_error(s.get(path, Some(&op)).await, 403, "forbidden").await;
        assert_error(
            s.get(&format!("{path}?brand_id=globex"), Some(&admin))
                .await,
            403,
            "forbidden",
        )
        .await;
        for (query, code) in [
            ("?from=2026-13-01", "invalid_date"),
            ("?to=04/12/2026", "invalid_date"),
            ("?from=2026-2-1", "invalid_date"),
            ("?from=2026-12-05&to=2026-12-04", "invalid_range"),
            ("?from=2025-01-01&to=2026-12-31", "range_too_long"),
        ] {
            assert_error(
                s.get(&format!("{path}{query}"), Some(&admin)).await,
                400,
                code,
            )
            .await;
        }
    }
    for (query, code) in [
        ("?limit=0", "invalid_limit"),
        ("?limit=201", "invalid_limit"),
        ("?before=x", "invalid_cursor"),
    ] {
        assert_error(
            s.get(&format!("/api/v1/admin/reports/cards{query}"), Some(&admin))
                .await,
            400,
            code,
        )
        .await;
    }
    // A whole year, leap day included, is one report.
    let res = s
        .get(
            "/api/v1/admin/reports/summary?from=2028-01-01&to=2028-12-31",
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Without a portal the days are UTC's.
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["time_zone"], "UTC");
}
