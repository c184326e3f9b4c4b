//! Settings, from the environment (SPEC §7).

use std::net::SocketAddr;
use std::time::Duration;

/// The server's settings. Every field has a default that suits `make run` on a laptop.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PAYCARD_ADDR`, default `127.0.0.1:8080`. Port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// `DATABASE_URL`, default a SQLite file under `data/`.
    pub database_url: String,
    /// `PAYCARD_DEMO=1` seeds the demo brands, payments and accounts.
    pub demo: bool,
    /// `PAYCARD_DEMO_PASSWORD`: the demo accounts' password; generated and printed if unset.
    pub demo_password: Option<String>,
    /// `PAYCARD_STRIPE_API_BASE`: where Stripe calls go (a stand-in in tests).
    pub stripe_api_base: String,
    /// `PAYCARD_CARD_TTL_SECONDS`: how long a shared card can be paid, default 24 h.
    pub card_ttl: Duration,
    /// `PAYCARD_HEARTBEAT_SECONDS`: how often an idle live stream sends a heartbeat,
    /// default 15 s (below common proxy idle timeouts).
    pub heartbeat: Duration,
    /// `PAYCARD_SECRET_KEY`: the key (32 bytes, base64) that encrypts gateway credentials.
    pub secret_key: Option<String>,
    /// `PAYCARD_KEY_FILE`: where that key is kept when not in the environment; generated
    /// on first start. Default: `paycard.key` beside the SQLite file.
    pub key_file: Option<std::path::PathBuf>,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/paycard.db";
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_CARD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: &'static str,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let addr_text = get("PAYCARD_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.trim().parse().map_err(|_| ConfigError::Invalid {
            name: "PAYCARD_ADDR",
            value: addr_text.clone(),
            why: "expected HOST:PORT with an IP address, such as 127.0.0.1:8080",
        })?;
        let demo = match get("PAYCARD_DEMO").as_deref().map(str::trim) {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PAYCARD_DEMO",
                    value: other.into(),
                    why: "expected 1 or 0",
                })
            }
        };
        let seconds = |name: &'static str, default: Duration| match get(name) {
            None => Ok(default),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: text,
                    why: "expected a whole number of seconds greater than 0",
                }),
            },
        };
        let card_ttl = seconds("PAYCARD_CARD_TTL_SECONDS", DEFAULT_CARD_TTL)?;
        let heartbeat = seconds("PAYCARD_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT)?;
        Ok(Config {
            addr,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            demo,
            demo_password: get("PAYCARD_DEMO_PASSWORD"),
            stripe_api_base: get("PAYCARD_STRIPE_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_owned()),
            card_ttl,
            heartbeat,
            secret_key: get("PAYCARD_SECRET_KEY"),
            key_file: get("PAYCARD_KEY_FILE").map(std::path::PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_suit_a_laptop() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/paycard.db");
        assert!(!c.demo);
        assert_eq!(c.demo_password, None);
        assert_eq!(c.card_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            ("PAYCARD_ADDR", "0.0.0.0:9000"),
            ("DATABASE_URL", "sqlite:///tmp/x.db"),
            ("PAYCARD_DEMO", "1"),
            ("PAYCARD_DEMO_PASSWORD", "hunter22"),
            ("PAYCARD_STRIPE_API_BASE", "http://127.0.0.1:1234/"),
            ("PAYCARD_CARD_TTL_SECONDS", "60"),
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.database_url, "sqlite:///tmp/x.db");
        assert!(c.demo);
        assert_eq!(c.demo_password.as_deref(), Some("hunter22"));
        assert_eq!(c.stripe_api_base, "http://127.0.0.1:1234");
        assert_eq!(c.card_ttl, Duration::from_secs(60));
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let err = config(&[("PAYCARD_ADDR", "localhost")]).unwrap_err();
        assert!(
            err.to_string().starts_with("PAYCARD_ADDR=\"localhost\""),
            "{err}"
        );
        assert!(config(&[("PAYCARD_DEMO", "yes please")]).is_err());
        assert!(config(&[("PAYCARD_CARD_TTL_SECONDS", "0")]).is_err());
        assert!(config(&[("PAYCARD_CARD_TTL_SECONDS", "-5")]).is_err());
        assert!(config(&[("PAYCARD_HEARTBEAT_SECONDS", "soon")]).is_err());
    }
}
