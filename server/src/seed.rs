//! Demo data for `PAYCARD_DEMO=1` (SPEC §7): brands `acme` and `zen`, one-time and
//! recurring payments for each, an admin of both brands and an operator of `acme`.
//!
//! Idempotent: a restart adds nothing twice and keeps what an admin changed in the demo
//! brands and payments. Only the demo accounts' password is set again, so the one
//! printed at start-up always works.

use chrono::{SecondsFormat, Utc};
use paycard_core::validation::{validate_payment, PaymentDraft};
use paycard_core::{Interval, Recurrence};
use rand::distributions::{Alphanumeric, DistString};

use crate::db::Pool;
use crate::password;

pub struct DemoAccount {
    pub id: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub brands: &'static [&'static str],
}

pub const DEMO_ACCOUNTS: [DemoAccount; 2] = [
    DemoAccount {
        id: "acc_demo_admin",
        email: "admin@example.com",
        name: "Ada Admin",
        role: "admin",
        brands: &["acme", "zen"],
    },
    DemoAccount {
        id: "acc_demo_operator",
        email: "operator@example.com",
        name: "Oscar Operator",
        role: "operator",
        brands: &["acme"],
    },
];

const DEMO_BRANDS: [(&str, &str); 2] = [("acme", "Acme Coffee"), ("zen", "Zen Yoga")];

/// (id, brand, title, description, amount_minor, currency, recurrence)
type DemoPayment = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    Option<Recurrence>,
);

const DEMO_PAYMENTS: [DemoPayment; 6] = [
    (
        "pay_demo_mug",
        "acme",
        "Custom mug",
        "A 350 ml stoneware mug with your name on it.",
        2500,
        "EUR",
        None,
    ),
    (
        "pay_demo_beans",
        "acme",
        "Coffee subscription",
        "A 500 g bag of freshly roasted beans, delivered every month.",
        4900,
        "EUR",
        Some(Recurrence::MONTHLY),
    ),
    (
        "pay_demo_workshop",
        "acme",
        "Barista workshop",
        "Three hours with our head barista: espresso, milk, latte art.",
        12000,
        "EUR",
        None,
    ),
    (
        "pay_demo_dropin",
        "zen",
        "Drop-in class",
        "One 75-minute class, any style, any day.",
        1500,
        "EUR",
        None,
    ),
    (
        "pay_demo_membership",
        "zen",
        "Monthly membership",
        "Unlimited classes.",
        8900,
        "EUR",
        Some(Recurrence::MONTHLY),
    ),
    (
        "pay_demo_private",
        "zen",
        "Private session",
        "A one-to-one session with a teacher of your choice.",
        6000,
        "EUR",
        Some(Recurrence {
            interval: Interval::Week,
            count: 2,
        }),
    ),
];

/// What the person starting the server needs to know about the demo password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoCredentials {
    /// Set from `PAYCARD_DEMO_PASSWORD`; not printed again.
    Given,
    /// Generated for this start; printed once.
    Generated(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("demo payment {0} breaks the payment rules")]
    InvalidPayment(&'static str),
}

/// Writes the demo data in one transaction and returns the password to print.
pub async fn seed_demo(pool: &Pool, password: Option<&str>) -> Result<DemoCredentials, SeedError> {
    let (password, credentials) = match password {
        Some(pw) => (pw.to_owned(), DemoCredentials::Given),
        None => {
            let pw = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
            (pw.clone(), DemoCredentials::Generated(pw))
        }
    };
    // Hash before the transaction: argon2 is deliberately slow and must not hold the
    // write lock.
    let hashes: Vec<String> = DEMO_ACCOUNTS
        .iter()
        .map(|_| password::hash(&password))
        .collect();
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);

    let mut tx = pool.begin().await?;
    for (id, name) in DEMO_BRANDS {
        sqlx::query("INSERT INTO brands (id, name, allowed_origins, created_at) VALUES (?, ?, '[]', ?) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
    }
    for (id, brand, title, description, amount_minor, currency, recurrence) in DEMO_PAYMENTS {
        let draft = PaymentDraft {
            brand_id: brand.into(),
            title: title.into(),
            description: description.into(),
            amount_minor,
            currency: currency.into(),
            recurrence,
        };
        let valid = validate_payment(&draft).map_err(|_| SeedError::InvalidPayment(id))?;
        crate::api::admin::payments::insert_payment(&mut tx, id, &valid, &now).await?;
    }
    for (account, hash) in DEMO_ACCOUNTS.iter().zip(&hashes) {
        sqlx::query(
            "INSERT INTO accounts (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
        )
        .bind(account.id)
        .bind(account.email)
        .bind(account.name)
        .bind(account.role)
        .bind(hash)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        for brand in account.brands {
            sqlx::query(
                "INSERT INTO account_brands (account_id, brand_id)
                 SELECT id, ? FROM accounts WHERE email = ? ON CONFLICT DO NOTHING",
            )
            .bind(brand)
            .bind(account.email)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        brands = DEMO_BRANDS.len(),
        payments = DEMO_PAYMENTS.len(),
        accounts = DEMO_ACCOUNTS.len(),
        "demo data ready"
    );
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("seed.db").display());
        (dir, crate::db::connect(&url).await.unwrap())
    }

    async fn count(pool: &Pool, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    }

    #[tokio::test]
    async fn seeds_brands_payments_and_accounts_once() {
        let (_dir, pool) = pool().await;
        assert_eq!(
            seed_demo(&pool, Some("pw-one")).await.unwrap(),
            DemoCredentials::Given
        );
        // Restart with another (generated) password: no duplicates, the new password works.
        let DemoCredentials::Generated(generated) = seed_demo(&pool, None).await.unwrap() else {
            panic!("expected a generated password");
        };
        assert_eq!(generated.len(), 16);
        assert_eq!(count(&pool, "SELECT count(*) FROM brands").await, 2);
        assert_eq!(count(&pool, "SELECT count(*) FROM payments").await, 6);
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM payments WHERE recurrence_interval IS NOT NULL"
            )
            .await,
            3
        );
        assert_eq!(count(&pool, "SELECT count(*) FROM accounts").await, 2);
        assert_eq!(count(&pool, "SELECT count(*) FROM account_brands").await, 3);
        let brands: Vec<String> = sqlx::query_scalar(
            "SELECT brand_id FROM account_brands JOIN accounts ON accounts.id = account_id WHERE email = 'operator@example.com'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(brands, ["acme"]);
        let hash: String = sqlx::query_scalar(
            "SELECT password_hash FROM accounts WHERE email = 'admin@example.com'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(password::verify(&generated, &hash));
        assert!(!password::verify("pw-one", &hash));
    }

    #[tokio::test]
    async fn a_restart_keeps_what_an_admin_changed() {
        let (_dir, pool) = pool().await;
        seed_demo(&pool, Some("pw")).await.unwrap();
        sqlx::query("UPDATE payments SET title = 'Big mug', active = 0 WHERE id = 'pay_demo_mug'")
            .execute(&pool)
            .await
            .unwrap();
        seed_demo(&pool, Some("pw")).await.unwrap();
        let (title, active): (String, i64) =
            sqlx::query_as("SELECT title, active FROM payments WHERE id = 'pay_demo_mug'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((title.as_str(), active), ("Big mug", 0));
    }
}
