//! Taking the money: the ways to pay a card, charging it, the sessions of gateways with
//! pages of their own, settling what a gateway says, and closing a card at its gateway.
//!
//! A card is charged at most once:
//! - A charge made at once (the sandbox) first takes the card (pending/failed ->
//!   processing) and records its attempt, in one transaction that only one request can
//!   win; the attempt is on record before the gateway is called, so whatever happens to
//!   the request, the charge can be asked about and settled ([`settle_stuck`]).
//! - A gateway with a page of its own (Stripe) leaves the card payable while the visitor
//!   is there; at most one session per card is open (a second Pay goes to the same
//!   one). Its notification settles the card.
//! - Closing a card (cancel, decline, expiry) first closes its open session at the
//!   gateway; a payment completed there first wins. A closed card is never payable at a
//!   gateway: when that cannot be made sure, the close is refused ([`close`]).
//! - At most one attempt per card succeeds, also as a database rule: a second success
//!   is recorded as failed `duplicate_payment`, to be refunded.

use paycard_core::api::Card;
use paycard_core::card_form::ValidCard;
use paycard_core::gateways::{offered_kinds, Edition, Refusal, SANDBOX};
use paycard_core::{CardAction, CardStatus, SessionEvent, SessionStatus};

use super::accounts::Caller;
use super::cards::{self, load, transition, transition_in};
use super::gateways::{
    About, Begun, Charge, Closed, Gateway, GatewayError, Happened, Notification, Outcome,
};
use super::{mail, refunds};
use crate::error::AppError;
use crate::secrets::{self, hash_secret, new_id};
use crate::state::AppState;
use crate::store::{self, gateways::SessionRow, Db};

/// A way to pay the checkout offers: a gateway kind, and the configured gateway behind
/// it (none for the built-in sandbox when nothing is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub kind: &'static str,
    pub gateway_id: Option<String>,
}

/// The ways to pay a card, and why the gateways left out cannot take it.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    pub methods: Vec<Method>,
    /// Configured gateways of the edition that cannot take this card's currency, amount
    /// or recurrence: the checkout says why when none can.
    pub refused: Vec<(&'static str, Refusal)>,
}

/// The ways to pay `card`: the connected portal's configured gateways that work, that
/// its edition offers and that take the card's currency, amount and recurrence, sandbox
/// first; the sandbox alone when none is configured (SPEC §2.2: it is the embedded
/// default).
pub async fn methods(state: &AppState, card: &Card) -> Result<Offer, AppError> {
    let mut db = state.store.read().await?;
    let edition = store::portals::connected(&mut db)
        .await?
        .and_then(|p| Edition::parse(&p.edition));
    let mut offer = Offer::default();
    if let Some(edition) = edition {
        for g in store::gateways::configured(&mut db).await? {
            let Some(kind) = offered_kinds(edition).find(|k| k.kind == g.kind) else {
                continue;
            };
            match kind.refusal(card.amount_minor, card.currency, card.recurrence.is_some()) {
                None => offer.methods.push(Method {
                    kind: kind.kind,
                    gateway_id: Some(g.id),
                }),
                Some(why) => offer.refused.push((kind.name, why)),
            }
        }
    }
    offer.methods.sort_by_key(|m| m.kind != SANDBOX);
    if offer.methods.is_empty() && offer.refused.is_empty() {
        offer.methods.push(Method {
            kind: SANDBOX,
            gateway_id: None,
        });
    }
    Ok(offer)
}

