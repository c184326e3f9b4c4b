//! The admins' settings (SPEC §2.1–2.4): the payment portal, its gateways, the payments
//! of every brand, and the brands. Every write is checked by the shared rules
//! (`paycard_core::validation`); payment changes are announced as `payment` events for
//! the brands they touch, so open Payments pickers follow at once.

use std::collections::BTreeMap;

use paycard_core::api::{
    Brand, BrandPatch, CheckResult, Gateway, GatewayCheck, GatewayFieldInfo, GatewayKindInfo,
    NewBrand, NewGateway, NewPayment, Payment, PaymentEvent, PaymentPatch, Portal, PortalDefaults,
    PortalInput,
};
use paycard_core::gateways::{
    gateway_kind, mask, offered_kinds, validate_credentials, Edition, GatewayKind,
};
use paycard_core::money::is_country;
use paycard_core::validation::{
    validate_brand, validate_payment, validate_portal, FieldError, PaymentDraft, Problem,
    ValidPayment,
};
use paycard_core::{Currency, Locale};

use super::accounts::OperatorAuth;
use super::gateways::GatewayError;
use super::live::{self, EventKind};
use crate::error::AppError;
use crate::secrets::{new_id, now};
use crate::state::AppState;
use crate::store::{self, Db};

// ---- The portal ----

/// Whether `name` is an IANA time zone (canonical or link).
pub fn is_time_zone(name: &str) -> bool {
    // `load` is a binary search of the sorted names; it reads "" as UTC, hence the guard.
    !name.is_empty() && timezone_data::load(name).is_ok()
}

/// How far `time_zone` (IANA; UTC when unknown) is from UTC at `at`: for dates in the
/// portal's time zone (receipts, reports).
pub fn offset_at(at: chrono::DateTime<chrono::Utc>, time_zone: &str) -> chrono::FixedOffset {
    let seconds = timezone_data::load(time_zone)
        .ok()
        .filter(|_| !time_zone.is_empty())
        .map(|zone| zone.lookup(at.timestamp()).offset)
        .unwrap_or(0);
    chrono::FixedOffset::east_opt(seconds)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("0 is an offset"))
}

/// IANA's per-country zone table (`zone.tab`, from the tz database, public domain),
/// as Debian's tzdata 2025b ships it. Unlike `zone1970.tab` (which the `timezone-data`
/// crate carries, and which merges countries whose clocks agree since 1970: Kuwait
/// under `Asia/Riyadh`), each row here has exactly one country, so every country gets
/// its own zones (Kuwait `Asia/Kuwait`). Update it with the tz database.
const ZONE_TAB: &str = include_str!("../../data/zone.tab");

/// A row of `zone.tab`: country, zone, comment.
struct TabZone {
    country: &'static str,
    name: &'static str,
    commentary: &'static str,
}

/// The table's rows, in its order (by country; within one, the most populous zones
/// first where geography allows), for the zones the embedded database knows.
static ZONE_TABLE: std::sync::LazyLock<Vec<TabZone>> = std::sync::LazyLock::new(|| {
    ZONE_TAB
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let country = columns.next()?;
            let _coordinates = columns.next()?;
            let name = columns.next()?;
            let commentary = columns.next().unwrap_or("");
            timezone_data::load(name).ok()?;
            Some(TabZone {
                country,
                name,
                commentary,
            })
        })
        .collect()
});

/// The principal zone of the large countries whose first zone in `zone.tab` is not
/// where most of the business happens (the table orders zones geographically first:
/// Australia starts at Lord Howe Island, Canada at St John's). A business there most
/// likely keeps its capital's or main market's hours; the admin can pick another.
const PRINCIPAL_ZONE: &[(&str, &str)] = &[
    ("AR", "America/Argentina/Buenos_Aires"),
    ("AU", "Australia/Sydney"),
    ("BR", "America/Sao_Paulo"),
    ("CA", "America/Toronto"),
    ("MX", "America/Mexico_City"),
    ("RU", "Europe/Moscow"),
    ("US", "America/New_York"),
    ("UZ", "Asia/Tashkent"),
];

