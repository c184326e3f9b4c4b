//! The built-in sandbox gateway (SPEC §4): test card numbers decide the outcome; no
//! network.

use std::time::Duration;

use super::{Begun, Charge, GatewayError, Outcome};
use crate::state::AppState;
use crate::store::Store;

/// The built-in sandbox: test card numbers decide the outcome; no network. Like a real
/// gateway, it keeps a ledger of its charges by idempotency key (a table of its own,
/// `sandbox_charges`): a payment whose answer was lost to a crash can be asked about
/// later ([`Sandbox::resolve`]) instead of guessed.
pub struct Sandbox {
    ledger: Store,
    latency: Duration,
}

impl Sandbox {
    /// The sandbox of this server: its ledger in the store, and the latency set by
    /// `PAYCARD_SANDBOX_LATENCY_MS`.
    pub fn new(state: &AppState) -> Sandbox {
        Sandbox::with(state.store.clone(), state.config.sandbox_latency)
    }

    pub fn with(ledger: Store, latency: Duration) -> Sandbox {
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
        let recorded = async {
            let mut tx = self.ledger.write().await?;
            let held = crate::store::attempts::sandbox_charge(
                &mut tx,
                key,
                status,
                reason,
                &crate::secrets::now(),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, crate::store::Error>(held)
        };
        let (status, reason) = recorded
            .await
            .map_err(|e| GatewayError::Unavailable(format!("sandbox ledger: {e}")))?;
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

impl Sandbox {
    /// Charges at once; the ledger keeps the outcome under the idempotency key.
    pub async fn begin(&self, charge: &Charge<'_>) -> Result<Begun, GatewayError> {
        let card = charge
            .card
            .ok_or_else(|| GatewayError::Refused("the sandbox needs card details".into()))?;
        let outcome = Sandbox::outcome_for(&card.number);
        tokio::time::sleep(self.latency).await;
        Ok(Begun::Done(
            self.record(charge.idempotency_key, &outcome).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paycard_core::card_form::ValidCard;
    use paycard_core::Currency;

    async fn ledger() -> (tempfile::TempDir, Sandbox) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        (dir, Sandbox::with(store, Duration::ZERO))
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
    async fn the_sandbox_charges_at_once_and_its_ledger_remembers() {
        let (_dir, sandbox) = ledger().await;
        let card = good_card();
        let begun = sandbox.begin(&charge(&card, "att_1")).await.unwrap();
        assert_eq!(
            begun,
            Begun::Done(Outcome::Succeeded {
                reference: "sandbox_att_1".into()
            })
        );
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
