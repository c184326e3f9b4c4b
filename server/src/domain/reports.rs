//! Reports (SPEC §8.6): what became of the cards an admin's brands shared in a range of
//! days, in the portal's time zone: totals per currency, counts by outcome, conversion,
//! paid money per day, and the cards themselves (JSON pages or CSV).
//!
//! The store hands over the cards of a slightly wider window in UTC; the days are decided
//! here, card by card, with the zone's offset at that moment, so a day is the merchant's
//! day even across a daylight-saving change.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use paycard_core::api::{
    CurrencyTotals, DayTotal, OutcomeCounts, ReportCard, ReportCardPage, ReportSummary,
};
use paycard_core::{CardStatus, Currency, Money};

use super::accounts::OperatorAuth;
use super::chat::{read_cursor, write_cursor};
use super::settings::offset_at;
use crate::error::AppError;
use crate::secrets::timestamp;
use crate::state::AppState;
use crate::store::{self, reports::ReportRow};

/// Without `from`, a report covers this many days up to `to`.
const DEFAULT_DAYS: u64 = 30;
/// The longest range one report may cover: a year, leap or not.
const MAX_DAYS: i64 = 366;
/// Cards per page of the JSON list: by default, and at most.
pub const CARDS_PAGE_DEFAULT: u32 = 50;
pub const CARDS_PAGE_MAX: u32 = 200;

/// What a report is about: the days (both included), the time zone they are counted
/// in, and one brand or every brand of the admin.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub brand_id: Option<String>,
}

/// Reads the query's `from`, `to` (`YYYY-MM-DD`) and `brand_id`: the last 30 days up to
/// today in the portal's time zone unless said otherwise; a brand the admin does not
/// work for is refused.
pub async fn scope(
    state: &AppState,
    admin: &OperatorAuth,
    from: Option<&str>,
    to: Option<&str>,
    brand_id: Option<&str>,
) -> Result<Scope, AppError> {
    let from = from.map(|text| day(text, "from")).transpose()?;
    let to = to.map(|text| day(text, "to")).transpose()?;
    if let Some(brand) = brand_id {
        admin.ensure_brand(brand)?;
    }
    let mut db = state.store.read().await?;
    let time_zone = store::portals::connected(&mut db)
        .await?
        .map(|portal| portal.time_zone)
        .unwrap_or_else(|| "UTC".to_owned());
    let now = Utc::now();
    let today = now.with_timezone(&offset_at(now, &time_zone)).date_naive();
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, today.max(from)),
        (None, Some(to)) => (to - Days::new(DEFAULT_DAYS - 1), to),
        (None, None) => (today - Days::new(DEFAULT_DAYS - 1), today),
    };
    if to < from {
        return Err(AppError::BadRequest {
            code: "invalid_range",
            message: "to must not be before from".into(),
        });
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::BadRequest {
            code: "range_too_long",
            message: format!("a report covers at most {MAX_DAYS} days"),
        });
    }
    Ok(Scope {
        from,
        to,
        time_zone,
        brand_id: brand_id.map(str::to_owned),
    })
}

/// A day written `YYYY-MM-DD`, exactly.
fn day(text: &str, name: &str) -> Result<NaiveDate, AppError> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| AppError::BadRequest {
            code: "invalid_date",
            message: format!("{name} must be a date written YYYY-MM-DD"),
        })
}

/// The card rows of the scope that the admin may see, newest shared first.
async fn rows(
    state: &AppState,
    admin: &OperatorAuth,
    scope: &Scope,
) -> Result<Vec<ReportRow>, AppError> {
    // A day in any time zone lies within a day of the same UTC day: ask the store for a
    // day more on each side and decide each card's day here.
    let midnight =
        |day: NaiveDate| timestamp(day.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    let since = midnight(scope.from - Days::new(1));
    let until = midnight(scope.to + Days::new(2));
    let mut db = state.store.read().await?;
    let rows =
        store::reports::cards_shared(&mut db, &since, &until, scope.brand_id.as_deref()).await?;
    Ok(rows
        .into_iter()
        .filter(|row| admin.works_for(&row.brand_id))
        .filter(|row| {
            local_day(&row.created_at, &scope.time_zone)
                .is_some_and(|day| (scope.from..=scope.to).contains(&day))
        })
        .collect())
}

/// The day of a stored timestamp in `time_zone`.
fn local_day(at: &str, time_zone: &str) -> Option<NaiveDate> {
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some(at.with_timezone(&offset_at(at, time_zone)).date_naive())
}

/// `GET /api/v1/admin/reports/summary`.
pub async fn summary(
    state: &AppState,
    admin: &OperatorAuth,
    scope: Scope,
) -> Result<ReportSummary, AppError> {
    let rows = rows(state, admin, &scope).await?;
    let mut counts = OutcomeCounts::default();
    // currency → (paid, refunded); (day, currency) → paid.
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut days: BTreeMap<(NaiveDate, String), i64> = BTreeMap::new();
    for row in &rows {
        counts.shared += 1;
        counts.failed_attempts += row.failed_attempts;
        match CardStatus::parse(&row.status) {
            Some(CardStatus::Cancelled) => counts.cancelled += 1,
            Some(CardStatus::Declined) => counts.declined += 1,
            Some(CardStatus::Expired) => counts.expired += 1,
            _ => {}
        }
        if let (Some(paid_at), Some(paid)) = (&row.paid_at, row.paid_minor) {
            counts.paid += 1;
            totals.entry(row.currency.clone()).or_default().0 += paid;
            if let Some(day) = local_day(paid_at, &scope.time_zone) {
                *days.entry((day, row.currency.clone())).or_default() += paid;
            }
        }
        if row.refunded_minor > 0 {
            counts.refunded += 1;
            totals.entry(row.currency.clone()).or_default().1 += row.refunded_minor;
        }
    }
    let conversion = if counts.shared == 0 {
        0.0
    } else {
        (counts.paid as f64 / counts.shared as f64 * 10_000.0).round() / 10_000.0
    };
    Ok(ReportSummary {
        from: scope.from.to_string(),
        to: scope.to.to_string(),
        brand_id: scope.brand_id,
        time_zone: scope.time_zone,
        currencies: totals
            .into_iter()
            .map(|(currency, (paid, refunded))| CurrencyTotals {
                currency,
                paid_minor: paid,
                refunded_minor: refunded,
                net_minor: paid - refunded,
            })
            .collect(),
        counts,
        conversion,
        by_day: days
            .into_iter()
            .map(|((date, currency), paid_minor)| DayTotal {
                date: date.to_string(),
                currency,
                paid_minor,
            })
            .collect(),
    })
}

/// The scope's cards, of one status or all, newest shared first.
pub async fn cards(
    state: &AppState,
    admin: &OperatorAuth,
    scope: &Scope,
    status: Option<CardStatus>,
) -> Result<Vec<ReportCard>, AppError> {
    rows(state, admin, scope)
        .await?
        .into_iter()
        .map(report_card)
        .filter(|card| {
            card.as_ref()
                .map_or(true, |card| status.is_none_or(|s| card.status == s))
        })
        .collect()
}

/// One page of [`cards`]: `before` is a previous page's `next`.
pub fn page(
    cards: Vec<ReportCard>,
    before: Option<&str>,
    limit: u32,
) -> Result<ReportCardPage, AppError> {
    let before = before
        .map(|text| {
            read_cursor(text).ok_or(AppError::BadRequest {
                code: "invalid_cursor",
                message: "before must be the `next` of a previous page".into(),
            })
        })
        .transpose()?;
    let mut items: Vec<ReportCard> = cards
        .into_iter()
        .filter(|card| {
            before.as_ref().is_none_or(|(at, id)| {
                (card.shared_at.as_str(), card.id.as_str()) < (at.as_str(), id.as_str())
            })
        })
        .take(limit as usize + 1)
        .collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| write_cursor(&last.shared_at, &last.id))
    } else {
        None
    };
    Ok(ReportCardPage { items, next })
}

