//! The widget's words. Status lines, amounts and recurrences come from `paycard-core`;
//! what is here is only the widget's own chrome.

pub use paycard_core::Locale;

/// The locale for this page: `?lang=en|es` if given, else the browser's languages.
pub fn detect_locale() -> Locale {
    let window = leptos::prelude::window();
    let from_query = crate::query_param("lang").and_then(|tag| Locale::from_tag(&tag));
    from_query.unwrap_or_else(|| {
        let languages: Vec<String> = window
            .navigator()
            .languages()
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        Locale::negotiate(languages.iter().map(String::as_str))
    })
}

/// Every string the widget shows, by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Title,
    Greeting,
    EmptyState,
    MessageLabel,
    MessagePlaceholder,
    Send,
    MessagesLabel,
    PayNow,
    Cancel,
    ConfirmDecline,
    YesDecline,
    KeepIt,
    CancelRequest,
    PaymentRequest,
    OpenPaymentPage,
    PaymentPageOpened,
    Reconnecting,
    Offline,
    SomethingWrong,
    Unavailable,
    You,
}

pub fn t(locale: Locale, text: Text) -> &'static str {
    use Locale::*;
    use Text::*;
    match (text, locale) {
        (Title, En) => "Chat with us",
        (Title, Es) => "Chatea con nosotros",
        (Greeting, En) => "We usually reply in a few minutes.",
        (Greeting, Es) => "Solemos responder en pocos minutos.",
        (EmptyState, En) => "Ask us anything: an order, a booking, a payment.",
        (EmptyState, Es) => "Pregúntanos lo que quieras: un pedido, una reserva, un pago.",
        (MessageLabel, En) => "Message",
        (MessageLabel, Es) => "Mensaje",
        (MessagePlaceholder, En) => "Write a message…",
        (MessagePlaceholder, Es) => "Escribe un mensaje…",
        (Send, En) => "Send",
        (Send, Es) => "Enviar",
        (MessagesLabel, En) => "Conversation",
        (MessagesLabel, Es) => "Conversación",
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
        (PaymentRequest, En) => "Payment request",
        (PaymentRequest, Es) => "Solicitud de pago",
        (OpenPaymentPage, En) => "Open the payment page",
        (OpenPaymentPage, Es) => "Abrir la página de pago",
        (PaymentPageOpened, En) => "The payment page opened in a new tab.",
        (PaymentPageOpened, Es) => "La página de pago se abrió en una pestaña nueva.",
        (Reconnecting, En) => "Reconnecting…",
        (Reconnecting, Es) => "Reconectando…",
        (Offline, En) => "Live updates are paused; checking for news every few seconds.",
        (Offline, Es) => {
            "Las actualizaciones en vivo están en pausa; buscamos novedades cada pocos segundos."
        }
        (SomethingWrong, En) => "Something went wrong. Please try again.",
        (SomethingWrong, Es) => "Algo salió mal. Inténtalo de nuevo.",
        (Unavailable, En) => "This chat is not available right now.",
        (Unavailable, Es) => "Este chat no está disponible ahora mismo.",
        (You, En) => "You",
        (You, Es) => "Tú",
    }
}
