//! Money as integer minor units of an ISO 4217 currency. No floats anywhere.
//!
//! The currency list, each currency's exponent (JPY 0, EUR 2, KWD 3) and its symbol come
//! from the `iso_currency` crate. What this module adds is the product's own writing of
//! amounts in its two languages, and the parsing of what an admin types.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::Locale;

/// A currency that money can be charged in: a current ISO 4217 currency with a minor
/// unit exponent (funds, precious metals and "no currency" are refused).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The currency for a three-letter code (any case), if it can be charged in.
    pub fn from_code(code: &str) -> Option<Currency> {
        let currency = iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase())?;
        (currency.exponent().is_some() && !currency.is_fund() && !currency.is_special())
            .then_some(Currency(currency))
    }

    /// The currency whose code is exactly `code` (`EUR`, not ` eur`), among [`Currency::all`]:
    /// what the API takes, as its schema lists them.
    pub fn from_exact_code(code: &str) -> Option<Currency> {
        Currency::all().into_iter().find(|c| c.code() == code)
    }

    /// The currency used in a country (ISO 3166-1 alpha-2, such as `ES`), if any.
    pub fn for_country(alpha2: &str) -> Option<Currency> {
        let code = alpha2.trim().to_ascii_uppercase();
        let country = code.parse::<iso_currency::Country>().ok()?;
        iso_currency::Currency::from_country(country)
            .into_iter()
            .find(|c| c.flags().is_empty())
            .and_then(|c| Currency::from_code(c.code()))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// How many minor-unit digits the currency has: JPY 0, EUR 2, KWD 3.
    pub fn exponent(self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }

    /// The English name ("Euro").
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// What is written beside an amount: the currency's own sign where it has one that a
    /// reader will recognise, its code otherwise.
    pub fn symbol(self) -> String {
        let symbol = self.0.symbol().symbol;
        // "¤" is ISO's "no sign"; a sign in a script other than Latin (د.ك) would
        // be unreadable to most visitors, so the code is clearer.
        if symbol == "¤"
            || symbol.is_empty()
            || symbol.chars().any(|c| c.is_alphabetic() && !c.is_ascii())
        {
            self.code().to_owned()
        } else {
            symbol
        }
    }

    /// Ten to the power of the exponent: minor units per major unit.
    pub fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// Every currency money can be charged in, by code: the choices of a currency field.
    pub fn all() -> Vec<Currency> {
        use iso_currency::IntoEnumIterator;
        let mut all: Vec<Currency> = iso_currency::Currency::iter()
            .filter(|c| c.is_superseded().is_none())
            .filter_map(|c| Currency::from_code(c.code()))
            .collect();
        all.sort_by_key(|c| c.code());
        all
    }
}

/// The ISO 3166-1 countries (alpha-2 code and English name), by name: the choices of a
/// business-location field.
pub fn countries() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&'static str, &'static str)> = iso_country::data::all()
        .into_iter()
        .map(|c| (c.alpha2, c.name))
        .collect();
    all.sort_by(|a, b| a.1.cmp(b.1));
    all
}

/// Whether `code` is an ISO 3166-1 alpha-2 country code.
pub fn is_country(code: &str) -> bool {
    iso_country::data::all().iter().any(|c| c.alpha2 == code)
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency {code:?}")))
    }
}

