//! PayPal, over its REST API (SPEC §8.7): an order per attempt (Orders v2, intent
//! `CAPTURE`), the visitor approves it on PayPal's page, and paycard captures it — on the
//! way back, or on the `CHECKOUT.ORDER.APPROVED` webhook, whichever comes first. No money
//! moves until paycard captures, so closing a card needs nothing from PayPal: an order
//! that is never captured lapses there by itself (see [`PayPal::close`]).
//!
//! Every call first takes an OAuth access token with the client id and secret. Webhooks
//! are verified by PayPal itself (`POST /v1/notifications/verify-webhook-signature`)
//! against the webhook id the admin registered. Calls go to `PAYCARD_PAYPAL_API_BASE`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use paycard_core::gateways::{gateway_kind, Takes, PAYPAL};
use paycard_core::{Currency, Money};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    About, Begun, Charge, Closed, GatewayError, Happened, Notification, RefundRequest, RefundState,
    RefundUpdate,
};

pub struct PayPal {
    http: reqwest::Client,
    api_base: String,
    client_id: String,
    client_secret: String,
    webhook_id: String,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    /// Seconds.
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Access tokens kept per credentials, until shortly before they expire.
type Tokens = HashMap<String, (String, std::time::Instant)>;
static TOKENS: LazyLock<Mutex<Tokens>> = LazyLock::new(Default::default);

/// PayPal's error bodies: the OAuth endpoint's (`error`, `error_description`) and the
/// REST APIs' (`name`, `message`, `details[].issue`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    issue: String,
    #[serde(default)]
    description: Option<String>,
}

/// A call's body when it succeeded; else PayPal's words (see [`refusal`]), refused or
/// not by [`super::failure`].
fn answer(status: reqwest::StatusCode, text: String) -> Result<String, GatewayError> {
    if status.is_success() {
        Ok(text)
    } else {
        Err(super::failure(status, refusal(&text, status)))
    }
}

/// A refusal's text starts with PayPal's issue code (`ORDER_NOT_APPROVED: …`), so the
/// code can tell one refusal from another.
fn refusal(text: &str, status: reqwest::StatusCode) -> String {
    let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
    let detail = body.details.first();
    let words = detail
        .and_then(|d| d.description.clone())
        .or(body.message)
        .or(body.error_description)
        .unwrap_or_else(|| format!("HTTP {status}"));
    match detail {
        Some(d) if !d.issue.is_empty() => format!("{}: {words}", d.issue),
        _ => words,
    }
}

#[derive(Deserialize)]
struct Order {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    purchase_units: Vec<PurchaseUnit>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
    rel: String,
}

#[derive(Deserialize)]
struct PurchaseUnit {
    #[serde(default)]
    custom_id: Option<String>,
    #[serde(default)]
    payments: Option<Payments>,
}

#[derive(Deserialize)]
struct Payments {
    #[serde(default)]
    captures: Vec<Capture>,
}

#[derive(Deserialize)]
struct Capture {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    custom_id: Option<String>,
    #[serde(default)]
    supplementary_data: Option<Value>,
}

impl Capture {
    fn happened(&self) -> Happened {
        match self.status.as_str() {
            "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED" => Happened::Paid {
                payment: Some(self.id.clone()),
            },
            "PENDING" => Happened::Processing,
            "DECLINED" | "DENIED" | "FAILED" => Happened::Failed {
                reason: "card_declined".into(),
            },
            _ => Happened::Other,
        }
    }
}

impl Order {
    fn custom_id(&self) -> Option<String> {
        self.purchase_units.iter().find_map(|u| u.custom_id.clone())
    }

    fn capture(&self) -> Option<&Capture> {
        self.purchase_units
            .iter()
            .filter_map(|u| u.payments.as_ref())
            .flat_map(|p| p.captures.iter())
            .last()
    }

    /// What the order's state says happened, as a notification would put it.
    fn happened(&self) -> Happened {
        match self.status.as_str() {
            "COMPLETED" => self
                .capture()
                .map(Capture::happened)
                .unwrap_or(Happened::Processing),
            "APPROVED" => Happened::Approved,
            "VOIDED" => Happened::Expired,
            // CREATED, SAVED, PAYER_ACTION_REQUIRED: the visitor has not approved yet.
            _ => Happened::Other,
        }
    }
}

