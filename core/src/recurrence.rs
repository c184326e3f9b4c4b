//! One-time and recurring payments: the interval, the next charge date, the text.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{Locale, Money};

/// The unit a recurring payment repeats in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub const ALL: [Interval; 4] = [
        Interval::Day,
        Interval::Week,
        Interval::Month,
        Interval::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// A recurring payment charges every `count` `interval`s. A one-time payment has no
/// recurrence: it is `Option<Recurrence>::None` everywhere (JSON `null`).
///
/// The named frequencies an admin picks are shorthands: weekly is every 1 week,
/// quarterly every 3 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recurrence {
    pub interval: Interval,
    // The server takes 3.0 for 3, as JSON Schema's `integer` does; the apps read what
    // the server writes, and keep the plain (smaller) decoder.
    #[cfg_attr(feature = "openapi", serde(deserialize_with = "crate::whole::number"))]
    pub count: u32,
}

/// The range of `count` the product accepts (see [`crate::validation`]).
pub const COUNT_RANGE: std::ops::RangeInclusive<u32> = 1..=365;

impl Recurrence {
    pub const WEEKLY: Recurrence = Recurrence {
        interval: Interval::Week,
        count: 1,
    };
    pub const MONTHLY: Recurrence = Recurrence {
        interval: Interval::Month,
        count: 1,
    };
    pub const QUARTERLY: Recurrence = Recurrence {
        interval: Interval::Month,
        count: 3,
    };
    pub const YEARLY: Recurrence = Recurrence {
        interval: Interval::Year,
        count: 1,
    };

    /// A custom frequency: every `count` `interval`s.
    pub fn every(count: u32, interval: Interval) -> Recurrence {
        Recurrence { interval, count }
    }

    /// The date of the `n`th charge after the first one on `start` (`n = 1` is the next
    /// charge). Counting from the start, rather than adding one period to the previous
    /// date, keeps month ends stable: a plan started on 31 January charges on the last
    /// day of February, then on 31 March, not on the 28th for ever after.
    /// `None` only past the end of the calendar.
    pub fn charge_date(&self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        let periods = self.count.checked_mul(n)?;
        match self.interval {
            Interval::Day => start.checked_add_days(Days::new(periods.into())),
            Interval::Week => start.checked_add_days(Days::new(u64::from(periods) * 7)),
            Interval::Month => start.checked_add_months(Months::new(periods)),
            Interval::Year => start.checked_add_months(Months::new(periods.checked_mul(12)?)),
        }
    }

    /// The next charge after a first charge on `start`.
    pub fn next_charge_date(&self, start: NaiveDate) -> Option<NaiveDate> {
        self.charge_date(start, 1)
    }

    /// How the frequency reads after an amount: "/ month", "every 2 weeks",
    /// "/ mes", "cada 2 semanas".
    pub fn text(&self, locale: Locale) -> String {
        if self.count == 1 || *self == Recurrence::QUARTERLY {
            let unit = match (self.interval, self.count, locale) {
                (Interval::Month, 3, Locale::En) => "quarter",
                (Interval::Month, 3, Locale::Es) => "trimestre",
                (Interval::Day, _, Locale::En) => "day",
                (Interval::Week, _, Locale::En) => "week",
                (Interval::Month, _, Locale::En) => "month",
                (Interval::Year, _, Locale::En) => "year",
                (Interval::Day, _, Locale::Es) => "día",
                (Interval::Week, _, Locale::Es) => "semana",
                (Interval::Month, _, Locale::Es) => "mes",
                (Interval::Year, _, Locale::Es) => "año",
            };
            return format!("/ {unit}");
        }
        let n = self.count;
        match locale {
            Locale::En => {
                let units = match self.interval {
                    Interval::Day => "days",
                    Interval::Week => "weeks",
                    Interval::Month => "months",
                    Interval::Year => "years",
                };
                format!("every {n} {units}")
            }
            Locale::Es => {
                let units = match self.interval {
                    Interval::Day => "días",
                    Interval::Week => "semanas",
                    Interval::Month => "meses",
                    Interval::Year => "años",
                };
                format!("cada {n} {units}")
            }
        }
    }
}