fn report_card(row: ReportRow) -> Result<ReportCard, AppError> {
    let status = CardStatus::parse(&row.status).ok_or_else(|| {
        AppError::Internal(format!("card {} has status {:?}", row.id, row.status))
    })?;
    Ok(ReportCard {
        id: row.id,
        conversation_id: row.conversation_id,
        brand_id: row.brand_id,
        title: row.title,
        amount_minor: row.amount_minor,
        currency: row.currency,
        status,
        failure_reason: row.failure_reason,
        shared_at: row.created_at,
        paid_at: row.paid_at,
        paid_minor: row.paid_minor.unwrap_or(0),
        payer_email: row.payer_email,
        failed_attempts: row.failed_attempts,
        refunds: row.refunds,
        refunded_minor: row.refunded_minor,
    })
}

/// The cards as CSV with a header row: amounts as plain decimals in their currency,
/// times in UTC as stored. Text a spreadsheet would run as a formula is quoted with a
/// leading `'` (a payer's email or a title may start with `=`).
pub fn to_csv(cards: &[ReportCard]) -> Result<Vec<u8>, AppError> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let failed = |e: ::csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    out.write_record([
        "card_id",
        "shared_at",
        "brand_id",
        "conversation_id",
        "title",
        "status",
        "failure_reason",
        "currency",
        "amount",
        "paid_at",
        "paid",
        "payer_email",
        "failed_attempts",
        "refunds",
        "refunded",
        "net",
    ])
    .map_err(failed)?;
    for card in cards {
        let money = |minor: i64| match Currency::from_code(&card.currency) {
            Some(currency) => Money::new(minor, currency).decimal(),
            None => minor.to_string(),
        };
        out.write_record([
            card.id.clone(),
            card.shared_at.clone(),
            card.brand_id.clone(),
            card.conversation_id.clone(),
            inert(&card.title),
            card.status.as_str().to_owned(),
            card.failure_reason.clone().unwrap_or_default(),
            card.currency.clone(),
            money(card.amount_minor),
            card.paid_at.clone().unwrap_or_default(),
            money(card.paid_minor),
            inert(card.payer_email.as_deref().unwrap_or_default()),
            card.failed_attempts.to_string(),
            card.refunds.to_string(),
            money(card.refunded_minor),
            money(card.paid_minor - card.refunded_minor),
        ])
        .map_err(failed)?;
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))
}

/// Text that a spreadsheet would not read as a formula.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_exactly() {
        assert_eq!(
            day("2026-12-04", "from").unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
        );
        for bad in [
            "2026-2-4",
            "2026-02-30",
            "04/12/2026",
            "2026-12-04T00:00",
            "",
            "yesterday",
        ] {
            assert!(day(bad, "from").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_card_belongs_to_the_day_of_the_portal() {
        // 23:30 UTC on 31 December is already 1 January in Madrid, still 31 December in New York.
        let at = "2026-12-31T23:30:00.000Z";
        assert_eq!(
            local_day(at, "Europe/Madrid"),
            NaiveDate::from_ymd_opt(2027, 1, 1)
        );
        assert_eq!(
            local_day(at, "America/New_York"),
            NaiveDate::from_ymd_opt(2026, 12, 31)
        );
        assert_eq!(local_day(at, "UTC"), NaiveDate::from_ymd_opt(2026, 12, 31));
    }

    #[test]
    fn spreadsheet_formulas_are_made_inert() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("@sum"), "'@sum");
        assert_eq!(inert("Custom mug"), "Custom mug");
    }
}