/// An amount of money: integer minor units (cents for EUR, yen for JPY, fils for KWD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Money {
        Money {
            amount_minor,
            currency,
        }
    }

    /// The amount as people read it: "€25.00" in English, "25,00 €" in Spanish.
    ///
    /// Spanish puts the sign after the number, uses a decimal comma and groups
    /// thousands with a dot only from five integer digits on ("1234,50 €" but
    /// "12.345,00 €"), as CLDR's Spanish does.
    pub fn format(&self, locale: Locale) -> String {
        let number = self.format_number(locale);
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let symbol = self.currency.symbol();
        match locale {
            Locale::En => {
                // A sign like € or $ sits against the number; a code needs a space.
                let space = if symbol.ends_with(|c: char| c.is_alphabetic()) {
                    " "
                } else {
                    ""
                };
                format!("{sign}{symbol}{space}{number}")
            }
            Locale::Es => format!("{sign}{number} {symbol}"),
        }
    }

    /// The unsigned number alone, as an admin would type it ("1,234.50" / "1234,50"):
    /// what an amount field shows when editing. [`Money::parse`] reads it back.
    pub fn format_number(&self, locale: Locale) -> String {
        let exponent = self.currency.exponent();
        let per_major = self.currency.minor_per_major().unsigned_abs();
        let magnitude = self.amount_minor.unsigned_abs();
        let major = (magnitude / per_major).to_string();
        let minor = magnitude % per_major;
        let (group, decimal, min_grouping_digits) = separators(locale);
        let mut number = group_thousands(&major, group, min_grouping_digits);
        if exponent > 0 {
            number.push(decimal);
            number.push_str(&format!("{minor:0width$}", width = exponent as usize));
        }
        number
    }

    /// The amount as a plain decimal ("1234.50", "-3.5" never: "-3.50"; "500" for JPY),
    /// for files other programs read (CSV exports): no grouping, a point, no symbol.
    pub fn decimal(&self) -> String {
        let exponent = self.currency.exponent() as usize;
        let per_major = self.currency.minor_per_major().unsigned_abs();
        let magnitude = self.amount_minor.unsigned_abs();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let major = magnitude / per_major;
        if exponent == 0 {
            format!("{sign}{major}")
        } else {
            format!("{sign}{major}.{:0exponent$}", magnitude % per_major)
        }
    }

    /// Reads an amount as typed in `locale` ("25.00" in English, "25,00" in Spanish).
    ///
    /// The locale's grouping separator is accepted in groups of three. Where the input
    /// has no decimal separator of the locale but exactly one of the other mark, followed
    /// by other than three digits ("25,5" typed in English, "25.00" in Spanish), that mark
    /// is clearly a decimal point and is read as one; three digits after it stay a group
    /// ("1,000" is one thousand in English).
    pub fn parse(
        input: &str,
        currency: Currency,
        locale: Locale,
    ) -> Result<Money, MoneyParseError> {
        let cleaned: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{202F}')
            .collect();
        if cleaned.is_empty() {
            return Err(MoneyParseError::Empty);
        }
        if let Some(bad) = cleaned
            .chars()
            .find(|c| !c.is_ascii_digit() && *c != '.' && *c != ',')
        {
            return Err(MoneyParseError::InvalidCharacter(bad));
        }
        let (group, decimal, _) = separators(locale);
        let decimal_at = match cleaned.matches(decimal).count() {
            0 => {
                let other = cleaned
                    .match_indices(group)
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>();
                match other.as_slice() {
                    [only] if cleaned.len() - only - 1 != 3 => Some(*only),
                    _ => None,
                }
            }
            1 => cleaned.find(decimal),
            _ => return Err(MoneyParseError::Malformed),
        };
        let (int_part, frac_part) = match decimal_at {
            Some(i) => (&cleaned[..i], &cleaned[i + 1..]),
            None => (cleaned.as_str(), ""),
        };
        if frac_part.contains([',', '.']) {
            return Err(MoneyParseError::Malformed);
        }
        let digits = ungroup(int_part, group)?;
        if digits.is_empty() && frac_part.is_empty() {
            return Err(MoneyParseError::Malformed);
        }
        let exponent = currency.exponent() as usize;
        let significant = frac_part.trim_end_matches('0');
        if significant.len() > exponent {
            return Err(MoneyParseError::TooManyDecimals {
                max: exponent as u32,
            });
        }
        let mut amount: i64 = 0;
        let padded = format!("{significant:0<exponent$}");
        for c in digits.chars().chain(padded.chars()) {
            amount = amount
                .checked_mul(10)
                .and_then(|a| a.checked_add(i64::from(c as u8 - b'0')))
                .ok_or(MoneyParseError::TooLarge)?;
        }
        Ok(Money::new(amount, currency))
    }
}

fn separators(locale: Locale) -> (char, char, usize) {
    match locale {
        Locale::En => (',', '.', 4),
        Locale::Es => ('.', ',', 5),
    }
}

/// Inserts `group` every three digits from the right, once the number has at least
/// `min_digits` digits.
fn group_thousands(digits: &str, group: char, min_digits: usize) -> String {
    if digits.len() < min_digits {
        return digits.to_owned();
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    out
}

/// Removes grouping separators, checking they stand every three digits.
fn ungroup(int_part: &str, group: char) -> Result<String, MoneyParseError> {
    if !int_part.contains(group) {
        return Ok(int_part.to_owned());
    }
    let groups: Vec<&str> = int_part.split(group).collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
        return Err(MoneyParseError::Malformed);
    }
    Ok(groups.concat())
}

