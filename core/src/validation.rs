//! What makes a payment (a product or service an admin defines) acceptable.
//!
//! Validation returns every problem at once, each tied to its form field, so a form can
//! show them all next to their fields. Both the console form (as the admin types) and
//! the server (the authority) run these same functions.

use serde::{Deserialize, Serialize};

use crate::money::Currency;
use crate::recurrence::{Recurrence, COUNT_RANGE};
use crate::Locale;

pub const TITLE_MAX_CHARS: u32 = 120;
pub const DESCRIPTION_MAX_CHARS: u32 = 2000;
/// The largest amount, in major units, one card may ask for: ten million of any
/// currency. Larger requests are far more likely a typo (an extra zero or two) than a
/// sale made over chat.
pub const MAX_AMOUNT_MAJOR: i64 = 10_000_000;

/// A payment as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentDraft {
    pub brand_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub amount_minor: i64,
    pub currency: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::api::RecurrenceSchema>))]
    pub recurrence: Option<Recurrence>,
}

/// A payment that passed [`validate_payment`]: trimmed text, a known currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPayment {
    pub brand_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub recurrence: Option<Recurrence>,
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The JSON field (and form field) name: `title`, `amount_minor`, `recurrence.count`…
    pub field: String,
    #[serde(flatten)]
    pub problem: Problem,
}

/// What is wrong with a field. Serialized with a snake_case `code` and its limits, so a
/// client can write the message in its own language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooLong {
        max: u32,
    },
    InvalidCharacters,
    NotPositive,
    TooLarge {
        max: i64,
    },
    UnknownCurrency,
    OutOfRange {
        min: u32,
        max: u32,
    },
    InvalidFormat,
    /// Refers to something that does not exist (an unknown brand id, say).
    NotFound,
    /// A date (a card's expiry) that has passed.
    Expired,
}

impl FieldError {
    pub fn new(field: &str, problem: Problem) -> FieldError {
        FieldError {
            field: field.to_owned(),
            problem,
        }
    }

    /// The message shown next to the field.
    pub fn message(&self, locale: Locale) -> String {
        match (&self.problem, locale) {
            (Problem::Required, Locale::En) => "This field is required.".into(),
            (Problem::Required, Locale::Es) => "Este campo es obligatorio.".into(),
            (Problem::TooLong { max }, Locale::En) => format!("Use at most {max} characters."),
            (Problem::TooLong { max }, Locale::Es) => format!("Use como máximo {max} caracteres."),
            (Problem::InvalidCharacters, Locale::En) => {
                "Remove line breaks and control characters.".into()
            }
            (Problem::InvalidCharacters, Locale::Es) => {
                "Quite los saltos de línea y caracteres de control.".into()
            }
            (Problem::NotPositive, Locale::En) => "The amount must be greater than zero.".into(),
            (Problem::NotPositive, Locale::Es) => "El importe debe ser mayor que cero.".into(),
            (Problem::TooLarge { .. }, Locale::En) => "The amount is too large.".into(),
            (Problem::TooLarge { .. }, Locale::Es) => "El importe es demasiado alto.".into(),
            (Problem::UnknownCurrency, Locale::En) => "Choose a valid currency.".into(),
            (Problem::UnknownCurrency, Locale::Es) => "Elija una moneda válida.".into(),
            (Problem::OutOfRange { min, max }, Locale::En) => {
                format!("Enter a number from {min} to {max}.")
            }
            (Problem::OutOfRange { min, max }, Locale::Es) => {
                format!("Introduzca un número entre {min} y {max}.")
            }
            (Problem::InvalidFormat, Locale::En) => "The format is not valid.".into(),
            (Problem::InvalidFormat, Locale::Es) => "El formato no es válido.".into(),
            (Problem::NotFound, Locale::En) => "There is no such item.".into(),
            (Problem::NotFound, Locale::Es) => "No existe.".into(),
            (Problem::Expired, Locale::En) => "This date has passed.".into(),
            (Problem::Expired, Locale::Es) => "Esta fecha ya pasó.".into(),
        }
    }
}

/// The largest amount accepted for a currency, in its minor units.
pub fn max_amount_minor(currency: Currency) -> i64 {
    MAX_AMOUNT_MAJOR * currency.minor_per_major()
}

