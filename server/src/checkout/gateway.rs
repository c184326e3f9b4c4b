//! Payment gateways. Each takes a charge for a card and says how it went; real ones
//! (Stripe) implement the same trait.

use std::future::Future;

use paycard_core::card_form::ValidCard;
use paycard_core::{Currency, Recurrence};

/// One charge, as a gateway needs it.
pub struct Charge<'a> {
    pub card_id: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub recurrence: Option<Recurrence>,
    pub card: &'a ValidCard,
    /// One per attempt: a gateway that sees it twice must not charge twice.
    pub idempotency_key: &'a str,
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

pub trait Gateway: Send + Sync {
    /// The kind, as in `gateway-kinds` and the attempts' `gateway` field.
    fn kind(&self) -> &'static str;
    fn charge(&self, charge: &Charge<'_>) -> impl Future<Output = Outcome> + Send;
}

/// The built-in sandbox: test card numbers decide the outcome; no network.
pub struct Sandbox;

impl Sandbox {
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
}

impl Gateway for Sandbox {
    fn kind(&self) -> &'static str {
        "sandbox"
    }

    async fn charge(&self, charge: &Charge<'_>) -> Outcome {
        match Sandbox::outcome_for(&charge.card.number) {
            Outcome::Succeeded { .. } => Outcome::Succeeded {
                reference: format!("sandbox_{}", charge.idempotency_key),
            },
            failed => failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
