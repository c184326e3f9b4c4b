//! Identifiers, bearer secrets and timestamps.
//!
//! Secrets (visitor tokens, sessions, stream tickets, checkout links) are 256 random
//! bits, shown to their holder once and stored only as SHA-256 hashes: a copy of the
//! database does not let anyone act as a visitor or an operator. SHA-256 (not argon2)
//! is right here because the secrets are random, not guessable passwords.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new opaque id such as `card_0192f1c4…`. UUIDv7: ids sort by creation time.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A new secret with a prefix saying what it is (`pcv_` visitor, `pcs_` session…),
/// and the hash to store.
pub fn new_secret(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_secret(&secret);
    (secret, hash)
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub const VISITOR_TOKEN: &str = "pcv";
pub const SESSION_TOKEN: &str = "pcs";
pub const STREAM_TICKET: &str = "pct";
pub const CHECKOUT_TOKEN: &str = "pck";
/// API keys share the checkout links' prefix (SPEC §8.5 names both `pck_`); the two
/// never meet: a key is only ever a bearer token, a checkout token only ever a path.
pub const API_KEY: &str = "pck";

/// Timestamps are stored and sent as RFC 3339 UTC with milliseconds, one fixed format,
/// so that comparing the text in SQL compares the times.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn now() -> String {
    timestamp(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_prefixed_and_stored_as_hashes() {
        let (a, hash_a) = new_secret(VISITOR_TOKEN);
        let (b, _) = new_secret(VISITOR_TOKEN);
        assert_ne!(a, b);
        assert!(a.starts_with("pcv_") && a.len() == 4 + 43);
        assert_eq!(hash_a, hash_secret(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a[4..]));
    }

    #[test]
    fn ids_sort_by_creation() {
        let ids: Vec<String> = (0..100).map(|_| new_id("msg")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn timestamps_compare_as_text() {
        let a = timestamp(
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .into(),
        );
        assert_eq!(a, "2026-01-02T03:04:05.000Z");
        let b = timestamp(
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05.5Z")
                .unwrap()
                .into(),
        );
        assert!(a < b);
    }
}
