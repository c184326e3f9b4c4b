//! The server tried as an attacker would (SPEC §8.1), against the real binary: floods,
//! lockouts, slow clients, piles of connections and streams, and a visitor who leaves
//! the moment they press Pay. Several client addresses on one machine: 127.0.0.2,
//! 127.0.0.3… are loopback too.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::binary::{start_with, Server};
use serde_json::{json, Value};

const PASSWORD: &str = "abuse-test-password";

fn server(vars: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("paycard.db");
    let server = start_with(&db, Some(PASSWORD), vars, Stdio::inherit());
    (dir, server)
}

/// An HTTP client whose requests come from `ip`.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn login(
    http: &reqwest::Client,
    s: &Server,
    email: &str,
    password: &str,
) -> reqwest::Response {
    http.post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A TCP connection from `ip` to the server.
fn connect_from(ip: &str, s: &Server) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: std::net::SocketAddr = format!("{ip}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    let remote: std::net::SocketAddr = s.authority().parse().unwrap();
    socket.connect(&remote.into()).unwrap();
    socket.into()
}

/// Whether the server has closed `stream` (a read gives end of file or a reset), waiting
/// up to `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an answer (such as 408) before the close
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[tokio::test]
async fn a_sign_in_flood_neither_exhausts_memory_nor_stalls_the_server() {
    // Every request reaches the password check: only the gate stands between the flood
    // and memory.
    let (_dir, s) = server(&[
        ("PAYCARD_LIMIT_LOGIN", "off"),
        ("PAYCARD_LIMIT_LOGIN_ACCOUNT", "off"),
        ("PAYCARD_PASSWORD_HASHES", "2"),
    ]);
    let http = client_from("127.0.0.2");
    // One sign-in first, so the baseline includes argon2's working memory once.
    assert_eq!(
        login(&http, &s, "admin@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    let baseline = s.rss_kib();
    let flood: Vec<_> = (0..150)
        .map(|i| {
            let (http, base) = (http.clone(), s.base.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"email": format!("nobody{i}@example.com"), "password": "guess"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    // While it runs: memory stays flat and /healthz answers at once.
    let watcher = client_from("127.0.0.3");
    let mut peak = baseline;
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    while !flood.iter().all(|t| t.is_finished()) && started.elapsed() < Duration::from_secs(60) {
        peak = peak.max(s.rss_kib());
        let asked = Instant::now();
        let health = watcher
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut statuses = Vec::new();
    for task in flood {
        statuses.push(task.await.unwrap().unwrap());
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    println!(
        "sign-in flood: rss {} -> peak {} KiB; {checked} checked, {refused} turned away; slowest /healthz {slowest:?}",
        baseline, peak
    );
    assert_eq!(checked + refused, 150, "{statuses:?}");
    assert!(
        refused > 0,
        "beyond the gate's queue, requests are turned away"
    );
    // Before the gate: 150 argon2 runs at once, 123 MiB -> 2.9 GiB.
    assert!(
        peak < baseline + 64 * 1024,
        "memory grew from {baseline} KiB to {peak} KiB"
    );
    assert!(
        slowest < Duration::from_millis(1000),
        "/healthz took {slowest:?}"
    );
}

#[tokio::test]
async fn guessing_from_one_address_never_locks_the_owner_out_from_another() {
    let (_dir, s) = server(&[]);
    let attacker = client_from("127.0.0.2");
    let owner = client_from("127.0.0.3");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            login(&attacker, &s, "admin@example.com", "wrong")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    // The right password from the attacker's address waits too…
    let res = login(&attacker, &s, "admin@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // …while the owner, elsewhere, signs in.
    assert_eq!(
        login(&owner, &s, "admin@example.com", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed() {
    let (_dir, s) = server(&[
        ("PAYCARD_HEADER_TIMEOUT_SECONDS", "2"),
        ("PAYCARD_BODY_TIMEOUT_SECONDS", "2"),
    ]);
    // Half a request's headers, on many connections at once.
    let mut half: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut c = connect_from("127.0.0.2", &s);
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    // A connection that says nothing at all.
    let mut silent = connect_from("127.0.0.2", &s);
    // A body that trickles: 10 of 100 bytes.
    let mut trickle = connect_from("127.0.0.2", &s);
    trickle
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
        .unwrap();

    // Others are served meanwhile.
    let health = client_from("127.0.0.3")
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let started = Instant::now();
    for c in half.iter_mut() {
        assert!(
            closed_within(c, Duration::from_secs(5)),
            "a half-sent request stays open"
        );
    }
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)),
        "an idle connection stays open"
    );
    let mut answer = String::new();
    trickle
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = trickle.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let (_dir, s) = server(&[("PAYCARD_MAX_CONNECTIONS_PER_ADDRESS", "20")]);
    let mut held: Vec<TcpStream> = (0..25).map(|_| connect_from("127.0.0.2", &s)).collect();
    // The connections over the limit are closed at once; the first 20 stay.
    for c in held[20..].iter_mut() {
        assert!(
            closed_within(c, Duration::from_secs(2)),
            "over the limit, yet open"
        );
    }
    for c in held[..20].iter_mut() {
        assert!(
            !closed_within(c, Duration::from_millis(20)),
            "within the limit, yet closed"
        );
    }
    // Another address is served.
    let health = client_from("127.0.0.3")
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// Opens a conversation from `http`; returns (conversation id, visitor token).
async fn conversation(http: &reqwest::Client, s: &Server) -> reqwest::Response {
    http.post(format!("{}/api/v1/conversations", s.base))
        .json(&json!({"brand_id": "acme"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn anonymous_traffic_meets_its_limits_per_address() {
    let (_dir, s) = server(&[]);
    let busy = client_from("127.0.0.2");
    let mut statuses = Vec::new();
    let mut first = None;
    for _ in 0..25 {
        let res = conversation(&busy, &s).await;
        statuses.push(res.status().as_u16());
        if res.status() == 201 && first.is_none() {
            first = Some(res.json::<Value>().await.unwrap());
        } else if res.status() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait));
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "too_many_requests");
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5);
    // Another address is not held back.
    assert_eq!(
        conversation(&client_from("127.0.0.3"), &s).await.status(),
        201
    );

    // Visitor messages: 60 a minute from one address.
    let first = first.unwrap();
    let conv = first["conversation"]["id"].as_str().unwrap();
    let token = first["visitor_token"].as_str().unwrap();
    let mut sent = Vec::new();
    for i in 0..65 {
        let res = busy
            .post(format!("{}/api/v1/conversations/{conv}/messages", s.base))
            .bearer_auth(token)
            .json(&json!({"text": format!("message {i} {}", "x".repeat(3900))}))
            .send()
            .await
            .unwrap();
        sent.push(res.status().as_u16());
    }
    assert_eq!(sent.iter().filter(|s| **s == 201).count(), 60);
    assert_eq!(sent.iter().filter(|s| **s == 429).count(), 5);

    // Checkout links: 30 a minute.
    let op: Value = login(
        &client_from("127.0.0.4"),
        &s,
        "operator@example.com",
        PASSWORD,
    )
    .await
    .json()
    .await
    .unwrap();
    let card: Value = client_from("127.0.0.4")
        .post(format!(
            "{}/api/v1/operator/conversations/{conv}/cards",
            s.base
        ))
        .bearer_auth(op["token"].as_str().unwrap())
        .json(&json!({"payment_id": "pay_demo_mug"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut links = Vec::new();
    for _ in 0..35 {
        let res = busy
            .post(format!(
                "{}/api/v1/cards/{}/checkout",
                s.base,
                card["id"].as_str().unwrap()
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        links.push(res.status().as_u16());
    }
    assert_eq!(links.iter().filter(|s| **s == 200).count(), 30);
    assert_eq!(links.iter().filter(|s| **s == 429).count(), 5);
}

/// The events of an SSE response, as (event, data), until the stream ends or `wait`.
async fn events(res: reqwest::Response, wait: Duration) -> Vec<(String, String)> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut stream = res.bytes_stream();
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            if let Some(event) = field("event:") {
                out.push((event, field("data:").unwrap_or_default()));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_credential_holds_five_streams_and_sign_out_ends_its_streams() {
    let (_dir, s) = server(&[]);
    let http = client_from("127.0.0.2");
    let created: Value = conversation(&http, &s).await.json().await.unwrap();
    let conv = created["conversation"]["id"].as_str().unwrap().to_owned();
    let token = created["visitor_token"].as_str().unwrap().to_owned();
    let mut streams = Vec::new();
    for _ in 0..7 {
        let res = http
            .get(format!("{}/api/v1/conversations/{conv}/events", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        streams.push(res);
        // In order, so that "oldest" means something.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut closed = Vec::new();
    for res in streams {
        closed.push(events(res, Duration::from_millis(700)).await);
    }
    let replaced = |e: &Vec<(String, String)>| {
        e.iter()
            .any(|(event, data)| event == "closed" && data.contains("too_many_streams"))
    };
    assert!(closed[..2].iter().all(replaced), "{closed:?}");
    assert!(!closed[2..].iter().any(replaced), "{closed:?}");

    // An operator's stream, opened with a ticket, ends when the session signs out.
    let op: Value = login(&http, &s, "operator@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let session = op["token"].as_str().unwrap();
    let ticket: Value = http
        .post(format!("{}/api/v1/stream-tickets", s.base))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stream = http
        .get(format!(
            "{}/api/v1/operator/events?ticket={}",
            s.base,
            ticket["ticket"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let reading = tokio::spawn(events(stream, Duration::from_secs(5)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = http
        .post(format!("{}/api/v1/auth/logout", s.base))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let seen = reading.await.unwrap();
    assert!(
        seen.iter()
            .any(|(event, data)| event == "closed" && data.contains("revoked")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_visitor_who_leaves_right_after_pressing_pay_still_gets_their_payment_through() {
    // A gateway that takes a moment, as real ones do: the visitor is gone before it answers.
    let (_dir, s) = server(&[
        ("PAYCARD_SANDBOX_LATENCY_MS", "300"),
        ("PAYCARD_LIMIT_PAYMENTS", "off"),
        ("PAYCARD_LIMIT_CHECKOUT_LINKS", "off"),
        ("PAYCARD_LIMIT_CONVERSATIONS", "off"),
    ]);
    let http = client_from("127.0.0.2");
    let op: Value = login(&http, &s, "operator@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let op = op["token"].as_str().unwrap().to_owned();
    let mut cards = Vec::new();
    for _ in 0..30 {
        let created: Value = conversation(&http, &s).await.json().await.unwrap();
        let conv = created["conversation"]["id"].as_str().unwrap();
        let card: Value = http
            .post(format!(
                "{}/api/v1/operator/conversations/{conv}/cards",
                s.base
            ))
            .bearer_auth(&op)
            .json(&json!({"payment_id": "pay_demo_mug"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let link: Value = http
            .post(format!(
                "{}/api/v1/cards/{}/checkout",
                s.base,
                card["id"].as_str().unwrap()
            ))
            .bearer_auth(created["visitor_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let path = link["checkout_url"]
            .as_str()
            .unwrap()
            .trim_start_matches(&s.base)
            .to_owned();
        cards.push((card["id"].as_str().unwrap().to_owned(), path));
    }
    // Submit every form and hang up without reading the answer: half the connections
    // end politely (FIN) at once, half are reset (RST, as a killed tab's may be) once the
    // server has taken the payment. (A reset also discards what the server has not read
    // yet: reset sooner, under load, and some forms would never have been submitted.)
    let body =
        "name=Ana&email=ana%40example.com&card_number=4242424242424242&expiry=12%2F34&cvc=123";
    let mut to_reset = Vec::new();
    for (i, (id, path)) in cards.iter().enumerate() {
        let mut c = connect_from("127.0.0.2", &s);
        write!(
            c,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            s.authority(),
            body.len()
        )
        .unwrap();
        if i % 2 == 1 {
            socket2::SockRef::from(&c)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            to_reset.push((id, c));
        } else {
            drop(c);
        }
    }
    for (id, c) in to_reset {
        let taken = Instant::now() + Duration::from_secs(5);
        loop {
            let card: Value = http
                .get(format!("{}/api/v1/cards/{id}", s.base))
                .bearer_auth(&op)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if card["status"] != "pending" || Instant::now() > taken {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(c);
    }
    // Every payment runs to its end: none is left processing.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut statuses = Vec::new();
        for (id, _) in &cards {
            let card: Value = http
                .get(format!("{}/api/v1/cards/{id}", s.base))
                .bearer_auth(&op)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            statuses.push(card["status"].as_str().unwrap().to_owned());
        }
        if statuses.iter().all(|s| s == "paid") {
            break;
        }
        assert!(Instant::now() < deadline, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
