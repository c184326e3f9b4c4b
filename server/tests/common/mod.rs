//! A real server on 127.0.0.1:0 with a fresh SQLite file and the demo data, and small
//! helpers to play both sides of a conversation over HTTP.
#![allow(dead_code)]

pub mod binary;
pub mod receivers;

use std::time::Duration;

use futures_util::StreamExt;
use paycard_server::{AppState, Config};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "test-password";

pub struct TestServer {
    pub base: String,
    operator_session: tokio::sync::OnceCell<String>,
    db_path: std::path::PathBuf,
    pub http: Client,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    /// A server with some settings (`PAYCARD_…` variables) set. The per-address rate
    /// limits are off unless a test sets them: every test client is 127.0.0.1.
    pub async fn start_with(vars: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("test.db");
        let url = test_database_url(dir.path()).await;
        let store = paycard_server::store::Store::open(&url).await.unwrap();
        paycard_server::seed::seed_demo(&store, Some(PASSWORD))
            .await
            .unwrap();
        let key_file = dir.path().join("paycard.key").display().to_string();
        let mut config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .or_else(|| (name == "PAYCARD_KEY_FILE").then(|| key_file.clone()))
                .or_else(|| name.starts_with("PAYCARD_LIMIT_").then(|| "off".to_owned()))
        })
        .unwrap();
        let vault = paycard_server::vault::Vault::load(&config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        config.addr = listener.local_addr().unwrap();
        let base = format!("http://{}", config.addr);
        let state = AppState::new(store, config, vault);
        let serving = state.clone();
        tokio::spawn(async move {
            paycard_server::serve(listener, serving, std::future::pending())
                .await
                .unwrap()
        });
        TestServer {
            base,
            operator_session: tokio::sync::OnceCell::new(),
            db_path,
            http: Client::new(),
            state,
            _dir: dir,
        }
    }

    pub fn db_path(&self) -> &std::path::Path {
        &self.db_path
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, email: &str) -> String {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The operator's session: signed in once per test server and reused, as the
    /// console does (sign-in attempts are rate limited).
    pub async fn operator(&self) -> String {
        self.operator_session
            .get_or_init(|| self.login("operator@example.com"))
            .await
            .clone()
    }

    pub async fn admin(&self) -> String {
        self.login("admin@example.com").await
    }

    /// Opens a conversation; returns (conversation id, visitor token).
    pub async fn conversation(&self, brand: &str) -> (String, String) {
        let res = self
            .post_json(
                "/api/v1/conversations",
                None,
                json!({"brand_id": brand, "visitor_name": "Ana"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        (
            body["conversation"]["id"].as_str().unwrap().into(),
            body["visitor_token"].as_str().unwrap().into(),
        )
    }

    /// Shares a payment; returns the card.
    pub async fn share(&self, op: &str, conversation: &str, payment: &str) -> Value {
        let res = self
            .post_json(
                &format!("/api/v1/operator/conversations/{conversation}/cards"),
                Some(op),
                json!({"payment_id": payment}),
            )
            .await;
        assert_eq!(res.status(), 201, "share");
        res.json().await.unwrap()
    }

    /// Pays a shared card through its checkout with the sandbox's good card, as the
    /// visitor would (`lang` picks the page's language, and so the receipt's).
    pub async fn pay_with_sandbox(&self, card_id: &str, visitor: &str, email: &str, lang: &str) {
        let checkout: Value = self
            .post(&format!("/api/v1/cards/{card_id}/checkout"), Some(visitor))
            .await
            .json()
            .await
            .unwrap();
        let url = checkout["checkout_url"].as_str().unwrap();
        let path = &url[url.find("/pay/").unwrap()..];
        let form = [
            ("name", "Ana García"),
            ("email", email),
            ("card_number", "4242 4242 4242 4242"),
            ("expiry", "12/34"),
            ("cvc", "123"),
        ];
        let res = self
            .http
            .post(self.url(&format!("{path}?lang={lang}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        let page = res.text().await.unwrap();
        assert!(
            page.contains("Payment successful") || page.contains("Pago realizado"),
            "{page}"
        );
    }

    /// A card of `payment` shared in a new conversation of brand acme, and paid with the
    /// sandbox; returns (card id, visitor token).
    pub async fn paid_card(&self, payment: &str) -> (String, String) {
        let op = self.operator().await;
        let (conv, visitor) = self.conversation("acme").await;
        let card = self.share(&op, &conv, payment).await;
        let id = card["id"].as_str().unwrap().to_owned();
        self.pay_with_sandbox(&id, &visitor, "ana@example.com", "en")
            .await;
        (id, visitor)
    }

    /// A visitor's new conversation of brand `acme`, a card of `payment` shared into it by
    /// `op`, and the card's checkout link as a path on this server: (card id, path).
    pub async fn shared_checkout(&self, op: &str, payment: &str) -> (String, String) {
        let (conv, visitor) = self.conversation("acme").await;
        let card = self.share(op, &conv, payment).await;
        let card_id = card["id"].as_str().unwrap().to_owned();
        let checkout: Value = self
            .post(&format!("/api/v1/cards/{card_id}/checkout"), Some(&visitor))
            .await
            .json()
            .await
            .unwrap();
        let link = checkout["checkout_url"]
            .as_str()
            .unwrap()
            .strip_prefix(&self.base)
            .unwrap()
            .to_owned();
        (card_id, link)
    }

    /// Presses Pay with `gateway` on the hosted page at `link` (its path), as Ana García:
    /// the answer, redirects not followed.
    pub async fn press_pay(&self, link: &str, gateway: &str) -> Response {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        client
            .post(self.url(link))
            .form(&[
                ("name", "Ana García"),
                ("email", "ana@example.com"),
                ("gateway", gateway),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Pay with `gateway`, a gateway with a page of its own: where the 303 sends the
    /// visitor.
    pub async fn pay_at_gateway(&self, link: &str, gateway: &str) -> String {
        let res = self.press_pay(link, gateway).await;
        assert_eq!(
            res.status(),
            303,
            "{}",
            res.text().await.unwrap_or_default()
        );
        res.headers()["location"].to_str().unwrap().to_owned()
    }

    /// `GET path`'s JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> T {
        self.get(path, token).await.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// Any method, with an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.http.post(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// Sets a card's status directly, to test transitions from states the API cannot
    /// reach yet (processing, paid…).
    pub async fn force_status(&self, card: &str, status: &str) {
        self.sql(
            "UPDATE cards SET status = $1, version = version + 1 WHERE id = $2",
            &[status, card],
        )
        .await;
    }

    /// Runs a statement on the test's database (either backend; `$1`… text
    /// parameters), for states the API cannot reach. Returns the rows changed.
    pub async fn sql(&self, sql: &str, binds: &[&str]) -> u64 {
        self.try_sql(sql, binds).await.unwrap()
    }

    pub async fn try_sql(&self, sql: &str, binds: &[&str]) -> Result<u64, sqlx::Error> {
        self.state.store.exec_for_tests(sql, binds).await
    }

    /// The rows of a query, every column as text (cast others: `CAST(x AS TEXT)`).
    pub async fn rows(&self, sql: &str, binds: &[&str]) -> Vec<Vec<Option<String>>> {
        self.state.store.rows_for_tests(sql, binds).await.unwrap()
    }

    /// Makes the pending refunds due now rather than after their wait, again each round
    /// (a try or check still under way writes its own wait when it ends), until `done`
    /// holds; fails with `what` after 15 s.
    pub async fn until_pending_refunds_settle<F, Fut>(&self, what: &str, done: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let until = tokio::time::Instant::now() + Duration::from_secs(15);
        while !done().await {
            assert!(tokio::time::Instant::now() < until, "{what}");
            self.sql(
                "UPDATE refunds SET next_try_at = '2000-01-01T00:00:00.000Z' WHERE status = 'pending'",
                &[],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The single value of a query, as text.
    pub async fn value(&self, sql: &str, binds: &[&str]) -> String {
        let rows = self.rows(sql, binds).await;
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone().unwrap_or_else(|| panic!("{sql}: NULL"))
    }

    /// Everything the database keeps, as bytes to search for secrets: on SQLite the
    /// database file and its write-ahead log (checkpointed); on PostgreSQL every row of
    /// every table, as text.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        match &self.state.store {
            paycard_server::store::Store::Sqlite(pool) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(pool)
                    .await
                    .unwrap();
                let mut bytes = Vec::new();
                for entry in std::fs::read_dir(self.db_path.parent().unwrap()).unwrap() {
                    let path = entry.unwrap().path();
                    if path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("test.db")
                    {
                        bytes.extend(std::fs::read(path).unwrap());
                    }
                }
                bytes
            }
            paycard_server::store::Store::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                let mut bytes = Vec::new();
                for table in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    bytes.extend(rows.join("\n").into_bytes());
                }
                bytes
            }
        }
    }
}

/// Where a test server keeps its data: a SQLite file in `dir`, or, when
/// `PAYCARD_TEST_DATABASE_URL` names a PostgreSQL server (`make test` starts one), a
/// database of its own there.
pub async fn test_database_url(dir: &std::path::Path) -> String {
    match std::env::var("PAYCARD_TEST_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("paycard_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (server, _) = admin.rsplit_once('/').unwrap();
            format!("{server}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("test.db").display()),
    }
}

/// Asserts an error response: status and JSON error code.
pub async fn assert_error(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        res.status(),
        StatusCode::from_u16(status).unwrap(),
        "expected {status} {code}"
    );
    let body: Value = res.json().await.expect("error bodies are JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    body
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// A connected SSE stream, parsed event by event.
pub struct SseClient {
    /// Comment lines seen so far (heartbeats).
    pub comments: Vec<String>,
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseClient {
    pub async fn connect(res: Response) -> SseClient {
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseClient {
            comments: Vec::new(),
            stream: res.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event with data (heartbeat comments are skipped), or None after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        self.comments.push(comment.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.id.is_some() || !event.data.is_empty() {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Every event that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Some(e) = self.next(wait).await {
            out.push(e);
        }
        out
    }
}