/// Checks a payment, returning the cleaned payment or every field error.
pub fn validate_payment(draft: &PaymentDraft) -> Result<ValidPayment, Vec<FieldError>> {
    let mut errors = Vec::new();

    if draft.brand_id.trim().is_empty() {
        errors.push(FieldError::new("brand_id", Problem::Required));
    }

    let title = draft.title.trim();
    if title.is_empty() {
        errors.push(FieldError::new("title", Problem::Required));
    } else if title.chars().count() > TITLE_MAX_CHARS as usize {
        errors.push(FieldError::new(
            "title",
            Problem::TooLong {
                max: TITLE_MAX_CHARS,
            },
        ));
    } else if title.chars().any(char::is_control) {
        errors.push(FieldError::new("title", Problem::InvalidCharacters));
    }

    let description = draft.description.trim();
    if description.chars().count() > DESCRIPTION_MAX_CHARS as usize {
        errors.push(FieldError::new(
            "description",
            Problem::TooLong {
                max: DESCRIPTION_MAX_CHARS,
            },
        ));
    } else if description
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        errors.push(FieldError::new("description", Problem::InvalidCharacters));
    }

    let currency = Currency::from_code(&draft.currency);
    if currency.is_none() {
        let problem = if draft.currency.trim().is_empty() {
            Problem::Required
        } else {
            Problem::UnknownCurrency
        };
        errors.push(FieldError::new("currency", problem));
    }

    if draft.amount_minor <= 0 {
        errors.push(FieldError::new("amount_minor", Problem::NotPositive));
    } else if let Some(currency) = currency {
        let max = max_amount_minor(currency);
        if draft.amount_minor > max {
            errors.push(FieldError::new("amount_minor", Problem::TooLarge { max }));
        }
    }

    if let Some(recurrence) = draft.recurrence {
        if !COUNT_RANGE.contains(&recurrence.count) {
            errors.push(FieldError::new(
                "recurrence.count",
                Problem::OutOfRange {
                    min: *COUNT_RANGE.start(),
                    max: *COUNT_RANGE.end(),
                },
            ));
        }
    }

    match currency {
        Some(currency) if errors.is_empty() => Ok(ValidPayment {
            brand_id: draft.brand_id.trim().to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            amount_minor: draft.amount_minor,
            currency,
            recurrence: draft.recurrence,
        }),
        _ => Err(errors),
    }
}

/// Checks one line of chat-like text (a message, a name): trimmed, 1 to `max` characters.
/// Messages may hold line breaks; `single_line` text may not.
pub fn validate_text(
    field: &str,
    text: &str,
    max: usize,
    single_line: bool,
) -> Result<String, FieldError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, Problem::Required));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong { max: max as u32 }));
    }
    let bad = |c: char| c.is_control() && (single_line || !matches!(c, '\n' | '\t' | '\r'));
    if trimmed.chars().any(bad) {
        return Err(FieldError::new(field, Problem::InvalidCharacters));
    }
    Ok(trimmed.to_owned())
}

/// Brand ids are slugs an admin chooses (`acme`, `zen-yoga`) and that appear in the embed
/// tag: 2–40 characters of lowercase ASCII letters, digits and inner hyphens.
pub fn validate_brand_id(id: &str) -> Result<(), FieldError> {
    let ok_len = (2..=40).contains(&id.len());
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !id.starts_with('-') && !id.ends_with('-');
    if id.is_empty() {
        Err(FieldError::new("id", Problem::Required))
    } else if ok_len && ok_chars && ok_ends {
        Ok(())
    } else {
        Err(FieldError::new("id", Problem::InvalidFormat))
    }
}

