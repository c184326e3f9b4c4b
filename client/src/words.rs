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
    ConfirmCancel,
    YesCancel,
    KeepIt,
    CancelRequest,
    Refund,
    PaymentRequest,
    You,
    PayBefore,
    Sending,
    WaitingToSend,
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
        (ConfirmCancel, En) => {
            "Cancel this payment request? The visitor will no longer be able to pay it."
        }
        (ConfirmCancel, Es) => {
            "¿Cancelar esta solicitud de pago? El visitante ya no podrá pagarla."
        }
        (YesCancel, En) => "Yes, cancel it",
        (YesCancel, Es) => "Sí, cancelarla",
        (KeepIt, En) => "Keep it",
        (KeepIt, Es) => "Mantener",
        (CancelRequest, En) => "Cancel request",
        (CancelRequest, Es) => "Cancelar solicitud",
        (Refund, En) => "Refund",
        (Refund, Es) => "Reembolsar",
        (PaymentRequest, En) => "Payment request",
        (PaymentRequest, Es) => "Solicitud de pago",
        (PayBefore, En) => "Pay before",
        (PayBefore, Es) => "Pagar antes de",
        (Sending, En) => "Sending…",
        (Sending, Es) => "Enviando…",
        (WaitingToSend, En) => "Not sent yet: it goes as soon as the connection is back",
        (WaitingToSend, Es) => "Aún sin enviar: saldrá en cuanto vuelva la conexión",
        (You, En) => "You",
        (You, Es) => "Tú",
    }
}