/// Why typed text is not an amount. Shown next to the amount field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("enter an amount")]
    Empty,
    #[error("unexpected character {0:?} in the amount")]
    InvalidCharacter(char),
    #[error("the amount is not a number")]
    Malformed,
    #[error("this currency has at most {max} decimals")]
    TooManyDecimals { max: u32 },
    #[error("the amount is too large")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, cur(code))
    }

    #[test]
    fn exponents_come_from_iso_4217() {
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("EUR").exponent(), 2);
        assert_eq!(cur("KWD").exponent(), 3);
        assert_eq!(cur("eur").code(), "EUR");
    }

    #[test]
    fn unknown_and_unchargeable_currencies_are_refused() {
        assert_eq!(Currency::from_code("EURO"), None);
        assert_eq!(Currency::from_code("ABC"), None);
        assert_eq!(
            Currency::from_code("XAU"),
            None,
            "gold is not a currency to charge"
        );
        assert_eq!(Currency::from_code("XXX"), None);
    }

    #[test]
    fn currencies_and_countries_are_listed_whole() {
        let all = Currency::all();
        assert!(all.len() > 140, "{}", all.len());
        assert!(all.contains(&cur("JPY")) && all.contains(&cur("KWD")));
        assert!(!all.iter().any(|c| c.code() == "XAU"), "no precious metals");
        assert!(countries()
            .iter()
            .any(|(code, name)| *code == "ES" && *name == "Spain"));
        assert!(is_country("ES") && !is_country("ZZ") && !is_country("es"));
    }

    #[test]
    fn the_bare_number_reads_back() {
        for (minor, code) in [
            (123_450, "EUR"),
            (1500, "JPY"),
            (1_234_567, "KWD"),
            (5, "USD"),
        ] {
            let money = Money::new(minor, cur(code));
            for locale in [Locale::En, Locale::Es] {
                let text = money.format_number(locale);
                assert_eq!(
                    Money::parse(&text, cur(code), locale).unwrap(),
                    money,
                    "{text}"
                );
            }
        }
        assert_eq!(
            Money::new(123_450, cur("EUR")).format_number(Locale::En),
            "1,234.50"
        );
    }

    #[test]
    fn a_country_gives_its_currency() {
        assert_eq!(Currency::for_country("ES"), Some(cur("EUR")));
        assert_eq!(Currency::for_country("jp"), Some(cur("JPY")));
        assert_eq!(Currency::for_country("US"), Some(cur("USD")));
        assert_eq!(Currency::for_country("ZZ"), None);
    }

    #[test]
    fn decimals_for_files_have_no_grouping_or_symbol() {
        let eur = Currency::from_code("EUR").unwrap();
        assert_eq!(Money::new(123_450, eur).decimal(), "1234.50");
        assert_eq!(Money::new(-5, eur).decimal(), "-0.05");
        assert_eq!(
            Money::new(500, Currency::from_code("JPY").unwrap()).decimal(),
            "500"
        );
        assert_eq!(
            Money::new(1_005, Currency::from_code("KWD").unwrap()).decimal(),
            "1.005"
        );
    }

    #[test]
    fn formats_in_english_and_spanish() {
        assert_eq!(money(2500, "EUR").format(Locale::En), "€25.00");
        assert_eq!(money(2500, "EUR").format(Locale::Es), "25,00 €");
        assert_eq!(money(4900, "EUR").format(Locale::En), "€49.00");
        assert_eq!(money(123456789, "USD").format(Locale::En), "$1,234,567.89");
        assert_eq!(money(123456789, "EUR").format(Locale::Es), "1.234.567,89 €");
        assert_eq!(money(123450, "EUR").format(Locale::Es), "1234,50 €");
        assert_eq!(money(2500, "JPY").format(Locale::En), "¥2,500");
        assert_eq!(money(2500, "JPY").format(Locale::Es), "2500 ¥");
        assert_eq!(money(1500, "KWD").format(Locale::En), "KWD 1.500");
        assert_eq!(money(1500, "KWD").format(Locale::Es), "1,500 KWD");
        assert_eq!(money(5, "EUR").format(Locale::En), "€0.05");
        assert_eq!(money(-5, "EUR").format(Locale::Es), "-0,05 €");
        assert_eq!(money(1999, "GBP").format(Locale::En), "£19.99");
    }

    #[test]
    fn parses_by_locale() {
        let eur = cur("EUR");
        assert_eq!(
            Money::parse("25.00", eur, Locale::En),
            Ok(money(2500, "EUR"))
        );
        assert_eq!(
            Money::parse("25,00", eur, Locale::Es),
            Ok(money(2500, "EUR"))
        );
        assert_eq!(Money::parse("25", eur, Locale::Es), Ok(money(2500, "EUR")));
        assert_eq!(
            Money::parse(" 1,234.5 ", eur, Locale::En),
            Ok(money(123450, "EUR"))
        );
        assert_eq!(
            Money::parse("1.234,56", eur, Locale::Es),
            Ok(money(123456, "EUR"))
        );
        assert_eq!(
            Money::parse("1 234,56", eur, Locale::Es),
            Ok(money(123456, "EUR"))
        );
        assert_eq!(Money::parse(".5", eur, Locale::En), Ok(money(50, "EUR")));
        assert_eq!(
            Money::parse("25.000", eur, Locale::En),
            Ok(money(2500, "EUR")),
            "trailing zeros"
        );
        assert_eq!(
            Money::parse("1500", cur("JPY"), Locale::En),
            Ok(money(1500, "JPY"))
        );
        assert_eq!(
            Money::parse("1.5", cur("KWD"), Locale::En),
            Ok(money(1500, "KWD"))
        );
        assert_eq!(
            Money::parse("1,250", cur("KWD"), Locale::Es),
            Ok(money(1250, "KWD"))
        );
    }

    #[test]
    fn the_other_mark_is_read_as_a_decimal_point_only_when_unambiguous() {
        let eur = cur("EUR");
        assert_eq!(
            Money::parse("25,00", eur, Locale::En),
            Ok(money(2500, "EUR"))
        );
        assert_eq!(
            Money::parse("25.5", eur, Locale::Es),
            Ok(money(2550, "EUR"))
        );
        assert_eq!(
            Money::parse("1,000", eur, Locale::En),
            Ok(money(100000, "EUR"))
        );
        assert_eq!(
            Money::parse("1.000", eur, Locale::Es),
            Ok(money(100000, "EUR"))
        );
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        let eur = cur("EUR");
        assert_eq!(
            Money::parse("", eur, Locale::En),
            Err(MoneyParseError::Empty)
        );
        assert_eq!(
            Money::parse("   ", eur, Locale::En),
            Err(MoneyParseError::Empty)
        );
        assert_eq!(
            Money::parse("12a", eur, Locale::En),
            Err(MoneyParseError::InvalidCharacter('a'))
        );
        assert_eq!(
            Money::parse("-5", eur, Locale::En),
            Err(MoneyParseError::InvalidCharacter('-'))
        );
        assert_eq!(
            Money::parse("1e5", eur, Locale::En),
            Err(MoneyParseError::InvalidCharacter('e'))
        );
        assert_eq!(
            Money::parse("1.2.3", eur, Locale::En),
            Err(MoneyParseError::Malformed)
        );
        assert_eq!(
            Money::parse("12,34,567", eur, Locale::En),
            Err(MoneyParseError::Malformed)
        );
        assert_eq!(
            Money::parse(".", eur, Locale::En),
            Err(MoneyParseError::Malformed)
        );
        assert_eq!(
            Money::parse("1.234", eur, Locale::En),
            Err(MoneyParseError::TooManyDecimals { max: 2 })
        );
        assert_eq!(
            Money::parse("5.5", cur("JPY"), Locale::En),
            Err(MoneyParseError::TooManyDecimals { max: 0 })
        );
        assert_eq!(
            Money::parse("99999999999999999999", eur, Locale::En),
            Err(MoneyParseError::TooLarge)
        );
    }

    #[test]
    fn currencies_serialize_as_their_code() {
        let m = money(2500, "EUR");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount_minor":2500,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Currency>(r#""NOPE""#).is_err());
    }

    proptest! {
        /// Whatever the amount, currency and language, what we write is read back as
        /// the same amount.
        #[test]
        fn format_then_parse_round_trips(minor in 0i64..1_000_000_000_000, code in prop::sample::select(vec!["EUR", "JPY", "KWD", "USD", "GBP", "CHF"]), es in any::<bool>()) {
            let locale = if es { Locale::Es } else { Locale::En };
            let m = money(minor, code);
            let text = m.format(locale);
            let number: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',').collect();
            prop_assert_eq!(Money::parse(&number, m.currency, locale), Ok(m), "{}", text);
        }
    }
}
