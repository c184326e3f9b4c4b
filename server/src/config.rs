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
    /// `PAYCARD_PAYPAL_API_BASE`: where PayPal calls go; PayPal's sandbox
    /// (`https://api-m.sandbox.paypal.com`) for sandbox credentials, a stand-in in tests.
    pub paypal_api_base: String,
    /// `PAYCARD_RAZORPAY_API_BASE`: where Razorpay calls go (a stand-in in tests).
    pub razorpay_api_base: String,
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
    /// `PAYCARD_PUBLIC_URL`: where people reach this server (`https://pay.example.com`);
    /// every link it makes starts with it, never with a request's `Host`. Unset, it is
    /// `http://` and the listening address (see [`Config::public_url_for`]).
    pub public_url: Option<url::Url>,
    /// `PAYCARD_TRUSTED_PROXIES`: comma-separated IPs or CIDRs of the proxies in front.
    /// Only a request from one of these may say who the client is (`X-Forwarded-For`)
    /// and how it reached the proxy (`X-Forwarded-Proto`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// What anonymous traffic may do, and how long it may take (SPEC §8.1).
    pub limits: Limits,
    /// `PAYCARD_SANDBOX_LATENCY_MS`: how long the sandbox gateway takes to answer, as a
    /// real one over the network would (demos, load tests, tests of what happens
    /// meanwhile). Default 0.
    pub sandbox_latency: Duration,
    /// `PAYCARD_SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host:port`,
    /// `smtp://…?tls=starttls`): where receipts are sent (SPEC §8.4). Unset, no mail.
    pub smtp_url: Option<String>,
    /// `PAYCARD_MAIL_FROM` (`Brand Payments <pay@example.com>`): the receipts' sender.
    pub mail_from: String,
    /// `PAYCARD_WEBHOOK_ALLOW_PRIVATE=1`: webhook endpoints may be `http://` and on
    /// loopback or private addresses (development and tests only).
    pub webhook_allow_private: bool,
}

/// The receipts' sender when `PAYCARD_MAIL_FROM` is not set.
pub const DEFAULT_MAIL_FROM: &str = "paycard <receipts@paycard.invalid>";

/// An SMTP URL as lettre takes it. `?tls=starttls` (the name most servers' docs use) is
/// lettre's `?tls=required`: STARTTLS, and no mail without it.
fn parse_smtp_url(text: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(text.trim()).map_err(|_| "not a URL")?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err("expected smtp:// or smtps://");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host");
    }
    let mut url = url;
    let tls: Option<String> = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    match tls.as_deref() {
        None | Some("required" | "opportunistic") => {}
        Some("starttls") => {
            url.set_query(Some("tls=required"));
        }
        Some(_) => return Err("tls= takes starttls, required or opportunistic"),
    }
    Ok(url.to_string())
}

/// An SMTP URL to show (logs, the console): without its password.
pub fn redact_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// A rate: `count` requests at once, refilled evenly over `per` (a token bucket).
/// Written `20/minute`, `5/second`, `100/hour` (or `s`, `min`, `h`); `off` disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: std::num::NonZeroU32,
    pub per: Duration,
}

impl Rate {
    pub const fn per_minute(count: u32) -> Option<Rate> {
        match std::num::NonZeroU32::new(count) {
            Some(count) => Some(Rate {
                count,
                per: Duration::from_secs(60),
            }),
            None => None,
        }
    }

    /// `N/unit`, or `off` (no limit): `None`.
    pub fn parse(text: &str) -> Result<Option<Rate>, &'static str> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        const WHY: &str =
            "expected COUNT/UNIT (UNIT: second, minute or hour), such as 20/minute, or off";
        let (count, unit) = text.split_once('/').ok_or(WHY)?;
        let count = count
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(std::num::NonZeroU32::new)
            .ok_or(WHY)?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(WHY),
        };
        Ok(Some(Rate { count, per }))
    }
}

