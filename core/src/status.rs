//! The payment card state machine (SPEC §3).
//!
//! The server is the authority: it loads a card's [`CardState`], calls
//! [`CardState::apply`] and writes the result in the same database transaction, with the
//! `version` as an optimistic lock. The widget and console only use the read side
//! ([`CardStatus::allows`], [`CardStatus::label`]) to decide which buttons to show.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Locale;

/// Where a payment card stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// Shared, waiting for the visitor.
    Pending,
    /// The visitor submitted a payment and the gateway is working on it.
    Processing,
    /// Paid. Terminal.
    Paid,
    /// The last attempt failed; the visitor may retry.
    Failed,
    /// Cancelled by the operator. Terminal.
    Cancelled,
    /// Declined by the visitor. Terminal.
    Declined,
    /// Not paid in time. Terminal.
    Expired,
    /// Paid, then refunded in full (SPEC §8.3). Terminal.
    Refunded,
}

/// Something that happens to a card. Each maps to one row group of the SPEC §3 table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CardAction {
    /// The visitor submitted payment details (first try or a retry).
    StartPayment,
    /// The gateway confirmed the charge.
    PaymentSucceeded,
    /// The gateway refused or failed the charge, with a machine-readable reason
    /// such as `card_declined`.
    PaymentFailed { reason: String },
    /// The operator withdrew the request.
    Cancel,
    /// The visitor declined to pay.
    Decline,
    /// The card outlived its time to pay.
    Expire,
    /// The last of the paid amount was refunded (a partial refund changes no status).
    RefundInFull,
}

/// Why a transition was refused. The server answers 409 for every variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The card is paid, cancelled, declined or expired: nothing changes it any more.
    #[error("the card is {status} and can no longer change")]
    Terminal { status: CardStatus },
    /// The action does not apply to the card's current status (for example a payment
    /// result for a card that is not processing, or a cancel while processing).
    #[error("cannot {action} a card that is {from}")]
    NotAllowed {
        from: CardStatus,
        action: &'static str,
    },
}

impl TransitionError {
    /// A stable snake_case code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::Terminal { .. } => "card_final",
            TransitionError::NotAllowed { .. } => "invalid_transition",
        }
    }
}

impl CardStatus {
    pub const ALL: [CardStatus; 8] = [
        CardStatus::Pending,
        CardStatus::Processing,
        CardStatus::Paid,
        CardStatus::Failed,
        CardStatus::Cancelled,
        CardStatus::Declined,
        CardStatus::Expired,
        CardStatus::Refunded,
    ];

    /// Final for the payment: nothing but the table's own rows changes these, and the
    /// only such row is a paid card's full refund.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CardStatus::Paid
                | CardStatus::Cancelled
                | CardStatus::Declined
                | CardStatus::Expired
                | CardStatus::Refunded
        )
    }

    /// The status an action leads to from this one, or `None` when the table has no
    /// such transition. This function *is* the table of SPEC §3.
    pub fn next(self, action: &CardAction) -> Option<CardStatus> {
        use CardAction as A;
        use CardStatus as S;
        match (self, action) {
            (S::Pending | S::Failed, A::StartPayment) => Some(S::Processing),
            (S::Processing, A::PaymentSucceeded) => Some(S::Paid),
            (S::Processing, A::PaymentFailed { .. }) => Some(S::Failed),
            (S::Pending | S::Failed, A::Cancel) => Some(S::Cancelled),
            (S::Pending | S::Failed, A::Decline) => Some(S::Declined),
            (S::Pending | S::Failed, A::Expire) => Some(S::Expired),
            (S::Paid, A::RefundInFull) => Some(S::Refunded),
            _ => None,
        }
    }

    /// Whether `action` is allowed now. The widget shows Pay Now and Cancel, and the
    /// console shows Cancel request, only while this says yes.
    pub fn allows(self, action: &CardAction) -> bool {
        self.next(action).is_some()
    }

    /// The snake_case name used in JSON and in `data-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Pending => "pending",
            CardStatus::Processing => "processing",
            CardStatus::Paid => "paid",
            CardStatus::Failed => "failed",
            CardStatus::Cancelled => "cancelled",
            CardStatus::Declined => "declined",
            CardStatus::Expired => "expired",
            CardStatus::Refunded => "refunded",
        }
    }

    /// Parses the snake_case name (as stored in the database).
    pub fn parse(s: &str) -> Option<CardStatus> {
        CardStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The card's status line (SPEC §5), for both chat sides and the checkout page.
    /// `failure_reason` is only read for `failed`.
    pub fn label(self, locale: Locale, failure_reason: Option<&str>) -> String {
        let fixed = match (self, locale) {
            (CardStatus::Pending, Locale::En) => "Awaiting payment",
            (CardStatus::Pending, Locale::Es) => "Pendiente de pago",
            (CardStatus::Processing, Locale::En) => "Payment in progress",
            (CardStatus::Processing, Locale::Es) => "Pago en curso",
            (CardStatus::Paid, Locale::En) => "Payment successful",
            (CardStatus::Paid, Locale::Es) => "Pago realizado",
            (CardStatus::Cancelled, Locale::En) => "Cancelled by the operator",
            (CardStatus::Cancelled, Locale::Es) => "Cancelado por el operador",
            (CardStatus::Declined, Locale::En) => "Declined by the visitor",
            (CardStatus::Declined, Locale::Es) => "Rechazado por el visitante",
            (CardStatus::Expired, Locale::En) => "Expired",
            (CardStatus::Expired, Locale::Es) => "Caducado",
            (CardStatus::Refunded, Locale::En) => "Refunded",
            (CardStatus::Refunded, Locale::Es) => "Reembolsado",
            (CardStatus::Failed, _) => {
                let reason = failure_reason_text(failure_reason.unwrap_or("unknown"), locale);
                return match locale {
                    Locale::En => format!("Payment failed: {reason}"),
                    Locale::Es => format!("Pago fallido: {reason}"),
                };
            }
        };
        fixed.to_owned()
    }
}

