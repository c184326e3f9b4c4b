//! Notifications to the merchant's systems (SPEC §8.5): admins register endpoints for
//! their brands; every card change that means something to a merchant (shared, paid,
//! failed, closed, refunded) becomes an event, queued for each endpoint that wants it in
//! the very transaction of the change, and POSTed later by the background worker with a
//! `Paycard-Signature`. Delivery is at least once: a receiver that does not answer 2xx
//! is tried again with exponential backoff for more than 24 hours.
//!
//! Endpoints are addresses admins type, reached from inside the merchant's network: so
//! they must be `https://` to a public address (checked on every delivery, on the
//! addresses the name resolves to, which are then the ones connected to), and
//! redirects are not followed. `PAYCARD_WEBHOOK_ALLOW_PRIVATE=1` lifts this for
//! development and tests.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::Utc;
use paycard_core::api::{
    Card, CreatedWebhookEndpoint, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint,
    WEBHOOK_EVENTS,
};
use paycard_core::validation::{FieldError, Problem, MAX_API_KEY_BRANDS, WEBHOOK_URL_MAX_CHARS};
use paycard_core::CardStatus;

use super::accounts::OperatorAuth;
use super::gateways::stripe;
use crate::error::AppError;
use crate::secrets::{self, new_id, new_secret};
use crate::state::AppState;
use crate::store::{self, webhooks::EndpointRow, Db};

/// The prefix of endpoints' signing secrets.
pub const SECRET_PREFIX: &str = "whsec";
/// The header each delivery is signed in.
pub const SIGNATURE_HEADER: &str = "Paycard-Signature";
const BATCH: i64 = 20;
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Retries: 30 s, doubling to 6 h, until the event is 26 hours old.
const FIRST_RETRY: Duration = Duration::from_secs(30);
const LONGEST_WAIT: Duration = Duration::from_secs(6 * 60 * 60);
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(26);
/// How many deliveries the console lists per endpoint.
const LISTED: i64 = 50;

/// The event a card's new state is for the merchant; `None` for steps in between
/// (processing, payable again).
pub fn event_type(card: &Card) -> Option<&'static str> {
    Some(match card.status {
        CardStatus::Pending if card.version == 1 => "card.shared",
        CardStatus::Paid if card.refunded_minor > 0 => "card.refunded",
        CardStatus::Paid => "card.paid",
        CardStatus::Refunded => "card.refunded",
        CardStatus::Failed => "card.failed",
        CardStatus::Cancelled => "card.cancelled",
        CardStatus::Declined => "card.declined",
        CardStatus::Expired => "card.expired",
        CardStatus::Pending | CardStatus::Processing => return None,
    })
}

/// Queues the event of a card's change for every endpoint of its brand that wants it,
/// in the caller's transaction.
pub async fn queue_for_card(db: &mut impl Db, brand_id: &str, card: &Card) -> Result<(), AppError> {
    let Some(kind) = event_type(card) else {
        return Ok(());
    };
    let mut endpoints = Vec::new();
    for endpoint in store::webhooks::all(db).await? {
        let brands = endpoint.brand_ids()?;
        let events = endpoint.events()?;
        if brands.iter().any(|b| b == brand_id)
            && (events.is_empty() || events.iter().any(|e| e == kind))
        {
            endpoints.push(endpoint.id);
        }
    }
    if endpoints.is_empty() {
        return Ok(());
    }
    let now = secrets::now();
    let event_id = new_id("evt");
    let payload = serde_json::json!({
        "id": event_id,
        "type": kind,
        "created_at": now,
        "data": {"card": card},
    })
    .to_string();
    for endpoint_id in endpoints {
        store::webhooks::queue(
            db,
            &store::webhooks::NewDelivery {
                id: &new_id("dlv"),
                endpoint_id: &endpoint_id,
                event_id: &event_id,
                kind,
                payload: &payload,
            },
            &now,
        )
        .await?;
    }
    Ok(())
}

