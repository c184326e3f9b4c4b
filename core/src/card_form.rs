//! The hosted checkout's form: account details and card details, checked before any
//! payment attempt. Bad card data is the visitor's typo, shown next to the field, and
//! never reaches a gateway.

use chrono::{Datelike, NaiveDate};

use crate::problem::{FieldError, Problem};
use crate::validation::{validate_email, validate_text};
use crate::Locale;

/// What the visitor typed, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardForm {
    pub name: String,
    pub email: String,
    pub card_number: String,
    pub expiry: String,
    pub cvc: String,
}

/// A form that passed [`validate_card_form`].
#[derive(Clone, PartialEq, Eq)]
pub struct ValidCard {
    pub name: String,
    pub email: String,
    /// Digits only.
    pub number: String,
    pub exp_month: u32,
    pub exp_year: i32,
    pub cvc: String,
}

impl ValidCard {
    /// The only part of the number that is ever stored or shown.
    pub fn last4(&self) -> &str {
        &self.number[self.number.len() - 4..]
    }
}

// Never print a card number or CVC, even in a debug log.
impl std::fmt::Debug for ValidCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ValidCard {{ last4: {}, exp: {:02}/{} }}",
            self.last4(),
            self.exp_month,
            self.exp_year
        )
    }
}

/// Checks the checkout form; `today` decides whether the card has expired (a card is
/// good through the last day of its expiry month).
pub fn validate_card_form(form: &CardForm, today: NaiveDate) -> Result<ValidCard, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = validate_text("name", &form.name, 120, true)
        .map_err(|e| errors.push(e))
        .ok();

    let email = form.email.trim();
    if let Err(e) = validate_email("email", email) {
        errors.push(e);
    }

    let typed = form.card_number.trim();
    let number: String = typed.chars().filter(char::is_ascii_digit).collect();
    let only_digits_and_separators = typed
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if typed.is_empty() {
        errors.push(FieldError::new("card_number", Problem::Required));
    } else if !only_digits_and_separators
        || !(12..=19).contains(&number.len())
        || !luhn::valid(&number)
    {
        errors.push(FieldError::new("card_number", Problem::InvalidFormat));
    }

    let expiry = parse_expiry(&form.expiry);
    match expiry {
        _ if form.expiry.trim().is_empty() => {
            errors.push(FieldError::new("expiry", Problem::Required))
        }
        None => errors.push(FieldError::new("expiry", Problem::InvalidFormat)),
        Some((month, year)) if (year, month) < (today.year(), today.month()) => {
            errors.push(FieldError::new("expiry", Problem::Expired))
        }
        Some(_) => {}
    }

    let cvc = form.cvc.trim();
    if cvc.is_empty() {
        errors.push(FieldError::new("cvc", Problem::Required));
    } else if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError::new("cvc", Problem::InvalidFormat));
    }

    match (name, expiry) {
        (Some(name), Some((exp_month, exp_year))) if errors.is_empty() => Ok(ValidCard {
            name,
            email: email.to_owned(),
            number,
            exp_month,
            exp_year,
            cvc: cvc.to_owned(),
        }),
        _ => Err(errors),
    }
}

/// "MM/YY", "MM/YYYY", "MM / YY", "MMYY".
fn parse_expiry(text: &str) -> Option<(u32, i32)> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (month, year) = match digits.split_once('/') {
        Some((m, y)) => (m.to_owned(), y.to_owned()),
        None if digits.len() == 4 => (digits[..2].to_owned(), digits[2..].to_owned()),
        None => return None,
    };
    let month: u32 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
    let year: i32 = match year.len() {
        2 => 2000 + year.parse::<i32>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    Some((month, year))
}

