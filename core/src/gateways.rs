//! The payment gateways the product knows, the portal editions that offer them, the
//! shape of each gateway's credentials, and how a secret is shown once stored.
//!
//! This is the catalogue; whether a kind can really take payments is the server's
//! business ([`GatewayKind::works`] records it, so a kind that does not work yet is
//! never offered, SPEC §4).

use serde::{Deserialize, Serialize};

use crate::problem::{FieldError, Problem};
use crate::Locale;

/// A portal's plan. It decides which gateways an admin may add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    Free,
    Standard,
    Professional,
}

impl Edition {
    pub const ALL: [Edition; 3] = [Edition::Free, Edition::Standard, Edition::Professional];

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Free => "free",
            Edition::Standard => "standard",
            Edition::Professional => "professional",
        }
    }

    pub fn parse(s: &str) -> Option<Edition> {
        Edition::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn label(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Edition::Free, Locale::En) => "Free",
            (Edition::Free, Locale::Es) => "Gratuita",
            (Edition::Standard, Locale::En) => "Standard",
            (Edition::Standard, Locale::Es) => "Estándar",
            (Edition::Professional, Locale::En) => "Professional",
            (Edition::Professional, Locale::Es) => "Profesional",
        }
    }
}

/// What a credential value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One of `prefixes`, then at least `min_rest` letters, digits or underscores.
    Prefixed {
        prefixes: &'static [&'static str],
        min_rest: usize,
    },
    /// `min..=max` letters, digits, `-` or `_`.
    Token { min: usize, max: usize },
}

impl Shape {
    /// The shape as a JSON Schema pattern, for the API's schema.
    pub fn pattern(self) -> String {
        match self {
            Shape::Prefixed { prefixes, min_rest } => {
                format!("^({})[A-Za-z0-9_]{{{min_rest},}}$", prefixes.join("|"))
            }
            Shape::Token { min, max } => format!("^[A-Za-z0-9_-]{{{min},{max}}}$"),
        }
    }

    fn accepts(self, value: &str) -> bool {
        let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        match self {
            Shape::Prefixed { prefixes, min_rest } => prefixes.iter().any(|p| {
                value.strip_prefix(p).is_some_and(|rest| {
                    rest.len() >= min_rest
                        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            }),
            Shape::Token { min, max } => {
                (min..=max).contains(&value.len()) && value.chars().all(token_char)
            }
        }
    }
}

/// One field of a gateway's credential form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialField {
    /// The JSON key (`secret_key`).
    pub name: &'static str,
    pub label_en: &'static str,
    pub label_es: &'static str,
    /// Secret fields are never shown again once saved, only masked.
    pub secret: bool,
    pub shape: Shape,
    /// An example of the shape, for the form's hint.
    pub example: &'static str,
}

impl CredentialField {
    pub fn label(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::En => self.label_en,
            Locale::Es => self.label_es,
        }
    }
}

/// A kind of gateway the product knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayKind {
    pub kind: &'static str,
    pub name: &'static str,
    pub fields: &'static [CredentialField],
    pub editions: &'static [Edition],
    /// Whether paycard can take payments through it. Kinds that cannot are never
    /// offered: a gateway appears in the list only once it really works.
    pub works: bool,
    /// The notifications to subscribe to where the webhook endpoint is registered at the
    /// gateway (what paycard acts on); empty for a gateway that sends none.
    pub webhook_events: &'static [&'static str],
    /// The currencies and amounts it takes.
    pub takes: Takes,
    /// Whether it can take a recurring payment (Stripe: a subscription).
    pub recurring: bool,
}

/// What money a gateway takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Every ISO 4217 currency, each in its own minor unit.
    Any,
    /// Only these currencies (ISO codes). Some take amounts coarser than the currency's
    /// minor unit: in `whole`, whole units only (PayPal: HUF, TWD); in `tens`, a last
    /// minor digit of 0 (Razorpay's three-decimal currencies: KWD, BHD, OMR).
    Currencies {
        codes: &'static [&'static str],
        whole: &'static [&'static str],
        tens: &'static [&'static str],
    },
}

/// Why a gateway cannot take a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It takes one-time payments only.
    Recurring,
    /// Not in this currency.
    Currency,
    /// Not this exact amount in this currency (finer than the gateway counts it).
    Amount,
}

