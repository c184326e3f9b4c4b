//! What the merchant's side looks like in tests: an SMTP server on loopback that keeps
//! the messages it is given (SPEC §8.4), and an HTTP receiver of webhooks that keeps
//! each delivery (SPEC §8.5). Both real servers on real sockets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and body), as sent after DATA.
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }
}

/// An SMTP server (the few commands a client sends to deliver mail) on `addr`.
pub struct SmtpSink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::on(0).await
    }

    /// On a given port (a server that was down comes up where it was expected).
    pub async fn on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = messages.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 sink.test ESMTP ready\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_ascii_uppercase();
                        let answer: &[u8] =
                            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                                b"250-sink.test\r\n250 8BITMIME\r\n"
                            } else if upper.starts_with("MAIL FROM:") {
                                from = line[10..].trim().to_owned();
                                b"250 OK\r\n"
                            } else if upper.starts_with("RCPT TO:") {
                                to.push(line[8..].trim().to_owned());
                                b"250 OK\r\n"
                            } else if upper.starts_with("DATA") {
                                let _ = write
                                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                    .await;
                                let mut raw = Vec::new();
                                loop {
                                    line.clear();
                                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                        return;
                                    }
                                    if line == ".\r\n" {
                                        break;
                                    }
                                    // Dot-stuffing: a line that began with "." was sent with two.
                                    let l = line.strip_prefix('.').unwrap_or(&line);
                                    raw.extend_from_slice(l.as_bytes());
                                }
                                kept.lock().unwrap().push(Received {
                                    from: std::mem::take(&mut from),
                                    to: std::mem::take(&mut to),
                                    raw,
                                });
                                b"250 OK: queued\r\n"
                            } else if upper.starts_with("QUIT") {
                                let _ = write.write_all(b"221 Bye\r\n").await;
                                return;
                            } else {
                                b"250 OK\r\n"
                            };
                        if write.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink {
            port,
            messages,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits until `n` messages arrived (or fails after `wait`).
    pub async fn wait_for(&self, n: usize, wait: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let got = self.messages.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "expected {n} messages, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port with nothing listening on it (an SMTP server that is down).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// One POST the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub signature: String,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct Receiving {
    got: Arc<Mutex<Vec<Delivery>>>,
    answer: Arc<Mutex<StatusCode>>,
}

/// An HTTP server that keeps every webhook POSTed to `/hook` and answers a status the
/// test chooses (200 to begin with).
pub struct WebhookReceiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Delivery>>>,
    answer: Arc<Mutex<StatusCode>>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let receiving = Receiving {
            got: Arc::default(),
            answer: Arc::new(Mutex::new(StatusCode::OK)),
        };
        async fn hook(State(r): State<Receiving>, headers: HeaderMap, body: Bytes) -> StatusCode {
            r.got.lock().unwrap().push(Delivery {
                signature: headers
                    .get("paycard-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
                body: body.to_vec(),
            });
            *r.answer.lock().unwrap()
        }
        let router = Router::new()
            .route("/hook", post(hook))
            .with_state(receiving.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        WebhookReceiver {
            url,
            got: receiving.got,
            answer: receiving.answer,
        }
    }

    pub fn answer(&self, status: StatusCode) {
        *self.answer.lock().unwrap() = status;
    }

    /// Waits until a delivery of event `kind` arrived, and returns it.
    pub async fn wait_for(&self, kind: &str, wait: Duration) -> Delivery {
        let until = tokio::time::Instant::now() + wait;
        loop {
            if let Some(d) = self
                .got
                .lock()
                .unwrap()
                .iter()
                .find(|d| d.json()["type"] == kind)
            {
                return d.clone();
            }
            assert!(tokio::time::Instant::now() < until, "no {kind} delivery");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks a `Paycard-Signature` as a receiver does (the docs' recipe): HMAC-SHA256 of
/// `"{t}.{body}"` with the endpoint's secret, hex, within five minutes.
/// Written here from SPEC §8.5, not with the server's own code.
pub fn signature_is_valid(delivery: &Delivery, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let mut t = None;
    let mut v1 = None;
    for part in delivery.signature.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&delivery.body);
    mac.verify_slice(&v1).is_ok()
}
