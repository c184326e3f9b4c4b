//! The JSON shapes of the HTTP contract (SPEC §4) that both the server and the browser
//! apps read and write. Plain serde types: the server adds no database derives here.

use serde::{Deserialize, Serialize};

use crate::{CardStatus, Currency, Money, Recurrence};

/// A payment card as the API returns it. Amount, currency and recurrence are a snapshot
/// taken when the card was shared: later edits of the payment do not change a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub id: String,
    pub conversation_id: String,
    pub payment_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub recurrence: Option<Recurrence>,
    pub status: CardStatus,
    pub failure_reason: Option<String>,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
}

impl Card {
    pub fn money(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }
}

/// The error body of every non-2xx answer: `{"error": {"code", "message"}}`, with the
/// field errors of a validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// snake_case, stable: clients branch on it.
    pub code: String,
    /// English, for people reading logs and API consoles.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::validation::FieldError>,
}