impl Refusal {
    /// The reason, as the admin's payment form and the checkout say it.
    pub fn message(self, gateway: &str, currency: &str, locale: Locale) -> String {
        match (self, locale) {
            (Refusal::Recurring, Locale::En) => format!("{gateway} takes one-time payments only."),
            (Refusal::Recurring, Locale::Es) => format!("{gateway} solo acepta pagos únicos."),
            (Refusal::Currency, Locale::En) => format!("{gateway} does not take {currency}."),
            (Refusal::Currency, Locale::Es) => format!("{gateway} no acepta {currency}."),
            (Refusal::Amount, Locale::En) => {
                format!("{gateway} takes {currency} amounts in coarser steps only.")
            }
            (Refusal::Amount, Locale::Es) => {
                format!("{gateway} solo acepta importes en {currency} redondeados.")
            }
        }
    }
}

impl GatewayKind {
    /// Whether it can take `amount_minor` of `currency`, once or recurring; why not if
    /// it cannot. The checkout offers only the gateways that can.
    pub fn refusal(
        &self,
        amount_minor: i64,
        currency: crate::Currency,
        recurring: bool,
    ) -> Option<Refusal> {
        if recurring && !self.recurring {
            return Some(Refusal::Recurring);
        }
        let Takes::Currencies { codes, whole, tens } = self.takes else {
            return None;
        };
        let code = currency.code();
        if !codes.contains(&code) {
            return Some(Refusal::Currency);
        }
        let step = if whole.contains(&code) {
            currency.minor_per_major()
        } else if tens.contains(&code) {
            10
        } else {
            1
        };
        (amount_minor % step != 0).then_some(Refusal::Amount)
    }
}

const ALL_EDITIONS: &[Edition] = &[Edition::Free, Edition::Standard, Edition::Professional];
const PAID_EDITIONS: &[Edition] = &[Edition::Standard, Edition::Professional];

pub const SANDBOX: &str = "sandbox";
pub const STRIPE: &str = "stripe";
pub const PAYPAL: &str = "paypal";
pub const RAZORPAY: &str = "razorpay";

/// Every gateway kind of SPEC §4, in the order the Add dialog lists them.
pub const GATEWAY_KINDS: &[GatewayKind] = &[
    GatewayKind {
        kind: SANDBOX,
        name: "Sandbox",
        fields: &[],
        editions: ALL_EDITIONS,
        works: true,
        webhook_events: &[],
        takes: Takes::Any,
        recurring: true,
    },
    GatewayKind {
        kind: STRIPE,
        name: "Stripe",
        fields: &[
            CredentialField {
                name: "secret_key",
                label_en: "Secret key",
                label_es: "Clave secreta",
                secret: true,
                shape: Shape::Prefixed {
                    prefixes: &["sk_test_", "sk_live_", "rk_test_", "rk_live_"],
                    min_rest: 1,
                },
                example: "sk_test_…",
            },
            CredentialField {
                name: "webhook_secret",
                label_en: "Webhook signing secret",
                label_es: "Secreto de firma de webhooks",
                secret: true,
                shape: Shape::Prefixed {
                    prefixes: &["whsec_"],
                    min_rest: 1,
                },
                example: "whsec_…",
            },
        ],
        editions: ALL_EDITIONS,
        works: true,
        webhook_events: &[
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.async_payment_failed",
            "checkout.session.expired",
            "refund.updated",
            "refund.failed",
            "charge.refunded",
        ],
        takes: Takes::Any,
        recurring: true,
    },
    GatewayKind {
        kind: PAYPAL,
        name: "PayPal",
        fields: &[
            CredentialField {
                name: "client_id",
                label_en: "Client ID",
                label_es: "ID de cliente",
                secret: false,
                shape: Shape::Token { min: 16, max: 128 },
                example: "AX…",
            },
            CredentialField {
                name: "client_secret",
                label_en: "Client secret",
                label_es: "Secreto de cliente",
                secret: true,
                shape: Shape::Token { min: 16, max: 128 },
                example: "EL…",
            },
            CredentialField {
                name: "webhook_id",
                label_en: "Webhook ID",
                label_es: "ID del webhook",
                secret: false,
                shape: Shape::Token { min: 8, max: 64 },
                example: "8PT597110X687430LKGECATA",
            },
        ],
        editions: PAID_EDITIONS,
        works: true,
        webhook_events: &[
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.CAPTURE.COMPLETED",
            "PAYMENT.CAPTURE.PENDING",
            "PAYMENT.CAPTURE.DENIED",
            "PAYMENT.CAPTURE.DECLINED",
            "PAYMENT.CAPTURE.REFUNDED",
        ],
        // PayPal's currencies (developer.paypal.com, "Currency codes"); HUF and TWD in
        // whole units only.
        takes: Takes::Currencies {
            codes: &[
                "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR",
                "MXN", "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD",
            ],
            whole: &["HUF", "TWD"],
            tens: &[],
        },
        // Billing plans are not built: one-time payments only.
        recurring: false,
    },
    GatewayKind {
        kind: RAZORPAY,
        name: "Razorpay",
        fields: &[
            CredentialField {
                name: "key_id",
                label_en: "Key ID",
                label_es: "ID de clave",
                secret: false,
                shape: Shape::Prefixed {
                    prefixes: &["rzp_test_", "rzp_live_"],
                    min_rest: 8,
                },
                example: "rzp_test_…",
            },
            CredentialField {
                name: "key_secret",
                label_en: "Key secret",
                label_es: "Secreto de clave",
                secret: true,
                shape: Shape::Token { min: 16, max: 64 },
                example: "",
            },
            CredentialField {
                name: "webhook_secret",
                label_en: "Webhook secret",
                label_es: "Secreto de webhooks",
                secret: true,
                shape: Shape::Token { min: 8, max: 128 },
                example: "",
            },
        ],
        editions: PAID_EDITIONS,
        works: true,
        webhook_events: &[
            "payment_link.paid",
            "payment_link.cancelled",
            "payment_link.expired",
            "refund.processed",
            "refund.failed",
        ],
        // Payment Links in rupees and the international currencies Razorpay lists; its
        // three-decimal currencies take amounts whose last digit is 0.
        takes: Takes::Currencies {
            codes: &[
                "INR", "AED", "AUD", "BHD", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "JPY",
                "KWD", "MYR", "NOK", "NZD", "OMR", "QAR", "SAR", "SEK", "SGD", "THB", "USD", "ZAR",
            ],
            whole: &[],
            tens: &["BHD", "KWD", "OMR"],
        },
        // Razorpay Subscriptions are not built: one-time payments only.
        recurring: false,
    },
];

