//! The console's own words; the card's and the transcript's come from `paycard-client`,
//! amounts and status lines from `paycard-core`.

pub use paycard_core::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Console,
    SignInTitle,
    Email,
    Password,
    SignIn,
    SignOut,
    WrongCredentials,
    Conversations,
    Messages,
    NoConversations,
    ChooseConversation,
    Unread,
    Message,
    Send,
    Payments,
    SearchPayments,
    Share,
    NoPayments,
    NoMatch,
    Loading,
    SomethingWrong,
    Reconnecting,
    Back,
    OlderConversations,
}

/// A phrase in the admin's language, for the Settings pages, whose many one-off words
/// read best next to where they are used.
pub fn tr(locale: Locale, en: &'static str, es: &'static str) -> &'static str {
    match locale {
        Locale::En => en,
        Locale::Es => es,
    }
}

pub fn t(locale: Locale, text: Text) -> &'static str {
    use Locale::*;
    use Text::*;
    match (text, locale) {
        (Console, En) => "paycard console",
        (Console, Es) => "consola de paycard",
        (SignInTitle, En) => "Sign in to answer your visitors",
        (SignInTitle, Es) => "Inicia sesión para atender a tus visitantes",
        (Email, En) => "Email",
        (Email, Es) => "Correo electrónico",
        (Password, En) => "Password",
        (Password, Es) => "Contraseña",
        (SignIn, En) => "Sign in",
        (SignIn, Es) => "Iniciar sesión",
        (SignOut, En) => "Sign out",
        (SignOut, Es) => "Cerrar sesión",
        (WrongCredentials, En) => "Wrong email or password.",
        (WrongCredentials, Es) => "Correo o contraseña incorrectos.",
        (Conversations, En) => "Conversations",
        (Conversations, Es) => "Conversaciones",
        (Messages, En) => "Messages",
        (Messages, Es) => "Mensajes",
        (NoConversations, En) => {
            "No conversations yet. They appear here as soon as a visitor writes."
        }
        (NoConversations, Es) => {
            "Aún no hay conversaciones. Aparecerán aquí en cuanto un visitante escriba."
        }
        (ChooseConversation, En) => "Choose a conversation to answer it.",
        (ChooseConversation, Es) => "Elige una conversación para responderla.",
        (Unread, En) => "unread",
        (Unread, Es) => "sin leer",
        (Message, En) => "Message",
        (Message, Es) => "Mensaje",
        (Send, En) => "Send",
        (Send, Es) => "Enviar",
        (Payments, En) => "Payments",
        (Payments, Es) => "Pagos",
        (SearchPayments, En) => "Search payments",
        (SearchPayments, Es) => "Buscar pagos",
        (Share, En) => "Share",
        (Share, Es) => "Compartir",
        (NoPayments, En) => "This brand has no active payments yet.",
        (NoPayments, Es) => "Esta marca aún no tiene pagos activos.",
        (NoMatch, En) => "No payment matches your search.",
        (NoMatch, Es) => "Ningún pago coincide con la búsqueda.",
        (Loading, En) => "Loading…",
        (Loading, Es) => "Cargando…",
        (SomethingWrong, En) => "Something went wrong. Please try again.",
        (SomethingWrong, Es) => "Algo salió mal. Inténtalo de nuevo.",
        (Reconnecting, En) => "Reconnecting… updates may be late.",
        (Reconnecting, Es) => "Reconectando… las novedades pueden tardar.",
        (Back, En) => "All conversations",
        (Back, Es) => "Todas las conversaciones",
        (OlderConversations, En) => "Show older conversations",
        (OlderConversations, Es) => "Mostrar conversaciones anteriores",
    }
}
