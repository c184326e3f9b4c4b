//! What makes a payment (a product or service an admin defines) acceptable.
//!
//! Validation returns every problem at once, each tied to its form field, so a form can
//! show them all next to their fields. Both the console form (as the admin types) and
//! the server (the authority) run these same functions.

use serde::{Deserialize, Serialize};

use crate::money::Currency;
pub use crate::problem::{FieldError, Problem};
use crate::recurrence::{Recurrence, COUNT_RANGE};

pub const TITLE_MAX_CHARS: u32 = 120;
pub const DESCRIPTION_MAX_CHARS: u32 = 2000;
/// The most one card may ask for, in minor units of its currency: what card gateways
/// take in one charge (Stripe's limit: €999,999.99, ¥99,999,999). One rule for every
/// currency, so that the API's schema can state it.
pub const AMOUNT_MINOR_MAX: i64 = 99_999_999;

/// The rules below as JSON Schema patterns (ECMA-262 syntax, which the regex crate and
/// Python's `re` read alike), for the API's OpenAPI document. A property test checks that
/// each pattern accepts exactly what its function accepts.
pub mod pattern {
    /// One line of text ([`super::validate_text`], single line): no control characters,
    /// at least one character that is not white space.
    pub const LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$";
    /// Text of several lines ([`super::validate_text`]): as [`LINE`], with tabs and line
    /// breaks allowed.
    pub const BLOCK: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
    /// Optional text of several lines ([`super::validate_optional_block`]): may be empty.
    pub const OPTIONAL_BLOCK: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
    /// A brand id ([`super::validate_brand_id`]).
    pub const BRAND_ID: &str = r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$";
    /// A website origin ([`super::validate_origin`]).
    /// A webhook endpoint's address as the contract states it: https, a host name
    /// (not an address) ending in a label that starts with a letter, an optional port
    /// and path. The server also checks where the name leads when it delivers.
    pub const WEBHOOK_URL: &str = r"^https://[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]([a-z0-9-]{0,61}[a-z0-9])?(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[!-~]*)?$";
    pub const ORIGIN: &str = r"^https?://[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$";
}

/// A payment as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentDraft {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::brand_id))]
    pub brand_id: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::title))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::description))]
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::amount_minor))]
    #[serde(deserialize_with = "crate::whole::number")]
    pub amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::currency))]
    pub currency: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::recurrence_or_null))]
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

/// Checks a payment, returning the cleaned payment or every field error.
pub fn validate_payment(draft: &PaymentDraft) -> Result<ValidPayment, Vec<FieldError>> {
    let mut errors = Vec::new();

    if let Err(e) = validate_brand_id(&draft.brand_id) {
        errors.push(FieldError::new("brand_id", e.problem));
    }

    let title = validate_text("title", &draft.title, TITLE_MAX_CHARS as usize, true)
        .map_err(|e| errors.push(e))
        .ok();

    let description = validate_optional_block(
        "description",
        &draft.description,
        DESCRIPTION_MAX_CHARS as usize,
    )
    .map_err(|e| errors.push(e))
    .ok();

    let currency = Currency::from_exact_code(&draft.currency);
    if currency.is_none() {
        let problem = if draft.currency.is_empty() {
            Problem::Required
        } else {
            Problem::UnknownCurrency
        };
        errors.push(FieldError::new("currency", problem));
    }

    if draft.amount_minor <= 0 {
        errors.push(FieldError::new("amount_minor", Problem::NotPositive));
    } else if draft.amount_minor > AMOUNT_MINOR_MAX {
        errors.push(FieldError::new(
            "amount_minor",
            Problem::TooLarge {
                max: AMOUNT_MINOR_MAX,
            },
        ));
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

    match (title, description, currency) {
        (Some(title), Some(description), Some(currency)) if errors.is_empty() => Ok(ValidPayment {
            brand_id: draft.brand_id.clone(),
            title,
            description,
            amount_minor: draft.amount_minor,
            currency,
            recurrence: draft.recurrence,
        }),
        _ => Err(errors),
    }
}

/// Checks chat-like text (a message, a name, a title): 1 to `max` characters as sent,
/// not blank, no control characters (but tabs and line breaks when not `single_line`).
/// Returns it trimmed. The API's schema states the same rule ([`pattern::LINE`],
/// [`pattern::BLOCK`] and `maxLength`), which is why the length counts what was sent.
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
    if text.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong { max: max as u32 }));
    }
    if text.chars().any(|c| forbidden(c, single_line)) {
        return Err(FieldError::new(field, Problem::InvalidCharacters));
    }
    Ok(trimmed.to_owned())
}