/// A website origin allowed to embed a brand's widget: `http(s)://host[:port]`, nothing
/// after it. Returns the origin as browsers send it (lowercase host, no default port,
/// no trailing slash), so it can be compared with an `Origin` header.
pub fn validate_origin(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, Problem::Required));
    }
    let invalid = || FieldError::new(field, Problem::InvalidFormat);
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        // `Url` normalises "https://a.example/" and "https://a.example" alike; anything
        // after the host other than one slash is a path the admin meant to keep.
        && !text.trim_end_matches('/').contains(['?', '#'])
        && text.matches('/').count() <= 3;
    if !bare {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

/// The cleaned name and origins of a brand (each `None` when not given).
pub type CleanBrand = (Option<String>, Option<Vec<String>>);

/// A brand as an admin defines it: its slug, a name, the origins that may embed it.
pub fn validate_brand(
    id: Option<&str>,
    name: Option<&str>,
    origins: Option<&[String]>,
) -> Result<CleanBrand, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Some(id) = id {
        if let Err(e) = validate_brand_id(id) {
            errors.push(e);
        }
    }
    let name = name.and_then(|n| {
        validate_text("name", n, BRAND_NAME_MAX_CHARS, true)
            .map_err(|e| errors.push(e))
            .ok()
    });
    let origins = origins.map(|list| {
        if list.len() > MAX_ALLOWED_ORIGINS {
            errors.push(FieldError::new(
                "allowed_origins",
                Problem::TooLong {
                    max: MAX_ALLOWED_ORIGINS as u32,
                },
            ));
        }
        let mut clean: Vec<String> = Vec::new();
        for (i, origin) in list.iter().enumerate() {
            match validate_origin(&format!("allowed_origins.{i}"), origin) {
                Ok(o) if !clean.contains(&o) => clean.push(o),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        clean
    });
    if errors.is_empty() {
        Ok((name, origins))
    } else {
        Err(errors)
    }
}

pub const BRAND_NAME_MAX_CHARS: usize = 80;
pub const MAX_ALLOWED_ORIGINS: usize = 50;
pub const PORTAL_NAME_MAX_CHARS: usize = 80;

/// A portal that passed [`validate_portal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPortal {
    pub name: String,
    pub country: String,
    pub currency: Currency,
    pub time_zone: String,
    pub edition: crate::gateways::Edition,
}

/// Checks a portal's settings. Time zones are the IANA database's, which this crate
/// does not carry: `is_time_zone` answers for a name.
pub fn validate_portal(
    input: &crate::api::PortalInput,
    is_country: impl Fn(&str) -> bool,
    is_time_zone: impl Fn(&str) -> bool,
) -> Result<ValidPortal, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = validate_text("name", &input.name, PORTAL_NAME_MAX_CHARS, true)
        .map_err(|e| errors.push(e))
        .ok();
    let country = input.country.trim().to_ascii_uppercase();
    if country.is_empty() {
        errors.push(FieldError::new("country", Problem::Required));
    } else if !is_country(&country) {
        errors.push(FieldError::new("country", Problem::NotFound));
    }
    let currency = Currency::from_code(&input.currency);
    if currency.is_none() {
        let problem = if input.currency.trim().is_empty() {
            Problem::Required
        } else {
            Problem::UnknownCurrency
        };
        errors.push(FieldError::new("currency", problem));
    }
    let time_zone = input.time_zone.trim();
    if time_zone.is_empty() {
        errors.push(FieldError::new("time_zone", Problem::Required));
    } else if !is_time_zone(time_zone) {
        errors.push(FieldError::new("time_zone", Problem::NotFound));
    }
    let edition = crate::gateways::Edition::parse(input.edition.trim());
    if edition.is_none() {
        let problem = if input.edition.trim().is_empty() {
            Problem::Required
        } else {
            Problem::InvalidFormat
        };
        errors.push(FieldError::new("edition", problem));
    }
    match (name, currency, edition) {
        (Some(name), Some(currency), Some(edition)) if errors.is_empty() => Ok(ValidPortal {
            name,
            country,
            currency,
            time_zone: time_zone.to_owned(),
            edition,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Interval;
    use proptest::prelude::*;

    fn draft() -> PaymentDraft {
        PaymentDraft {
            brand_id: "acme".into(),
            title: "  Custom mug ".into(),
            description: "A mug with your name.\nDishwasher safe.".into(),
            amount_minor: 2500,
            currency: "eur".into(),
            recurrence: None,
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &Problem)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), &e.problem))
            .collect()
    }

    #[test]
    fn a_good_payment_is_cleaned() {
        let valid = validate_payment(&draft()).unwrap();
        assert_eq!(valid.title, "Custom mug");
        assert_eq!(valid.currency.code(), "EUR");
        let monthly = PaymentDraft {
            recurrence: Some(Recurrence::every(365, Interval::Day)),
            ..draft()
        };
        assert!(validate_payment(&monthly).is_ok());
    }

    #[test]
    fn title_length_is_counted_in_characters() {
        let ok = PaymentDraft {
            title: "ñ".repeat(120),
            ..draft()
        };
        assert!(validate_payment(&ok).is_ok());
        let long = PaymentDraft {
            title: "ñ".repeat(121),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&long).unwrap_err()),
            vec![("title", &Problem::TooLong { max: 120 })]
        );
        let blank = PaymentDraft {
            title: "   ".into(),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&blank).unwrap_err()),
            vec![("title", &Problem::Required)]
        );
        let newline = PaymentDraft {
            title: "Mug\nfree".into(),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&newline).unwrap_err()),
            vec![("title", &Problem::InvalidCharacters)]
        );
    }

    #[test]
    fn description_is_optional_but_bounded() {
        assert!(validate_payment(&PaymentDraft {
            description: String::new(),
            ..draft()
        })
        .is_ok());
        assert!(validate_payment(&PaymentDraft {
            description: "x".repeat(2000),
            ..draft()
        })
        .is_ok());
        let long = PaymentDraft {
            description: "x".repeat(2001),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&long).unwrap_err()),
            vec![("description", &Problem::TooLong { max: 2000 })]
        );
    }

    #[test]
    fn amounts_are_positive_and_sane_for_their_currency() {
        for amount in [0, -1, i64::MIN] {
            let d = PaymentDraft {
                amount_minor: amount,
                ..draft()
            };
            assert_eq!(
                codes(&validate_payment(&d).unwrap_err()),
                vec![("amount_minor", &Problem::NotPositive)]
            );
        }
        let max_eur = 10_000_000 * 100;
        assert!(validate_payment(&PaymentDraft {
            amount_minor: max_eur,
            ..draft()
        })
        .is_ok());
        let too_much = PaymentDraft {
            amount_minor: max_eur + 1,
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&too_much).unwrap_err()),
            vec![("amount_minor", &Problem::TooLarge { max: max_eur })]
        );
        let yen = PaymentDraft {
            amount_minor: 10_000_001,
            currency: "JPY".into(),
            ..draft()
        };
        assert!(
            validate_payment(&yen).is_err(),
            "the maximum follows the currency's exponent"
        );
    }

    #[test]
    fn currency_must_be_known() {
        let d = PaymentDraft {
            currency: "EURO".into(),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&d).unwrap_err()),
            vec![("currency", &Problem::UnknownCurrency)]
        );
        let d = PaymentDraft {
            currency: "".into(),
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&d).unwrap_err()),
            vec![("currency", &Problem::Required)]
        );
    }

    #[test]
    fn recurrence_count_is_1_to_365() {
        for count in [0, 366] {
            let d = PaymentDraft {
                recurrence: Some(Recurrence::every(count, Interval::Week)),
                ..draft()
            };
            assert_eq!(
                codes(&validate_payment(&d).unwrap_err()),
                vec![(
                    "recurrence.count",
                    &Problem::OutOfRange { min: 1, max: 365 }
                )]
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once_and_serializes_with_a_code() {
        let d = PaymentDraft {
            brand_id: "".into(),
            title: "".into(),
            description: "".into(),
            amount_minor: 0,
            currency: "???".into(),
            recurrence: Some(Recurrence::every(0, Interval::Month)),
        };
        let errors = validate_payment(&d).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "brand_id",
                "title",
                "currency",
                "amount_minor",
                "recurrence.count"
            ]
        );
        let json = serde_json::to_value(&errors[4]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"field": "recurrence.count", "code": "out_of_range", "min": 1, "max": 365})
        );
        assert_eq!(errors[1].message(Locale::Es), "Este campo es obligatorio.");
        assert_eq!(
            errors[4].message(Locale::En),
            "Enter a number from 1 to 365."
        );
    }

    #[test]
    fn chat_text_is_trimmed_and_bounded() {
        assert_eq!(
            validate_text("text", "  hi\nthere ", 10, false),
            Ok("hi\nthere".into())
        );
        assert_eq!(
            validate_text("text", "   ", 10, false).unwrap_err().problem,
            Problem::Required
        );
        assert_eq!(
            validate_text("text", &"é".repeat(11), 10, false)
                .unwrap_err()
                .problem,
            Problem::TooLong { max: 10 }
        );
        assert_eq!(
            validate_text("name", "Ana\nB", 10, true)
                .unwrap_err()
                .problem,
            Problem::InvalidCharacters
        );
        assert_eq!(
            validate_text("text", "a\u{0}b", 10, false)
                .unwrap_err()
                .problem,
            Problem::InvalidCharacters
        );
    }

    #[test]
    fn brand_ids_are_slugs() {
        assert!(validate_brand_id("acme").is_ok());
        assert!(validate_brand_id("zen-yoga-2").is_ok());
        for bad in [
            "",
            "a",
            "Acme",
            "acme!",
            "-acme",
            "acme-",
            "ac me",
            &"a".repeat(41),
        ] {
            assert!(validate_brand_id(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// Validation never panics, and whatever it accepts meets every rule.
        #[test]
        fn accepted_payments_meet_every_rule(
            title in ".{0,130}",
            description in ".{0,50}",
            amount_minor in any::<i64>(),
            currency in prop::sample::select(vec!["EUR", "JPY", "KWD", "XAU", "nope", ""]),
            count in 0u32..400,
        ) {
            let d = PaymentDraft {
                brand_id: "acme".into(), title, description, amount_minor,
                currency: currency.into(), recurrence: Some(Recurrence::every(count, Interval::Week)),
            };
            if let Ok(v) = validate_payment(&d) {
                let n = v.title.chars().count();
                prop_assert!((1..=120).contains(&n));
                prop_assert!(v.amount_minor > 0 && v.amount_minor <= max_amount_minor(v.currency));
                prop_assert!((1..=365).contains(&v.recurrence.unwrap().count));
            }
        }
    }

    #[test]
    fn origins_are_bare_and_normalised() {
        assert_eq!(
            validate_origin("o", "https://Shop.Example/").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            validate_origin("o", "http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(
            validate_origin("o", "https://shop.example:443").unwrap(),
            "https://shop.example"
        );
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://user@shop.example",
            "https://shop.example?x=1",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                validate_origin("o", bad).unwrap_err().problem,
                Problem::InvalidFormat,
                "{bad}"
            );
        }
        assert_eq!(
            validate_origin("o", " ").unwrap_err().problem,
            Problem::Required
        );
    }

    #[test]
    fn a_brand_reports_every_field() {
        let origins = vec!["https://a.example".to_owned(), "nope".to_owned()];
        let errors = validate_brand(Some("Bad Slug"), Some(""), Some(&origins)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["id", "name", "allowed_origins.1"]);
        let dup = vec![
            "https://a.example".to_owned(),
            "https://A.example/".to_owned(),
        ];
        let (name, origins) = validate_brand(None, Some(" Acme "), Some(&dup)).unwrap();
        assert_eq!(name.as_deref(), Some("Acme"));
        assert_eq!(origins.unwrap(), vec!["https://a.example"]);
    }

    #[test]
    fn a_portal_needs_known_country_currency_zone_and_edition() {
        let input = crate::api::PortalInput {
            name: " Acme EU ".into(),
            country: "es".into(),
            currency: "EUR".into(),
            time_zone: "Europe/Madrid".into(),
            edition: "standard".into(),
        };
        let is_country = |c: &str| c == "ES";
        let is_zone = |z: &str| z == "Europe/Madrid";
        let valid = validate_portal(&input, is_country, is_zone).unwrap();
        assert_eq!(valid.name, "Acme EU");
        assert_eq!(valid.country, "ES");
        let bad = crate::api::PortalInput {
            name: "".into(),
            country: "XX".into(),
            currency: "EURO".into(),
            time_zone: "Mars/Olympus".into(),
            edition: "gold".into(),
        };
        let errors = validate_portal(&bad, is_country, is_zone).unwrap_err();
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), &e.problem))
            .collect();
        assert_eq!(
            got,
            vec![
                ("name", &Problem::Required),
                ("country", &Problem::NotFound),
                ("currency", &Problem::UnknownCurrency),
                ("time_zone", &Problem::NotFound),
                ("edition", &Problem::InvalidFormat),
            ]
        );
    }
}
