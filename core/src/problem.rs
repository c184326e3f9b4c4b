//! A problem with one field of a form or request: what the validation rules of every
//! other module return, and how each is said in each language. It imports nothing of
//! the crate but [`Locale`], so that every module may use it without import circles.

use serde::{Deserialize, Serialize};

use crate::Locale;

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
    /// Well-formed, but the service it is for refused it (a payment gateway that does
    /// not know a secret key); `message` is the service's own words.
    Rejected {
        message: String,
    },
}

impl FieldError {
    pub fn new(field: &str, problem: Problem) -> FieldError {
        FieldError {
            field: field.to_owned(),
            problem,
        }
    }

    /// The message shown next to the field: what to do, in the words of the field where
    /// a general one would be vague ("The format is not valid" says nothing of emails).
    pub fn message(&self, locale: Locale) -> String {
        let field = self.field.rsplit('.').next().unwrap_or(&self.field);
        match (field, &self.problem, locale) {
            ("email", Problem::InvalidFormat, Locale::En) => {
                return "Enter an email address such as ana@example.com.".into()
            }
            ("email", Problem::InvalidFormat, Locale::Es) => {
                return "Escriba un correo electrónico como ana@example.com.".into()
            }
            ("time_zone", Problem::NotFound | Problem::InvalidFormat, Locale::En) => {
                return "Choose a time zone from the list, such as Europe/Madrid.".into()
            }
            ("time_zone", Problem::NotFound | Problem::InvalidFormat, Locale::Es) => {
                return "Elija una zona horaria de la lista, como Europe/Madrid.".into()
            }
            ("amount" | "amount_minor", Problem::InvalidFormat, Locale::En) => {
                return "Enter an amount such as 25.00, with no more decimals than the currency has (none for JPY).".into()
            }
            ("amount" | "amount_minor", Problem::InvalidFormat, Locale::Es) => {
                return "Escriba un importe como 25,00, sin más decimales de los que tiene la moneda (ninguno en JPY).".into()
            }
            _ => {}
        }
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
            (Problem::Rejected { message }, Locale::En) => {
                format!(
                    "The gateway refused it: “{message}”. Check that you copied the whole value."
                )
            }
            (Problem::Rejected { message }, Locale::Es) => {
                format!(
                    "La pasarela la rechazó: «{message}». Comprueba que copiaste el valor entero."
                )
            }
        }
    }
}
