//! Stripe, over its HTTP API (SPEC §4 "Stripe"): a Checkout Session per attempt, the
//! visitor pays on Stripe's page, and signed webhooks report the result. Every call goes
//! to `PAYCARD_STRIPE_API_BASE` (a stand-in in tests).
//!
//! Stripe's API takes form-encoded bodies with bracketed keys (`line_items[0][quantity]`)
//! and answers JSON; only the fields used here are read.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{
    unix_now, About, Begun, Charge, Closed, GatewayError, Happened, Notification, RefundRequest,
    RefundState, RefundUpdate,
};

/// How far a webhook's timestamp may be from now (SPEC §4, as Stripe's own libraries).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// How a 403 refusal starts: the key is known but may not do this.
const FORBIDDEN: &str = "not permitted: ";

/// A Checkout Session must stay open at least this long, and at most a day (Stripe's
/// limits for `expires_at`).
const SESSION_MIN_SECS: i64 = 30 * 60 + 60;
const SESSION_MAX_SECS: i64 = 24 * 60 * 60 - 60;

pub struct Stripe {
    http: reqwest::Client,
    api_base: String,
    secret_key: String,
    webhook_secret: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stripe({})", self.api_base)
    }
}

#[derive(Deserialize)]
struct Session {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    client_reference_id: Option<String>,
    /// The payment (mode `payment`): a refund gives it back. An id, or the object when
    /// expanded.
    #[serde(default)]
    payment_intent: Option<serde_json::Value>,
}

impl Session {
    fn payment(&self) -> Option<String> {
        match self.payment_intent.as_ref()? {
            serde_json::Value::String(id) => Some(id.clone()),
            other => other.get("id")?.as_str().map(str::to_owned),
        }
    }

    /// What a session's state says happened, as a notification would put it.
    fn happened(&self) -> Happened {
        match (self.status.as_deref(), self.payment_status.as_deref()) {
            (Some("complete"), Some("paid" | "no_payment_required")) => Happened::Paid {
                payment: self.payment(),
            },
            (Some("complete"), _) => Happened::Processing,
            (Some("expired"), _) => Happened::Expired,
            _ => Happened::Other,
        }
    }
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct StripeRefund {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, serde_json::Value>,
}

impl StripeRefund {
    fn update(self) -> RefundUpdate {
        let state = match self.status.as_deref() {
            Some("succeeded") => RefundState::Succeeded,
            Some("failed" | "canceled") => RefundState::Failed {
                reason: self
                    .failure_reason
                    .unwrap_or_else(|| self.status.clone().unwrap_or_default()),
            },
            // pending, requires_action
            _ => RefundState::Pending,
        };
        RefundUpdate {
            refund_id: self
                .metadata
                .get("refund_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            reference: self.id,
            state,
        }
    }
}

/// `charge.refunded`: the charge, with its refunds when the API version lists them.
#[derive(Deserialize)]
struct RefundedCharge {
    #[serde(default)]
    refunds: Option<RefundList>,
}

#[derive(Deserialize)]
struct RefundList {
    #[serde(default)]
    data: Vec<StripeRefund>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

/// `Stripe-Signature: t=…,v1=…[,v1=…]` checked against `body`: HMAC-SHA256 of
/// `"{t}.{body}"` with the webhook secret, any `v1` matching (Stripe sends several while
/// a secret is being rolled), compared in constant time, `t` within the tolerance.
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), GatewayError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(GatewayError::BadSignature)?;
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(GatewayError::BadSignature);
    }
    let mut signed = Vec::with_capacity(body.len() + 12);
    signed.extend_from_slice(timestamp.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    let ok = signatures.iter().any(|sig| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(&signed);
        // `verify_slice` compares in constant time.
        mac.verify_slice(sig).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(GatewayError::BadSignature)
    }
}

/// Signs `body` as Stripe does, for tests and the stand-in.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

impl Stripe {
    /// A Stripe client with a configured gateway's credentials.
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        credentials: &std::collections::BTreeMap<String, String>,
    ) -> Option<Stripe> {
        Some(Stripe {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            secret_key: credentials.get("secret_key")?.clone(),
            webhook_secret: credentials.get("webhook_secret")?.clone(),
        })
    }