/// The card behind a checkout link, with its brand's name. A card past its time
/// expires now, even if the background job has not come by yet.
pub async fn card_of_link(
    state: &AppState,
    token: &str,
) -> Result<Option<(Card, String)>, AppError> {
    let mut db = state.store.read().await?;
    let Some(card_id) = store::cards::of_checkout_token(&mut db, &hash_secret(token)).await? else {
        return Ok(None);
    };
    let (row, _) = load(&mut db, &card_id).await?;
    let brand = store::conversations::brand_name(&mut db, &row.conversation_id)
        .await?
        .unwrap_or_default();
    drop(db);
    let mut card = row.into_api()?;
    if cards::overdue(&card) {
        match close(state, None, &card.id, CardAction::Expire).await {
            Ok(expired) => card = expired,
            Err(AppError::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Some((card, brand)))
}

/// How paying at once went.
pub enum Charged {
    /// The gateway answered: the card is paid, or failed (the visitor may retry).
    Settled(Box<Card>),
    /// Another request took the card first, or it changed: show it as it is now.
    Taken,
    /// The visitor is being sent to another gateway in another tab this very moment.
    Busy,
    /// A session open at another gateway could not be closed: nothing was charged.
    GatewayDown,
    /// The gateway's answer is unknown: the attempt stays on record and is settled
    /// once the gateway answers ([`settle_stuck`]).
    Unsettled,
}

/// Charges a card at once through `gateway` (the sandbox), with the card details the
/// visitor typed. Runs to its end even if the request that asked for it goes away.
pub async fn charge(
    state: &AppState,
    gateway: &Gateway,
    card_id: &str,
    valid: &ValidCard,
    locale: &str,
) -> Result<Charged, AppError> {
    // A session left open at another gateway (Stripe, in another tab) must not be
    // payable once this card is charged here: close it first. If it was paid, it wins:
    // taking the card below then meets a paid card and shows so.
    if close_sessions(state, card_id).await.is_err() {
        return Ok(Charged::GatewayDown);
    }

    // 1. Take the card (pending/failed -> processing; exactly one request can) and put
    //    the attempt on record in the same transaction.
    let attempt_id = new_id("att");
    let last4 = valid.last4();
    let mut tx = state.store.write().await?;
    if session_in_flight(&mut tx, card_id).await? {
        return Ok(Charged::Busy);
    }
    let processing = match transition_in(&mut tx, None, card_id, &CardAction::StartPayment).await {
        Ok(card) => card,
        Err(AppError::Conflict { .. }) => return Ok(Charged::Taken),
        Err(other) => return Err(other),
    };
    store::attempts::insert_pending(
        &mut tx,
        &attempt_id,
        card_id,
        processing.amount_minor,
        processing.currency.code(),
        gateway.kind(),
        Some(last4),
        &secrets::now(),
    )
    .await?;
    if store::cards::set_payer(&mut tx, card_id, &valid.name, &valid.email, locale).await? {
        super::visitors::announce(&mut tx, &processing.conversation_id).await?;
    }
    state.commit(tx).await?;

    // 2. Charge.
    let begun = gateway
        .begin(&Charge {
            card_id,
            amount_minor: processing.amount_minor,
            currency: processing.currency,
            recurrence: processing.recurrence,
            title: &processing.title,
            description: &processing.description,
            email: &valid.email,
            locale,
            card: Some(valid),
            idempotency_key: &attempt_id,
            success_url: "",
            cancel_url: "",
            expires_at: 0,
        })
        .await;
    let outcome = match begun {
        Ok(Begun::Done(outcome)) => outcome,
        // A charging gateway never redirects; were it to, nothing was charged here.
        Ok(Begun::Redirect { .. }) => Outcome::Failed {
            reason: "processing_error".into(),
        },
        Err(err) => {
            // The gateway's answer is unknown: ask it again rather than guess (its
            // ledger decides for good), as the background job would.
            tracing::warn!(error = %err, gateway = gateway.kind(), attempt = %attempt_id, "gateway failed; asking it what happened");
            match gateway.resolve(&attempt_id).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::error!(error = %err, attempt = %attempt_id, "gateway unreachable; the payment will be settled later");
                    return Ok(Charged::Unsettled);
                }
            }
        }
    };

    // 3. Record the result.
    let mut tx = state.store.write().await?;
    let card = settle(
        &mut tx,
        &attempt_id,
        card_id,
        gateway.kind(),
        None,
        Some(last4),
        &outcome,
    )
    .await?;
    state.commit(tx).await?;
    tracing::info!(card = %card.id, attempt = %attempt_id, status = %card.status, gateway = gateway.kind(), "payment attempt");
    Ok(Charged::Settled(Box::new(card)))
}

