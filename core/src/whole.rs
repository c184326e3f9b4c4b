//! Whole numbers as JSON Schema counts them: `integer` is any number without a fraction,
//! so `137.0` is one (schema-driven clients send it so). serde reads it as a float and
//! refuses it for an integer field; these read it as the integer it is.
//!
//! Use with `#[serde(deserialize_with = "crate::whole::number")]` (or `option`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// `text`: also from a string (a query string's numbers are text; a JSON body's are not).
struct Whole {
    text: bool,
}

impl<'de> Visitor<'de> for Whole {
    type Value = i128;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(v.into())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(v.into())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        // Exact within ±2^53 (beyond it a float is a whole number anyway, but not
        // necessarily the one meant: refused).
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            Ok(v as i128)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        if !self.text {
            return Err(E::invalid_type(de::Unexpected::Str(v), &self));
        }
        if let Ok(n) = v.parse::<i128>() {
            return Ok(n);
        }
        match v.parse::<f64>() {
            Ok(f) if f.is_finite() => self.visit_f64(f),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

fn convert<T: TryFrom<i128>, E: de::Error>(n: i128) -> Result<T, E> {
    T::try_from(n).map_err(|_| E::custom(format!("{n} is out of range")))
}

/// A whole number into an integer type.
pub fn number<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    convert(d.deserialize_any(Whole { text: false })?)
}

/// An optional whole number of a query string (`?limit=50`, `?limit=50.0`).
pub fn query_option<'de, D: Deserializer<'de>, T: TryFrom<i128>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    convert(d.deserialize_str(Whole { text: true })?).map(Some)
}

/// An optional whole number: `null` (or absent, with `#[serde(default)]`) is `None`.
pub fn option<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    struct Optional<T>(std::marker::PhantomData<T>);
    impl<'de, T: TryFrom<i128>> Visitor<'de> for Optional<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            number(d).map(Some)
        }
    }
    d.deserialize_option(Optional(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "super::number")]
        count: u32,
        #[serde(default, deserialize_with = "super::option")]
        amount: Option<i64>,
    }

    fn read(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_floats_are_integers_and_the_rest_are_not() {
        assert_eq!(
            read(r#"{"count": 3}"#).unwrap(),
            Sample {
                count: 3,
                amount: None
            }
        );
        assert_eq!(
            read(r#"{"count": 137.0, "amount": 2500.0}"#).unwrap(),
            Sample {
                count: 137,
                amount: Some(2500)
            }
        );
        assert_eq!(
            read(r#"{"count": 1, "amount": null}"#).unwrap().amount,
            None
        );
        for bad in [
            r#"{"count": 1.5}"#,
            r#"{"count": -1}"#,
            r#"{"count": 4294967296}"#,
            r#"{"count": "3"}"#,
            r#"{"count": 1, "amount": 1e300}"#,
            r#"{"count": true}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