/// The IANA zones of `country`, the principal one first: [`PRINCIPAL_ZONE`]'s, else
/// the one whose comment says it covers "most" of the country or its "mainland", else
/// the table's first.
pub fn country_time_zones(country: &str) -> Vec<String> {
    let own: Vec<(&str, &str)> = ZONE_TABLE
        .iter()
        .filter(|z| z.country == country)
        .map(|z| (z.name, z.commentary))
        .collect();
    let principal_hint = |commentary: &str| {
        let c = commentary.to_ascii_lowercase();
        c.contains("most") || c.contains("mainland")
    };
    let named = PRINCIPAL_ZONE
        .iter()
        .find(|(code, _)| *code == country)
        .and_then(|(_, zone)| own.iter().position(|(name, _)| name == zone));
    let principal = named
        .or_else(|| own.iter().position(|(_, c)| principal_hint(c)))
        .or((!own.is_empty()).then_some(0));
    let mut zones: Vec<String> = Vec::new();
    if let Some(i) = principal {
        zones.push(own[i].0.to_owned());
    }
    for (name, _) in &own {
        if !zones.iter().any(|z| z == name) {
            zones.push((*name).to_owned());
        }
    }
    zones
}

/// What a business in `country` would pick: its currency and time zones.
pub fn portal_defaults(country: String) -> Result<PortalDefaults, AppError> {
    if country.is_empty() {
        return Err(AppError::Validation(vec![FieldError::new(
            "country",
            Problem::Required,
        )]));
    }
    if !is_country(&country) {
        return Err(AppError::Validation(vec![FieldError::new(
            "country",
            Problem::NotFound,
        )]));
    }
    let time_zones = country_time_zones(&country);
    Ok(PortalDefaults {
        currency: Currency::for_country(&country).map(|c| c.code().to_owned()),
        time_zone: time_zones.first().cloned(),
        time_zones,
        country,
    })
}

/// The connected portal, if any.
pub async fn connected_portal(state: &AppState) -> Result<Option<Portal>, AppError> {
    let mut db = state.store.read().await?;
    Ok(store::portals::connected(&mut db).await?)
}

/// The connected portal, or the 409 that says one is needed first.
async fn require_portal(db: &mut impl Db) -> Result<Portal, AppError> {
    store::portals::connected(db)
        .await?
        .ok_or(AppError::Conflict {
            code: "no_portal",
            message: "connect a payment portal first".into(),
        })
}

pub async fn portals(state: &AppState) -> Result<Vec<Portal>, AppError> {
    let mut db = state.store.read().await?;
    Ok(store::portals::list(&mut db).await?)
}

/// Connects the portal of that name (its settings updated), creating it if it is new.
/// Replaces any portal connected before.
pub async fn connect_portal(
    state: &AppState,
    who: &OperatorAuth,
    input: &PortalInput,
) -> Result<Portal, AppError> {
    let valid = validate_portal(input, is_country, is_time_zone).map_err(AppError::Validation)?;
    let mut tx = state.store.write().await?;
    store::portals::connect(&mut tx, &new_id("ptl"), &valid, &who.account.id, &now()).await?;
    let portal = store::portals::connected(&mut tx)
        .await?
        .ok_or_else(|| AppError::Internal("the portal just connected is gone".into()))?;
    tx.commit().await?;
    tracing::info!(portal = %portal.id, by = %who.account.email, "portal connected");
    Ok(portal)
}

/// Disconnects the portal; it and its gateways are kept, to be picked again.
pub async fn disconnect_portal(state: &AppState, who: &OperatorAuth) -> Result<(), AppError> {
    let mut db = state.store.read().await?;
    if !store::portals::disconnect(&mut db).await? {
        return Err(AppError::NotFound("portal"));
    }
    tracing::info!(by = %who.account.email, "portal disconnected");
    Ok(())
}

// ---- Gateways ----

fn edition_of(portal: &Portal) -> Result<Edition, AppError> {
    Edition::parse(&portal.edition)
        .ok_or_else(|| AppError::Internal(format!("portal edition {:?}", portal.edition)))
}

/// What Add offers: the kinds the connected portal's edition offers, each with its
/// credential form.
pub async fn gateway_kinds(
    state: &AppState,
    locale: Locale,
) -> Result<Vec<GatewayKindInfo>, AppError> {
    let mut db = state.store.read().await?;
    let portal = require_portal(&mut db).await?;
    Ok(offered_kinds(edition_of(&portal)?)
        .map(|k| GatewayKindInfo {
            kind: k.kind.to_owned(),
            name: k.name.to_owned(),
            fields: k
                .fields
                .iter()
                .map(|f| GatewayFieldInfo {
                    name: f.name.to_owned(),
                    label: f.label(locale).to_owned(),
                    secret: f.secret,
                    example: f.example.to_owned(),
                })
                .collect(),
        })
        .collect())
}