/// Records an attempt's outcome on its card, inside the caller's transaction: the card
/// is taken to `processing` first if it is not there yet (a gateway that reports later),
/// then to `paid` or `failed`; a paid recurring card gets its subscription. The attempt
/// row is written, or its `pending` row completed. Settling an attempt already settled
/// changes nothing (a replayed notification, a recovery racing the request).
///
/// At most one attempt per card succeeds (also a database constraint): a second success
/// (money taken twice at a gateway, which the rules above prevent) is recorded as
/// failed with `duplicate_payment`. A payment that arrives for a card already closed
/// leaves the card as it is. Both are refunded automatically ([`refunds::give_back`]).
/// A card paid gets its receipt queued (SPEC §8.4).
pub async fn settle(
    db: &mut impl Db,
    attempt_id: &str,
    card_id: &str,
    gateway: &str,
    gateway_id: Option<&str>,
    last4: Option<&str>,
    outcome: &Outcome,
) -> Result<Card, AppError> {
    let (row, _) = load(db, card_id).await?;
    let mut card = row.into_api()?;
    let recorded = store::attempts::status(db, attempt_id).await?;
    if recorded.as_deref().is_some_and(|s| s != "pending") {
        return Ok(card);
    }
    if cards::payable(&card) {
        card = transition_in(db, None, card_id, &CardAction::StartPayment).await?;
    }
    let now = secrets::now();
    let (mut status, mut reason, action) = match outcome {
        Outcome::Succeeded { .. } => ("succeeded", None, CardAction::PaymentSucceeded),
        Outcome::Failed { reason } => (
            "failed",
            Some(reason.clone()),
            CardAction::PaymentFailed {
                reason: reason.clone(),
            },
        ),
    };
    let payment_reference = match outcome {
        Outcome::Succeeded { reference } if !reference.is_empty() => Some(reference.as_str()),
        _ => None,
    };
    let mut give_back = false;
    if status == "succeeded" && store::attempts::other_success(db, card_id, attempt_id).await? {
        tracing::error!(card = %card.id, attempt = %attempt_id, gateway,
            "a second payment succeeded for a card already paid; refunding it");
        (status, reason) = ("failed", Some("duplicate_payment".to_owned()));
        give_back = true;
    }
    store::attempts::record(
        db,
        attempt_id,
        card_id,
        status,
        card.amount_minor,
        card.currency.code(),
        gateway,
        last4,
        reason.as_deref(),
        payment_reference,
        &now,
    )
    .await?;
    if card.status != CardStatus::Processing && status == "succeeded" {
        tracing::error!(card = %card.id, attempt = %attempt_id, status = %card.status,
            "a payment succeeded for a card that is closed; refunding it");
        give_back = true;
    }
    if give_back {
        refunds::give_back(
            db,
            &card,
            attempt_id,
            gateway,
            gateway_id,
            payment_reference,
        )
        .await?;
    }
    if card.status != CardStatus::Processing {
        return Ok(card);
    }
    let result = transition_in(db, None, card_id, &action).await?;
    if result.status == CardStatus::Paid {
        mail::queue_receipt(db, &result, attempt_id).await?;
    }
    if let (CardStatus::Paid, Some(recurrence)) = (result.status, result.recurrence) {
        let today = chrono::Utc::now().date_naive();
        let next = recurrence
            .next_charge_date(today)
            .map(|d| d.to_string())
            .unwrap_or_default();
        store::attempts::insert_subscription(
            db,
            &new_id("sub"),
            &result.id,
            result.amount_minor,
            result.currency.code(),
            recurrence,
            &today.to_string(),
            &next,
            &now,
        )
        .await?;
    }
    Ok(result)
}

/// How sending the visitor to a gateway's page went.
pub enum Sent {
    /// To this address: the card's open session, or a new one.
    To(String),
    /// A session is being made this instant (another tab): wait a moment.
    Awaiting,
    /// The card cannot be paid now (paid meanwhile, closed…): show it as it is.
    NotPayable,
    /// The gateway was removed since the page was shown.
    GatewayGone,
    /// The gateway could not be reached: nothing was charged.
    GatewayDown,
}

/// A session left `creating` by a crash between asking the gateway and recording its
/// answer (the gateway answers in seconds) must not block its card for ever. Its
/// address was never given to anyone, so it cannot be paid.
const STALE_CREATING: chrono::Duration = chrono::Duration::minutes(2);

/// Moves a session by `event`, if the event applies to it.
async fn move_session(
    db: &mut impl Db,
    session: &SessionRow,
    event: SessionEvent,
    made: Option<(&str, &str)>,
) -> Result<(), AppError> {
    // The session as it is now, in this transaction: the row the caller read may be
    // stale (a capture completed it while a close was asking its gateway).
    let now = store::gateways::session(db, &session.attempt_id).await?;
    let current = now.as_ref().unwrap_or(session);
    if let Some(next) = current.status()?.after(event) {
        store::gateways::set_session(db, &session.attempt_id, next, made, &secrets::now()).await?;
    }
    Ok(())
}

/// Whether a gateway session of the card is being made or is open, inside the caller's
/// transaction: then the card must not be closed, or charged elsewhere, yet. A session
/// left half-made by a crash is failed first.
async fn session_in_flight(db: &mut impl Db, card_id: &str) -> Result<bool, AppError> {
    let stale = secrets::timestamp(chrono::Utc::now() - STALE_CREATING);
    for attempt in store::gateways::creating_since(db, card_id, &stale).await? {
        if let Some(session) = store::gateways::session(db, &attempt).await? {
            move_session(db, &session, SessionEvent::NotCreated, None).await?;
        }
    }
    Ok(!store::gateways::sessions_in_flight(db, card_id)
        .await?
        .is_empty())
}

/// A session this request recorded.
async fn recorded_session(db: &mut impl Db, attempt_id: &str) -> Result<SessionRow, AppError> {
    store::gateways::session(db, attempt_id)
        .await?
        .ok_or_else(|| AppError::Internal("a session just recorded is gone".into()))
}

/// Whether the card has a session open at a gateway (the visitor may be paying there).
pub async fn session_open(state: &AppState, card_id: &str) -> Result<bool, AppError> {
    session_open_at(state, card_id, None).await
}