/// Whether an address is one anybody on the internet could reach: not loopback,
/// private, link-local, shared (CGNAT), documentation, benchmarking, multicast or
/// otherwise reserved; IPv6 forms of IPv4 addresses are judged as those.
pub fn is_public(ip: IpAddr) -> bool {
    const BLOCKED: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ];
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
                let s = v6.segments();
                if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                    let o = v6.octets();
                    IpAddr::V4(std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]))
                } else {
                    IpAddr::V6(v6)
                }
            }
        },
        v4 => v4,
    };
    !BLOCKED
        .iter()
        .filter_map(|net| net.parse::<ipnet::IpNet>().ok())
        .any(|net| net.contains(&ip))
}

/// An endpoint's address, checked: https to a host name (or, when private addresses
/// are allowed, also http and addresses), no credentials in it.
fn check_url(text: &str, allow_private: bool) -> Result<url::Url, FieldError> {
    let bad = |problem| FieldError::new("url", problem);
    let text = text.trim();
    if text.is_empty() {
        return Err(bad(Problem::Required));
    }
    if text.chars().count() > WEBHOOK_URL_MAX_CHARS {
        return Err(bad(Problem::TooLong {
            max: WEBHOOK_URL_MAX_CHARS as u32,
        }));
    }
    let url = url::Url::parse(text).map_err(|_| bad(Problem::InvalidFormat))?;
    let scheme_ok = url.scheme() == "https" || (allow_private && url.scheme() == "http");
    if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
        return Err(bad(Problem::InvalidFormat));
    }
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let tld_ok = name
                .rsplit('.')
                .next()
                .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
            if !allow_private && (!name.contains('.') || !tld_ok) {
                return Err(bad(Problem::InvalidFormat));
            }
        }
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) if allow_private => {}
        _ => return Err(bad(Problem::InvalidFormat)),
    }
    Ok(url)
}

fn endpoint_context(id: &str) -> String {
    format!("webhook:{id}")
}