#[derive(Deserialize)]
struct PayPalRefund {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    custom_id: Option<String>,
    #[serde(default)]
    status_details: Option<Value>,
}

impl PayPalRefund {
    fn update(self) -> RefundUpdate {
        let state = match self.status.as_str() {
            "COMPLETED" => RefundState::Succeeded,
            "FAILED" | "CANCELLED" => RefundState::Failed {
                reason: self
                    .status_details
                    .as_ref()
                    .and_then(|d| d.get("reason"))
                    .and_then(Value::as_str)
                    .unwrap_or(&self.status)
                    .to_lowercase(),
            },
            _ => RefundState::Pending,
        };
        RefundUpdate {
            refund_id: self.custom_id,
            reference: self.id,
            state,
        }
    }
}

#[derive(Deserialize)]
struct Event {
    id: String,
    event_type: String,
    #[serde(default)]
    resource: Value,
}

/// An amount as PayPal writes it: a decimal string in the currency's unit ("25.00",
/// "1500" for yen), whole units for the currencies PayPal takes without decimals.
pub fn amount_value(amount_minor: i64, currency: Currency) -> String {
    let whole = gateway_kind(PAYPAL).is_some_and(
        |k| matches!(k.takes, Takes::Currencies { whole, .. } if whole.contains(&currency.code())),
    );
    if whole {
        (amount_minor / currency.minor_per_major()).to_string()
    } else {
        Money::new(amount_minor, currency).decimal()
    }
}

/// The headers PayPal signs a webhook with, which its verification API wants back.
const SIGNATURE_HEADERS: [(&str, &str); 5] = [
    ("auth_algo", "paypal-auth-algo"),
    ("cert_url", "paypal-cert-url"),
    ("transmission_id", "paypal-transmission-id"),
    ("transmission_sig", "paypal-transmission-sig"),
    ("transmission_time", "paypal-transmission-time"),
];

