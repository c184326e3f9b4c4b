//! The hosted checkout page, written on the server: it works with JavaScript off.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use paycard_core::api::Card;
use paycard_core::card_form::{field_message, CardForm};
use paycard_core::recurrence::price_text;
use paycard_core::status::failure_reason_text;
use paycard_core::validation::FieldError;
use paycard_core::Locale;

/// The page's only styles. The Content-Security-Policy allows exactly this text (by
/// its hash), so no injected style or script can run.
pub const CSS: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;background:#f5f6fa}\
main{max-width:480px;margin:0 auto;padding:24px 16px 48px}\
.summary{background:#fff;border:1px solid #e3e6ee;border-radius:14px;padding:18px 20px;margin-bottom:18px}\
.brand{margin:0;font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:#5b6478}\
h1{margin:4px 0 0;font-size:1.3rem}.price{margin:6px 0 0;font-size:1.6rem;font-weight:700}\
.desc{margin:8px 0 0;color:#5b6478;white-space:pre-wrap}\
form,.outcome{background:#fff;border:1px solid #e3e6ee;border-radius:14px;padding:18px 20px}\
fieldset{border:0;padding:0;margin:0 0 14px}legend{font-weight:700;margin-bottom:6px;padding:0}\
.field{margin-top:10px}label{display:block;font-weight:600;font-size:.92rem;margin-bottom:4px}\
input{width:100%;font:inherit;padding:10px 12px;border:1px solid #9aa1b1;border-radius:10px;background:#fff;color:inherit}\
input:focus-visible{outline:3px solid #2743b5;outline-offset:1px}input[aria-invalid=true]{border-color:#b42318}\
.row{display:grid;grid-template-columns:1fr 1fr;grid-template-rows:auto auto auto;column-gap:12px}\
.row .field{display:grid;grid-row:span 3;grid-template-rows:subgrid;row-gap:0}.row label{align-self:end}\
.error{margin:4px 0 0;color:#b42318;font-size:.9rem}\
.alert{background:#fdeeee;color:#8a1c1c;border-radius:10px;padding:10px 12px;margin:0 0 14px}\
button{width:100%;margin-top:8px;font:inherit;font-weight:700;font-size:1.05rem;padding:12px;border:0;border-radius:10px;background:#2743b5;color:#fff;cursor:pointer}\
button:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}\
.hint{font-size:.85rem;color:#5b6478;margin:12px 0 0}\
.outcome h2{margin:0 0 6px;font-size:1.3rem}.ok{color:#14622f}.bad{color:#9a3412}.muted{color:#4b5563}";

pub struct Words {
    pub account: &'static str,
    pub payment: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub card_number: &'static str,
    pub expiry: &'static str,
    pub expiry_placeholder: &'static str,
    pub cvc: &'static str,
    pub pay: &'static str,
    pub fix: &'static str,
    pub success: &'static str,
    pub failed: &'static str,
    pub in_progress: &'static str,
    pub back: &'static str,
    pub try_again: &'static str,
    pub cancelled: &'static str,
    pub declined: &'static str,
    pub expired: &'static str,
    pub refunded: &'static str,
    pub already_paid: &'static str,
    pub paid_note: &'static str,
    pub busy: &'static str,
    pub invalid_link: &'static str,
    pub sandbox: &'static str,
    pub cross_site: &'static str,
    /// Back from a gateway whose page no longer counts: another way was chosen since.
    pub returned_elsewhere: &'static str,
    pub gateway_unavailable: &'static str,
    pub awaiting_gateway: &'static str,
    pub gateway_down: &'static str,
    pub too_many: &'static str,
    /// "with {gateway}" on a gateway's Pay button.
    pub with: &'static str,
    /// The hint under a gateway's button; `{}` is the gateway's name.
    pub gateway_hint: &'static str,
    /// When no gateway can take this card; the reasons follow.
    pub no_gateway: &'static str,
    pub test_card: &'static str,
}

pub fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            account: "Account details",
            payment: "Payment details",
            name: "Name",
            email: "Email",
            card_number: "Card number",
            expiry: "Expiry (MM/YY)",
            expiry_placeholder: "MM/YY",
            cvc: "CVC",
            pay: "Pay",
            fix: "Please correct the fields marked below.",
            success: "Payment successful",
            failed: "Payment failed",
            in_progress: "Payment in progress",
            back: "You can close this tab and go back to the chat.",
            try_again: "You can try again below, with the same or another card.",
            cancelled: "This payment request was cancelled",
            declined: "This payment request was declined",
            expired: "This payment request has expired",
            refunded: "This payment was refunded",
            already_paid: "This payment request is already paid.",
            paid_note: "Thank you! A confirmation is on its way to your chat.",
            busy: "A payment for this request is already being processed. This page updates by itself.",
            invalid_link: "This payment link is not valid",
            sandbox: "Test mode: no real money moves. Use the card 4242 4242 4242 4242 with any future date and any CVC.",
            cross_site: "This form can only be sent from its own page.",
            returned_elsewhere: "That payment was not taken: this request is being paid another way (in another tab, perhaps). Nothing was charged there.",
            gateway_unavailable: "This payment method is not available.",
            awaiting_gateway: "We are waiting for the payment provider to confirm your payment. This page updates by itself.",
            gateway_down: "The payment provider cannot be reached right now. Nothing was charged; please try again in a moment.",
            too_many: "Too many payment attempts from your connection. Nothing was charged; please wait a minute and try again.",
            with: "with",
            gateway_hint: "You pay on {}'s secure page, then come back here.",
            no_gateway: "This payment cannot be paid online here yet.",
            test_card: "Or pay with a test card",
        },
        Locale::Es => Words {
            account: "Datos de la cuenta",
            payment: "Datos de pago",
            name: "Nombre",
            email: "Correo electrónico",
            card_number: "Número de tarjeta",
            expiry: "Caducidad (MM/AA)",
            expiry_placeholder: "MM/AA",
            cvc: "CVC",
            pay: "Pagar",
            fix: "Corrige los campos marcados abajo.",
            success: "Pago realizado",
            failed: "Pago fallido",
            in_progress: "Pago en curso",
            back: "Puedes cerrar esta pestaña y volver al chat.",
            try_again: "Puedes intentarlo de nuevo abajo, con la misma u otra tarjeta.",
            cancelled: "Esta solicitud de pago fue cancelada",
            declined: "Esta solicitud de pago fue rechazada",
            expired: "Esta solicitud de pago ha caducado",
            refunded: "Este pago se ha reembolsado",
            already_paid: "Esta solicitud de pago ya está pagada.",
            paid_note: "¡Gracias! La confirmación llegará a tu chat.",
            busy: "Ya se está procesando un pago de esta solicitud. Esta página se actualiza sola.",
            invalid_link: "Este enlace de pago no es válido",
            sandbox: "Modo de prueba: no se mueve dinero real. Usa la tarjeta 4242 4242 4242 4242 con cualquier fecha futura y cualquier CVC.",
            cross_site: "Este formulario solo puede enviarse desde su propia página.",
            returned_elsewhere: "Ese pago no se ha cobrado: esta solicitud se está pagando de otra forma (quizá en otra pestaña). No se ha cobrado nada allí.",
            gateway_unavailable: "Este método de pago no está disponible.",
            awaiting_gateway: "Esperamos la confirmación del proveedor de pagos. Esta página se actualiza sola.",
            gateway_down: "Ahora no se puede contactar con el proveedor de pagos. No se ha cobrado nada; inténtalo de nuevo en un momento.",
            too_many: "Demasiados intentos de pago desde tu conexión. No se ha cobrado nada; espera un minuto e inténtalo de nuevo.",
            with: "con",
            gateway_hint: "Pagas en la página segura de {} y vuelves aquí.",
            no_gateway: "Este pago todavía no se puede pagar en línea aquí.",
            test_card: "O paga con una tarjeta de prueba",
        },
    }
}

/// The whole document around `body`.
pub fn document(locale: Locale, title: &str, head_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">{head_extra}<title>{title}</title><style>{CSS}</style></head>\
         <body><main>{body}</main></body></html>",
        lang = locale.tag(),
        title = text(title),
    )
}

/// The card's summary: brand, title, amount with recurrence, description.
pub fn summary(card: &Card, brand: &str, locale: Locale) -> String {
    let price = price_text(&card.money(), card.recurrence.as_ref(), locale);
    let description = if card.description.is_empty() {
        String::new()
    } else {
        format!("<p class=\"desc\">{}</p>", text(&card.description))
    };
    format!(
        "<section class=\"summary\" aria-label=\"{aria}\"><p class=\"brand\">{brand}</p><h1>{title}</h1>\
         <p class=\"price\">{price}</p>{description}</section>",
        aria = attr(&card.title),
        brand = text(brand),
        title = text(&card.title),
        price = text(&price),
    )
}

/// One input of the form: what it is, apart from its value and errors.
struct Input<'a> {
    id: &'a str,
    label: &'a str,
    kind: &'a str,
    autocomplete: &'a str,
    extra: &'a str,
}

fn field(input: Input<'_>, value: &str, errors: &[FieldError], locale: Locale) -> String {
    let Input {
        id,
        label,
        kind,
        autocomplete,
        extra,
    } = input;
    let error = errors.iter().find(|e| e.field == id);
    let (invalid, described, message) = match error {
        Some(e) => (
            "true",
            format!(" aria-describedby=\"{id}-error\""),
            format!(
                "<p class=\"error\" id=\"{id}-error\">{}</p>",
                text(&field_message(e, locale))
            ),
        ),
        None => ("false", String::new(), String::new()),
    };
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\" \
         autocomplete=\"{autocomplete}\" value=\"{value}\" aria-invalid=\"{invalid}\"{described} required{extra}>{message}</div>",
        label = text(label),
        value = attr(value),
    )
}

/// The page's only script (allowed by its hash, like the style): the form follows its
/// card — every few seconds, and when the tab is shown again, it asks whether the card
/// can still be paid, and if not (the operator cancelled it, it expired, it was paid in
/// another tab) shows the page as it now is; after a refused submit, the keyboard and
/// screen readers start at the error summary.
pub const FOLLOW_JS: &str = "(function(){var f=document.querySelector('form[data-follow]');if(!f)return;\
var a=f.querySelector('.alert');if(a){a.tabIndex=-1;a.focus();}\
var sent=false;f.addEventListener('submit',function(){sent=true;});\
function check(){if(sent||document.hidden)return;fetch(f.getAttribute('data-follow'),{cache:'no-store'})\
.then(function(r){return r.ok?r.json():null;}).then(function(s){if(s&&!s.payable&&!sent)location.reload();})\
.catch(function(){});}\
setInterval(check,5000);document.addEventListener('visibilitychange',check);})();";

/// The payment form, with a way to pay per method offered (`sandbox`: the card fields
/// here; `stripe`: a button to Stripe's page). The CVC is never written back into the page.
pub fn form(
    token: &str,
    card: &Card,
    locale: Locale,
    values: &CardForm,
    errors: &[FieldError],
    alert: Option<&str>,
    methods: &[&str],
) -> String {
    let w = words(locale);
    let price = card.money().format(locale);
    let alert = match (alert, errors.is_empty()) {
        (Some(message), _) => format!("<p class=\"alert\" role=\"alert\">{}</p>", text(message)),
        (None, false) => format!("<p class=\"alert\" role=\"alert\">{}</p>", text(w.fix)),
        (None, true) => String::new(),
    };
    let sandbox = methods.contains(&"sandbox");
    let redirecting: Vec<&str> = methods
        .iter()
        .copied()
        .filter(|k| *k != "sandbox")
        .collect();
    // The sandbox's card fields come first when offered, so Enter in them pays with the
    // card typed; Stripe takes the card on its own page, so its button skips them.
    let card_section = if sandbox {
        format!(
            "<fieldset><legend>{legend}</legend>{number}<div class=\"row\">{expiry}{cvc}</div></fieldset>\
             <button type=\"submit\" name=\"gateway\" value=\"sandbox\">{pay} {price}</button><p class=\"hint\">{hint}</p>",
            legend = text(if redirecting.is_empty() { w.payment } else { w.test_card }),
            number = field(Input { id: "card_number", label: w.card_number, kind: "text", autocomplete: "cc-number", extra: " inputmode=\"numeric\"" }, &values.card_number, errors, locale),
            expiry = field(Input { id: "expiry", label: w.expiry, kind: "text", autocomplete: "cc-exp", extra: &format!(" placeholder=\"{}\"", w.expiry_placeholder) }, &values.expiry, errors, locale),
            cvc = field(Input { id: "cvc", label: w.cvc, kind: "text", autocomplete: "cc-csc", extra: " inputmode=\"numeric\" maxlength=\"4\"" }, "", errors, locale),
            pay = text(w.pay),
            price = text(&price),
            hint = text(w.sandbox),
        )
    } else {
        String::new()
    };
    // A gateway with a page of its own takes the card there: its button skips the
    // card fields' checks.
    let redirect_sections: String = redirecting
        .iter()
        .map(|kind| {
            let name = paycard_core::gateways::gateway_kind(kind).map_or(*kind, |k| k.name);
            format!(
                "<button type=\"submit\" name=\"gateway\" value=\"{kind}\" formnovalidate>{pay} {price} {with} {name}</button>\
                 <p class=\"hint\">{hint}</p>",
                kind = attr(kind),
                pay = text(w.pay),
                price = text(&price),
                with = text(w.with),
                name = text(name),
                hint = text(&w.gateway_hint.replace("{}", name)),
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"/pay/{token}?lang={lang}\" data-follow=\"/pay/{token}/status\" novalidate>{alert}\
         <fieldset><legend>{account}</legend>{name}{email}</fieldset>{card_section}{redirect_sections}</form>\
         <script>{FOLLOW_JS}</script>",
        token = attr(token),
        lang = locale.tag(),
        account = text(w.account),
        name = field(Input { id: "name", label: w.name, kind: "text", autocomplete: "name", extra: "" }, &values.name, errors, locale),
        email = field(Input { id: "email", label: w.email, kind: "email", autocomplete: "email", extra: "" }, &values.email, errors, locale),
    )
}

/// An outcome or a state without a form: a heading, a line, and the way back.
/// `back`: whether to say the visitor can return to the chat (not when a form to try
/// again follows).
pub fn outcome(heading: &str, class: &str, line: &str, locale: Locale, back: bool) -> String {
    let back = if back {
        format!("<p class=\"hint\">{}</p>", text(words(locale).back))
    } else {
        String::new()
    };
    format!(
        "<section class=\"outcome\" role=\"status\"><h2 class=\"{class}\">{heading}</h2><p>{line}</p>{back}</section>",
        heading = text(heading),
        line = text(line),
    )
}

/// The failure of an attempt, in words.
pub fn failure_line(reason: Option<&str>, locale: Locale) -> String {
    let reason = failure_reason_text(reason.unwrap_or("unknown"), locale);
    let mut chars = reason.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str() + ".",
        None => String::new(),
    }
}