/// Checks an email address (a payer's, a visitor's): required, well formed, with a dot
/// in its domain (`ana@localhost` is no one's inbox). Returns it trimmed.
pub fn validate_email(field: &str, text: &str) -> Result<String, FieldError> {
    let email = text.trim();
    if email.is_empty() {
        Err(FieldError::new(field, Problem::Required))
    } else if email.chars().count() > 254
        || !email_address::EmailAddress::is_valid(email)
        || !email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'))
    {
        Err(FieldError::new(field, Problem::InvalidFormat))
    } else {
        Ok(email.to_owned())
    }
}

/// Checks optional text of several lines (a description): at most `max` characters as
/// sent, no control characters but tabs and line breaks ([`pattern::OPTIONAL_BLOCK`]).
/// Returns it trimmed, possibly empty.
pub fn validate_optional_block(field: &str, text: &str, max: usize) -> Result<String, FieldError> {
    if text.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong { max: max as u32 }));
    }
    if text.chars().any(|c| forbidden(c, false)) {
        return Err(FieldError::new(field, Problem::InvalidCharacters));
    }
    Ok(text.trim().to_owned())
}

/// Control characters are refused; tabs and line breaks only on one line.
fn forbidden(c: char, single_line: bool) -> bool {
    c.is_control() && (single_line || !matches!(c, '\n' | '\t' | '\r'))
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

/// A website origin allowed to embed a brand's widget: `http(s)://host[:port]`, with a
/// lowercase ASCII host name or address (punycode for international names), nothing
/// after it but an optional slash ([`pattern::ORIGIN`]). Returns it as browsers send
/// `Origin` (no default port, no slash), so the two can be compared.
pub fn validate_origin(field: &str, text: &str) -> Result<String, FieldError> {
    if text.is_empty() {
        return Err(FieldError::new(field, Problem::Required));
    }
    let invalid = || FieldError::new(field, Problem::InvalidFormat);
    let (scheme, rest) = text.split_once("://").ok_or_else(invalid)?;
    if scheme != "http" && scheme != "https" {
        return Err(invalid());
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !host.split('.').all(label_ok) {
        return Err(invalid());
    }
    let port = match port {
        None => None,
        Some(p) => {
            let ok = !p.is_empty()
                && p.len() <= 5
                && !p.starts_with('0')
                && p.bytes().all(|b| b.is_ascii_digit());
            let n = p
                .parse::<u32>()
                .ok()
                .filter(|n| ok && (1..=65535).contains(n));
            Some(n.ok_or_else(invalid)?)
        }
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
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

/// An API key's name and brands, cleaned: the name trimmed, the brands each a valid id,
/// without repeats, sorted.
pub fn validate_api_key(
    name: &str,
    brand_ids: &[String],
) -> Result<(String, Vec<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = validate_text("name", name, API_KEY_NAME_MAX_CHARS, true)
        .map_err(|e| errors.push(e))
        .ok();
    if brand_ids.is_empty() {
        errors.push(FieldError::new("brand_ids", Problem::Required));
    } else if brand_ids.len() > MAX_API_KEY_BRANDS {
        errors.push(FieldError::new(
            "brand_ids",
            Problem::TooLong {
                max: MAX_API_KEY_BRANDS as u32,
            },
        ));
    }
    let mut brands = Vec::new();
    for (i, id) in brand_ids.iter().enumerate() {
        match validate_brand_id(id) {
            Ok(()) => brands.push(id.clone()),
            Err(e) => errors.push(FieldError::new(&format!("brand_ids.{i}"), e.problem)),
        }
    }
    brands.sort();
    brands.dedup();
    match name {
        Some(name) if errors.is_empty() => Ok((name, brands)),
        _ => Err(errors),
    }
}

/// A refund's amount and reason, cleaned, given what is `left` to refund (paid, less
/// what was refunded or is on its way back): no amount is all of it.
pub fn validate_refund(
    amount_minor: Option<i64>,
    reason: Option<&str>,
    left: i64,
) -> Result<(i64, Option<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let amount = amount_minor.unwrap_or(left);
    if amount < 1 {
        errors.push(FieldError::new("amount_minor", Problem::NotPositive));
    } else if amount > left {
        errors.push(FieldError::new(
            "amount_minor",
            Problem::TooLarge { max: left },
        ));
    }
    let reason = match reason.map(str::trim) {
        None | Some("") => None,
        Some(_) => validate_text(
            "reason",
            reason.unwrap_or(""),
            REFUND_REASON_MAX_CHARS,
            true,
        )
        .map_err(|e| errors.push(e))
        .ok(),
    };
    if errors.is_empty() {
        Ok((amount, reason))
    } else {
        Err(errors)
    }
}

pub const REFUND_REASON_MAX_CHARS: usize = 200;
pub const API_KEY_NAME_MAX_CHARS: usize = 80;
pub const MAX_API_KEY_BRANDS: usize = 50;
pub const WEBHOOK_URL_MAX_CHARS: usize = 2000;
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
    let country = input.country.clone();
    if country.is_empty() {
        errors.push(FieldError::new("country", Problem::Required));
    } else if !is_country(&country) {
        errors.push(FieldError::new("country", Problem::NotFound));
    }
    let currency = Currency::from_exact_code(&input.currency);
    if currency.is_none() {
        let problem = if input.currency.is_empty() {
            Problem::Required
        } else {
            Problem::UnknownCurrency
        };
        errors.push(FieldError::new("currency", problem));
    }
    let time_zone = input.time_zone.as_str();
    if time_zone.is_empty() {
        errors.push(FieldError::new("time_zone", Problem::Required));
    } else if !is_time_zone(time_zone) {
        errors.push(FieldError::new("time_zone", Problem::NotFound));
    }
    let edition = crate::gateways::Edition::parse(&input.edition);
    if edition.is_none() {
        let problem = if input.edition.is_empty() {
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
    use crate::{Interval, Locale};
    use proptest::prelude::*;

    fn draft() -> PaymentDraft {
        PaymentDraft {
            brand_id: "acme".into(),
            title: "  Custom mug ".into(),
            description: "A mug with your name.\nDishwasher safe.".into(),
            amount_minor: 2500,
            currency: "EUR".into(),
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
    fn amounts_are_positive_and_within_one_charge() {
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
        for currency in ["EUR", "JPY", "KWD"] {
            assert!(validate_payment(&PaymentDraft {
                amount_minor: 99_999_999,
                currency: currency.into(),
                ..draft()
            })
            .is_ok());
        }
        let too_much = PaymentDraft {
            amount_minor: 100_000_000,
            ..draft()
        };
        assert_eq!(
            codes(&validate_payment(&too_much).unwrap_err()),
            vec![(
                "amount_minor",
                &Problem::TooLarge {
                    max: AMOUNT_MINOR_MAX
                }
            )]
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
        // The API takes the code as its schema lists it.
        for loose in ["eur", " EUR", "EUR "] {
            let d = PaymentDraft {
                currency: loose.into(),
                ..draft()
            };
            assert_eq!(
                codes(&validate_payment(&d).unwrap_err()),
                vec![("currency", &Problem::UnknownCurrency)],
                "{loose:?}"
            );
        }
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
            validate_text("text", "  hi\nthere ", 11, false),
            Ok("hi\nthere".into())
        );
        // The limit counts what was sent.
        assert_eq!(
            validate_text("text", "  hi\nthere ", 10, false)
                .unwrap_err()
                .problem,
            Problem::TooLong { max: 10 }
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
                prop_assert!(v.amount_minor > 0 && v.amount_minor <= AMOUNT_MINOR_MAX);
                prop_assert!((1..=365).contains(&v.recurrence.unwrap().count));
            }
        }
    }

    #[test]
    fn origins_are_bare_and_normalised() {
        assert_eq!(
            validate_origin("o", "https://shop.example/").unwrap(),
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
        assert_eq!(
            validate_origin("o", "http://127.0.0.1:80").unwrap(),
            "http://127.0.0.1"
        );
        assert_eq!(
            validate_origin("o", "https://xn--bcher-kva.example").unwrap(),
            "https://xn--bcher-kva.example"
        );
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://user@shop.example",
            "https://shop.example?x=1",
            "https://Shop.Example",
            "https://shop.example:0",
            "https://shop.example:65536",
            "https://shop.example:080",
            "https://-shop.example",
            "https://shop..example",
            " https://shop.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                validate_origin("o", bad).unwrap_err().problem,
                Problem::InvalidFormat,
                "{bad}"
            );
        }
        assert_eq!(
            validate_origin("o", "").unwrap_err().problem,
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
            "https://a.example:443/".to_owned(),
        ];
        let (name, origins) = validate_brand(None, Some(" Acme "), Some(&dup)).unwrap();
        assert_eq!(name.as_deref(), Some("Acme"));
        assert_eq!(origins.unwrap(), vec!["https://a.example"]);
    }

    #[test]
    fn a_portal_needs_known_country_currency_zone_and_edition() {
        let input = crate::api::PortalInput {
            name: " Acme EU ".into(),
            country: "ES".into(),
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

    /// Characters where the text rules have their edges: controls, the kinds of white
    /// space, and ordinary letters.
    fn edgy_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec![
                '\0', '\t', '\n', '\x0b', '\x0c', '\r', '\x1c', '\x1f', ' ', '\x7f', '\u{85}',
                '\u{9f}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{200b}', '\u{2028}',
                '\u{202f}', '\u{3000}', '\u{feff}', 'a', 'Z', '-', '.', ':', '/', 'é', '漢', '😀',
            ]),
            any::<char>(),
        ]
    }

    fn edgy_text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(edgy_char(), 0..max).prop_map(|c| c.into_iter().collect())
    }

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(text)
    }

    proptest! {
        /// The schema's patterns say exactly what the rules accept.
        #[test]
        fn text_patterns_match_the_rules(text in edgy_text(12)) {
            let n = text.chars().count();
            prop_assert_eq!(validate_text("t", &text, 100, true).is_ok(), matches(pattern::LINE, &text) && n <= 100);
            prop_assert_eq!(validate_text("t", &text, 100, false).is_ok(), matches(pattern::BLOCK, &text));
            prop_assert_eq!(validate_text("t", &text, 5, false).is_ok(), matches(pattern::BLOCK, &text) && n <= 5);
            prop_assert_eq!(validate_optional_block("t", &text, 100).is_ok(), matches(pattern::OPTIONAL_BLOCK, &text));
        }

        #[test]
        fn the_brand_id_pattern_matches_the_rule(
            id in prop_oneof![edgy_text(6), "[a-z0-9-]{0,42}", "[a-zA-Z0-9 _-]{1,5}"],
        ) {
            prop_assert_eq!(validate_brand_id(&id).is_ok(), matches(pattern::BRAND_ID, &id), "{:?}", id);
        }

        #[test]
        fn the_origin_pattern_matches_the_rule(
            origin in prop_oneof![
                "(https?|ftp)://[a-z0-9.-]{0,12}(:[0-9]{0,6})?/?",
                "https?://[a-zA-Z0-9.:/@?#-]{0,14}",
                "https://[a-z]{63,64}\\.example",
                edgy_text(8),
            ],
        ) {
            prop_assert_eq!(validate_origin("o", &origin).is_ok(), matches(pattern::ORIGIN, &origin), "{:?}", origin);
        }
    }

    #[test]
    fn the_webhook_url_pattern_takes_public_https_host_names_only() {
        for good in [
            "https://hooks.example.com",
            "https://hooks.example.com/paycard?x=1",
            "https://a.b-c.io:8443/p",
            "https://1.2.3.example",
        ] {
            assert!(matches(pattern::WEBHOOK_URL, good), "{good}");
        }
        for bad in [
            "http://hooks.example.com/",
            "https://localhost/",
            "https://127.0.0.1/",
            "https://10.0.0.1:443/x",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com:70000/",
            "https://hooks.example.com/a b",
            "https://-a.example.com/",
        ] {
            assert!(!matches(pattern::WEBHOOK_URL, bad), "{bad}");
        }
    }
}