/// The limits of SPEC §8.1. Each default fits a busy real site: a person never meets
/// them, a script does at once. Each is configurable; a rate set to `off` is not limited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `PAYCARD_LIMIT_LOGIN`: sign-in attempts per client address (any email).
    pub login_per_address: Option<Rate>,
    /// `PAYCARD_LIMIT_LOGIN_ACCOUNT`: sign-in attempts per email *and* client address, so
    /// guessing one account's password from one address crawls, while the account's
    /// owner, elsewhere, is never locked out.
    pub login_per_account: Option<Rate>,
    /// `PAYCARD_LIMIT_CONVERSATIONS`: new conversations per client address.
    pub conversations: Option<Rate>,
    /// `PAYCARD_LIMIT_MESSAGES`: visitor messages per client address.
    pub messages: Option<Rate>,
    /// `PAYCARD_LIMIT_CHECKOUT_LINKS`: checkout links per client address.
    pub checkout_links: Option<Rate>,
    /// `PAYCARD_LIMIT_PAYMENTS`: checkout form submissions per client address (a card
    /// tester's tool).
    pub payments: Option<Rate>,
    /// `PAYCARD_PASSWORD_HASHES`: password checks running at once (argon2 takes ~19 MiB
    /// and tens of ms each); a few more may wait, the rest get 429. Default: the CPUs.
    pub password_hashes: usize,
    /// `PAYCARD_MAX_CONNECTIONS`: open connections in all (live streams included).
    pub max_connections: usize,
    /// `PAYCARD_MAX_CONNECTIONS_PER_ADDRESS`: open connections per client address
    /// (trusted proxies excepted).
    pub max_connections_per_address: usize,
    /// `PAYCARD_HEADER_TIMEOUT_SECONDS`: a request's headers must arrive within this
    /// (also how long an idle keep-alive connection stays open).
    pub header_timeout: Duration,
    /// `PAYCARD_BODY_TIMEOUT_SECONDS`: a request's body must arrive within this.
    pub body_timeout: Duration,
    /// `PAYCARD_STREAMS_PER_CLIENT`: live streams open at once per visitor token or
    /// console session; a new one closes the oldest.
    pub streams_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_per_address: Rate::per_minute(30),
            login_per_account: Rate::per_minute(10),
            conversations: Rate::per_minute(20),
            messages: Rate::per_minute(60),
            checkout_links: Rate::per_minute(30),
            payments: Rate::per_minute(20),
            password_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .clamp(2, 16),
            max_connections: 10_000,
            max_connections_per_address: 200,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            streams_per_client: 5,
        }
    }
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/paycard.db";
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_PAYPAL_API_BASE: &str = "https://api-m.paypal.com";
pub const DEFAULT_RAZORPAY_API_BASE: &str = "https://api.razorpay.com";
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
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if crate::store::Backend::of(&database_url).is_err() {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: crate::store::redact(&database_url),
                why: "use sqlite://PATH (one instance) or postgres://… (several instances)",
            });
        }
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
        let count = |name: &'static str, default: usize| match get(name) {
            None => Ok(default),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: text,
                    why: "expected a whole number greater than 0",
                }),
            },
        };
        let rate = |name: &'static str, default: Option<Rate>| match get(name) {
            None => Ok(default),
            Some(text) => Rate::parse(&text).map_err(|why| ConfigError::Invalid {
                name,
                value: text,
                why,
            }),
        };
        let defaults = Limits::default();
        let limits = Limits {
            login_per_address: rate("PAYCARD_LIMIT_LOGIN", defaults.login_per_address)?,
            login_per_account: rate("PAYCARD_LIMIT_LOGIN_ACCOUNT", defaults.login_per_account)?,
            conversations: rate("PAYCARD_LIMIT_CONVERSATIONS", defaults.conversations)?,
            messages: rate("PAYCARD_LIMIT_MESSAGES", defaults.messages)?,
            checkout_links: rate("PAYCARD_LIMIT_CHECKOUT_LINKS", defaults.checkout_links)?,
            payments: rate("PAYCARD_LIMIT_PAYMENTS", defaults.payments)?,
            password_hashes: count("PAYCARD_PASSWORD_HASHES", defaults.password_hashes)?,
            max_connections: count("PAYCARD_MAX_CONNECTIONS", defaults.max_connections)?,
            max_connections_per_address: count(
                "PAYCARD_MAX_CONNECTIONS_PER_ADDRESS",
                defaults.max_connections_per_address,
            )?,
            header_timeout: seconds("PAYCARD_HEADER_TIMEOUT_SECONDS", defaults.header_timeout)?,
            body_timeout: seconds("PAYCARD_BODY_TIMEOUT_SECONDS", defaults.body_timeout)?,
            streams_per_client: count("PAYCARD_STREAMS_PER_CLIENT", defaults.streams_per_client)?,
        };
        let public_url = match get("PAYCARD_PUBLIC_URL") {
            None => None,
            Some(text) => Some(parse_public_url(&text).map_err(|why| ConfigError::Invalid {
                name: "PAYCARD_PUBLIC_URL",
                value: text,
                why,
            })?),
        };
        let trusted_proxies = match get("PAYCARD_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(text) => parse_networks(&text).map_err(|why| ConfigError::Invalid {
                name: "PAYCARD_TRUSTED_PROXIES",
                value: text,
                why,
            })?,
        };
        let smtp_url = match get("PAYCARD_SMTP_URL") {
            None => None,
            Some(text) if text.trim().is_empty() => None,
            Some(text) => Some(parse_smtp_url(&text).map_err(|why| ConfigError::Invalid {
                name: "PAYCARD_SMTP_URL",
                value: redact_password(&text),
                why,
            })?),
        };
        let mail_from = match get("PAYCARD_MAIL_FROM") {
            None => DEFAULT_MAIL_FROM.to_owned(),
            Some(text) => {
                if text.trim().parse::<lettre::message::Mailbox>().is_err() {
                    return Err(ConfigError::Invalid {
                        name: "PAYCARD_MAIL_FROM",
                        value: text,
                        why: "expected an address such as `Brand Payments <pay@example.com>`",
                    });
                }
                text.trim().to_owned()
            }
        };
        let webhook_allow_private = get("PAYCARD_WEBHOOK_ALLOW_PRIVATE").as_deref() == Some("1");
        Ok(Config {
            smtp_url,
            mail_from,
            webhook_allow_private,
            addr,
            database_url,
            demo,
            demo_password: get("PAYCARD_DEMO_PASSWORD"),
            stripe_api_base: get("PAYCARD_STRIPE_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_owned()),
            paypal_api_base: get("PAYCARD_PAYPAL_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_PAYPAL_API_BASE.to_owned()),
            razorpay_api_base: get("PAYCARD_RAZORPAY_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_RAZORPAY_API_BASE.to_owned()),
            card_ttl,
            heartbeat,
            secret_key: get("PAYCARD_SECRET_KEY"),
            key_file: get("PAYCARD_KEY_FILE").map(std::path::PathBuf::from),
            public_url,
            trusted_proxies,
            limits,
            sandbox_latency: match get("PAYCARD_SANDBOX_LATENCY_MS") {
                None => Duration::ZERO,
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| *ms <= 60_000)
                    .map(Duration::from_millis)
                    .ok_or(ConfigError::Invalid {
                        name: "PAYCARD_SANDBOX_LATENCY_MS",
                        value: text,
                        why: "expected milliseconds, 0 to 60000",
                    })?,
            },
        })
    }

    /// Where people reach this server, as links begin: `PAYCARD_PUBLIC_URL`, else
    /// `http://` and the address it listens on (`bound`: port 0 resolved), without a
    /// trailing slash.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

/// `http(s)://host[:port][/path]`, nothing after the path: the links' common start.
fn parse_public_url(text: &str) -> Result<url::Url, &'static str> {
    const WHY: &str =
        "expected an http(s) URL such as https://pay.example.com, with no query or fragment";
    let url = url::Url::parse(text.trim()).map_err(|_| WHY)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if ok {
        Ok(url)
    } else {
        Err(WHY)
    }
}

