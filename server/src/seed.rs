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

use crate::password;
use crate::store::{self, Store};

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
    Database(#[from] store::Error),
    #[error("demo payment {0} breaks the payment rules")]
    InvalidPayment(&'static str),
}

/// Writes the demo data in one transaction and returns the password to print.
pub async fn seed_demo(
    store: &Store,
    password: Option<&str>,
) -> Result<DemoCredentials, SeedError> {
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

    let mut tx = store.write().await?;
    for (id, name) in DEMO_BRANDS {
        store::brands::insert(&mut tx, id, name, &[], &now).await?;
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
        store::payments::insert(&mut tx, id, &valid, &now).await?;
    }
    for (account, hash) in DEMO_ACCOUNTS.iter().zip(&hashes) {
        store::accounts::upsert(
            &mut tx,
            account.id,
            account.email,
            account.name,
            account.role,
            hash,
            &now,
        )
        .await?;
        for brand in account.brands {
            store::accounts::join_brand(&mut tx, account.email, brand).await?;
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

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("seed.db").display());
        (dir, Store::open(&url).await.unwrap())
    }

    #[tokio::test]
    async fn seeds_brands_payments_and_accounts_once() {
        let (_dir, store) = store().await;
        assert_eq!(
            seed_demo(&store, Some("pw-one")).await.unwrap(),
            DemoCredentials::Given
        );
        // Restart with another (generated) password: no duplicates, the new password works.
        let DemoCredentials::Generated(generated) = seed_demo(&store, None).await.unwrap() else {
            panic!("expected a generated password");
        };
        assert_eq!(generated.len(), 16);
        let mut db = store.read().await.unwrap();
        let brands = store::brands::list(&mut db, None).await.unwrap();
        assert_eq!(brands.len(), 2);
        let payments = store::payments::list(&mut db, None).await.unwrap();
        assert_eq!(payments.len(), 6);
        assert_eq!(
            payments.iter().filter(|p| p.recurrence.is_some()).count(),
            3
        );
        let admin = store::accounts::password_hash(&mut db, "admin@example.com")
            .await
            .unwrap()
            .unwrap();
        let operator = store::accounts::password_hash(&mut db, "operator@example.com")
            .await
            .unwrap()
            .unwrap();
        let admin_account = store::accounts::account(&mut db, &admin.0)
            .await
            .unwrap()
            .unwrap();
        let operator_account = store::accounts::account(&mut db, &operator.0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(admin_account.brands, ["acme", "zen"]);
        assert_eq!(operator_account.brands, ["acme"]);
        assert!(password::verify(&generated, &admin.1));
        assert!(!password::verify("pw-one", &admin.1));
    }

    #[tokio::test]
    async fn a_restart_keeps_what_an_admin_changed() {
        let (_dir, store) = store().await;
        seed_demo(&store, Some("pw")).await.unwrap();
        let mut tx = store.write().await.unwrap();
        let mug = store::payments::get(&mut tx, "pay_demo_mug")
            .await
            .unwrap()
            .unwrap();
        let draft = PaymentDraft {
            brand_id: mug.brand_id.clone(),
            title: "Big mug".into(),
            description: mug.description.clone(),
            amount_minor: mug.amount_minor,
            currency: mug.currency.code().into(),
            recurrence: mug.recurrence,
        };
        let valid = validate_payment(&draft).unwrap();
        store::payments::update(
            &mut tx,
            "pay_demo_mug",
            &valid,
            false,
            "2026-01-01T00:00:00.000Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        seed_demo(&store, Some("pw")).await.unwrap();
        let mut db = store.read().await.unwrap();
        let mug = store::payments::get(&mut db, "pay_demo_mug")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((mug.title.as_str(), mug.active), ("Big mug", false));
    }
}