/// Whether the card has a session open at a gateway of `kind` (any kind: `None`).
pub async fn session_open_at(
    state: &AppState,
    card_id: &str,
    kind: Option<&str>,
) -> Result<bool, AppError> {
    let mut db = state.store.read().await?;
    Ok(store::gateways::sessions_in_flight(&mut db, card_id)
        .await?
        .iter()
        .any(|s| kind.is_none_or(|k| s.kind == k)))
}

/// Whether the card can be paid now.
async fn still_payable(state: &AppState, card_id: &str) -> Result<bool, AppError> {
    let mut db = state.store.read().await?;
    let (row, _) = load(&mut db, card_id).await?;
    Ok(cards::payable(&row.into_api()?))
}

/// The card's sessions open at a gateway (made there, not settled).
async fn open_sessions(state: &AppState, card_id: &str) -> Result<Vec<SessionRow>, AppError> {
    let mut db = state.store.read().await?;
    let sessions = store::gateways::sessions_in_flight(&mut db, card_id).await?;
    Ok(sessions
        .into_iter()
        .filter(|s| s.reference.is_some() && s.status().is_ok_and(|st| st == SessionStatus::Open))
        .collect())
}

/// Sends the visitor to pay at `gateway`'s own page: to the card's open session if it
/// still is open there, else a new one. `back` is this checkout's address, where the
/// gateway sends the visitor back.
pub async fn send_to_gateway(
    state: &AppState,
    gateway: &Gateway,
    gateway_id: &str,
    card_id: &str,
    name: &str,
    email: &str,
    locale: &str,
    back: &str,
) -> Result<Sent, AppError> {
    // 0. A session already open goes on if it still is at the gateway (its notification
    //    may be late or lost): ask it first; completed, the card is paid (or on its
    //    way); ended, a new one is made below; still open, or it cannot say, back to it.
    reconcile(state, card_id, None).await?;
    // Paid meanwhile, or being captured this very moment (PayPal): not back to the
    // gateway's page.
    if !still_payable(state, card_id).await? {
        return Ok(Sent::NotPayable);
    }
    // A session open at another gateway (chosen in another tab) is closed first, so
    // that one card has one way to pay open at a time; paid there, it wins below.
    if close_sessions_except(state, card_id, Some(gateway_id))
        .await
        .is_err()
    {
        return Ok(Sent::GatewayDown);
    }
    if let Some(url) = open_sessions(state, card_id)
        .await?
        .into_iter()
        .find_map(|s| s.url)
    {
        return Ok(Sent::To(url));
    }

    // 1. One session per card: reuse the open one, or claim the right to make one.
    let attempt_id = new_id("att");
    let mut tx = state.store.write().await?;
    let (row, _) = load(&mut tx, card_id).await?;
    let card = row.into_api()?;
    if !cards::payable(&card) {
        return Ok(Sent::NotPayable);
    }
    if session_in_flight(&mut tx, card_id).await? {
        let sessions = store::gateways::sessions_in_flight(&mut tx, card_id).await?;
        return Ok(match sessions.into_iter().find_map(|s| s.url) {
            Some(url) => Sent::To(url),
            None => Sent::Awaiting,
        });
    }
    if !store::gateways::exists(&mut tx, gateway_id).await? {
        return Ok(Sent::GatewayGone);
    }
    store::gateways::insert_session(
        &mut tx,
        &attempt_id,
        card_id,
        gateway_id,
        gateway.kind(),
        &secrets::now(),
    )
    .await?;
    if store::cards::set_payer(&mut tx, card_id, name, email, locale).await? {
        super::visitors::announce(&mut tx, &card.conversation_id).await?;
    }
    tx.commit().await?;

    // 2. Ask the gateway, outside any transaction.
    let expires_at = chrono::DateTime::parse_from_rfc3339(&card.expires_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let begun = gateway
        .begin(&Charge {
            card_id,
            amount_minor: card.amount_minor,
            currency: card.currency,
            recurrence: card.recurrence,
            title: &card.title,
            description: &card.description,
            email,
            locale,
            card: None,
            idempotency_key: &attempt_id,
            success_url: &format!("{back}&return={}", gateway.kind()),
            cancel_url: back,
            expires_at,
        })
        .await;
    let (url, reference) = match begun {
        Ok(Begun::Redirect { url, reference }) => (url, reference),
        other => {
            if let Err(err) = &other {
                tracing::warn!(error = %err, card = %card_id, gateway = gateway.kind(), "making a gateway session failed");
            }
            let mut tx = state.store.write().await?;
            let made = recorded_session(&mut tx, &attempt_id).await?;
            move_session(&mut tx, &made, SessionEvent::NotCreated, None).await?;
            tx.commit().await?;
            return Ok(Sent::GatewayDown);
        }
    };

    // 3. Open, unless the card was closed meanwhile (then the session goes too).
    let mut tx = state.store.write().await?;
    let (row, _) = load(&mut tx, card_id).await?;
    let still_payable = cards::payable(&row.into_api()?);
    let made = recorded_session(&mut tx, &attempt_id).await?;
    let event = if still_payable {
        SessionEvent::Created
    } else {
        SessionEvent::CreatedTooLate
    };
    move_session(&mut tx, &made, event, Some((&reference, &url))).await?;
    tx.commit().await?;
    tracing::info!(card = %card_id, attempt = %attempt_id, session = %reference, gateway = gateway.kind(), "gateway session open");
    if !still_payable {
        // Nobody was given this session's address, so it cannot be paid; closed at the
        // gateway too when it answers.
        if gateway.close(&reference).await.is_err() {
            tracing::warn!(card = %card_id, session = %reference, "a session for a closed card could not be closed; its address was never given out");
        }
        return Ok(Sent::NotPayable);
    }
    Ok(Sent::To(url))
}

/// What a gateway says happened to a session, applied to it and its card. Safe to apply
/// more than once and out of order: a settled session's attempt is recorded once, and a
/// late "still processing" does not reopen a session already settled.
async fn apply(
    db: &mut impl Db,
    session: &SessionRow,
    happened: &Happened,
) -> Result<(), AppError> {
    let settled = store::attempts::status(db, &session.attempt_id)
        .await?
        .is_some_and(|s| s != "pending");
    let outcome = match happened {
        Happened::Paid { payment } => Outcome::Succeeded {
            reference: payment.clone().unwrap_or_default(),
        },
        Happened::Failed { reason } => Outcome::Failed {
            reason: reason.clone(),
        },
        Happened::Processing => {
            if !settled {
                // Completed, the money on its way: the card waits in `processing`.
                move_session(db, session, SessionEvent::Completed, None).await?;
                let (row, _) = load(db, &session.card_id).await?;
                if cards::payable(&row.into_api()?) {
                    transition_in(db, None, &session.card_id, &CardAction::StartPayment).await?;
                }
            }
            return Ok(());
        }
        Happened::Expired => {
            // The card stays as it is: payable again through a new session.
            return move_session(db, session, SessionEvent::Ended, None).await;
        }
        // Captured by `capture_approved`, outside any transaction.
        Happened::Approved | Happened::Other => return Ok(()),
    };
    let event = match outcome {
        Outcome::Succeeded { .. } => SessionEvent::Completed,
        Outcome::Failed { .. } => SessionEvent::PaymentFailed,
    };
    move_session(db, session, event, None).await?;
    if settled {
        return Ok(());
    }
    let card = settle(
        db,
        &session.attempt_id,
        &session.card_id,
        &session.kind,
        Some(&session.gateway_id),
        None,
        &outcome,
    )
    .await?;
    tracing::info!(card = %card.id, attempt = %session.attempt_id, status = %card.status, "gateway payment settled");
    Ok(())
}

async fn apply_now(
    state: &AppState,
    session: &SessionRow,
    happened: &Happened,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    apply(&mut tx, session, happened).await?;
    state.commit(tx).await?;
    Ok(())
}

/// What a gateway says happened to a session, applied: an approved payment (PayPal) is
/// captured first, the rest applied as they are.
async fn settle_session(
    state: &AppState,
    gateway: &Gateway,
    session: &SessionRow,
    happened: &Happened,
) -> Result<(), AppError> {
    match happened {
        Happened::Approved => capture_approved(state, gateway, session).await,
        happened => apply_now(state, session, happened).await,
    }
}

/// Captures a session the customer approved (PayPal moves no money until then). The
/// card is taken for it first (payable -> processing, the session's attempt on record),
/// in a transaction only one request can win, as a charge made at once: a close that
/// came first ended the session and nothing is captured; a close that comes after finds
/// the card processing and loses to the capture (SPEC §3). A capture whose answer is
/// lost leaves its attempt pending, to be asked again ([`settle_stuck`]).
async fn capture_approved(
    state: &AppState,
    gateway: &Gateway,
    session: &SessionRow,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let open = store::gateways::session(&mut tx, &session.attempt_id)
        .await?
        .is_some_and(|s| s.status().is_ok_and(|st| st == SessionStatus::Open));
    let (row, _) = load(&mut tx, &session.card_id).await?;
    let card = row.into_api()?;
    if !open || !cards::payable(&card) || cards::overdue(&card) {
        // Closed first, being captured by another request this very moment, or past its
        // time to pay (about to expire: an approval that late is not taken).
        return Ok(());
    }
    transition_in(&mut tx, None, &session.card_id, &CardAction::StartPayment).await?;
    store::attempts::insert_pending(
        &mut tx,
        &session.attempt_id,
        &session.card_id,
        card.amount_minor,
        card.currency.code(),
        &session.kind,
        None,
        &secrets::now(),
    )
    .await?;
    state.commit(tx).await?;
    let reference = session.reference.clone().unwrap_or_default();
    match gateway.capture(&reference, &session.attempt_id).await {
        Ok(happened) => apply_now(state, session, &happened).await,
        Err(err) => {
            tracing::warn!(error = %err, session = %reference, attempt = %session.attempt_id,
                "capturing an approved payment failed; it will be asked again");
            Ok(())
        }
    }
}

/// Back from a gateway's page: asks the gateway how the card's open sessions ended, so
/// the page can tell at once even if the notification is late, or lost to a
/// misconfigured endpoint. `back` is the query the gateway sent the visitor back with:
/// what it says is believed when the gateway signed it (Razorpay), and a signature that
/// does not match is only logged (the gateway is asked instead).
pub async fn reconcile(
    state: &AppState,
    card_id: &str,
    back: Option<&str>,
) -> Result<(), AppError> {
    for session in open_sessions(state, card_id).await? {
        let reference = session.reference.clone().unwrap_or_default();
        let Ok(gateway) = Gateway::configured(state, &session.gateway_id).await else {
            continue;
        };
        let said = match back.and_then(|query| gateway.returned(query)) {
            Some(Ok((said_about, happened)))
                if said_about == reference && happened != Happened::Other =>
            {
                Some(happened)
            }
            Some(Err(err)) => {
                tracing::warn!(error = %err, session = %reference, "a return from the gateway that it did not sign; asking it instead");
                None
            }
            _ => None,
        };
        let happened = match said {
            Some(happened) => happened,
            None => match gateway.session_outcome(&reference).await {
                Ok(happened) => happened,
                Err(_) => continue,
            },
        };
        settle_session(state, &gateway, &session, &happened).await?;
    }
    Ok(())
}

/// How a gateway's notification was taken.
pub enum Received {
    /// Applied (or seen before, or about a session this server did not open: ignored).
    Taken,
    /// Not from the gateway: the signature does not match.
    Forged,
}

/// A notification from gateway `gateway_id`: verified on the raw body, each event id
/// taking effect once, in the transaction that records it.
pub async fn notification(
    state: &AppState,
    gateway: &Gateway,
    gateway_id: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Received, AppError> {
    let notification: Notification = match gateway.verify_notification(headers, body).await {
        Ok(n) => n,
        Err(GatewayError::Unavailable(why)) => {
            // PayPal could not be asked whether it sent this: it will send it again.
            tracing::warn!(gateway = %gateway_id, %why, "a notification could not be verified now");
            return Err(AppError::Conflict {
                code: "gateway_unavailable",
                message: "the payment gateway could not be asked to verify this notification; send it again"
                    .into(),
            });
        }
        Err(err) => {
            tracing::warn!(gateway = %gateway_id, error = %err, "notification refused");
            return Ok(Received::Forged);
        }
    };
    // An approval is captured outside any transaction (the capture is a call to the
    // gateway); capturing is safe to ask twice, so it is not deduplicated by event.
    if let About::Session {
        reference,
        card_id,
        happened: Happened::Approved,
    } = &notification.about
    {
        let session = {
            let mut db = state.store.read().await?;
            store::gateways::session_by_reference(&mut db, gateway_id, reference).await?
        };
        match session {
            Some(s) if card_id.as_deref().is_none_or(|c| c == s.card_id) => {
                capture_approved(state, gateway, &s).await?
            }
            _ => {
                tracing::warn!(session = %reference, "an approval for a session this server did not open; ignored")
            }
        }
        // On record like every event (the capture above is what makes a replay
        // harmless; this keeps the log of what was received complete).
        let mut tx = state.store.write().await?;
        store::gateways::first_notification(
            &mut tx,
            gateway_id,
            &notification.event_id,
            &secrets::now(),
        )
        .await?;
        state.commit(tx).await?;
        return Ok(Received::Taken);
    }
    let mut tx = state.store.write().await?;
    if !store::gateways::first_notification(
        &mut tx,
        gateway_id,
        &notification.event_id,
        &secrets::now(),
    )
    .await?
    {
        tracing::info!(event = %notification.event_id, "notification seen before; ignored");
        return Ok(Received::Taken);
    }
    match notification.about {
        About::Refunds(updates) => {
            for update in updates {
                refunds::apply_update(&mut tx, &update).await?;
            }
        }
        About::Session {
            reference,
            card_id,
            happened,
        } => match store::gateways::session_by_reference(&mut tx, gateway_id, &reference).await? {
            None => {
                tracing::warn!(session = %reference, event = %notification.event_id,
                    "notification about a session this server did not open; ignored")
            }
            Some(s) if card_id.as_deref().is_some_and(|c| c != s.card_id) => {
                tracing::warn!(session = %reference, "notification names another card; ignored")
            }
            Some(s) => apply(&mut tx, &s, &happened).await?,
        },
    }
    state.commit(tx).await?;
    Ok(Received::Taken)
}

/// Closes the card's open gateway sessions, so none can be paid after this. One the
/// customer completed first is applied instead (the card is paid, or waits for its
/// payment), and the card's state then decides what may still happen to it. A gateway
/// that cannot be reached is a 409 `gateway_unavailable`: it cannot be said that
/// nothing was paid.
pub async fn close_sessions(state: &AppState, card_id: &str) -> Result<(), AppError> {
    close_sessions_except(state, card_id, None).await
}

/// [`close_sessions`], leaving open those at gateway `keep`.
async fn close_sessions_except(
    state: &AppState,
    card_id: &str,
    keep: Option<&str>,
) -> Result<(), AppError> {
    let unavailable = || AppError::Conflict {
        code: "gateway_unavailable",
        message: "the payment gateway could not be reached to close the open payment; try again"
            .into(),
    };
    for session in open_sessions(state, card_id).await? {
        if keep == Some(session.gateway_id.as_str()) {
            continue;
        }
        let reference = session.reference.clone().unwrap_or_default();
        let gateway = Gateway::configured(state, &session.gateway_id).await.map_err(|err| {
            tracing::warn!(error = %err, session = %reference, "no client for an open session's gateway");
            unavailable()
        })?;
        let closed = gateway.close(&reference).await.map_err(|err: GatewayError| {
            tracing::warn!(error = %err, session = %reference, "closing a gateway session failed");
            unavailable()
        })?;
        let happened = match closed {
            Closed::Closed => Happened::Expired,
            Closed::Completed(happened) => happened,
        };
        settle_session(state, &gateway, &session, &happened).await?;
    }
    Ok(())
}

/// How many times a close looks again for gateway sessions opened while it ran.
const CLOSE_ROUNDS: u32 = 6;

/// Closes a card (cancel, decline, expire) after closing its gateway sessions, so that a
/// closed card is never payable at a gateway:
/// - what is open at the gateway is closed first; a payment that completed there first
///   wins, and the close gets the state machine's 409;
/// - the card is then closed in a transaction that finds no session being made or
///   open; one that appeared meanwhile (the visitor pressed Pay that same instant) sends
///   the close round again;
/// - a gateway that cannot be reached, or a session still being made after the last
///   round, leaves the card as it is: 409 (`gateway_unavailable`, `payment_in_progress`).
pub async fn close(
    state: &AppState,
    caller: Option<&Caller>,
    card_id: &str,
    action: CardAction,
) -> Result<Card, AppError> {
    if let Some(caller) = caller {
        // Who may act, and whether the card can be closed at all, before any gateway
        // is asked to do anything.
        let mut db = state.store.read().await?;
        let (row, brand) = load(&mut db, card_id).await?;
        cards::authorize(caller, &row, &brand)?;
        row.state()?.apply(&action)?;
    }
    for round in 0..CLOSE_ROUNDS {
        close_sessions(state, card_id).await?;
        let mut tx = state.store.write().await?;
        if session_in_flight(&mut tx, card_id).await? {
            drop(tx);
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(round + 1))).await;
            continue;
        }
        let card = transition_in(&mut tx, caller, card_id, &action).await?;
        state.commit(tx).await?;
        return Ok(card);
    }
    Err(AppError::Conflict {
        code: "payment_in_progress",
        message:
            "the visitor is being sent to the payment provider right now; try again in a moment"
                .into(),
    })
}