/// Registers an endpoint for `input.brand_ids` (none: every brand of the admin's).
pub async fn create(
    state: &AppState,
    admin: &OperatorAuth,
    input: &NewWebhookEndpoint,
) -> Result<CreatedWebhookEndpoint, AppError> {
    let mut errors = Vec::new();
    let url = check_url(&input.url, state.config.webhook_allow_private)
        .map_err(|e| errors.push(e))
        .ok();
    if input.brand_ids.len() > MAX_API_KEY_BRANDS {
        errors.push(FieldError::new(
            "brand_ids",
            Problem::TooLong {
                max: MAX_API_KEY_BRANDS as u32,
            },
        ));
    }
    if input.events.len() > WEBHOOK_EVENTS.len() {
        errors.push(FieldError::new(
            "events",
            Problem::TooLong {
                max: WEBHOOK_EVENTS.len() as u32,
            },
        ));
    }
    for (i, event) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&event.as_str()) {
            errors.push(FieldError::new(
                &format!("events.{i}"),
                Problem::InvalidFormat,
            ));
        }
    }
    let (Some(url), true) = (url, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let mut brands = if input.brand_ids.is_empty() {
        admin.account.brands.clone()
    } else {
        input.brand_ids.clone()
    };
    brands.sort();
    brands.dedup();
    let mut events: Vec<String> = WEBHOOK_EVENTS
        .iter()
        .filter(|e| input.events.iter().any(|x| x == *e))
        .map(|e| e.to_string())
        .collect();
    events.dedup();
    let id = new_id("whe");
    let (secret, _) = new_secret(SECRET_PREFIX);
    let row = EndpointRow {
        id: id.clone(),
        url: url.to_string(),
        brand_ids: serde_json::to_string(&brands).unwrap_or_default(),
        events: serde_json::to_string(&events).unwrap_or_default(),
        sealed_secret: state.vault.seal(secret.as_bytes(), &endpoint_context(&id)),
        created_at: secrets::now(),
    };
    let mut tx = state.store.write().await?;
    for brand in &brands {
        if !store::brands::exists(&mut tx, brand).await? {
            return Err(AppError::NotFound("brand"));
        }
        admin.ensure_brand(brand)?;
    }
    store::webhooks::insert(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(endpoint = %id, url = %row.url, by = %admin.account.email, "webhook endpoint added");
    Ok(CreatedWebhookEndpoint {
        id,
        url: row.url,
        brand_ids: brands,
        events,
        secret,
        created_at: row.created_at,
    })
}

/// An endpoint the admin may see: all of its brands are theirs.
fn visible(admin: &OperatorAuth, endpoint: &EndpointRow) -> Result<bool, AppError> {
    Ok(endpoint.brand_ids()?.iter().all(|b| admin.works_for(b)))
}

async fn endpoint_of(
    db: &mut impl Db,
    admin: &OperatorAuth,
    id: &str,
) -> Result<EndpointRow, AppError> {
    match store::webhooks::get(db, id).await? {
        Some(e) if visible(admin, &e)? => Ok(e),
        _ => Err(AppError::NotFound("webhook endpoint")),
    }
}

/// The admin's endpoints, oldest first (never their secrets).
pub async fn list(
    state: &AppState,
    admin: &OperatorAuth,
) -> Result<Vec<WebhookEndpoint>, AppError> {
    let mut db = state.store.read().await?;
    let mut out = Vec::new();
    for endpoint in store::webhooks::all(&mut db).await? {
        if visible(admin, &endpoint)? {
            out.push(endpoint.into_api()?);
        }
    }
    Ok(out)
}

pub async fn delete(state: &AppState, admin: &OperatorAuth, id: &str) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    endpoint_of(&mut tx, admin, id).await?;
    store::webhooks::delete(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(endpoint = %id, by = %admin.account.email, "webhook endpoint removed");
    Ok(())
}

/// An endpoint's latest deliveries, newest first.
pub async fn deliveries(
    state: &AppState,
    admin: &OperatorAuth,
    id: &str,
) -> Result<Vec<WebhookDelivery>, AppError> {
    let mut db = state.store.read().await?;
    endpoint_of(&mut db, admin, id).await?;
    store::webhooks::of_endpoint(&mut db, id, LISTED)
        .await?
        .into_iter()
        .map(|d| d.into_api().map_err(AppError::from))
        .collect()
}

/// "Send again": the delivery is due now (delivered ones too: the receiver asked).
pub async fn send_again(
    state: &AppState,
    admin: &OperatorAuth,
    endpoint_id: &str,
    delivery_id: &str,
) -> Result<WebhookDelivery, AppError> {
    let mut tx = state.store.write().await?;
    endpoint_of(&mut tx, admin, endpoint_id).await?;
    match store::webhooks::get_delivery(&mut tx, delivery_id).await? {
        Some(d) if d.endpoint_id == endpoint_id => {}
        _ => return Err(AppError::NotFound("delivery")),
    }
    store::webhooks::send_again(&mut tx, delivery_id, &secrets::now()).await?;
    let row = store::webhooks::get_delivery(&mut tx, delivery_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    state.commit(tx).await?;
    Ok(row.into_api()?)
}

fn backoff(attempts: i64) -> Duration {
    FIRST_RETRY
        .saturating_mul(1u32 << attempts.clamp(0, 20) as u32)
        .min(LONGEST_WAIT)
}

/// How one try went.
struct Tried {
    delivered: bool,
    status_code: Option<i64>,
    error: Option<String>,
}

/// Where an endpoint's name leads, checked: every address public (unless allowed).
async fn resolve(url: &url::Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("the name {name} could not be resolved: {e}"))?
            .collect(),
        None => return Err("the address has no host".into()),
    };
    if addrs.is_empty() {
        return Err("the name resolves to no address".into());
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "refused: {} is not a public address (PAYCARD_WEBHOOK_ALLOW_PRIVATE=1 allows it)",
                bad.ip()
            ));
        }
    }
    Ok(addrs)
}