/// A kind by its name, whether or not it is offered.
pub fn gateway_kind(kind: &str) -> Option<&'static GatewayKind> {
    GATEWAY_KINDS.iter().find(|k| k.kind == kind)
}

/// The kinds a portal of `edition` offers: those of its edition that really work.
pub fn offered_kinds(edition: Edition) -> impl Iterator<Item = &'static GatewayKind> {
    GATEWAY_KINDS
        .iter()
        .filter(move |k| k.works && k.editions.contains(&edition))
}

/// Checks a credential form: every field of the kind present and of its shape (exactly
/// as sent: the API's schema states the shape), nothing else. Returns the values in the
/// kind's field order.
pub fn validate_credentials(
    kind: &GatewayKind,
    given: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(&'static str, String)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values = Vec::new();
    for field in kind.fields {
        let key = format!("credentials.{}", field.name);
        match given.get(field.name).map(String::as_str) {
            None | Some("") => errors.push(FieldError::new(&key, Problem::Required)),
            Some(value) if !field.shape.accepts(value) => {
                errors.push(FieldError::new(&key, Problem::InvalidFormat))
            }
            Some(value) => values.push((field.name, value.to_owned())),
        }
    }
    for name in given.keys() {
        if !kind.fields.iter().any(|f| f.name == name) {
            errors.push(FieldError::new(
                &format!("credentials.{name}"),
                Problem::NotFound,
            ));
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// How a stored credential is shown: a secret keeps only its kind prefix and last four
/// characters (`sk_test_…4242`); a short secret shows nothing of itself. Non-secret
/// fields (a PayPal client id) are shown whole.
pub fn mask(field: &CredentialField, value: &str) -> String {
    if !field.secret {
        return value.to_owned();
    }
    mask_secret(value)
}

pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    // The prefix is the part up to the last underscore among the first ten characters
    // (`sk_test_`, `whsec_`, `rzp_live_`): it names the key's kind, not the key.
    let prefix_len = chars
        .iter()
        .take(10)
        .rposition(|c| *c == '_')
        .map(|i| i + 1)
        .unwrap_or(0);
    let prefix: String = chars[..prefix_len].iter().collect();
    let rest = chars.len() - prefix_len;
    // The last four say which key it is; shown only when they are a small part of it.
    if rest >= 12 {
        let last4: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}…{last4}")
    } else {
        format!("{prefix}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn stripe() -> &'static GatewayKind {
        gateway_kind(STRIPE).unwrap()
    }

    fn creds(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secrets_are_masked_to_their_prefix_and_last_four() {
        assert_eq!(mask_secret("sk_test_51HxYzAbCdEfGh4242"), "sk_test_…4242");
        assert_eq!(mask_secret("whsec_abcdefghijklmnop9876"), "whsec_…9876");
        assert_eq!(mask_secret("abcdefghijklmnopqrstu1234"), "…1234");
        assert_eq!(
            mask_secret("sk_test_4242"),
            "sk_test_…",
            "too short to show any of it"
        );
        assert_eq!(mask_secret("short"), "…");
        let field = &stripe().fields[0];
        assert!(!mask(field, "sk_test_51HxYzAbCdEfGh4242").contains("51Hx"));
    }

    #[test]
    fn credentials_are_checked_for_shape() {
        let ok = creds(&[
            ("secret_key", "sk_test_51HxYzAbCdEfGh4242"),
            ("webhook_secret", "whsec_abcdefghijklmnop9876"),
        ]);
        let values = validate_credentials(stripe(), &ok).unwrap();
        assert_eq!(
            values[0],
            ("secret_key", "sk_test_51HxYzAbCdEfGh4242".into())
        );

        let bad = creds(&[
            ("secret_key", "pk_test_51HxYzAbCdEfGh4242"),
            ("colour", "red"),
        ]);
        let errors = validate_credentials(stripe(), &bad).unwrap_err();
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), &e.problem))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("credentials.secret_key", &Problem::InvalidFormat),
                ("credentials.webhook_secret", &Problem::Required),
                ("credentials.colour", &Problem::NotFound),
            ]
        );
    }

    #[test]
    fn only_working_kinds_of_the_edition_are_offered() {
        for edition in Edition::ALL {
            let offered: Vec<_> = offered_kinds(edition).map(|k| k.kind).collect();
            assert!(offered.contains(&SANDBOX), "{edition:?}");
            assert!(offered.contains(&STRIPE), "{edition:?}");
        }
        let standard: Vec<_> = offered_kinds(Edition::Standard).map(|k| k.kind).collect();
        assert!(standard.contains(&PAYPAL) && standard.contains(&RAZORPAY));
        let free: Vec<_> = offered_kinds(Edition::Free).map(|k| k.kind).collect();
        assert!(
            !free.contains(&PAYPAL) && !free.contains(&RAZORPAY),
            "paid editions only"
        );
        assert_eq!(Edition::parse("standard"), Some(Edition::Standard));
        assert_eq!(Edition::parse("gold"), None);
    }

    #[test]
    fn each_gateway_takes_its_currencies_amounts_and_recurrences() {
        let cur = |c| crate::Currency::from_code(c).unwrap();
        let paypal = gateway_kind(PAYPAL).unwrap();
        let razorpay = gateway_kind(RAZORPAY).unwrap();
        assert_eq!(stripe().refusal(2500, cur("KWD"), true), None);
        assert_eq!(paypal.refusal(2500, cur("EUR"), false), None);
        assert_eq!(
            paypal.refusal(2500, cur("EUR"), true),
            Some(Refusal::Recurring)
        );
        assert_eq!(
            paypal.refusal(2500, cur("INR"), false),
            Some(Refusal::Currency)
        );
        assert_eq!(paypal.refusal(150_000, cur("HUF"), false), None);
        assert_eq!(
            paypal.refusal(150_050, cur("HUF"), false),
            Some(Refusal::Amount)
        );
        assert_eq!(paypal.refusal(1500, cur("JPY"), false), None);
        assert_eq!(razorpay.refusal(49_900, cur("INR"), false), None);
        assert_eq!(razorpay.refusal(295_990, cur("KWD"), false), None);
        assert_eq!(
            razorpay.refusal(295_991, cur("KWD"), false),
            Some(Refusal::Amount)
        );
        assert_eq!(
            razorpay.refusal(100, cur("MXN"), false),
            Some(Refusal::Currency)
        );
        assert_eq!(
            Refusal::Recurring.message("PayPal", "EUR", Locale::Es),
            "PayPal solo acepta pagos únicos."
        );
    }

    proptest::proptest! {
        /// Each shape's pattern says exactly what the shape accepts.
        #[test]
        fn shape_patterns_match_the_rules(value in "(sk_test_|sk_live_|rk_test_|whsec_|rzp_live_|x)?[A-Za-z0-9_ -]{0,20}") {
            for kind in GATEWAY_KINDS {
                for field in kind.fields {
                    let re = regex::Regex::new(&field.shape.pattern()).unwrap();
                    proptest::prop_assert_eq!(field.shape.accepts(&value), re.is_match(&value), "{} {:?}", field.name, value);
                }
            }
        }
    }
}