impl fmt::Display for CardStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CardAction {
    fn verb(&self) -> &'static str {
        match self {
            CardAction::StartPayment => "start a payment on",
            CardAction::PaymentSucceeded => "record a successful payment on",
            CardAction::PaymentFailed { .. } => "record a failed payment on",
            CardAction::Cancel => "cancel",
            CardAction::Decline => "decline",
            CardAction::Expire => "expire",
            CardAction::RefundInFull => "refund in full",
        }
    }
}

/// A gateway failure code in words. Unknown codes are shown as they are, so a new
/// gateway's reason is never hidden from the visitor.
pub fn failure_reason_text(code: &str, locale: Locale) -> String {
    let known = match (code, locale) {
        ("card_declined", Locale::En) => "the card was declined",
        ("card_declined", Locale::Es) => "la tarjeta fue rechazada",
        ("insufficient_funds", Locale::En) => "insufficient funds",
        ("insufficient_funds", Locale::Es) => "fondos insuficientes",
        ("expired_card", Locale::En) => "the card has expired",
        ("expired_card", Locale::Es) => "la tarjeta está caducada",
        // What happened only: the checkout page and the card already say how to go on
        // ("try again below"), and the reason must not say it a second time.
        ("processing_error", Locale::En) => "a processing error occurred",
        ("processing_error", Locale::Es) => "se produjo un error al procesar el pago",
        ("unknown", Locale::En) => "unknown reason",
        ("unknown", Locale::Es) => "motivo desconocido",
        _ => return code.replace('_', " "),
    };
    known.to_owned()
}

/// The part of a card that the state machine owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardState {
    pub status: CardStatus,
    /// Set exactly while the status is `failed`.
    pub failure_reason: Option<String>,
    /// Starts at 1 and goes up by one with every change: the ETag and the optimistic lock.
    pub version: i64,
}

impl CardState {
    /// A freshly shared card.
    pub fn new() -> CardState {
        CardState {
            status: CardStatus::Pending,
            failure_reason: None,
            version: 1,
        }
    }

    /// The state after `action`, or why the action is refused (the state is then
    /// unchanged: this takes `&self`).
    pub fn apply(&self, action: &CardAction) -> Result<CardState, TransitionError> {
        let status = match self.status.next(action) {
            Some(status) => status,
            None if self.status.is_terminal() => {
                return Err(TransitionError::Terminal {
                    status: self.status,
                })
            }
            None => {
                return Err(TransitionError::NotAllowed {
                    from: self.status,
                    action: action.verb(),
                })
            }
        };
        let failure_reason = match action {
            CardAction::PaymentFailed { reason } => Some(reason.clone()),
            _ => None,
        };
        Ok(CardState {
            status,
            failure_reason,
            version: self.version + 1,
        })
    }
}

