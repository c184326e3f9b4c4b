//! Where a browser says a request comes from: its `Origin` header, compared with the
//! `Host` it was sent to, and Fetch Metadata (`Sec-Fetch-Site`). The cookie-carrying API
//! and the checkout form read these the same way; each decides its own policy.
//!
//! Also where the visitor reached this server, for the links it hands out (checkout
//! links, a gateway's return URLs) and the session cookie's `Secure` flag.

use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;

pub struct Provenance<'a> {
    /// The `Origin` header as sent (`null` included).
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub fetch_site: Option<&'a str>,
    host: Option<&'a str>,
}

impl<'a> Provenance<'a> {
    pub fn of(headers: &'a HeaderMap) -> Provenance<'a> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Provenance {
            origin: text(ORIGIN.as_str()),
            fetch_site: text("sec-fetch-site"),
            host: text(HOST.as_str()),
        }
    }

    /// Whether the `Origin` names the host the request was sent to; `None` when there is
    /// no `Origin`, or it is the opaque `null`.
    pub fn origin_is_host(&self) -> Option<bool> {
        let origin = self.origin.filter(|o| *o != "null")?;
        Some(self.host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }))
    }
}

/// Whether the visitor reached us over HTTPS: a TLS proxy in front says so with
/// `X-Forwarded-Proto`.
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// `scheme://host` as the visitor reached this server: the request's `Host` (when it is
/// a plausible host, else `fallback`, the listening address) and [`over_https`].
pub fn public_base(headers: &HeaderMap, fallback: impl std::fmt::Display) -> String {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| fallback.to_string());
    let scheme = if over_https(headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn compares_the_origin_with_the_host() {
        let h = headers(&[
            ("host", "pay.example:8080"),
            ("origin", "https://PAY.example:8080"),
        ]);
        assert_eq!(Provenance::of(&h).origin_is_host(), Some(true));
        let h = headers(&[("host", "pay.example"), ("origin", "https://evil.example")]);
        assert_eq!(Provenance::of(&h).origin_is_host(), Some(false));
        let h = headers(&[
            ("host", "pay.example"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        let p = Provenance::of(&h);
        assert_eq!(
            (p.origin_is_host(), p.origin, p.fetch_site),
            (None, Some("null"), Some("same-origin"))
        );
        assert_eq!(Provenance::of(&HeaderMap::new()).origin_is_host(), None);
    }

    #[test]
    fn the_public_base_is_the_host_the_visitor_used() {
        let plain = headers(&[("host", "shop.example:8080")]);
        assert_eq!(
            public_base(&plain, "127.0.0.1:1"),
            "http://shop.example:8080"
        );
        let tls = headers(&[("host", "pay.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(public_base(&tls, "127.0.0.1:1"), "https://pay.example");
        assert!(over_https(&tls) && !over_https(&plain));
        let odd = headers(&[("host", "evil.example/path?x")]);
        assert_eq!(public_base(&odd, "127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            public_base(&HeaderMap::new(), "127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