/// Expires every card past its time to pay (pending or failed, not processing). Card by
/// card: one whose gateway cannot be reached is logged and tried again next time, and
/// the others still expire. Returns how many expired.
pub async fn expire_due(state: &AppState) -> usize {
    let due = async {
        let mut db = state.store.read().await?;
        store::cards::due_to_expire(&mut db, &secrets::now()).await
    };
    let due = match due.await {
        Ok(due) => due,
        Err(err) => {
            tracing::warn!(error = %err, "listing cards to expire failed");
            return 0;
        }
    };
    let mut expired = 0;
    for id in due {
        // Another request may have paid or cancelled it meanwhile: that one wins.
        match close(state, None, &id, CardAction::Expire).await {
            Ok(_) => expired += 1,
            Err(AppError::Conflict { code, .. })
                if matches!(code, "gateway_unavailable" | "payment_in_progress") =>
            {
                tracing::warn!(card = %id, code, "a card due to expire could not be closed at its gateway; will retry")
            }
            Err(AppError::Conflict { .. }) => {}
            Err(err) => {
                tracing::warn!(error = %err, card = %id, "expiring a card failed; will retry")
            }
        }
    }
    expired
}

/// How long an attempt may stay `pending` before the request that made it is taken as
/// gone: the sandbox answers at once, and calls to a gateway time out after 30 s.
pub const STUCK_ATTEMPT: chrono::Duration = chrono::Duration::minutes(2);