/// An amount with its recurrence, as a card shows it: "€49.00 / month",
/// "25,00 €" (one-time), "49,00 € cada 2 semanas".
pub fn price_text(money: &Money, recurrence: Option<&Recurrence>, locale: Locale) -> String {
    match recurrence {
        Some(r) => format!("{} {}", money.format(locale), r.text(locale)),
        None => money.format(locale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_ends_clamp_to_the_end_of_the_shorter_month() {
        assert_eq!(
            Recurrence::MONTHLY.next_charge_date(date(2026, 1, 31)),
            Some(date(2026, 2, 28))
        );
        assert_eq!(
            Recurrence::MONTHLY.next_charge_date(date(2028, 1, 31)),
            Some(date(2028, 2, 29))
        );
        assert_eq!(
            Recurrence::MONTHLY.charge_date(date(2026, 1, 31), 2),
            Some(date(2026, 3, 31))
        );
        assert_eq!(
            Recurrence::QUARTERLY.next_charge_date(date(2026, 11, 30)),
            Some(date(2027, 2, 28))
        );
        assert_eq!(
            Recurrence::YEARLY.next_charge_date(date(2028, 2, 29)),
            Some(date(2029, 2, 28))
        );
    }

    #[test]
    fn days_and_weeks_add_exactly() {
        assert_eq!(
            Recurrence::WEEKLY.next_charge_date(date(2026, 12, 29)),
            Some(date(2027, 1, 5))
        );
        assert_eq!(
            Recurrence::every(2, Interval::Week).next_charge_date(date(2026, 2, 20)),
            Some(date(2026, 3, 6))
        );
        assert_eq!(
            Recurrence::every(10, Interval::Day).next_charge_date(date(2026, 2, 25)),
            Some(date(2026, 3, 7))
        );
        assert_eq!(
            Recurrence::every(2, Interval::Year).next_charge_date(date(2026, 5, 1)),
            Some(date(2028, 5, 1))
        );
    }

    #[test]
    fn text_in_english_and_spanish() {
        assert_eq!(Recurrence::MONTHLY.text(Locale::En), "/ month");
        assert_eq!(Recurrence::MONTHLY.text(Locale::Es), "/ mes");
        assert_eq!(Recurrence::WEEKLY.text(Locale::En), "/ week");
        assert_eq!(Recurrence::YEARLY.text(Locale::Es), "/ año");
        assert_eq!(Recurrence::QUARTERLY.text(Locale::En), "/ quarter");
        assert_eq!(Recurrence::QUARTERLY.text(Locale::Es), "/ trimestre");
        assert_eq!(
            Recurrence::every(2, Interval::Week).text(Locale::En),
            "every 2 weeks"
        );
        assert_eq!(
            Recurrence::every(2, Interval::Week).text(Locale::Es),
            "cada 2 semanas"
        );
        assert_eq!(
            Recurrence::every(6, Interval::Month).text(Locale::Es),
            "cada 6 meses"
        );
        assert_eq!(
            Recurrence::every(1, Interval::Day).text(Locale::Es),
            "/ día"
        );
    }

    #[test]
    fn price_text_joins_amount_and_frequency() {
        let eur = Currency::from_code("EUR").unwrap();
        let m = Money::new(4900, eur);
        assert_eq!(
            price_text(&m, Some(&Recurrence::MONTHLY), Locale::En),
            "€49.00 / month"
        );
        assert_eq!(
            price_text(&m, Some(&Recurrence::MONTHLY), Locale::Es),
            "49,00 € / mes"
        );
        assert_eq!(price_text(&m, None, Locale::En), "€49.00");
    }

    #[test]
    fn json_shape_matches_the_contract() {
        let json = serde_json::to_string(&Some(Recurrence::QUARTERLY)).unwrap();
        assert_eq!(json, r#"{"interval":"month","count":3}"#);
        assert_eq!(serde_json::to_string(&None::<Recurrence>).unwrap(), "null");
        assert!(
            serde_json::from_str::<Recurrence>(r#"{"interval":"fortnight","count":1}"#).is_err()
        );
    }

    proptest! {
        /// Every charge date is later than the one before it, and never more than one
        /// period plus the month-end clamp away from the start's arithmetic.
        #[test]
        fn charge_dates_strictly_increase(
            days in 0i64..40_000,
            count in COUNT_RANGE,
            interval in prop::sample::select(Interval::ALL.to_vec()),
            n in 1u32..24,
        ) {
            let start = date(2000, 1, 1) + chrono::Duration::days(days);
            let r = Recurrence::every(count, interval);
            let a = r.charge_date(start, n).unwrap();
            let b = r.charge_date(start, n + 1).unwrap();
            prop_assert!(start < a && a < b);
            if matches!(interval, Interval::Month | Interval::Year) {
                use chrono::Datelike;
                // The day of month is kept unless the month is too short for it.
                prop_assert!(a.day() == start.day() || a.day() < start.day());
            }
        }
    }
}
