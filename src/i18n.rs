//! The widget's own words. The card's and the transcript's come from `paycard-client`;
//! status lines, amounts and recurrences from `paycard-core`.

pub use paycard_core::Locale;

pub use paycard_client::page::detect_locale;

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
    OpenPaymentPage,
    PaymentPageOpened,
    Reconnecting,
    RetryNow,
    Offline,
    SomethingWrong,
    Unavailable,
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
        (OpenPaymentPage, En) => "Open the payment page",
        (OpenPaymentPage, Es) => "Abrir la página de pago",
        (PaymentPageOpened, En) => "The payment page opened in a new tab.",
        (PaymentPageOpened, Es) => "La página de pago se abrió en una pestaña nueva.",
        (Reconnecting, En) => "Reconnecting…",
        (Reconnecting, Es) => "Reconectando…",
        (RetryNow, En) => "Retry now",
        (RetryNow, Es) => "Reintentar ahora",
        (Offline, En) => "Live updates are paused; checking for news every few seconds.",
        (Offline, Es) => {
            "Las actualizaciones en vivo están en pausa; buscamos novedades cada pocos segundos."
        }
        (SomethingWrong, En) => "Something went wrong. Please try again.",
        (SomethingWrong, Es) => "Algo salió mal. Inténtalo de nuevo.",
        (Unavailable, En) => "This chat is not available right now.",
        (Unavailable, Es) => "Este chat no está disponible ahora mismo.",
    }
}
