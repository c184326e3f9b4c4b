//! A gateway session's life (Stripe Checkout, and every gateway that sends the visitor to
//! a page of its own): the second state machine of a payment, next to the card's.
//!
//! A session is recorded as `creating` before the gateway is asked for it, so that at
//! most one is open per card; the gateway's answers and notifications then move it. The
//! server loads a session's status, applies an event here and writes the result; an
//! event that does not apply changes nothing (notifications repeat and arrive out of
//! order).

use serde::{Deserialize, Serialize};

/// Where a gateway session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Recorded; the gateway is being asked to make it.
    Creating,
    /// Made: the visitor may pay on the gateway's page.
    Open,
    /// The customer completed it: paid, or a payment on its way (a bank debit).
    Complete,
    /// Ended unpaid: expired at the gateway, or closed by us.
    Expired,
    /// Never made (the gateway refused, or a crash left it half-made), or its
    /// delayed payment failed.
    Failed,
}

/// What happens to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// The gateway made it, and the card can still be paid.
    Created,
    /// The gateway made it, but the card was closed meanwhile: it is closed at once.
    CreatedTooLate,
    /// The gateway refused to make it, or it was left half-made too long.
    NotCreated,
    /// It ended unpaid.
    Ended,
    /// The customer completed it. The gateway's word wins over our own: a session we
    /// took as ended may turn out to have been paid first.
    Completed,
    /// Its payment failed.
    PaymentFailed,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 5] = [
        SessionStatus::Creating,
        SessionStatus::Open,
        SessionStatus::Complete,
        SessionStatus::Expired,
        SessionStatus::Failed,
    ];

    /// The status after `event`, or `None` when the event does not apply (and the
    /// session stays as it is).
    pub fn after(self, event: SessionEvent) -> Option<SessionStatus> {
        use SessionEvent as E;
        use SessionStatus as S;
        match (self, event) {
            (S::Creating, E::Created) => Some(S::Open),
            (S::Creating, E::CreatedTooLate) => Some(S::Expired),
            (S::Creating, E::NotCreated) => Some(S::Failed),
            (S::Creating | S::Open, E::Ended) => Some(S::Expired),
            (S::Creating | S::Open | S::Expired | S::Failed, E::Completed) => Some(S::Complete),
            (S::Open | S::Complete | S::Expired, E::PaymentFailed) => Some(S::Failed),
            _ => None,
        }
    }

    /// Being made or open: the visitor may be paying there, so the card may be neither
    /// closed nor charged elsewhere until it is closed.
    pub fn in_flight(self) -> bool {
        matches!(self, SessionStatus::Creating | SessionStatus::Open)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Creating => "creating",
            SessionStatus::Open => "open",
            SessionStatus::Complete => "complete",
            SessionStatus::Expired => "expired",
            SessionStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::SessionEvent as E;
    use super::SessionStatus as S;

    #[test]
    fn a_session_is_made_then_paid_or_ended() {
        assert_eq!(S::Creating.after(E::Created), Some(S::Open));
        assert_eq!(S::Open.after(E::Completed), Some(S::Complete));
        assert_eq!(S::Open.after(E::Ended), Some(S::Expired));
        assert_eq!(S::Creating.after(E::NotCreated), Some(S::Failed));
        assert_eq!(S::Creating.after(E::CreatedTooLate), Some(S::Expired));
        // A bank debit that fails after the customer completed the session.
        assert_eq!(S::Complete.after(E::PaymentFailed), Some(S::Failed));
    }

    #[test]
    fn late_and_repeated_notifications_change_nothing_they_should_not() {
        // A late "ended" does not reopen or undo a completed session.
        assert_eq!(S::Complete.after(E::Ended), None);
        assert_eq!(S::Failed.after(E::Ended), None);
        // A session made twice (a retried answer) stays as it is.
        assert_eq!(S::Open.after(E::Created), None);
        // The gateway's word wins: paid first, though we took it as ended.
        assert_eq!(S::Expired.after(E::Completed), Some(S::Complete));
        // Completed twice: nothing more.
        assert_eq!(S::Complete.after(E::Completed), None);
    }

    #[test]
    fn statuses_read_back_and_only_two_are_in_flight() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("paid"), None);
        let in_flight: Vec<S> = S::ALL.into_iter().filter(|s| s.in_flight()).collect();
        assert_eq!(in_flight, [S::Creating, S::Open]);
    }
}
