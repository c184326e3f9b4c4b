//! Razorpay, over its REST API (SPEC §8.7): a Payment Link per attempt (its
//! `reference_id` is the attempt id), the visitor pays on Razorpay's page and comes back
//! with a signed callback; webhooks signed with the webhook secret settle the card
//! whether or not the visitor comes back. Calls go to `PAYCARD_RAZORPAY_API_BASE`.
//!
//! Razorpay authenticates with the key id and secret (HTTP basic) and answers errors as
//! `{"error": {"code", "description", …}}`.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    unix_now, About, Begun, Charge, Closed, GatewayError, Happened, Notification, RefundRequest,
    RefundState, RefundUpdate,
};

/// A Payment Link must stay open at least 15 minutes (Razorpay's rule for `expire_by`).
const LINK_MIN_SECS: i64 = 16 * 60;

pub struct Razorpay {
    http: reqwest::Client,
    api_base: String,
    key_id: String,
    key_secret: String,
    webhook_secret: String,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct Link {
    id: String,
    #[serde(default)]
    short_url: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    notes: Option<Value>,
    #[serde(default)]
    payments: Option<Vec<LinkPayment>>,
}

#[derive(Deserialize)]
struct LinkPayment {
    payment_id: String,
    #[serde(default)]
    status: String,
}

impl Link {
    fn card_id(&self) -> Option<String> {
        self.notes
            .as_ref()?
            .get("card_id")?
            .as_str()
            .map(str::to_owned)
    }

    /// What the link's state says happened, as a notification would put it.
    fn happened(&self, payment: Option<String>) -> Happened {
        match self.status.as_str() {
            "paid" => Happened::Paid {
                payment: payment.or_else(|| {
                    self.payments
                        .iter()
                        .flatten()
                        .rfind(|p| p.status == "captured")
                        .map(|p| p.payment_id.clone())
                }),
            },
            "cancelled" | "expired" => Happened::Expired,
            // created, partially_paid (partial payments are not asked for)
            _ => Happened::Other,
        }
    }
}

#[derive(Deserialize)]
struct RazorpayRefund {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    notes: Option<Value>,
}

#[derive(Deserialize)]
struct RefundList {
    #[serde(default)]
    items: Vec<RazorpayRefund>,
}

impl RazorpayRefund {
    fn refund_id(&self) -> Option<String> {
        self.notes
            .as_ref()?
            .get("refund_id")?
            .as_str()
            .map(str::to_owned)
    }