/// How long a card may stay `processing` with no attempt on record before it is failed.
/// Only cards from before attempts were recorded ahead of the charge can be there.
pub const STUCK_PROCESSING: chrono::Duration = chrono::Duration::minutes(10);

/// Settles the payments that a crash or a lost connection left `processing`: each
/// attempt still `pending` after [`STUCK_ATTEMPT`] is settled with what its gateway says
/// became of it (never by guessing: a charge the gateway never saw is voided there
/// first). Card by card: one that fails is logged and the others go on. Returns how many
/// were settled.
pub async fn settle_stuck(state: &AppState) -> usize {
    let before = secrets::timestamp(chrono::Utc::now() - STUCK_ATTEMPT);
    let stuck = async {
        let mut db = state.store.read().await?;
        store::attempts::pending_since(&mut db, &before).await
    };
    let stuck = match stuck.await {
        Ok(rows) => rows,
        Err(err) => {
            tracing::warn!(error = %err, "listing pending attempts failed");
            return 0;
        }
    };
    let mut settled = 0;
    for (attempt_id, card_id, gateway, last4) in stuck {
        match settle_stuck_attempt(state, &attempt_id, &card_id, &gateway, last4.as_deref()).await {
            Ok(()) => settled += 1,
            Err(err) => {
                tracing::warn!(error = %err, attempt = %attempt_id, card = %card_id, "settling a pending attempt failed; will retry")
            }
        }
    }
    settled + fail_unrecorded(state).await
}

