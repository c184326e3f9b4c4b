//! The words of the shared pieces (the payment card, the transcript) in English and
//! Spanish. Each app keeps its own chrome's words; amounts, recurrences and status
//! lines come from `paycard-core`.

use paycard_core::Locale;

/// Every string the shared pieces show, by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    PayNow,
    Cancel,
    ConfirmDecline,
    YesDecline,
    KeepIt,
    CancelRequest,
    Refund,
    PaymentRequest,
    You,
}

pub fn t(locale: Locale, text: Text) -> &'static str {
    use Locale::*;
    use Text::*;
    match (text, locale) {
        (PayNow, En) => "Pay Now",
        (PayNow, Es) => "Pagar ahora",
        (Cancel, En) => "Cancel",
        (Cancel, Es) => "Cancelar",
        (ConfirmDecline, En) => "Decline this payment request?",
        (ConfirmDecline, Es) => "¿Rechazar esta solicitud de pago?",
        (YesDecline, En) => "Yes, decline",
        (YesDecline, Es) => "Sí, rechazar",
        (KeepIt, En) => "Keep it",
        (KeepIt, Es) => "Mantener",
        (CancelRequest, En) => "Cancel request",
        (CancelRequest, Es) => "Cancelar solicitud",
        (Refund, En) => "Refund",
        (Refund, Es) => "Reembolsar",
        (PaymentRequest, En) => "Payment request",
        (PaymentRequest, Es) => "Solicitud de pago",
        (You, En) => "You",
        (You, Es) => "Tú",
    }
}
