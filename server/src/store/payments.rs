//! Payments, the products and services a brand offers. One with shared cards is never
//! deleted (its cards refer to it): it is deactivated and hidden (`deleted_at`).

use paycard_core::api::Payment;
use paycard_core::validation::ValidPayment;
use paycard_core::{Currency, Interval, Recurrence};

use super::search::contains_pattern;
use super::{Db, Error};
use paycard_core::search::key;

/// Written into each statement at compile time: no SQL is built per call.
macro_rules! payment_columns {
    () => {
        "id, brand_id, title, description, amount_minor, currency, recurrence_interval, recurrence_count, active"
    };
}

#[derive(sqlx::FromRow)]
pub struct PaymentRow {
    pub id: String,
    pub brand_id: String,
    pub title: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: String,
    pub recurrence_interval: Option<String>,
    pub recurrence_count: Option<i64>,
    pub active: bool,
}

/// A stored value that is not what the schema allows.
pub(super) fn corrupt(what: String) -> Error {
    Error::Decode(what.into())
}

/// A stored currency code.
pub(super) fn currency(code: &str) -> Result<Currency, Error> {
    Currency::from_code(code).ok_or_else(|| corrupt(format!("stored currency {code:?}")))
}

/// Reads the two recurrence columns (both NULL for one-time).
pub(super) fn recurrence(
    interval: Option<&str>,
    count: Option<i64>,
) -> Result<Option<Recurrence>, Error> {
    match (interval, count) {
        (None, _) => Ok(None),
        (Some(interval), Some(count)) => {
            let interval = Interval::parse(interval)
                .ok_or_else(|| corrupt(format!("stored recurrence interval {interval:?}")))?;
            let count = u32::try_from(count)
                .map_err(|_| corrupt(format!("stored recurrence count {count}")))?;
            Ok(Some(Recurrence { interval, count }))
        }
        (Some(_), None) => Err(corrupt("recurrence interval without count".into())),
    }
}

impl PaymentRow {
    pub fn into_api(self) -> Result<Payment, Error> {
        Ok(Payment {
            currency: currency(&self.currency)?,
            recurrence: recurrence(self.recurrence_interval.as_deref(), self.recurrence_count)?,
            id: self.id,
            brand_id: self.brand_id,
            title: self.title,
            description: self.description,
            amount_minor: self.amount_minor,
            active: self.active,
        })
    }
}

fn payments(rows: Vec<PaymentRow>) -> Result<Vec<Payment>, Error> {
    rows.into_iter().map(PaymentRow::into_api).collect()
}

/// A payment that has not been deleted.
pub async fn get(db: &mut impl Db, id: &str) -> Result<Option<Payment>, Error> {
    let row: Option<PaymentRow> = on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(c)
    .await)?;
    row.map(PaymentRow::into_api).transpose()
}

/// Every payment (or a brand's), active or not, by brand and title.
pub async fn list(db: &mut impl Db, brand: Option<&str>) -> Result<Vec<Payment>, Error> {
    let rows = on!(db, |c| sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE ($1 IS NULL OR brand_id = $1) AND deleted_at IS NULL
         ORDER BY brand_id, lower(title), id"
    ))
    .bind(brand)
    .fetch_all(c)
    .await)?;
    payments(rows)
}

/// The Payments picker: a brand's active payments whose title or description contains
/// `search` (any case), by title.
pub async fn picker(
    db: &mut impl Db,
    brand: &str,
    search: Option<&str>,
) -> Result<Vec<Payment>, Error> {
    let pattern = search.map(contains_pattern);
    let rows = on!(db, |c| {
        sqlx::query_as(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE brand_id = $1 AND active = TRUE
           AND ($2 IS NULL OR COALESCE(title_key, lower(title)) LIKE $2 ESCAPE '\\'
                OR COALESCE(description_key, lower(description)) LIKE $2 ESCAPE '\\')
         ORDER BY lower(title), id"
        ))
        .bind(brand)
        .bind(pattern)
        .fetch_all(c)
        .await
    })?;
    payments(rows)
}

/// Writes a checked payment as `id`, active. One that exists with that id is kept (the
/// demo seed runs at every start and must not undo an admin's edits).
pub async fn insert(
    db: &mut impl Db,
    id: &str,
    valid: &ValidPayment,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "INSERT INTO payments (id, brand_id, title, description, amount_minor, currency, recurrence_interval,
             recurrence_count, active, created_at, updated_at, title_key, description_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&valid.brand_id)
    .bind(&valid.title)
    .bind(&valid.description)
    .bind(valid.amount_minor)
    .bind(valid.currency.code())
    .bind(valid.recurrence.map(|r| r.interval.as_str()))
    .bind(valid.recurrence.map(|r| i64::from(r.count)))
    .bind(now)
    .bind(key(&valid.title))
    .bind(key(&valid.description))
    .execute(c).await
    })?;
    Ok(())
}

pub async fn update(
    db: &mut impl Db,
    id: &str,
    valid: &ValidPayment,
    active: bool,
    now: &str,
) -> Result<(), Error> {
    exec!(db, |c| {
        sqlx::query(
        "UPDATE payments SET brand_id = $1, title = $2, description = $3, amount_minor = $4, currency = $5,
             recurrence_interval = $6, recurrence_count = $7, active = $8, updated_at = $9,
             title_key = $11, description_key = $12 WHERE id = $10",
    )
    .bind(&valid.brand_id)
    .bind(&valid.title)
    .bind(&valid.description)
    .bind(valid.amount_minor)
    .bind(valid.currency.code())
    .bind(valid.recurrence.map(|r| r.interval.as_str()))
    .bind(valid.recurrence.map(|r| i64::from(r.count)))
    .bind(active)
    .bind(now)
    .bind(id)
    .bind(key(&valid.title))
    .bind(key(&valid.description))
    .execute(c).await
    })?;
    Ok(())
}

/// Whether cards were shared of this payment.
pub async fn has_cards(db: &mut impl Db, id: &str) -> Result<bool, Error> {
    on!(db, |c| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cards WHERE payment_id = $1)"
    )
    .bind(id)
    .fetch_one(c)
    .await)
}

/// Deletes a payment never shared.
pub async fn delete(db: &mut impl Db, id: &str) -> Result<(), Error> {
    exec!(db, |c| sqlx::query("DELETE FROM payments WHERE id = $1")
        .bind(id)
        .execute(c)
        .await)?;
    Ok(())
}

/// Hides a payment with cards: inactive, gone from every list, kept for its cards.
pub async fn hide(db: &mut impl Db, id: &str, now: &str) -> Result<(), Error> {
    exec!(db, |c| sqlx::query(
        "UPDATE payments SET active = FALSE, deleted_at = $1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await)?;
    Ok(())
}