/// The gateways configured in the connected portal, credentials masked.
pub async fn gateways(state: &AppState) -> Result<Vec<Gateway>, AppError> {
    let mut db = state.store.read().await?;
    let rows = store::gateways::configured(&mut db).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let kind = gateway_kind(&row.kind);
            // Every gateway that notifies has its endpoint, named by its kind.
            let webhook_path = kind
                .filter(|k| !k.webhook_events.is_empty())
                .map(|k| format!("/webhooks/{}/{}", k.kind, row.id));
            Gateway {
                name: kind
                    .map(|k| k.name.to_owned())
                    .unwrap_or_else(|| row.kind.clone()),
                webhook_events: kind
                    .map(|k| k.webhook_events.iter().map(|e| (*e).to_owned()).collect())
                    .unwrap_or_default(),
                masked: serde_json::from_str(&row.masked).unwrap_or_default(),
                webhook_url: webhook_path
                    .as_ref()
                    .map(|path| format!("{}{path}", state.public_url)),
                webhook_path,
                id: row.id,
                kind: row.kind,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        })
        .collect())
}

async fn gateway(state: &AppState, id: &str) -> Result<Gateway, AppError> {
    gateways(state)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AppError::NotFound("gateway"))
}

/// A kind that works, as the request names it; else a field error (the schema lists the
/// kinds).
fn known_kind(name: &str) -> Result<&'static GatewayKind, AppError> {
    gateway_kind(name).filter(|k| k.works).ok_or_else(|| {
        let problem = if name.is_empty() {
            Problem::Required
        } else {
            Problem::NotFound
        };
        AppError::Validation(vec![FieldError::new("kind", problem)])
    })
}