    /// The form of a Checkout Session for `charge`.
    fn session_form(charge: &Charge<'_>) -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| form.push((k.to_owned(), v));
        let mode = if charge.recurrence.is_some() {
            "subscription"
        } else {
            "payment"
        };
        put("mode", mode.into());
        put("client_reference_id", charge.card_id.into());
        put("metadata[card_id]", charge.card_id.into());
        put("success_url", charge.success_url.into());
        put("cancel_url", charge.cancel_url.into());
        if !charge.email.is_empty() {
            put("customer_email", charge.email.into());
        }
        if !charge.locale.is_empty() {
            put("locale", charge.locale.into());
        }
        let now = unix_now();
        let expires = charge
            .expires_at
            .clamp(now + SESSION_MIN_SECS, now + SESSION_MAX_SECS);
        put("expires_at", expires.to_string());
        put("line_items[0][quantity]", "1".into());
        put(
            "line_items[0][price_data][currency]",
            charge.currency.code().to_ascii_lowercase(),
        );
        put(
            "line_items[0][price_data][unit_amount]",
            charge.amount_minor.to_string(),
        );
        put(
            "line_items[0][price_data][product_data][name]",
            charge.title.into(),
        );
        if !charge.description.is_empty() {
            put(
                "line_items[0][price_data][product_data][description]",
                charge.description.into(),
            );
        }
        if let Some(r) = charge.recurrence {
            put(
                "line_items[0][price_data][recurring][interval]",
                r.interval.as_str().into(),
            );
            put(
                "line_items[0][price_data][recurring][interval_count]",
                r.count.to_string(),
            );
        }
        form
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GatewayError> {
        let (status, text) = super::exchange(request.bearer_auth(&self.secret_key)).await?;
        if status.is_success() {
            return super::read(&text);
        }
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| format!("HTTP {status}"));
        if status == reqwest::StatusCode::FORBIDDEN {
            Err(GatewayError::Refused(format!("{FORBIDDEN}{message}")))
        } else {
            Err(super::failure(status, message))
        }
    }

    /// How a session stands at Stripe, as a notification would say it.
    pub async fn session_outcome(&self, id: &str) -> Result<Happened, GatewayError> {
        Ok(self.retrieve(id).await?.happened())
    }

