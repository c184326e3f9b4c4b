//! Payment gateways. The checkout asks a gateway to begin a payment; a gateway either
//! charges at once (the sandbox) or sends the visitor to its own page and reports the
//! result later in a signed notification (Stripe Checkout). Closing a card asks it to
//! close whatever it has open for the card.
//!
//! [`Gateway`] is the one way to a gateway: the kind of the configured gateway chooses
//! the variant, and every call dispatches on it.
//!
//! - [`sandbox`]: the built-in test gateway, with its ledger.
//! - [`stripe`]: Stripe Checkout over Stripe's HTTP API.
//! - [`paypal`]: PayPal Orders v2: approved on PayPal's page, captured by paycard.
//! - [`razorpay`]: Razorpay Payment Links, with a signed callback.

pub mod paypal;
pub mod razorpay;
pub mod sandbox;
pub mod stripe;

use std::collections::BTreeMap;

use paycard_core::card_form::ValidCard;
use paycard_core::gateways::{PAYPAL, RAZORPAY, SANDBOX, STRIPE};
use paycard_core::{Currency, Recurrence};

pub use self::paypal::PayPal;
pub use self::razorpay::Razorpay;
pub use self::sandbox::Sandbox;
pub use self::stripe::Stripe;
use crate::error::AppError;
use crate::state::AppState;

/// One charge, as a gateway needs it.
pub struct Charge<'a> {
    pub card_id: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub recurrence: Option<Recurrence>,
    /// What the visitor pays for, for the gateway's own page and receipts.
    pub title: &'a str,
    pub description: &'a str,
    pub email: &'a str,
    /// The visitor's language (`en`, `es`), for a gateway's own page.
    pub locale: &'a str,
    /// Card details typed on our page; a gateway with its own page takes none.
    pub card: Option<&'a ValidCard>,
    /// One per attempt: a gateway that sees it twice must not charge twice.
    pub idempotency_key: &'a str,
    /// Where a gateway's page sends the visitor back, paid or not.
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// When a gateway's session must end at the latest (Unix seconds): the card's expiry.
    pub expires_at: i64,
}

/// How a charge went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded {
        reference: String,
    },
    /// Refused or failed, with a machine-readable reason (`card_declined`…).
    Failed {
        reason: String,
    },
}

/// How a payment begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// Charged at once.
    Done(Outcome),
    /// The visitor continues on the gateway's page; the result arrives as a
    /// notification. `reference` identifies the gateway's session (to cancel it).
    Redirect { url: String, reference: String },
}

/// What a notification says happened to a gateway's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    /// The money was collected; `payment` is the gateway's payment (Stripe's payment
    /// intent), which a refund gives back.
    Paid { payment: Option<String> },
    /// Completed, but the money is still on its way (a bank debit): wait.
    Processing,
    /// The customer approved it, and the money moves only when paycard captures it
    /// (PayPal): [`Gateway::capture`], once the card is taken for it.
    Approved,
    /// The (delayed) payment failed.
    Failed { reason: String },
    /// The session ended unpaid: the card stays payable.
    Expired,
    /// Something this product does not act on.
    Other,
}

/// A verified notification from a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The gateway's event id: each is processed once.
    pub event_id: String,
    pub about: About,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// A payment session.
    Session {
        /// The gateway's session (what [`Begun::Redirect`] returned as `reference`).
        reference: String,
        /// The card, as the gateway was told it (Stripe's `client_reference_id`).
        card_id: Option<String>,
        happened: Happened,
    },
    /// Refunds, each as it now stands.
    Refunds(Vec<RefundUpdate>),
}

/// One refund to make at a gateway.
pub struct RefundRequest<'a> {
    /// Ours: the gateway keeps it with the refund, and it makes a retry safe.
    pub refund_id: &'a str,
    /// The payment to give back (Stripe's payment intent, PayPal's capture, Razorpay's
    /// payment).
    pub payment: &'a str,
    pub amount_minor: i64,
    /// The payment's currency (ISO code).
    pub currency: &'a str,
}

/// Where a refund stands at its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    Succeeded,
    /// Accepted; its outcome comes by notification.
    Pending,
    Failed {
        reason: String,
    },
}

/// A refund as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundUpdate {
    /// Ours, when the gateway kept it (Stripe's `metadata[refund_id]`).
    pub refund_id: Option<String>,
    /// The gateway's own id of the refund.
    pub reference: String,
    pub state: RefundState,
}

/// What closing a gateway's open session for a card found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Nothing open, or closed now: the cancel may go ahead.
    Closed,
    /// The customer completed it first: what happened ([`Happened::Paid`], or
    /// [`Happened::Processing`] for a payment still on its way) is to be applied, and
    /// the card's state then decides whether a close can go ahead.
    Completed(Happened),
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("this gateway does not send notifications")]
    NoNotifications,
    #[error("the notification's signature is not valid")]
    BadSignature,
    #[error("the gateway could not be reached: {0}")]
    Unavailable(String),
    /// The gateway answered, refusing the request.
    #[error("the gateway refused the request: {0}")]
    Refused(String),
    /// The gateway refused one credential in particular (`field`, as in the kind's
    /// form): a check of credentials blames that field.
    #[error("the gateway refused the {field}: {message}")]
    RefusedField {
        field: &'static str,
        message: String,
    },
}