/// Asks the gateway itself whether it takes credentials that passed the shared rules
/// (before anything is saved): a key the gateway refuses is a field error with its
/// words, and a gateway that cannot be reached a 409 `gateway_unreachable`, so a fake
/// or mistyped key never reaches a visitor's checkout.
async fn verify(
    state: &AppState,
    kind: &GatewayKind,
    values: &[(&'static str, String)],
) -> Result<(), AppError> {
    let plain: BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let gateway = crate::domain::gateways::Gateway::with_credentials(state, kind.kind, &plain)
        .ok_or_else(|| AppError::Internal(format!("{}: incomplete credentials", kind.kind)))?;
    match gateway.check_credentials().await {
        Ok(()) => Ok(()),
        Err(GatewayError::Refused(message)) => {
            // Every kind that checks names its key field first.
            let field = kind.fields.first().map(|f| f.name).unwrap_or("credentials");
            Err(AppError::Validation(vec![FieldError::new(
                &format!("credentials.{field}"),
                Problem::Rejected { message },
            )]))
        }
        Err(GatewayError::RefusedField { field, message }) => {
            Err(AppError::Validation(vec![FieldError::new(
                &format!("credentials.{field}"),
                Problem::Rejected { message },
            )]))
        }
        Err(e) => Err(AppError::Conflict {
            code: "gateway_unreachable",
            message: format!(
                "{} could not be reached to check the credentials ({e}); nothing was saved, try again in a moment",
                kind.name
            ),
        }),
    }
}

/// Returns (sealed, masked) for gateway `id`: the credentials are encrypted before they
/// touch the database, and only ever shown masked.
fn seal(
    state: &AppState,
    kind: &GatewayKind,
    id: &str,
    values: &[(&'static str, String)],
) -> Result<(String, String), AppError> {
    let plain: BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let masked: BTreeMap<&str, String> = values
        .iter()
        .filter_map(|(name, value)| {
            let field = kind.fields.iter().find(|f| f.name == *name)?;
            Some((*name, mask(field, value)))
        })
        .collect();
    let plain = serde_json::to_vec(&plain).map_err(|e| AppError::Internal(e.to_string()))?;
    let masked = serde_json::to_string(&masked).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((state.vault.seal(&plain, id), masked))
}

/// A gateway asked now whether it takes its stored credentials (Settings' "Test
/// connection").
pub async fn check_gateway(state: &AppState, id: &str) -> Result<GatewayCheck, AppError> {
    {
        let mut db = state.store.read().await?;
        if store::gateways::kind_in_connected_portal(&mut db, id)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound("gateway"));
        }
    }
    let gateway = crate::domain::gateways::Gateway::configured(state, id).await?;
    let (result, message) = match gateway.check_credentials().await {
        Ok(()) => (CheckResult::Accepted, None),
        Err(GatewayError::Refused(message)) => (CheckResult::Rejected, Some(message)),
        Err(e @ GatewayError::RefusedField { .. }) => (CheckResult::Rejected, Some(e.to_string())),
        Err(e) => (CheckResult::Unreachable, Some(e.to_string())),
    };
    Ok(GatewayCheck {
        result,
        message,
        checked_at: now(),
    })
}

/// Adds a gateway of a kind the edition offers.
pub async fn add_gateway(
    state: &AppState,
    who: &OperatorAuth,
    input: &NewGateway,
) -> Result<Gateway, AppError> {
    let portal = {
        let mut db = state.store.read().await?;
        require_portal(&mut db).await?
    };
    let kind = known_kind(&input.kind)?;
    let edition = edition_of(&portal)?;
    if !offered_kinds(edition).any(|k| k.kind == kind.kind) {
        return Err(AppError::Conflict {
            code: "gateway_not_offered",
            message: format!(
                "the {} edition of the portal does not offer {}",
                edition.as_str(),
                kind.name
            ),
        });
    }
    let already = || AppError::Conflict {
        code: "gateway_exists",
        message: format!(
            "{} is already configured; replace its credentials instead",
            kind.name
        ),
    };
    let values = validate_credentials(kind, &input.credentials).map_err(AppError::Validation)?;
    // Asked before the gateway is, so it is not called for nothing; the insert decides.
    {
        let mut db = state.store.read().await?;
        if store::gateways::configured(&mut db)
            .await?
            .iter()
            .any(|g| g.kind == kind.kind)
        {
            return Err(already());
        }
    }
    verify(state, kind, &values).await?;
    let id = new_id("gw");
    let (sealed, masked) = seal(state, kind, &id, &values)?;
    let mut db = state.store.read().await?;
    if !store::gateways::insert(
        &mut db,
        &id,
        &portal.id,
        kind.kind,
        &sealed,
        &masked,
        &now(),
    )
    .await?
    {
        return Err(already());
    }
    drop(db);
    tracing::info!(gateway = %id, kind = kind.kind, by = %who.account.email, "gateway added");
    gateway(state, &id).await
}

/// Replaces a gateway's credentials; the input names its kind (409
/// `gateway_kind_mismatch` if another).
pub async fn replace_gateway(
    state: &AppState,
    who: &OperatorAuth,
    id: &str,
    input: &NewGateway,
) -> Result<Gateway, AppError> {
    let named = known_kind(&input.kind)?;
    let kind = {
        let mut db = state.store.read().await?;
        store::gateways::kind_in_connected_portal(&mut db, id)
            .await?
            .as_deref()
            .and_then(gateway_kind)
            .ok_or(AppError::NotFound("gateway"))?
    };
    if kind.kind != named.kind {
        return Err(AppError::Conflict {
            code: "gateway_kind_mismatch",
            message: format!("this gateway is {}, not {}", kind.name, named.name),
        });
    }
    let values = validate_credentials(kind, &input.credentials).map_err(AppError::Validation)?;
    verify(state, kind, &values).await?;
    let (sealed, masked) = seal(state, kind, id, &values)?;
    let mut db = state.store.read().await?;
    store::gateways::replace_credentials(&mut db, id, &sealed, &masked, &now()).await?;
    drop(db);
    tracing::info!(gateway = %id, by = %who.account.email, "gateway credentials replaced");
    gateway(state, id).await
}

/// Removes a gateway and its credentials; 409 `gateway_in_use` while payments are under
/// way through it (without it they could neither be closed nor settled).
pub async fn remove_gateway(
    state: &AppState,
    who: &OperatorAuth,
    id: &str,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    if store::gateways::in_use(&mut tx, id).await? {
        return Err(AppError::Conflict {
            code: "gateway_in_use",
            message: "payments are under way through this gateway; remove it once they have ended"
                .into(),
        });
    }
    if !store::gateways::delete(&mut tx, id).await? {
        return Err(AppError::NotFound("gateway"));
    }
    tx.commit().await?;
    tracing::info!(gateway = %id, by = %who.account.email, "gateway removed");
    Ok(())
}

// ---- Payments ----

pub async fn payments(state: &AppState, brand: Option<&str>) -> Result<Vec<Payment>, AppError> {
    let mut db = state.store.read().await?;
    Ok(store::payments::list(&mut db, brand).await?)
}

pub async fn payment(state: &AppState, id: &str) -> Result<Payment, AppError> {
    let mut db = state.store.read().await?;
    load_payment(&mut db, id).await
}

async fn load_payment(db: &mut impl Db, id: &str) -> Result<Payment, AppError> {
    store::payments::get(db, id)
        .await?
        .ok_or(AppError::NotFound("payment"))
}

/// The shared rules (400 with every field error), then the one they cannot know: the
/// brand must exist (404 for a well-formed id of no brand).
async fn validate(db: &mut impl Db, draft: &PaymentDraft) -> Result<ValidPayment, AppError> {
    let valid = validate_payment(draft).map_err(AppError::Validation)?;
    if store::brands::exists(db, &valid.brand_id).await? {
        Ok(valid)
    } else {
        Err(AppError::NotFound("brand"))
    }
}

/// Announces `payment` to each brand that must hear of it.
async fn announce(db: &mut impl Db, payment: &Payment, brands: &[&str]) -> Result<(), AppError> {
    let event = PaymentEvent {
        payment: payment.clone(),
    };
    for brand in brands {
        live::record(db, brand, None, EventKind::Payment, &event).await?;
    }
    Ok(())
}

/// Adds a payment to a brand.
pub async fn add_payment(
    state: &AppState,
    who: &OperatorAuth,
    draft: &NewPayment,
) -> Result<Payment, AppError> {
    let mut tx = state.store.write().await?;
    let valid = validate(&mut tx, draft).await?;
    let id = new_id("pay");
    store::payments::insert(&mut tx, &id, &valid, &now()).await?;
    let payment = load_payment(&mut tx, &id).await?;
    announce(&mut tx, &payment, &[&payment.brand_id]).await?;
    state.commit(tx).await?;
    tracing::info!(payment = %id, brand = %payment.brand_id, by = %who.account.email, "payment added");
    Ok(payment)
}

/// Changes any field, moves a payment to another brand, (de)activates it. Cards already
/// shared keep their snapshot.
pub async fn change_payment(
    state: &AppState,
    who: &OperatorAuth,
    id: &str,
    patch: PaymentPatch,
) -> Result<Payment, AppError> {
    let mut tx = state.store.write().await?;
    let before = load_payment(&mut tx, id).await?;
    let draft = PaymentDraft {
        brand_id: patch.brand_id.unwrap_or_else(|| before.brand_id.clone()),
        title: patch.title.unwrap_or_else(|| before.title.clone()),
        description: patch
            .description
            .unwrap_or_else(|| before.description.clone()),
        amount_minor: patch.amount_minor.unwrap_or(before.amount_minor),
        currency: patch
            .currency
            .unwrap_or_else(|| before.currency.code().to_owned()),
        recurrence: patch.recurrence.unwrap_or(before.recurrence),
    };
    let valid = validate(&mut tx, &draft).await?;
    store::payments::update(
        &mut tx,
        id,
        &valid,
        patch.active.unwrap_or(before.active),
        &now(),
    )
    .await?;
    let payment = load_payment(&mut tx, id).await?;
    // A move tells both brands: the old one's pickers drop it, the new one's show it.
    let mut brands = vec![payment.brand_id.as_str()];
    if before.brand_id != payment.brand_id {
        brands.push(before.brand_id.as_str());
    }
    announce(&mut tx, &payment, &brands).await?;
    state.commit(tx).await?;
    tracing::info!(payment = %id, by = %who.account.email, "payment changed");
    Ok(payment)
}

/// Deletes a payment: gone from the catalogue. One never shared is deleted; one with
/// shared cards is deactivated and hidden instead, since its cards refer to it.
pub async fn delete_payment(
    state: &AppState,
    who: &OperatorAuth,
    id: &str,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let mut payment = load_payment(&mut tx, id).await?;
    let shared = store::payments::has_cards(&mut tx, id).await?;
    if shared {
        store::payments::hide(&mut tx, id, &now()).await?;
    } else {
        store::payments::delete(&mut tx, id).await?;
    }
    payment.active = false;
    announce(&mut tx, &payment, &[&payment.brand_id]).await?;
    state.commit(tx).await?;
    if shared {
        tracing::info!(payment = %id, by = %who.account.email, "payment deleted (kept, hidden and inactive, for its cards)");
    } else {
        tracing::info!(payment = %id, by = %who.account.email, "payment deleted");
    }
    Ok(())
}

// ---- Brands ----

/// Every brand (or just `only`) with its payments, active or not, and its embed tag.
pub async fn brands(state: &AppState, only: Option<&str>) -> Result<Vec<Brand>, AppError> {
    let mut db = state.store.read().await?;
    let rows = store::brands::list(&mut db, only).await?;
    let mut by_brand: BTreeMap<String, Vec<Payment>> = BTreeMap::new();
    for payment in store::payments::list(&mut db, only).await? {
        by_brand
            .entry(payment.brand_id.clone())
            .or_default()
            .push(payment);
    }
    Ok(rows
        .into_iter()
        .map(|r| Brand {
            allowed_origins: r.origins(),
            payments: by_brand.remove(&r.id).unwrap_or_default(),
            embed_tag: format!(
                "<script src=\"{}/widget.js\" data-brand=\"{}\" async></script>",
                state.public_url, r.id
            ),
            id: r.id,
            name: r.name,
        })
        .collect())
}

async fn brand(state: &AppState, id: &str) -> Result<Brand, AppError> {
    brands(state, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound("brand"))
}

/// Adds a brand. Every admin works for it at once, so that its conversations reach
/// their consoles; operators are assigned separately.
pub async fn add_brand(
    state: &AppState,
    who: &OperatorAuth,
    input: &NewBrand,
) -> Result<Brand, AppError> {
    let (name, origins) = validate_brand(
        Some(&input.id),
        Some(&input.name),
        Some(&input.allowed_origins),
    )
    .map_err(AppError::Validation)?;
    let mut tx = state.store.write().await?;
    if !store::brands::insert(
        &mut tx,
        &input.id,
        &name.unwrap_or_default(),
        &origins.unwrap_or_default(),
        &now(),
    )
    .await?
    {
        return Err(AppError::Conflict {
            code: "brand_exists",
            message: format!("a brand with id {:?} exists", input.id),
        });
    }
    store::accounts::admins_join_brand(&mut tx, &input.id).await?;
    tx.commit().await?;
    tracing::info!(brand = %input.id, by = %who.account.email, "brand added");
    brand(state, &input.id).await
}

/// Renames a brand or changes its allowed origins.
pub async fn change_brand(
    state: &AppState,
    who: &OperatorAuth,
    id: &str,
    patch: &BrandPatch,
) -> Result<Brand, AppError> {
    let (name, origins) = validate_brand(
        None,
        patch.name.as_deref(),
        patch.allowed_origins.as_deref(),
    )
    .map_err(AppError::Validation)?;
    let mut db = state.store.read().await?;
    if !store::brands::update(&mut db, id, name.as_deref(), origins.as_deref()).await? {
        return Err(AppError::NotFound("brand"));
    }
    drop(db);
    tracing::info!(brand = %id, by = %who.account.email, "brand changed");
    brand(state, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_gives_its_zones_principal_first() {
        assert_eq!(country_time_zones("ES")[0], "Europe/Madrid");
        assert!(country_time_zones("ES").contains(&"Atlantic/Canary".to_owned()));
        assert_eq!(country_time_zones("US")[0], "America/New_York");
        for (country, zone) in PRINCIPAL_ZONE {
            assert_eq!(&country_time_zones(country)[0], zone, "{country}");
        }
        assert_eq!(country_time_zones("DE")[0], "Europe/Berlin");
        assert_eq!(country_time_zones("JP"), vec!["Asia/Tokyo"]);
        // Each country its own zones, not a neighbour's that zone1970.tab merged in.
        assert_eq!(country_time_zones("KW"), vec!["Asia/Kuwait"]);
        assert_eq!(country_time_zones("NO"), vec!["Europe/Oslo"]);
        assert_eq!(country_time_zones("BH"), vec!["Asia/Bahrain"]);
        assert_eq!(country_time_zones("LU"), vec!["Europe/Luxembourg"]);
        // Every country of the table has a zone the embedded database knows.
        for z in ZONE_TABLE.iter() {
            assert!(!country_time_zones(z.country).is_empty(), "{}", z.country);
        }
        assert_eq!(
            ZONE_TABLE.len(),
            ZONE_TAB.lines().filter(|l| !l.starts_with('#')).count(),
            "every zone of zone.tab is known"
        );
        assert!(country_time_zones("ZZ").is_empty());
        assert!(is_time_zone("Europe/Madrid") && is_time_zone("UTC"));
        assert!(!is_time_zone("Mars/Olympus") && !is_time_zone(""));
    }
}