/// `10.0.0.1, 10.1.0.0/16, ::1`: addresses (a network of one) and CIDR networks.
fn parse_networks(text: &str) -> Result<Vec<ipnet::IpNet>, &'static str> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| "expected comma-separated IP addresses or CIDR networks, such as 10.0.0.1, 10.1.0.0/16")
        })
        .collect()
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
        assert_eq!(c.public_url, None);
        assert_eq!(
            c.public_url_for("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert!(c.trusted_proxies.is_empty());
        // SPEC §8.1's fixed defaults.
        assert_eq!(c.limits.header_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.body_timeout, Duration::from_secs(30));
        assert_eq!(c.limits.streams_per_client, 5);
        assert!(c.limits.password_hashes >= 2);
    }

    #[test]
    fn reads_the_internet_facing_settings() {
        let c = config(&[
            ("PAYCARD_PUBLIC_URL", "https://pay.example.com/"),
            ("PAYCARD_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12,::1"),
            ("PAYCARD_LIMIT_LOGIN", "5/second"),
            ("PAYCARD_LIMIT_MESSAGES", "off"),
            ("PAYCARD_PASSWORD_HASHES", "3"),
            ("PAYCARD_HEADER_TIMEOUT_SECONDS", "2"),
        ])
        .unwrap();
        assert_eq!(
            c.public_url_for("127.0.0.1:1".parse().unwrap()),
            "https://pay.example.com"
        );
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.trusted_proxies[1].contains(&"172.20.1.2".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(
            c.limits.login_per_address,
            Some(Rate {
                count: 5.try_into().unwrap(),
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(c.limits.messages, None);
        assert_eq!(c.limits.password_hashes, 3);
        assert_eq!(c.limits.header_timeout, Duration::from_secs(2));
        for (name, value) in [
            ("PAYCARD_PUBLIC_URL", "pay.example.com"),
            ("PAYCARD_PUBLIC_URL", "ftp://pay.example.com"),
            ("PAYCARD_PUBLIC_URL", "https://pay.example.com/?x=1"),
            ("PAYCARD_TRUSTED_PROXIES", "10.0.0.1, proxy.local"),
            ("PAYCARD_LIMIT_LOGIN", "5"),
            ("PAYCARD_LIMIT_LOGIN", "0/minute"),
            ("PAYCARD_LIMIT_LOGIN", "5/fortnight"),
            ("PAYCARD_PASSWORD_HASHES", "0"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
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