async fn settle_stuck_attempt(
    state: &AppState,
    attempt_id: &str,
    card_id: &str,
    kind: &str,
    last4: Option<&str>,
) -> Result<(), AppError> {
    let session = {
        let mut db = state.store.read().await?;
        store::gateways::session(&mut db, attempt_id).await?
    };
    if let Some(session) = session {
        return settle_stuck_capture(state, &session).await;
    }
    let gateway = Gateway::of(state, kind, None).await?;
    let outcome = gateway
        .resolve(attempt_id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = state.store.write().await?;
    let card = settle(&mut tx, attempt_id, card_id, kind, None, last4, &outcome).await?;
    state.commit(tx).await?;
    tracing::warn!(card = %card.id, attempt = %attempt_id, status = %card.status, "settled a payment its request left pending");
    Ok(())
}

/// A capture whose answer was lost (PayPal): the gateway is asked how the order stands,
/// and an order still approved is captured again with the same request id (one
/// capture); an order that was never captured fails the attempt, and the card may be
/// paid again.
async fn settle_stuck_capture(state: &AppState, session: &SessionRow) -> Result<(), AppError> {
    let gateway = Gateway::configured(state, &session.gateway_id).await?;
    let reference = session.reference.clone().unwrap_or_default();
    let unavailable = |e: GatewayError| AppError::Internal(e.to_string());
    let happened = match gateway.session_outcome(&reference).await {
        Ok(Happened::Approved) => gateway
            .capture(&reference, &session.attempt_id)
            .await
            .map_err(unavailable)?,
        Ok(other) => other,
        // The order is gone at PayPal (lapsed, purged): nothing was captured.
        Err(GatewayError::Refused(why)) => {
            tracing::warn!(attempt = %session.attempt_id, %why, "the order of a pending capture is gone; nothing was captured");
            Happened::Other
        }
        Err(other) => return Err(unavailable(other)),
    };
    let happened = match happened {
        settled @ (Happened::Paid { .. } | Happened::Failed { .. } | Happened::Processing) => {
            settled
        }
        _ => Happened::Failed {
            reason: "processing_error".into(),
        },
    };
    apply_now(state, session, &happened).await?;
    if happened != Happened::Processing {
        tracing::warn!(attempt = %session.attempt_id, card = %session.card_id, "settled a capture its request left pending");
    }
    Ok(())
}

/// Fails cards left `processing` with nothing on record that can settle them: only data
/// from before attempts were recorded ahead of the charge.
async fn fail_unrecorded(state: &AppState) -> usize {
    let before = secrets::timestamp(chrono::Utc::now() - STUCK_PROCESSING);
    let stuck = async {
        let mut db = state.store.read().await?;
        store::cards::processing_unrecorded(&mut db, &before).await
    };
    let stuck = match stuck.await {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "listing cards left processing failed");
            return 0;
        }
    };
    let mut failed = 0;
    for id in stuck {
        let action = CardAction::PaymentFailed {
            reason: "processing_error".into(),
        };
        match transition(state, None, &id, action).await {
            Ok(_) => failed += 1,
            Err(AppError::Conflict { .. }) => {}
            Err(err) => {
                tracing::warn!(error = %err, card = %id, "failing a card left processing failed")
            }
        }
    }
    failed
}

/// Forgets gateway notification ids too old to be replayed (Stripe retries for three
/// days; a month is plenty).
pub async fn prune_notifications(state: &AppState) -> Result<u64, AppError> {
    let month_ago = secrets::timestamp(chrono::Utc::now() - chrono::Duration::days(30));
    let mut db = state.store.read().await?;
    Ok(store::gateways::prune_notifications(&mut db, &month_ago).await?)
}
