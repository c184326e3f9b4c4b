//! Where a request comes from.
//!
//! - [`Provenance`]: what a browser says: its `Origin` header, compared with this
//!   server's own origin, and Fetch Metadata (`Sec-Fetch-Site`). The cookie-carrying API
//!   and the checkout form read these the same way; each decides its own policy.
//! - [`Client`]: the client's address and scheme. Only a trusted proxy
//!   (`PAYCARD_TRUSTED_PROXIES`) may name them, with `X-Forwarded-For` and
//!   `X-Forwarded-Proto`; anyone else could send those headers to dodge a rate limit.
//!
//! Links the server hands out never come from here: they start with
//! `PAYCARD_PUBLIC_URL` ([`crate::AppState::public_url`]), whatever `Host` says.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

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

    /// Whether the `Origin` is this server's: the host the request was sent to, or the
    /// public URL's origin (`public_origin`; a proxy in front may rewrite `Host`).
    /// `None` when there is no `Origin`, or it is the opaque `null`.
    pub fn origin_is_ours(&self, public_origin: &str) -> Option<bool> {
        let origin = self.origin.filter(|o| *o != "null")?;
        if origin.eq_ignore_ascii_case(public_origin) {
            return Some(true);
        }
        Some(self.host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }))
    }
}

/// Who is at the other end of a request, as far as this server can trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer's, or, when the peer is a trusted proxy, the
    /// nearest untrusted address in `X-Forwarded-For`.
    pub addr: IpAddr,
    /// Whether the client reached us (or the trusted proxy) over HTTPS.
    pub https: bool,
}

impl Client {
    /// Reads a request's client from its peer address and, if the peer is a trusted
    /// proxy, its forwarding headers.
    pub fn identify(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> Client {
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Client {
                addr: peer,
                https: false,
            };
        }
        // Each proxy appends the address it got the request from: walking from the
        // right, the first address not of our own proxies is the client. What is left
        // of it was written by the client itself and is not believed.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut addr = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            addr = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        Client { addr, https }
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Middleware: works out each request's [`Client`] once, for the extractor below.
pub async fn identify_client(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let client = Client::identify(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(client);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    /// Requests that did not pass through [`identify_client`] (a router driven without
    /// a network, in tests) all share the unspecified address.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().copied().unwrap_or(Client {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            https: false,
        }))
    }
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
        assert_eq!(Provenance::of(&h).origin_is_ours("http://x"), Some(true));
        let h = headers(&[("host", "pay.example"), ("origin", "https://evil.example")]);
        assert_eq!(
            Provenance::of(&h).origin_is_ours("https://pay.example"),
            Some(false)
        );
        let h = headers(&[
            ("host", "pay.example"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        let p = Provenance::of(&h);
        assert_eq!(
            (
                p.origin_is_ours("https://pay.example"),
                p.origin,
                p.fetch_site
            ),
            (None, Some("null"), Some("same-origin"))
        );
        assert_eq!(
            Provenance::of(&HeaderMap::new()).origin_is_ours("http://x"),
            None
        );
    }

    #[test]
    fn the_public_origin_counts_as_ours_behind_a_proxy_that_rewrites_host() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://pay.example"),
        ]);
        let p = Provenance::of(&h);
        assert_eq!(p.origin_is_ours("https://pay.example"), Some(true));
        assert_eq!(p.origin_is_ours("https://other.example"), Some(false));
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let forwarded = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.5"),
            ("x-forwarded-proto", "https"),
        ]);
        // From a stranger, the headers are ignored.
        assert_eq!(
            Client::identify(ip("198.51.100.1"), &forwarded, &trusted),
            Client {
                addr: ip("198.51.100.1"),
                https: false
            }
        );
        // From our proxy: the nearest address that is not ours; what the client wrote
        // itself (6.6.6.6) is not believed.
        assert_eq!(
            Client::identify(ip("10.0.0.9"), &forwarded, &trusted),
            Client {
                addr: ip("203.0.113.7"),
                https: true
            }
        );
        // Ports and IPv6 are read; garbage stops the walk at the last trusted hop.
        let odd = headers(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        assert_eq!(
            Client::identify(ip("10.0.0.9"), &odd, &trusted).addr,
            ip("2001:db8::1")
        );
        let junk = headers(&[("x-forwarded-for", "not-an-ip, 10.0.0.5")]);
        assert_eq!(
            Client::identify(ip("10.0.0.9"), &junk, &trusted).addr,
            ip("10.0.0.5")
        );
        // No header: the proxy itself.
        assert_eq!(
            Client::identify(ip("10.0.0.9"), &HeaderMap::new(), &trusted).addr,
            ip("10.0.0.9")
        );
    }
}