async fn post(state: &AppState, url: &str, secret: &str, payload: &str) -> Tried {
    let failed = |error: String| Tried {
        delivered: false,
        status_code: None,
        error: Some(error),
    };
    let allow_private = state.config.webhook_allow_private;
    let Ok(url) = check_url(url, allow_private) else {
        return failed("the endpoint's address is not allowed".into());
    };
    let addrs = match resolve(&url, allow_private).await {
        Ok(a) => a,
        Err(e) => return failed(e),
    };
    // Connect only to the addresses checked above: the name is not looked up again.
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("paycard-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(url::Host::Domain(name)) = url.host() {
        client = client.resolve_to_addrs(name, &addrs);
    }
    let client = match client.build() {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    let signature = stripe::sign(payload.as_bytes(), secret, Utc::now().timestamp());
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(payload.to_owned())
        .send()
        .await;
    match response {
        Ok(r) => {
            let code = r.status().as_u16() as i64;
            let delivered = r.status().is_success();
            Tried {
                delivered,
                status_code: Some(code),
                error: (!delivered).then(|| format!("the receiver answered HTTP {code}")),
            }
        }
        Err(e) => failed(format!("no answer: {}", e.without_url())),
    }
}

/// How long a finished delivery (delivered or given up on) is kept, for the console's
/// list and "Send again": the payload is the card as it was, with its customer.
pub const KEPT_DAYS: i64 = 30;

/// Forgets the deliveries finished (delivered or given up on) more than [`KEPT_DAYS`]
/// ago. Returns how many.
pub async fn prune(state: &AppState) -> Result<u64, AppError> {
    let before = secrets::timestamp(Utc::now() - chrono::Duration::days(KEPT_DAYS));
    let mut db = state.store.read().await?;
    Ok(store::webhooks::prune(&mut db, &before).await?)
}

/// Sends the deliveries that are due. Returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    let (due, endpoints) = {
        let mut db = state.store.read().await?;
        let due = store::webhooks::due(&mut db, &secrets::now(), BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        (due, store::webhooks::all(&mut db).await?)
    };
    let mut delivered = 0;
    for delivery in due {
        let Some(endpoint) = endpoints.iter().find(|e| e.id == delivery.endpoint_id) else {
            continue;
        };
        let tried = match state
            .vault
            .open(&endpoint.sealed_secret, &endpoint_context(&endpoint.id))
        {
            Ok(secret) => {
                post(
                    state,
                    &endpoint.url,
                    &String::from_utf8_lossy(&secret),
                    &delivery.payload,
                )
                .await
            }
            Err(_) => Tried {
                delivered: false,
                status_code: None,
                error: Some(
                    "the signing secret cannot be opened (was PAYCARD_SECRET_KEY changed?)".into(),
                ),
            },
        };
        let too_old = chrono::DateTime::parse_from_rfc3339(&delivery.created_at)
            .map(|t| Utc::now() - t.with_timezone(&Utc) > GIVE_UP_AFTER)
            .unwrap_or(false);
        let next = (!tried.delivered && !too_old).then(|| {
            secrets::timestamp(
                Utc::now()
                    + chrono::Duration::from_std(backoff(delivery.attempts)).unwrap_or_default(),
            )
        });
        if tried.delivered {
            delivered += 1;
        } else {
            tracing::warn!(delivery = %delivery.id, endpoint = %endpoint.id, error = tried.error.as_deref().unwrap_or(""),
                retry_at = next.as_deref().unwrap_or("never"), "a webhook delivery failed");
        }
        let mut db = state.store.write().await?;
        store::webhooks::tried(
            &mut db,
            &delivery.id,
            tried.delivered,
            tried.status_code,
            tried.error.as_deref(),
            next.as_deref(),
            &secrets::now(),
        )
        .await?;
        db.commit().await?;
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "64:ff9b::101:101",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn endpoints_are_https_host_names_unless_private_ones_are_allowed() {
        assert!(check_url("https://hooks.example.com/paycard", false).is_ok());
        for refused in [
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://localhost/",
            "https://user:pw@hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://10.0.0.1/",
            "not a url",
        ] {
            assert!(check_url(refused, false).is_err(), "{refused}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("http://localhost:9000/hook", true).is_ok());
    }

    #[test]
    fn retries_back_off_for_more_than_a_day() {
        let mut waited = Duration::ZERO;
        let mut n = 0;
        while waited < Duration::from_secs(24 * 3600) {
            waited += backoff(n);
            n += 1;
        }
        assert!(n > 10 && n < 20, "{n} tries");
        assert!(GIVE_UP_AFTER > chrono::Duration::hours(24));
    }
}