/// The message next to a checkout field.
pub fn field_message(error: &FieldError, locale: Locale) -> String {
    match (error.field.as_str(), &error.problem, locale) {
        ("card_number", Problem::InvalidFormat, Locale::En) => "Check the card number.".into(),
        ("card_number", Problem::InvalidFormat, Locale::Es) => {
            "Revisa el número de tarjeta.".into()
        }
        ("expiry", Problem::InvalidFormat, Locale::En) => "Write the expiry as MM/YY.".into(),
        ("expiry", Problem::InvalidFormat, Locale::Es) => "Escribe la caducidad como MM/AA.".into(),
        ("expiry", Problem::Expired, Locale::En) => "This card has expired.".into(),
        ("expiry", Problem::Expired, Locale::Es) => "Esta tarjeta está caducada.".into(),
        ("cvc", Problem::InvalidFormat, Locale::En) => {
            "The CVC is the 3 digits on the back of the card.".into()
        }
        ("cvc", Problem::InvalidFormat, Locale::Es) => {
            "El CVC son los 3 dígitos del dorso de la tarjeta.".into()
        }
        ("email", Problem::InvalidFormat, Locale::En) => {
            "Enter an email address such as ana@example.com.".into()
        }
        ("email", Problem::InvalidFormat, Locale::Es) => {
            "Introduce un correo como ana@example.com.".into()
        }
        _ => error.message(locale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn form() -> CardForm {
        CardForm {
            name: "Ana García".into(),
            email: "ana@example.com".into(),
            card_number: "4242 4242 4242 4242".into(),
            expiry: "12/30".into(),
            cvc: "123".into(),
        }
    }

    fn fields(result: Result<ValidCard, Vec<FieldError>>) -> Vec<(String, Problem)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn a_good_form_gives_digits_and_the_last_four() {
        let card = validate_card_form(&form(), today()).unwrap();
        assert_eq!(card.number, "4242424242424242");
        assert_eq!(card.last4(), "4242");
        assert_eq!((card.exp_month, card.exp_year), (12, 2030));
        assert!(
            !format!("{card:?}").contains("4242424242424242"),
            "Debug never shows the number"
        );
        assert!(!format!("{card:?}").contains("123"), "nor the CVC");
    }

    #[test]
    fn luhn_expiry_cvc_and_email_are_checked() {
        let bad = CardForm {
            card_number: "4242 4242 4242 4241".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&bad, today())),
            [("card_number".into(), Problem::InvalidFormat)]
        );
        let letters = CardForm {
            card_number: "4242-4242-4242-424x".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&letters, today())),
            [("card_number".into(), Problem::InvalidFormat)]
        );
        let past = CardForm {
            expiry: "10/26".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&past, today())),
            [("expiry".into(), Problem::Expired)]
        );
        let this_month = CardForm {
            expiry: "11/2026".into(),
            ..form()
        };
        assert!(
            validate_card_form(&this_month, today()).is_ok(),
            "good through the end of its month"
        );
        let month13 = CardForm {
            expiry: "13/30".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&month13, today())),
            [("expiry".into(), Problem::InvalidFormat)]
        );
        let cvc = CardForm {
            cvc: "12".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&cvc, today())),
            [("cvc".into(), Problem::InvalidFormat)]
        );
        let email = CardForm {
            email: "ana@".into(),
            ..form()
        };
        assert_eq!(
            fields(validate_card_form(&email, today())),
            [("email".into(), Problem::InvalidFormat)]
        );
        let empty = CardForm::default();
        assert_eq!(fields(validate_card_form(&empty, today())).len(), 5);
    }

    #[test]
    fn the_test_cards_of_the_spec_are_luhn_valid() {
        for number in [
            "4242424242424242",
            "4000000000000002",
            "4000000000009995",
            "4000000000000069",
            "4000000000000119",
        ] {
            let f = CardForm {
                card_number: number.into(),
                ..form()
            };
            assert!(validate_card_form(&f, today()).is_ok(), "{number}");
        }
    }

    #[test]
    fn messages_name_the_problem_in_both_languages() {
        let e = FieldError::new("card_number", Problem::InvalidFormat);
        assert_eq!(field_message(&e, Locale::En), "Check the card number.");
        assert_eq!(
            field_message(&e, Locale::Es),
            "Revisa el número de tarjeta."
        );
        assert_eq!(
            field_message(&FieldError::new("name", Problem::Required), Locale::En),
            "This field is required."
        );
    }
}