impl Default for CardState {
    fn default() -> Self {
        CardState::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use CardAction as A;
    use CardStatus as S;

    fn failed(reason: &str) -> A {
        A::PaymentFailed {
            reason: reason.into(),
        }
    }

    /// The SPEC §3 table written out as data, independent of `next`'s match.
    fn table() -> Vec<(S, A, S)> {
        vec![
            (S::Pending, A::StartPayment, S::Processing),
            (S::Pending, A::Cancel, S::Cancelled),
            (S::Pending, A::Decline, S::Declined),
            (S::Pending, A::Expire, S::Expired),
            (S::Processing, A::PaymentSucceeded, S::Paid),
            (S::Processing, failed("card_declined"), S::Failed),
            (S::Failed, A::StartPayment, S::Processing),
            (S::Failed, A::Cancel, S::Cancelled),
            (S::Failed, A::Decline, S::Declined),
            (S::Failed, A::Expire, S::Expired),
            (S::Paid, A::RefundInFull, S::Refunded),
        ]
    }

    fn all_actions() -> Vec<A> {
        vec![
            A::StartPayment,
            A::PaymentSucceeded,
            failed("card_declined"),
            A::Cancel,
            A::Decline,
            A::Expire,
            A::RefundInFull,
        ]
    }

    #[test]
    fn every_pair_follows_the_table_exactly() {
        let table = table();
        for from in S::ALL {
            for action in all_actions() {
                let expected = table
                    .iter()
                    .find(|(f, a, _)| {
                        *f == from && std::mem::discriminant(a) == std::mem::discriminant(&action)
                    })
                    .map(|(_, _, to)| *to);
                assert_eq!(from.next(&action), expected, "{from} + {action:?}");
                let state = CardState {
                    status: from,
                    failure_reason: None,
                    version: 3,
                };
                match (state.apply(&action), expected) {
                    (Ok(next), Some(to)) => {
                        assert_eq!(next.status, to);
                        assert_eq!(next.version, 4);
                    }
                    (Err(err), None) => {
                        if from.is_terminal() {
                            assert_eq!(err, TransitionError::Terminal { status: from });
                            assert_eq!(err.code(), "card_final");
                        } else {
                            assert!(
                                matches!(err, TransitionError::NotAllowed { from: f, .. } if f == from)
                            );
                            assert_eq!(err.code(), "invalid_transition");
                        }
                    }
                    (got, want) => panic!("{from} + {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn a_failure_records_its_reason_and_a_retry_clears_it() {
        let processing = CardState::new().apply(&A::StartPayment).unwrap();
        let failed = processing.apply(&failed("insufficient_funds")).unwrap();
        assert_eq!(failed.status, S::Failed);
        assert_eq!(failed.failure_reason.as_deref(), Some("insufficient_funds"));
        let retry = failed.apply(&A::StartPayment).unwrap();
        assert_eq!(retry.status, S::Processing);
        assert_eq!(retry.failure_reason, None);
        assert_eq!(retry.version, 4);
    }

    #[test]
    fn a_cancel_that_loses_the_race_to_a_payment_is_refused() {
        let processing = CardState::new().apply(&A::StartPayment).unwrap();
        assert!(processing.apply(&A::Cancel).is_err());
        let paid = processing.apply(&A::PaymentSucceeded).unwrap();
        assert_eq!(
            paid.apply(&A::Cancel),
            Err(TransitionError::Terminal { status: S::Paid })
        );
    }

    #[test]
    fn status_names_round_trip_through_json_and_text() {
        for status in S::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(S::parse(status.as_str()), Some(status));
        }
        assert_eq!(S::parse("chargeback"), None);
    }

    #[test]
    fn status_lines_in_both_languages() {
        assert_eq!(S::Pending.label(Locale::En, None), "Awaiting payment");
        assert_eq!(
            S::Declined.label(Locale::Es, None),
            "Rechazado por el visitante"
        );
        assert_eq!(
            S::Failed.label(Locale::En, Some("insufficient_funds")),
            "Payment failed: insufficient funds"
        );
        assert_eq!(
            S::Failed.label(Locale::Es, Some("card_declined")),
            "Pago fallido: la tarjeta fue rechazada"
        );
        assert_eq!(
            S::Failed.label(Locale::En, Some("do_not_honor")),
            "Payment failed: do not honor"
        );
        for status in S::ALL {
            assert_ne!(
                status.label(Locale::En, None),
                status.label(Locale::Es, None)
            );
        }
    }

    fn action_strategy() -> impl Strategy<Value = A> {
        prop_oneof![
            Just(A::StartPayment),
            Just(A::PaymentSucceeded),
            "[a-z_]{1,20}".prop_map(|reason| A::PaymentFailed { reason }),
            Just(A::Cancel),
            Just(A::Decline),
            Just(A::Expire),
            Just(A::RefundInFull),
        ]
    }

    proptest! {
        /// Over any sequence of operations: every accepted step is in the table, every
        /// refused step leaves the card as it was, terminal states absorb everything,
        /// the version counts accepted steps, the reason is set exactly while failed,
        /// and a card is paid at most once.
        #[test]
        fn random_operation_sequences_keep_every_rule(actions in proptest::collection::vec(action_strategy(), 0..60)) {
            let mut state = CardState::new();
            let mut accepted = 0;
            let mut times_paid = 0;
            let table = table();
            for action in &actions {
                let before = state.clone();
                match state.apply(action) {
                    Ok(next) => {
                        // Of the terminal states, only a paid card moves: refunded in full.
                        prop_assert!(!before.status.is_terminal() || before.status == S::Paid);
                        prop_assert!(table.iter().any(|(f, a, t)| *f == before.status
                            && std::mem::discriminant(a) == std::mem::discriminant(action)
                            && *t == next.status));
                        prop_assert_eq!(next.version, before.version + 1);
                        accepted += 1;
                        if next.status == S::Paid { times_paid += 1; }
                        state = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(&state, &before);
                        prop_assert_eq!(before.status.is_terminal(), matches!(err, TransitionError::Terminal { .. }));
                    }
                }
                prop_assert_eq!(state.failure_reason.is_some(), state.status == S::Failed);
            }
            prop_assert_eq!(state.version, 1 + accepted);
            prop_assert!(times_paid <= 1);
            if state.status.is_terminal() && state.status != S::Paid {
                for action in all_actions() {
                    prop_assert!(state.apply(&action).is_err());
                }
            }
        }
    }
}