    fn update(self) -> RefundUpdate {
        let state = match self.status.as_str() {
            "processed" => RefundState::Succeeded,
            "failed" => RefundState::Failed {
                reason: "failed".into(),
            },
            _ => RefundState::Pending,
        };
        RefundUpdate {
            refund_id: self.refund_id(),
            reference: self.id,
            state,
        }
    }
}

/// Hex HMAC-SHA256 of `message` with `secret`: Razorpay's signature, on a webhook's raw
/// body and on the callback's fields alike.
pub fn sign(message: &[u8], secret: &str) -> String {
    hex::encode(mac(message, secret).finalize().into_bytes())
}

/// Whether `signature` (hex) is `message` signed with `secret`, compared in constant time.
fn signed(message: &[u8], secret: &str, signature: &str) -> bool {
    hex::decode(signature.trim())
        .is_ok_and(|signature| mac(message, secret).verify_slice(&signature).is_ok())
}

fn mac(message: &[u8], secret: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

/// What a visitor back from a Payment Link brings (`callback_method=get`).
#[derive(Debug, Deserialize, Default)]
pub struct Callback {
    #[serde(default)]
    pub razorpay_payment_id: String,
    #[serde(default)]
    pub razorpay_payment_link_id: String,
    #[serde(default)]
    pub razorpay_payment_link_reference_id: String,
    #[serde(default)]
    pub razorpay_payment_link_status: String,
    #[serde(default)]
    pub razorpay_signature: String,
}

impl Callback {
    /// The message Razorpay signs: `link_id|reference_id|status|payment_id`.
    pub fn message(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.razorpay_payment_link_id,
            self.razorpay_payment_link_reference_id,
            self.razorpay_payment_link_status,
            self.razorpay_payment_id
        )
    }
}

impl Razorpay {
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        credentials: &std::collections::BTreeMap<String, String>,
    ) -> Option<Razorpay> {
        Some(Razorpay {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            key_id: credentials.get("key_id")?.clone(),
            key_secret: credentials.get("key_secret")?.clone(),
            webhook_secret: credentials.get("webhook_secret")?.clone(),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GatewayError> {
        let request = request.basic_auth(&self.key_id, Some(&self.key_secret));
        let (status, text) = super::exchange(request).await?;
        if status.is_success() {
            return super::read(&text);
        }
        let message = serde_json::from_str::<ErrorBody>(&text)
            .ok()
            .map(|b| b.error.description)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(super::failure(status, message))
    }

    /// An authenticated read that changes nothing (the latest payment): Razorpay answers
    /// 401 with its reason for keys it does not know.
    pub async fn check_credentials(&self) -> Result<(), GatewayError> {
        let url = format!("{}/v1/payments?count=1", self.api_base);
        self.call::<Value>(self.http.get(url)).await.map(drop)
    }

    /// Creates the Payment Link; the visitor goes to its `short_url`.
    pub async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        let now = unix_now();
        let mut body = json!({
            "amount": charge.amount_minor,
            "currency": charge.currency.code(),
            "accept_partial": false,
            "reference_id": charge.idempotency_key,
            "description": charge.title.chars().take(2048).collect::<String>(),
            "notify": {"sms": false, "email": false},
            "reminder_enable": false,
            "notes": {"card_id": charge.card_id},
            "callback_url": charge.success_url,
            "callback_method": "get",
            "expire_by": charge.expires_at.max(now + LINK_MIN_SECS),
        });
        if !charge.email.is_empty() {
            body["customer"] = json!({"email": charge.email});
        }
        let url = format!("{}/v1/payment_links", self.api_base);
        let link: Link = self.call(self.http.post(url).json(&body)).await?;
        super::redirect(link.short_url, link.id, "the payment link")
    }

    async fn link(&self, id: &str) -> Result<Link, GatewayError> {
        let url = format!("{}/v1/payment_links/{id}", self.api_base);
        self.call(self.http.get(url)).await
    }

    /// How the link stands, as a notification would say it.
    pub async fn session_outcome(&self, id: &str) -> Result<Happened, GatewayError> {
        Ok(self.link(id).await?.happened(None))
    }

    /// Cancels the link. If Razorpay will not (it was paid meanwhile), asks how it ended:
    /// a paid link wins.
    pub async fn close(&self, id: &str) -> Result<Closed, GatewayError> {
        let url = format!("{}/v1/payment_links/{id}/cancel", self.api_base);
        match self.call::<Link>(self.http.post(url)).await {
            Ok(_) => Ok(Closed::Closed),
            Err(GatewayError::Refused(why)) => match self.link(id).await?.happened(None) {
                happened @ Happened::Paid { .. } => Ok(Closed::Completed(happened)),
                Happened::Expired => Ok(Closed::Closed),
                _ => Err(GatewayError::Refused(why)),
            },
            Err(other) => Err(other),
        }
    }

    /// `POST /v1/payments/{id}/refund`, carrying our id in its notes. Razorpay takes no
    /// idempotency key there, so a refund asked again (after a lost answer) first looks
    /// for itself among the payment's refunds.
    pub async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundUpdate, GatewayError> {
        let url = format!("{}/v1/payments/{}/refunds", self.api_base, request.payment);
        let made: RefundList = self.call(self.http.get(url)).await?;
        if let Some(found) = made
            .items
            .into_iter()
            .find(|r| r.refund_id().as_deref() == Some(request.refund_id))
        {
            return Ok(found.update());
        }
        let url = format!("{}/v1/payments/{}/refund", self.api_base, request.payment);
        let body = json!({
            "amount": request.amount_minor,
            "receipt": request.refund_id,
            "notes": {"refund_id": request.refund_id},
        });
        let refund: RazorpayRefund = self.call(self.http.post(url).json(&body)).await?;
        let mut update = refund.update();
        update
            .refund_id
            .get_or_insert_with(|| request.refund_id.to_owned());
        Ok(update)
    }

    /// `GET /v1/refunds/{id}`: the refund as it now stands.
    pub async fn refund_state(&self, reference: &str) -> Result<RefundUpdate, GatewayError> {
        let url = format!("{}/v1/refunds/{reference}", self.api_base);
        let refund: RazorpayRefund = self.call(self.http.get(url)).await?;
        Ok(refund.update())
    }

    /// The visitor back from the link: the link and what it says happened, if the
    /// callback is signed with the key secret; `BadSignature` if it is not (then the
    /// checkout asks Razorpay instead of believing it).
    pub fn callback(&self, callback: &Callback) -> Result<(String, Happened), GatewayError> {
        if !signed(
            callback.message().as_bytes(),
            &self.key_secret,
            &callback.razorpay_signature,
        ) {
            return Err(GatewayError::BadSignature);
        }
        let happened = match callback.razorpay_payment_link_status.as_str() {
            "paid" => Happened::Paid {
                payment: Some(callback.razorpay_payment_id.clone()),
            },
            _ => Happened::Other,
        };
        Ok((callback.razorpay_payment_link_id.clone(), happened))
    }

    /// Checks a webhook's `X-Razorpay-Signature` on the raw body, and reads it. Its id
    /// is Razorpay's `X-Razorpay-Event-Id` (the same on every retry).
    pub fn verify_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<Notification, GatewayError> {
        let signature = headers
            .get("x-razorpay-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(GatewayError::BadSignature)?;
        if !signed(body, &self.webhook_secret, signature) {
            return Err(GatewayError::BadSignature);
        }
        let event: Value = serde_json::from_slice(body).map_err(|_| GatewayError::BadSignature)?;
        let event_id = headers
            .get("x-razorpay-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            // Without the header, the signed body itself names the event.
            .unwrap_or_else(|| format!("body-{}", &sign(body, "event-id")[..32]));
        let kind = event
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let entity = |name: &str| event.pointer(&format!("/payload/{name}/entity")).cloned();
        let about = match kind {
            "payment_link.paid" | "payment_link.cancelled" | "payment_link.expired" => {
                let link =
                    entity("payment_link").and_then(|l| serde_json::from_value::<Link>(l).ok());
                let payment = entity("payment")
                    .and_then(|p| p.get("id").and_then(Value::as_str).map(str::to_owned));
                match link {
                    Some(link) => About::Session {
                        card_id: link.card_id(),
                        happened: link.happened(payment),
                        reference: link.id,
                    },
                    None => About::Refunds(Vec::new()),
                }
            }
            "refund.created" | "refund.processed" | "refund.failed" => {
                match entity("refund")
                    .and_then(|r| serde_json::from_value::<RazorpayRefund>(r).ok())
                {
                    Some(refund) => About::Refunds(vec![refund.update()]),
                    None => About::Refunds(Vec::new()),
                }
            }
            _ => About::Refunds(Vec::new()),
        };
        Ok(Notification { event_id, about })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_is_believed_only_when_signed_with_the_key_secret() {
        let rzp = Razorpay {
            http: reqwest::Client::new(),
            api_base: String::new(),
            key_id: "rzp_test_0000000000".into(),
            key_secret: "key_secret_0123456789".into(),
            webhook_secret: "whsecret".into(),
        };
        let mut callback = Callback {
            razorpay_payment_id: "pay_1".into(),
            razorpay_payment_link_id: "plink_1".into(),
            razorpay_payment_link_reference_id: "att_1".into(),
            razorpay_payment_link_status: "paid".into(),
            razorpay_signature: String::new(),
        };
        callback.razorpay_signature = sign(b"plink_1|att_1|paid|pay_1", "key_secret_0123456789");
        let (link, happened) = rzp.callback(&callback).unwrap();
        assert_eq!(link, "plink_1");
        assert_eq!(
            happened,
            Happened::Paid {
                payment: Some("pay_1".into())
            }
        );
        callback.razorpay_payment_id = "pay_2".into();
        assert!(
            rzp.callback(&callback).is_err(),
            "another payment, same signature"
        );
        callback.razorpay_signature = "zz".into();
        assert!(rzp.callback(&callback).is_err());
    }
}