    /// An authenticated read that changes nothing (the account's balance): Stripe
    /// answers 401 with its reason when it does not know the secret key. A restricted
    /// key (`rk_…`) without the right to read the balance gets 403: Stripe knew it, so
    /// it counts as accepted (what it may do is the merchant's choice in Stripe).
    pub async fn check_credentials(&self) -> Result<(), GatewayError> {
        let url = format!("{}/v1/balance", self.api_base);
        match self.call::<serde_json::Value>(self.http.get(url)).await {
            Ok(_) => Ok(()),
            Err(GatewayError::Refused(message)) if message.starts_with(FORBIDDEN) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn retrieve(&self, id: &str) -> Result<Session, GatewayError> {
        let url = format!("{}/v1/checkout/sessions/{id}", self.api_base);
        self.call(self.http.get(url)).await
    }
}

impl Stripe {
    /// Creates a Checkout Session; the visitor goes to its `url`.
    pub async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        let url = format!("{}/v1/checkout/sessions", self.api_base);
        let request = self
            .http
            .post(url)
            .header("Idempotency-Key", charge.idempotency_key)
            .form(&Self::session_form(charge));
        let session: Session = self.call(request).await?;
        super::redirect(session.url, session.id, "the session")
    }

    /// Checks a webhook's `Stripe-Signature` on the raw body, and reads it.
    pub fn verify_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<Notification, GatewayError> {
        let header = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(GatewayError::BadSignature)?;
        verify_signature(header, body, &self.webhook_secret, unix_now())?;
        let event: Event = serde_json::from_slice(body).map_err(|_| GatewayError::BadSignature)?;
        // A signed event whose object is not what this code reads is acknowledged and
        // ignored: refusing it would only make Stripe send it again for days.
        let nothing = || {
            tracing::warn!(event = %event.id, kind = %event.kind, "a Stripe event not understood; ignored");
            About::Refunds(Vec::new())
        };
        let about = match event.kind.as_str() {
            "refund.created" | "refund.updated" | "refund.failed" => {
                match serde_json::from_value::<StripeRefund>(event.data.object.clone()) {
                    Ok(refund) => About::Refunds(vec![refund.update()]),
                    Err(_) => nothing(),
                }
            }
            "charge.refunded" => {
                match serde_json::from_value::<RefundedCharge>(event.data.object.clone()) {
                    Ok(charge) => About::Refunds(
                        charge
                            .refunds
                            .map(|l| l.data.into_iter().map(StripeRefund::update).collect())
                            .unwrap_or_default(),
                    ),
                    Err(_) => nothing(),
                }
            }
            kind => {
                let Ok(session) = serde_json::from_value::<Session>(event.data.object.clone())
                else {
                    return Ok(Notification {
                        about: nothing(),
                        event_id: event.id,
                    });
                };
                let happened = match kind {
                    "checkout.session.completed" => match session.payment_status.as_deref() {
                        Some("paid") | Some("no_payment_required") => Happened::Paid {
                            payment: session.payment(),
                        },
                        _ => Happened::Processing,
                    },
                    "checkout.session.async_payment_succeeded" => Happened::Paid {
                        payment: session.payment(),
                    },
                    "checkout.session.async_payment_failed" => Happened::Failed {
                        reason: "payment_failed".into(),
                    },
                    "checkout.session.expired" => Happened::Expired,
                    _ => Happened::Other,
                };
                About::Session {
                    reference: session.id,
                    card_id: session.client_reference_id,
                    happened,
                }
            }
        };
        Ok(Notification {
            event_id: event.id,
            about,
        })
    }

    /// `POST /v1/refunds` for (part of) a payment intent; the refund carries our id
    /// (`metadata[refund_id]`), which is also the Idempotency-Key.
    pub async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundUpdate, GatewayError> {
        let url = format!("{}/v1/refunds", self.api_base);
        let form = [
            ("payment_intent", request.payment.to_owned()),
            ("amount", request.amount_minor.to_string()),
            ("metadata[refund_id]", request.refund_id.to_owned()),
        ];
        let refund: StripeRefund = self
            .call(
                self.http
                    .post(url)
                    .header("Idempotency-Key", request.refund_id)
                    .form(&form),
            )
            .await?;
        Ok(refund.update())
    }

    /// `GET /v1/refunds/{id}`: the refund as it now stands.
    pub async fn refund_state(&self, reference: &str) -> Result<RefundUpdate, GatewayError> {
        let url = format!("{}/v1/refunds/{reference}", self.api_base);
        let refund: StripeRefund = self.call(self.http.get(url)).await?;
        Ok(refund.update())
    }

    /// Expires the session. If Stripe will not (it completed meanwhile), asks how it
    /// ended: a completed session, paid or with its payment on the way, wins.
    pub async fn close(&self, reference: &str) -> Result<Closed, GatewayError> {
        let url = format!("{}/v1/checkout/sessions/{reference}/expire", self.api_base);
        match self.call::<Session>(self.http.post(url)).await {
            Ok(_) => Ok(Closed::Closed),
            Err(GatewayError::Refused(why)) => match self.retrieve(reference).await?.happened() {
                happened @ (Happened::Paid { .. } | Happened::Processing) => {
                    Ok(Closed::Completed(happened))
                }
                Happened::Expired => Ok(Closed::Closed),
                _ => Err(GatewayError::Refused(why)),
            },
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret_0123456789";

    #[test]
    fn a_signature_is_checked_on_the_raw_body_within_the_tolerance() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_800_000_000;
        let header = sign(body, SECRET, now);
        assert!(verify_signature(&header, body, SECRET, now).is_ok());
        assert!(verify_signature(&header, body, SECRET, now + 300).is_ok());
        assert!(
            verify_signature(&header, body, SECRET, now + 301).is_err(),
            "stale"
        );
        assert!(
            verify_signature(&header, body, SECRET, now - 301).is_err(),
            "future"
        );
        assert!(
            verify_signature(&header, br#"{"id":"evt_2"}"#, SECRET, now).is_err(),
            "another body"
        );
        assert!(verify_signature(&header, body, "whsec_other", now).is_err());
        assert!(
            verify_signature("v1=abc", body, SECRET, now).is_err(),
            "no t"
        );
        assert!(verify_signature("garbage", body, SECRET, now).is_err());
    }

    #[test]
    fn any_of_several_v1_signatures_may_match() {
        let body = b"{}";
        let now = 1_800_000_000;
        let good = sign(body, SECRET, now);
        let good_sig = good.split("v1=").nth(1).unwrap();
        let rolled = format!("t={now},v1={},v0=ignored,v1={good_sig}", "00".repeat(32));
        assert!(verify_signature(&rolled, body, SECRET, now).is_ok());
        let only_bad = format!("t={now},v1={}", "00".repeat(32));
        assert!(verify_signature(&only_bad, body, SECRET, now).is_err());
    }
}
