//! Payment gateways. The checkout asks a gateway to begin a payment; a gateway either
//! charges at once (the sandbox) or sends the visitor to its own page and reports the
//! result later in a signed notification (Stripe Checkout). The operator's cancel asks
//! it to close whatever it has open for the card. Real gateways implement the same trait.

use std::future::Future;

use paycard_core::card_form::ValidCard;
use paycard_core::{Currency, Recurrence};

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
    /// The money was collected.
    Paid,
    /// Completed, but the money is still on its way (a bank debit): wait.
    Processing,
    /// The (delayed) payment failed.
    Failed { reason: String },
    /// The session ended unpaid: the card stays payable.
    Expired,
    /// Something this product does not act on.
    Other,
}

/// A verified notification from a gateway about a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The gateway's event id: each is processed once.
    pub event_id: String,
    /// The gateway's session (what [`Begun::Redirect`] returned as `reference`).
    pub reference: String,
    /// The card, as the gateway was told it (Stripe's `client_reference_id`).
    pub card_id: Option<String>,
    pub happened: Happened,
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
}

pub trait Gateway: Send + Sync {
    /// The kind, as in `gateway-kinds` and the attempts' `gateway` field.
    fn kind(&self) -> &'static str;

    /// Begins a payment: a charge, or a redirect to the gateway's page.
    fn begin(
        &self,
        charge: &Charge<'_>,
    ) -> impl Future<Output = Result<Begun, GatewayError>> + Send;

    /// Checks a notification's signature on the raw body and reads it.
    fn verify_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<Notification, GatewayError>;

    /// Closes what is open at the gateway for a card (`reference` from a redirect).
    fn close(&self, reference: &str) -> impl Future<Output = Result<Closed, GatewayError>> + Send;
}

/// The built-in sandbox: test card numbers decide the outcome; no network. Like a real
/// gateway, it keeps a ledger of its charges by idempotency key (a table of its own,
/// `sandbox_charges`): a payment whose answer was lost to a crash can be asked about
/// later ([`Sandbox::resolve`]) instead of guessed.
pub struct Sandbox {
    ledger: crate::db::Pool,
    latency: std::time::Duration,
}

impl Sandbox {
    /// `latency`: how long a charge takes (`PAYCARD_SANDBOX_LATENCY_MS`).
    pub fn new(ledger: crate::db::Pool, latency: std::time::Duration) -> Sandbox {
        Sandbox { ledger, latency }
    }

    /// SPEC §4's test cards. Any other number is refused as a sandbox never charges
    /// a real card.
    pub fn outcome_for(number: &str) -> Outcome {
        let failed = |reason: &str| Outcome::Failed {
            reason: reason.to_owned(),
        };
        match number {
            "4242424242424242" => Outcome::Succeeded {
                reference: String::new(),
            },
            "4000000000000002" => failed("card_declined"),
            "4000000000009995" => failed("insufficient_funds"),
            "4000000000000069" => failed("expired_card"),
            "4000000000000119" => failed("processing_error"),
            _ => failed("card_declined"),
        }
    }

    /// Writes `outcome` under `key` unless the key is already in the ledger, and
    /// returns what the ledger holds: a key seen before keeps its first outcome.
    async fn record(&self, key: &str, outcome: &Outcome) -> Result<Outcome, GatewayError> {
        let (status, reason) = match outcome {
            Outcome::Succeeded { .. } => ("succeeded", None),
            Outcome::Failed { reason } => ("failed", Some(reason.as_str())),
        };
        let unavailable =
            |e: sqlx::Error| GatewayError::Unavailable(format!("sandbox ledger: {e}"));
        sqlx::query(
            "INSERT INTO sandbox_charges (idempotency_key, outcome, failure_reason, created_at)
             VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(key)
        .bind(status)
        .bind(reason)
        .bind(crate::secrets::now())
        .execute(&self.ledger)
        .await
        .map_err(unavailable)?;
        let (status, reason): (String, Option<String>) = sqlx::query_as(
            "SELECT outcome, failure_reason FROM sandbox_charges WHERE idempotency_key = ?",
        )
        .bind(key)
        .fetch_one(&self.ledger)
        .await
        .map_err(unavailable)?;
        Ok(if status == "succeeded" {
            Outcome::Succeeded {
                reference: format!("sandbox_{key}"),
            }
        } else {
            Outcome::Failed {
                reason: reason.unwrap_or_else(|| "processing_error".into()),
            }
        })
    }

    /// What became of the charge with idempotency key `key`. A charge the sandbox never
    /// saw is voided first (its key recorded as failed), so it cannot happen later: the
    /// answer holds for good.
    pub async fn resolve(&self, key: &str) -> Result<Outcome, GatewayError> {
        let never_seen = Outcome::Failed {
            reason: "processing_error".into(),
        };
        self.record(key, &never_seen).await
    }
}

impl Gateway for Sandbox {
    fn kind(&self) -> &'static str {
        "sandbox"
    }

