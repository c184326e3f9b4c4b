//! Starts the real `paycard-server` binary, as `make run` does, on port 0 with a
//! temporary database, and talks to it over HTTP.

mod common;

use std::process::{Command, Stdio};

use common::binary::{start, start_with};

#[tokio::test]
async fn serves_health_demo_and_loader_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("paycard.db");
    let server = start(&db, None);
    let http = reqwest::Client::new();

    // The welcome block names the URLs and the demo accounts with a generated password.
    let welcome = server.stdout_lines.join("\n");
    for needle in [
        "/demo",
        "/console",
        "/widget.js",
        "admin@example.com",
        "operator@example.com",
    ] {
        assert!(
            welcome.contains(needle),
            "{needle} missing from:\n{welcome}"
        );
    }
    let password = server
        .stdout_lines
        .last()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 16, "{welcome}");

    let health = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let demo = http
        .get(format!("{}/demo", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(demo.status(), 200);
    assert!(demo.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = demo.text().await.unwrap();
    assert!(page.contains(r#"<script src="/widget.js" data-brand="acme" async></script>"#));

    let loader = http
        .get(format!("{}/widget.js", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(loader.status(), 200);
    assert!(loader.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let js = loader.text().await.unwrap();
    assert!(js.contains("data-brand") && js.contains("/widget/?brand="));

    let missing = http
        .get(format!("{}/no/such/page", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    // SQLite in WAL mode: the write-ahead log sits beside the database while it runs.
    assert!(db.exists());
    assert!(dir.path().join("paycard.db-wal").exists());

    assert!(
        server.terminate(),
        "SIGTERM ends the server with exit code 0"
    );

    // The database keeps the demo data, with the printed password's hash, not the password.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let hash: String = sqlx::query_scalar(
        "SELECT password_hash FROM accounts WHERE email = 'operator@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&password));
    pool.close().await;
}

#[tokio::test]
async fn a_restart_reuses_the_database_without_duplicating_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("paycard.db");
    for _ in 0..2 {
        let server = start(&db, Some("demo-pass"));
        assert!(server
            .stdout_lines
            .iter()
            .any(|l| l.contains("PAYCARD_DEMO_PASSWORD")));
        assert!(
            !server.stdout_lines.join("\n").contains("demo-pass"),
            "a given password is not echoed"
        );
        let health = reqwest::get(format!("{}/healthz", server.base))
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        assert!(server.terminate());
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM brands), (SELECT count(*) FROM payments), (SELECT count(*) FROM accounts)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(counts, (2, 6, 2));
}

#[test]
fn a_bad_setting_is_reported_and_exits_with_code_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_paycard-server"))
        .env("PAYCARD_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PAYCARD_ADDR"));
}

#[test]
fn a_database_url_of_another_kind_is_refused_not_taken_for_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["mysql://app:s3cret@db/paycard", "paycard.db"] {
        let out = Command::new(env!("CARGO_BIN_EXE_paycard-server"))
            .current_dir(dir.path())
            .env("DATABASE_URL", url)
            .env("PAYCARD_ADDR", "127.0.0.1:0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(
            stderr.contains("DATABASE_URL") && stderr.contains("postgres://"),
            "{stderr}"
        );
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was created"
    );
}

/// Pays through the real binary with every log line on (debug, JSON) and searches the
/// logs and the database files for the card number and CVC.
#[tokio::test]
async fn card_numbers_appear_in_no_log_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("paycard.db");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = start_with(
        &db,
        Some("pw-for-logs"),
        &[("RUST_LOG", "debug"), ("PAYCARD_LOG_FORMAT", "json")],
        Stdio::from(log),
    );
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let conv: serde_json::Value = http
        .post(format!("{base}/api/v1/conversations"))
        .json(&serde_json::json!({"brand_id": "acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "operator@example.com", "password": "pw-for-logs"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let card: serde_json::Value = http
        .post(format!(
            "{base}/api/v1/operator/conversations/{}/cards",
            conv["conversation"]["id"].as_str().unwrap()
        ))
        .bearer_auth(login["token"].as_str().unwrap())
        .json(&serde_json::json!({"payment_id": "pay_demo_mug"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let checkout: serde_json::Value = http
        .post(format!(
            "{base}/api/v1/cards/{}/checkout",
            card["id"].as_str().unwrap()
        ))
        .bearer_auth(conv["visitor_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = checkout["checkout_url"].as_str().unwrap();
    for number in ["4000000000000002", "4242424242424242"] {
        let res = http
            .post(url)
            .form(&[
                ("name", "Ana"),
                ("email", "ana@example.com"),
                ("card_number", number),
                ("expiry", "12/34"),
                ("cvc", "987"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let paid: serde_json::Value = http
        .get(format!(
            "{base}/api/v1/cards/{}",
            card["id"].as_str().unwrap()
        ))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["status"], "paid");
    assert!(server.terminate(), "SIGTERM ends the server cleanly");

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("payment attempt"),
        "the attempts were logged, as attempts"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for secret in ["4242424242424242", "4000000000000002", "cvc=987", "\"987\""] {
            assert!(
                !text.contains(secret),
                "{secret} found in {}",
                path.display()
            );
        }
    }
}

/// A SIGTERM as soon as the server says it is listening (a service manager restarting
/// it at once) stops it gracefully: the handler is in place before that line.
#[tokio::test]
async fn a_sigterm_right_after_start_stops_it_gracefully() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let server = start(&dir.path().join("paycard.db"), Some("demo-pass"));
        assert!(
            server.terminate(),
            "round {round}: killed by the signal, not stopped"
        );
    }
}