/// Now, in Unix seconds (gateways' timestamps and expiries).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How long one call to a gateway's API may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// One call to a gateway's API: the answer's status and body. A gateway not reached,
/// or an answer cut off, is `Unavailable`.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, String), GatewayError> {
    let unreachable = |e: reqwest::Error| GatewayError::Unavailable(e.without_url().to_string());
    let response = request
        .timeout(CALL_TIMEOUT)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let text = response.text().await.map_err(unreachable)?;
    Ok((status, text))
}

/// An answer that is not a success, in the gateway's own `words`: a client error (but
/// 429) will not succeed as it is asked (`Refused`); the rest may later (`Unavailable`).
pub(crate) fn failure(status: reqwest::StatusCode, words: String) -> GatewayError {
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        GatewayError::Refused(words)
    } else {
        GatewayError::Unavailable(words)
    }
}

/// A successful answer's body, read as `T`.
pub(crate) fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, GatewayError> {
    serde_json::from_str(text)
        .map_err(|e| GatewayError::Unavailable(format!("unexpected answer: {e}")))
}

/// The visitor goes to the gateway's page at `url`, as the gateway gave it: only a web
/// address will do (`missing` says what had none).
pub(crate) fn redirect(
    url: Option<String>,
    reference: String,
    missing: &str,
) -> Result<Begun, GatewayError> {
    let url = url
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| GatewayError::Unavailable(format!("{missing} has no address")))?;
    Ok(Begun::Redirect { url, reference })
}

/// A gateway, ready to call.
pub enum Gateway {
    Sandbox(Sandbox),
    Stripe(Stripe),
    PayPal(PayPal),
    Razorpay(Razorpay),
}

impl Gateway {
    /// The gateway configured as `gateway_id`, with its credentials opened.
    pub async fn configured(state: &AppState, gateway_id: &str) -> Result<Gateway, AppError> {
        let found = {
            let mut db = state.store.read().await?;
            crate::store::gateways::sealed_credentials(&mut db, gateway_id).await?
        };
        let (kind, sealed) = found.ok_or(AppError::NotFound("gateway"))?;
        let plain = state.vault.open(&sealed, gateway_id).map_err(|e| {
            AppError::Internal(format!(
                "gateway {gateway_id}: {e}; was PAYCARD_SECRET_KEY or the key file changed?"
            ))
        })?;
        let credentials: BTreeMap<String, String> = serde_json::from_slice(&plain)
            .map_err(|e| AppError::Internal(format!("gateway {gateway_id}: credentials: {e}")))?;
        Gateway::with_credentials(state, &kind, &credentials).ok_or_else(|| {
            AppError::Internal(format!(
                "gateway {gateway_id}: unknown kind {kind:?} or incomplete credentials"
            ))
        })
    }

    /// A gateway of `kind` with these (plain) credentials; `None` for an unknown kind or
    /// missing fields.
    pub fn with_credentials(
        state: &AppState,
        kind: &str,
        credentials: &BTreeMap<String, String>,
    ) -> Option<Gateway> {
        match kind {
            SANDBOX => Some(Gateway::Sandbox(Sandbox::new(state))),
            STRIPE => Stripe::new(
                state.http.clone(),
                &state.config.stripe_api_base,
                credentials,
            )
            .map(Gateway::Stripe),
            PAYPAL => PayPal::new(
                state.http.clone(),
                &state.config.paypal_api_base,
                credentials,
            )
            .map(Gateway::PayPal),
            RAZORPAY => Razorpay::new(
                state.http.clone(),
                &state.config.razorpay_api_base,
                credentials,
            )
            .map(Gateway::Razorpay),
            _ => None,
        }
    }

    /// Asks the gateway whether it takes these credentials, changing nothing there:
    /// `Refused` with its words when it does not.
    pub async fn check_credentials(&self) -> Result<(), GatewayError> {
        match self {
            Gateway::Sandbox(_) => Ok(()),
            Gateway::Stripe(g) => g.check_credentials().await,
            Gateway::PayPal(g) => g.check_credentials().await,
            Gateway::Razorpay(g) => g.check_credentials().await,
        }
    }

    /// The gateway behind a way to pay: a configured one, or the built-in sandbox.
    pub async fn of(
        state: &AppState,
        kind: &str,
        gateway_id: Option<&str>,
    ) -> Result<Gateway, AppError> {
        match gateway_id {
            // The sandbox needs no credentials.
            _ if kind == SANDBOX => Ok(Gateway::Sandbox(Sandbox::new(state))),
            Some(id) => Gateway::configured(state, id).await,
            None => Err(AppError::Internal(format!(
                "{kind} offered without a gateway"
            ))),
        }
    }