    /// Charges at once; the ledger keeps the outcome under the idempotency key.
    async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        let card = charge
            .card
            .ok_or_else(|| GatewayError::Refused("the sandbox needs card details".into()))?;
        let outcome = Sandbox::outcome_for(&card.number);
        tokio::time::sleep(self.latency).await;
        Ok(Begun::Done(
            self.record(charge.idempotency_key, &outcome).await?,
        ))
    }

    /// The sandbox settles every charge at once, so it never notifies.
    fn verify_notification(
        &self,
        _headers: &axum::http::HeaderMap,
        _body: &[u8],
    ) -> Result<Notification, GatewayError> {
        Err(GatewayError::NoNotifications)
    }

    /// Nothing stays open at the sandbox.
    async fn close(&self, _reference: &str) -> Result<Closed, GatewayError> {
        Ok(Closed::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ledger() -> (tempfile::TempDir, Sandbox) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = crate::db::connect(&url).await.unwrap();
        (dir, Sandbox::new(pool, std::time::Duration::ZERO))
    }

    fn good_card() -> ValidCard {
        paycard_core::card_form::validate_card_form(
            &paycard_core::card_form::CardForm {
                name: "Ana".into(),
                email: "ana@example.com".into(),
                card_number: "4242424242424242".into(),
                expiry: "12/40".into(),
                cvc: "123".into(),
            },
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap()
    }

    fn charge<'a>(card: &'a ValidCard, idempotency_key: &'a str) -> Charge<'a> {
        Charge {
            card_id: "card_1",
            amount_minor: 2500,
            currency: Currency::from_code("EUR").unwrap(),
            recurrence: None,
            title: "Custom mug",
            description: "",
            email: "ana@example.com",
            locale: "en",
            card: Some(card),
            idempotency_key,
            success_url: "http://localhost/pay/t",
            cancel_url: "http://localhost/pay/t",
            expires_at: 0,
        }
    }

    #[tokio::test]
    async fn the_sandbox_charges_at_once_never_notifies_and_has_nothing_to_close() {
        let (_dir, sandbox) = ledger().await;
        let card = good_card();
        let begun = sandbox.begin(&charge(&card, "att_1")).await.unwrap();
        assert_eq!(
            begun,
            Begun::Done(Outcome::Succeeded {
                reference: "sandbox_att_1".into()
            })
        );
        assert!(matches!(
            sandbox.verify_notification(&Default::default(), b"{}"),
            Err(GatewayError::NoNotifications)
        ));
        assert_eq!(sandbox.close("anything").await.unwrap(), Closed::Closed);
        // Asked later, the ledger says what happened to the charge.
        assert_eq!(
            sandbox.resolve("att_1").await.unwrap(),
            Outcome::Succeeded {
                reference: "sandbox_att_1".into()
            }
        );
    }

    #[tokio::test]
    async fn a_charge_the_sandbox_never_saw_is_voided_for_good() {
        let (_dir, sandbox) = ledger().await;
        let failed = Outcome::Failed {
            reason: "processing_error".into(),
        };
        assert_eq!(sandbox.resolve("att_lost").await.unwrap(), failed);
        // The request that was lost arrives after all: its key is spent.
        let card = good_card();
        assert_eq!(
            sandbox.begin(&charge(&card, "att_lost")).await.unwrap(),
            Begun::Done(failed)
        );
    }

    #[test]
    fn the_test_cards_decide_the_outcome() {
        assert!(matches!(
            Sandbox::outcome_for("4242424242424242"),
            Outcome::Succeeded { .. }
        ));
        for (number, reason) in [
            ("4000000000000002", "card_declined"),
            ("4000000000009995", "insufficient_funds"),
            ("4000000000000069", "expired_card"),
            ("4000000000000119", "processing_error"),
            ("5555555555554444", "card_declined"),
        ] {
            assert_eq!(
                Sandbox::outcome_for(number),
                Outcome::Failed {
                    reason: reason.into()
                },
                "{number}"
            );
        }
    }
}