impl PayPal {
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        credentials: &std::collections::BTreeMap<String, String>,
    ) -> Option<PayPal> {
        Some(PayPal {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            client_id: credentials.get("client_id")?.clone(),
            client_secret: credentials.get("client_secret")?.clone(),
            webhook_id: credentials.get("webhook_id")?.clone(),
        })
    }

    /// A call's answer body; any other answer, refused or not, in PayPal's words.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, GatewayError> {
        let (status, text) = super::exchange(request).await?;
        answer(status, text)
    }

    /// Where this client's token is kept: by API base and credentials (new credentials,
    /// a new token).
    fn token_key(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            format!(
                "{}\n{}\n{}",
                self.api_base, self.client_id, self.client_secret
            )
            .as_bytes(),
        ))
    }

    /// An access token for the client id and secret (OAuth client credentials). PayPal's
    /// tokens last hours: one is kept per credentials until shortly before it expires,
    /// so a payment does not cost a token request each time.
    async fn token(&self, fresh: bool) -> Result<String, GatewayError> {
        let key = self.token_key();
        let now = std::time::Instant::now();
        if !fresh {
            let cached = TOKENS.lock().ok().and_then(|t| t.get(&key).cloned());
            if let Some((token, _)) = cached.filter(|(_, until)| *until > now) {
                return Ok(token);
            }
        }
        let request = self
            .http
            .post(format!("{}/v1/oauth2/token", self.api_base))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("grant_type", "client_credentials")]);
        let token: Token = super::read(&self.send(request).await?)?;
        let lasts = Duration::from_secs(token.expires_in.unwrap_or(0).saturating_sub(120));
        if let Ok(mut tokens) = TOKENS.lock() {
            tokens.retain(|_, (_, until)| *until > now);
            tokens.insert(key, (token.access_token.clone(), now + lasts));
        }
        Ok(token.access_token)
    }

    /// An authorised call, its answer read as `T`. A kept token PayPal no longer takes
    /// (revoked early) is replaced once.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GatewayError> {
        let retry = request.try_clone();
        let token = self.token(false).await?;
        let (mut status, mut text) = super::exchange(request.bearer_auth(token)).await?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            let retry = retry.ok_or_else(|| {
                GatewayError::Unavailable("PayPal refused the access token".into())
            })?;
            let token = self.token(true).await?;
            (status, text) = super::exchange(retry.bearer_auth(token)).await?;
        }
        super::read(&answer(status, text)?)
    }

    /// Whether PayPal takes the client id and secret (it grants a token or says why
    /// not), and knows the webhook id for this app (else every webhook would fail its
    /// verification): `RefusedField` names the webhook id when only it is wrong.
    pub async fn check_credentials(&self) -> Result<(), GatewayError> {
        self.token(true).await?;
        let url = format!(
            "{}/v1/notifications/webhooks/{}",
            self.api_base, self.webhook_id
        );
        match self.call::<Value>(self.http.get(url)).await {
            Ok(_) => Ok(()),
            Err(GatewayError::Refused(message)) => Err(GatewayError::RefusedField {
                field: "webhook_id",
                message,
            }),
            Err(other) => Err(other),
        }
    }

    /// Creates the order; the visitor goes to its `payer-action` link to approve it.
    pub async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        let locale = if charge.locale == "es" {
            "es-ES"
        } else {
            "en-US"
        };
        let unit = json!({
            "custom_id": charge.card_id,
            "invoice_id": charge.idempotency_key,
            "description": charge.title.chars().take(127).collect::<String>(),
            "amount": {
                "currency_code": charge.currency.code(),
                "value": amount_value(charge.amount_minor, charge.currency),
            },
        });
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {
                "email_address": (!charge.email.is_empty()).then_some(charge.email),
                "experience_context": {
                    "return_url": charge.success_url,
                    "cancel_url": charge.cancel_url,
                    "locale": locale,
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                },
            }},
        });
        let request = self
            .http
            .post(format!("{}/v2/checkout/orders", self.api_base))
            .header("PayPal-Request-Id", charge.idempotency_key)
            .json(&body);
        let order: Order = self.call(request).await?;
        let approve = order
            .links
            .into_iter()
            .find(|l| l.rel == "payer-action" || l.rel == "approve")
            .map(|l| l.href);
        super::redirect(approve, order.id, "the order's approval link")
    }

    async fn order(&self, id: &str) -> Result<Order, GatewayError> {
        let url = format!("{}/v2/checkout/orders/{id}", self.api_base);
        self.call(self.http.get(url)).await
    }

    /// How the order stands, as a notification would say it: approved orders wait for
    /// paycard to capture them ([`Happened::Approved`]).
    pub async fn session_outcome(&self, id: &str) -> Result<Happened, GatewayError> {
        Ok(self.order(id).await?.happened())
    }

    /// Captures an approved order: the money moves now. `request_id` makes asking again
    /// (after a lost answer) the same capture. An order captured already answers how it
    /// went; a payment method PayPal declines fails the attempt.
    pub async fn capture(&self, id: &str, request_id: &str) -> Result<Happened, GatewayError> {
        let url = format!("{}/v2/checkout/orders/{id}/capture", self.api_base);
        let request = self
            .http
            .post(url)
            .header("PayPal-Request-Id", format!("capture-{request_id}"))
            .json(&json!({}));
        match self.call::<Order>(request).await {
            Ok(order) => Ok(order.happened()),
            Err(GatewayError::Refused(why)) if why.starts_with("ORDER_ALREADY_CAPTURED") => {
                self.session_outcome(id).await
            }
            // Any other refusal moved no money: the attempt fails (the payer's funding
            // source was declined, or PayPal will not take it for another reason), and
            // the card may be paid again with a new order.
            Err(GatewayError::Refused(why)) => {
                let declined = [
                    "INSTRUMENT_DECLINED",
                    "PAYER_ACTION_REQUIRED",
                    "TRANSACTION_REFUSED",
                    "PAYER_CANNOT_PAY",
                ]
                .iter()
                .any(|issue| why.starts_with(issue));
                tracing::warn!(order = %id, %why, "PayPal refused a capture");
                Ok(Happened::Failed {
                    reason: if declined {
                        "card_declined"
                    } else {
                        "processing_error"
                    }
                    .into(),
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Nothing to close at PayPal: an order moves no money until paycard captures it,
    /// and one never captured lapses there by itself. Whether paycard is capturing it is
    /// the card's to say (a capture first takes the card to `processing`, in the same
    /// transaction order as a close), so PayPal need not be asked, nor be up.
    pub async fn close(&self, _id: &str) -> Result<Closed, GatewayError> {
        Ok(Closed::Closed)
    }

    /// `POST /v2/payments/captures/{id}/refund`; the refund carries our id (`custom_id`),
    /// which is also its `PayPal-Request-Id`.
    pub async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundUpdate, GatewayError> {
        let currency = Currency::from_code(request.currency).ok_or_else(|| {
            GatewayError::Refused(format!("unknown currency {}", request.currency))
        })?;
        let url = format!(
            "{}/v2/payments/captures/{}/refund",
            self.api_base, request.payment
        );
        let body = json!({
            "amount": {
                "currency_code": currency.code(),
                "value": amount_value(request.amount_minor, currency),
            },
            "custom_id": request.refund_id,
        });
        let refund: PayPalRefund = self
            .call(
                self.http
                    .post(url)
                    .header("PayPal-Request-Id", request.refund_id)
                    .json(&body),
            )
            .await?;
        let mut update = refund.update();
        update
            .refund_id
            .get_or_insert_with(|| request.refund_id.to_owned());
        Ok(update)
    }

    /// `GET /v2/payments/refunds/{id}`: the refund as it now stands.
    pub async fn refund_state(&self, reference: &str) -> Result<RefundUpdate, GatewayError> {
        let url = format!("{}/v2/payments/refunds/{reference}", self.api_base);
        let refund: PayPalRefund = self.call(self.http.get(url)).await?;
        Ok(refund.update())
    }

    /// Asks PayPal whether it sent this webhook (its signature headers, our webhook id,
    /// the event exactly as received), and reads it.
    pub async fn verify_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<Notification, GatewayError> {
        let mut fields = serde_json::Map::new();
        for (field, header) in SIGNATURE_HEADERS {
            let value = headers
                .get(header)
                .and_then(|v| v.to_str().ok())
                .ok_or(GatewayError::BadSignature)?;
            fields.insert(field.into(), value.into());
        }
        // What can be refused without asking PayPal is: a request anyone can send must
        // not cost a call to PayPal each.
        if !plausible(&fields) {
            return Err(GatewayError::BadSignature);
        }
        fields.insert("webhook_id".into(), self.webhook_id.clone().into());
        // The event goes back byte for byte: PayPal checks its signature on them.
        let event = std::str::from_utf8(body).map_err(|_| GatewayError::BadSignature)?;
        serde_json::from_str::<serde::de::IgnoredAny>(event)
            .map_err(|_| GatewayError::BadSignature)?;
        let head = serde_json::to_string(&fields).expect("strings serialise");
        let verification = format!(
            "{},\"webhook_event\":{event}}}",
            head.strip_suffix('}').expect("an object ends with }")
        );
        let url = format!(
            "{}/v1/notifications/verify-webhook-signature",
            self.api_base
        );
        let answer: Value = self
            .call(
                self.http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(verification),
            )
            .await?;
        if answer.get("verification_status").and_then(Value::as_str) != Some("SUCCESS") {
            return Err(GatewayError::BadSignature);
        }
        let event: Event = serde_json::from_slice(body).map_err(|_| GatewayError::BadSignature)?;
        Ok(Notification {
            about: about(&event),
            event_id: event.id,
        })
    }
}

/// Whether a webhook's signature headers look like PayPal's: its algorithm, a
/// certificate on PayPal's own host over HTTPS, and a transmission of the last day.
fn plausible(fields: &serde_json::Map<String, Value>) -> bool {
    let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
    let algorithm_known = text("auth_algo").starts_with("SHA256with");
    let cert_from_paypal = url::Url::parse(text("cert_url")).is_ok_and(|u| {
        u.scheme() == "https"
            && u.host_str()
                .is_some_and(|h| h == "paypal.com" || h.ends_with(".paypal.com"))
    });
    let recent = chrono::DateTime::parse_from_rfc3339(text("transmission_time")).is_ok_and(|t| {
        (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
            .num_hours()
            .abs()
            <= 24
    });
    algorithm_known && cert_from_paypal && recent
}

/// What a verified event is about. One this code does not read is acknowledged and
/// ignored (refusing it would only make PayPal send it again).
fn about(event: &Event) -> About {
    let nothing = || {
        tracing::warn!(event = %event.id, kind = %event.event_type, "a PayPal event not understood; ignored");
        About::Refunds(Vec::new())
    };
    let resource = event.resource.clone();
    match event.event_type.as_str() {
        "CHECKOUT.ORDER.APPROVED" | "CHECKOUT.ORDER.COMPLETED" => {
            match serde_json::from_value::<Order>(resource) {
                Ok(order) => About::Session {
                    card_id: order.custom_id(),
                    happened: order.happened(),
                    reference: order.id,
                },
                Err(_) => nothing(),
            }
        }
        kind if kind.starts_with("PAYMENT.CAPTURE.") && kind != "PAYMENT.CAPTURE.REFUNDED" => {
            let Ok(capture) = serde_json::from_value::<Capture>(resource) else {
                return nothing();
            };
            let order = capture
                .supplementary_data
                .as_ref()
                .and_then(|d| d.pointer("/related_ids/order_id"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match order {
                Some(reference) => About::Session {
                    card_id: capture.custom_id.clone(),
                    happened: capture.happened(),
                    reference,
                },
                None => nothing(),
            }
        }
        "PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.REFUND.PENDING" | "PAYMENT.REFUND.FAILED" => {
            match serde_json::from_value::<PayPalRefund>(resource) {
                Ok(refund) => About::Refunds(vec![refund.update()]),
                Err(_) => nothing(),
            }
        }
        _ => About::Refunds(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_the_currency_unit_as_paypal_takes_them() {
        let cur = |c| Currency::from_code(c).unwrap();
        assert_eq!(amount_value(2500, cur("EUR")), "25.00");
        assert_eq!(amount_value(1500, cur("JPY")), "1500");
        assert_eq!(amount_value(150_000, cur("HUF")), "1500");
    }

    #[test]
    fn webhooks_that_cannot_be_paypals_are_refused_without_asking_it() {
        let fields = |algo: &str, cert: &str, time: &str| {
            let mut f = serde_json::Map::new();
            f.insert("auth_algo".into(), algo.into());
            f.insert("cert_url".into(), cert.into());
            f.insert("transmission_time".into(), time.into());
            f
        };
        let now = chrono::Utc::now().to_rfc3339();
        let cert = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42";
        assert!(plausible(&fields("SHA256withRSA", cert, &now)));
        assert!(!plausible(&fields(
            "SHA256withRSA",
            "https://evil.example/cert",
            &now
        )));
        assert!(!plausible(&fields(
            "SHA256withRSA",
            "https://paypal.com.evil.example/c",
            &now
        )));
        assert!(!plausible(&fields(
            "SHA256withRSA",
            "http://api.paypal.com/c",
            &now
        )));
        assert!(!plausible(&fields("none", cert, &now)));
        assert!(!plausible(&fields(
            "SHA256withRSA",
            cert,
            "2020-01-01T00:00:00Z"
        )));
    }

    #[test]
    fn refusals_keep_paypals_issue_code() {
        let body = r#"{"name":"UNPROCESSABLE_ENTITY","message":"The requested action could not be performed.","details":[{"issue":"ORDER_NOT_APPROVED","description":"Payer has not yet approved the Order for payment."}]}"#;
        assert_eq!(
            refusal(body, reqwest::StatusCode::UNPROCESSABLE_ENTITY),
            "ORDER_NOT_APPROVED: Payer has not yet approved the Order for payment."
        );
        let oauth =
            r#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#;
        assert_eq!(
            refusal(oauth, reqwest::StatusCode::UNAUTHORIZED),
            "Client Authentication failed"
        );
    }
}