    /// The kind, as in `gateway-kinds` and the attempts' `gateway` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Gateway::Sandbox(_) => SANDBOX,
            Gateway::Stripe(_) => STRIPE,
            Gateway::PayPal(_) => PAYPAL,
            Gateway::Razorpay(_) => RAZORPAY,
        }
    }

    /// Whether it sends the visitor to a page of its own (and settles by notification).
    pub fn redirects(&self) -> bool {
        !matches!(self, Gateway::Sandbox(_))
    }

    /// Begins a payment: a charge, or a redirect to the gateway's page.
    pub async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        match self {
            Gateway::Sandbox(g) => g.begin(charge).await,
            Gateway::Stripe(g) => g.begin(charge).await,
            Gateway::PayPal(g) => g.begin(charge).await,
            Gateway::Razorpay(g) => g.begin(charge).await,
        }
    }

    /// What became of a charge made at once, by its idempotency key, for good.
    pub async fn resolve(&self, key: &str) -> Result<Outcome, GatewayError> {
        match self {
            Gateway::Sandbox(g) => g.resolve(key).await,
            _ => Err(GatewayError::Refused(
                "payments at a gateway's page are settled by their session".into(),
            )),
        }
    }

    /// How a session stands at the gateway, as a notification would say it.
    pub async fn session_outcome(&self, reference: &str) -> Result<Happened, GatewayError> {
        match self {
            Gateway::Sandbox(_) => Ok(Happened::Other),
            Gateway::Stripe(g) => g.session_outcome(reference).await,
            Gateway::PayPal(g) => g.session_outcome(reference).await,
            Gateway::Razorpay(g) => g.session_outcome(reference).await,
        }
    }

    /// Captures an approved session ([`Happened::Approved`]): the money moves now.
    /// `request_id` (the attempt) makes asking again the same capture.
    pub async fn capture(
        &self,
        reference: &str,
        request_id: &str,
    ) -> Result<Happened, GatewayError> {
        match self {
            Gateway::PayPal(g) => g.capture(reference, request_id).await,
            // The others take the money on their page: nothing to capture.
            _ => self.session_outcome(reference).await,
        }
    }

    /// The visitor back from the gateway's page with what it says happened
    /// (`?return=razorpay&razorpay_…`): the session and its outcome when the gateway
    /// signed it; `None` when this gateway sends nothing to believe on the way back.
    pub fn returned(&self, query: &str) -> Option<Result<(String, Happened), GatewayError>> {
        match self {
            Gateway::Razorpay(g) => {
                let callback: razorpay::Callback = serde_urlencoded::from_str(query).ok()?;
                if callback.razorpay_payment_link_id.is_empty() {
                    return None;
                }
                Some(g.callback(&callback))
            }
            _ => None,
        }
    }

    /// Closes what is open at the gateway for a card (`reference` from a redirect).
    pub async fn close(&self, reference: &str) -> Result<Closed, GatewayError> {
        match self {
            // Nothing stays open at the sandbox.
            Gateway::Sandbox(_) => Ok(Closed::Closed),
            Gateway::Stripe(g) => g.close(reference).await,
            Gateway::PayPal(g) => g.close(reference).await,
            Gateway::Razorpay(g) => g.close(reference).await,
        }
    }

    /// Gives back (part of) a payment. The sandbox does at once; Stripe may answer
    /// `pending` and settle it by notification. Asking twice with the same
    /// `refund_id` makes one refund.
    pub async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundUpdate, GatewayError> {
        match self {
            Gateway::Sandbox(_) => Ok(RefundUpdate {
                refund_id: Some(request.refund_id.to_owned()),
                reference: format!("sbx_{}", request.refund_id),
                state: RefundState::Succeeded,
            }),
            Gateway::Stripe(g) => g.refund(request).await,
            Gateway::PayPal(g) => g.refund(request).await,
            Gateway::Razorpay(g) => g.refund(request).await,
        }
    }

    /// How a refund the gateway took (`reference`, its id there) now stands: for refunds
    /// left `pending` whose notification never came (a webhook not subscribed to, or
    /// lost). The sandbox never leaves one pending.
    pub async fn refund_state(&self, reference: &str) -> Result<RefundUpdate, GatewayError> {
        match self {
            Gateway::Sandbox(_) => Ok(RefundUpdate {
                refund_id: None,
                reference: reference.to_owned(),
                state: RefundState::Succeeded,
            }),
            Gateway::Stripe(g) => g.refund_state(reference).await,
            Gateway::PayPal(g) => g.refund_state(reference).await,
            Gateway::Razorpay(g) => g.refund_state(reference).await,
        }
    }

    /// Checks a notification's signature on the raw body (PayPal: asks PayPal) and
    /// reads it.
    pub async fn verify_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<Notification, GatewayError> {
        match self {
            // The sandbox settles every charge at once, so it never notifies.
            Gateway::Sandbox(_) => Err(GatewayError::NoNotifications),
            Gateway::Stripe(g) => g.verify_notification(headers, body),
            Gateway::PayPal(g) => g.verify_notification(headers, body).await,
            Gateway::Razorpay(g) => g.verify_notification(headers, body),
        }
    }
}
