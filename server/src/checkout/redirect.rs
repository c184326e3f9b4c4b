//! Payments that continue on a gateway's own page (Stripe Checkout, SPEC §4 "Stripe").
//!
//! The card stays payable (`pending` or `failed`) while the visitor is on Stripe's page:
//! nothing is charged until Stripe says so in a signed webhook, which settles the card
//! through the shared state machine. What keeps a card from being paid twice is that at
//! most one session per card is open: a second Pay (another tab, a double click) goes to
//! the session already open. Closing a card (the operator's cancel, the visitor's
//! decline, expiry) first expires its open session at Stripe; a session that completed
//! meanwhile wins, and the card is paid instead.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycard_core::api::Card;
use paycard_core::card_form::{validate_card_form, CardForm};
use paycard_core::gateways::STRIPE;
use paycard_core::{CardAction, Locale};

use super::gateway::{Begun, Charge, Closed, Gateway, Happened, Outcome};
use super::stripe::Stripe;
use super::{page, respond, settle, status_page, About, Method};
use crate::api::auth::Caller;
use crate::api::cards::load_card;
use crate::error::AppError;
use crate::secrets::{self, new_id};
use crate::AppState;

/// A Stripe client for the configured gateway `gateway_id`.
async fn stripe_for(state: &AppState, gateway_id: &str) -> Result<Stripe, AppError> {
    let (kind, credentials) = crate::api::admin::gateways::credentials_of(state, gateway_id)
        .await?
        .ok_or(AppError::NotFound("gateway"))?;
    if kind != STRIPE {
        return Err(AppError::NotFound("gateway"));
    }
    Stripe::new(
        state.http.clone(),
        &state.config.stripe_api_base,
        &credentials,
    )
    .ok_or_else(|| AppError::Internal(format!("gateway {gateway_id}: incomplete credentials")))
}

/// Whether a gateway session for the card is open (the visitor may be paying there).
pub async fn session_open(state: &AppState, card_id: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gateway_sessions WHERE card_id = ? AND status IN ('creating', 'open'))",
    )
    .bind(card_id)
    .fetch_one(&state.db)
    .await?)
}

/// Back from the gateway's page, before its word: the page waits and refreshes.
pub fn awaiting_page(card: &Card, brand: &str, locale: Locale) -> Response {
    let w = page::words(locale);
    let body = page::summary(card, brand, locale)
        + &page::outcome(w.in_progress, "muted", w.awaiting_gateway, locale, true);
    respond(
        StatusCode::OK,
        page::document(
            locale,
            w.in_progress,
            "<meta http-equiv=\"refresh\" content=\"3\">",
            &body,
        ),
    )
}

fn see_other(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(LOCATION, location);
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// `POST /pay/{token}` with `gateway=stripe`: the account details are checked here, the
/// card's are Stripe's to take; then to the card's open Checkout Session, or a new one.
pub async fn pay_with_stripe(
    state: &AppState,
    about: About<'_>,
    typed: &CardForm,
    method: &Method,
) -> Result<Response, AppError> {
    let w = page::words(about.locale);
    let Some(gateway_id) = method.gateway_id.clone() else {
        return Err(AppError::Internal(
            "stripe offered without a gateway".into(),
        ));
    };
    // Only the account fields are this page's: the card is typed on Stripe's page.
    let errors: Vec<_> = match validate_card_form(typed, chrono::Utc::now().date_naive()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .filter(|e| e.field == "name" || e.field == "email")
            .collect(),
    };
    if !errors.is_empty() {
        return Ok(super::form_page(
            about,
            typed,
            &errors,
            None,
            StatusCode::BAD_REQUEST,
        ));
    }
    let card_id = about.card.id.clone();

    // 0. A session already open goes on if it still is at Stripe (its webhook may be
    //    late or lost): ask Stripe first; completed, the card is paid (or on its way);
    //    ended, a new one is made below; still open, or Stripe cannot say, back to it.
    reconcile(state, &card_id).await?;
    if let Some(url) = open_sessions(state, &card_id)
        .await?
        .into_iter()
        .find_map(|s| s.url)
    {
        return Ok(see_other(&url));
    }

    // 1. One session per card: reuse the open one, or claim the right to create one.
    let attempt_id = new_id("att");
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (row, _) = load_card(&mut tx, &card_id).await?;
    let card = row.into_api()?;
    if !card.status.allows(&CardAction::StartPayment) {
        drop(tx);
        return Ok(status_page(Some((&card, about.brand)), about.locale));
    }
    fail_stale_creating(&mut tx, &card_id).await?;
    // The gateway may have been removed since the page was shown.
    let configured: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM gateways WHERE id = ?)")
            .bind(&gateway_id)
            .fetch_one(&mut *tx)
            .await?;
    if !configured {
        drop(tx);
        return Ok(super::form_page(
            about,
            typed,
            &[],
            Some(w.gateway_unavailable),
            StatusCode::OK,
        ));
    }
    let existing: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT status, url FROM gateway_sessions WHERE card_id = ? AND status IN ('creating', 'open')",
    )
    .bind(&card_id)
    .fetch_optional(&mut *tx)
    .await?;
    match existing {
        Some((status, Some(url))) if status == "open" => {
            drop(tx);
            return Ok(see_other(&url));
        }
        Some(_) => {
            drop(tx);
            return Ok(awaiting_page(&card, about.brand, about.locale));
        }
        None => {}
    }
    let now = secrets::now();
    sqlx::query(
        "INSERT INTO gateway_sessions (attempt_id, card_id, gateway_id, kind, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'creating', ?, ?)",
    )
    .bind(&attempt_id)
    .bind(&card_id)
    .bind(&gateway_id)
    .bind(STRIPE)
    .bind(&now)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    // 2. Ask Stripe, outside any transaction.
    let back = format!(
        "{}/pay/{}?lang={}",
        state.public_url,
        about.token,
        about.locale.tag()
    );
    let expires_at = chrono::DateTime::parse_from_rfc3339(&card.expires_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let begun = match stripe_for(state, &gateway_id).await {
        Ok(stripe) => {
            stripe
                .begin(&Charge {
                    card_id: &card.id,
                    amount_minor: card.amount_minor,
                    currency: card.currency,
                    recurrence: card.recurrence,
                    title: &card.title,
                    description: &card.description,
                    email: typed.email.trim(),
                    locale: about.locale.tag(),
                    card: None,
                    idempotency_key: &attempt_id,
                    success_url: &format!("{back}&return=stripe"),
                    cancel_url: &back,
                    expires_at,
                })
                .await
        }
        Err(e) => Err(super::gateway::GatewayError::Unavailable(e.to_string())),
    };
    let (url, reference) = match begun {
        Ok(Begun::Redirect { url, reference }) => (url, reference),
        other => {
            if let Err(err) = &other {
                tracing::warn!(error = %err, card = %card_id, "stripe: creating a checkout session failed");
            }
            let mut conn = state.db.acquire().await?;
            set_session_status(&mut conn, &attempt_id, "failed", &[]).await?;
            return Ok(super::form_page(
                about,
                typed,
                &[],
                Some(w.gateway_down),
                StatusCode::OK,
            ));
        }
    };

    // 3. Open, unless the card was closed meanwhile (then the session goes too).
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (row, _) = load_card(&mut tx, &card_id).await?;
    let still_payable = row.into_api()?.status.allows(&CardAction::StartPayment);
    sqlx::query(
        "UPDATE gateway_sessions SET reference = ?, url = ?, status = ?, updated_at = ? WHERE attempt_id = ?",
    )
    .bind(&reference)
    .bind(&url)
    .bind(if still_payable { "open" } else { "expired" })
    .bind(secrets::now())
    .bind(&attempt_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(card = %card_id, attempt = %attempt_id, session = %reference, "stripe: checkout session open");
    if !still_payable {
        // Nobody was given this session's address, so it cannot be paid; closed at
        // Stripe too when Stripe answers.
        let closed = match stripe_for(state, &gateway_id).await {
            Ok(stripe) => stripe.close(&reference).await.is_ok(),
            Err(_) => false,
        };
        if !closed {
            tracing::warn!(card = %card_id, session = %reference, "stripe: a session for a closed card could not be expired; its address was never given out");
        }
        return super::status_page_now(state, about.token, about.locale).await;
    }
    Ok(see_other(&url))
}

/// Moves a session to `to`, if it is in one of `from` (any status when empty).
async fn set_session_status(
    conn: &mut sqlx::SqliteConnection,
    attempt_id: &str,
    to: &str,
    from: &[&str],
) -> Result<(), AppError> {
    let from = serde_json::to_string(from).map_err(|e| AppError::Internal(e.to_string()))?;
    sqlx::query(
        "UPDATE gateway_sessions SET status = ?1, updated_at = ?2 WHERE attempt_id = ?3
           AND (json_array_length(?4) = 0 OR status IN (SELECT value FROM json_each(?4)))",
    )
    .bind(to)
    .bind(secrets::now())
    .bind(attempt_id)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    attempt_id: String,
    card_id: String,
    gateway_id: String,
    kind: String,
    reference: Option<String>,
    url: Option<String>,
}

const SESSION_COLUMNS: &str = "attempt_id, card_id, gateway_id, kind, reference, url";

/// The card's sessions open at a gateway (created there, not settled).
async fn open_sessions(state: &AppState, card_id: &str) -> Result<Vec<SessionRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SESSION_COLUMNS} FROM gateway_sessions
         WHERE card_id = ? AND status = 'open' AND reference IS NOT NULL"
    ))
    .bind(card_id)
    .fetch_all(&state.db)
    .await?)
}

/// Whether a session's outcome is recorded (its attempt written): it is settled.
async fn settled(conn: &mut sqlx::SqliteConnection, attempt_id: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM attempts WHERE id = ? AND status <> 'pending')",
    )
    .bind(attempt_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// A session left `creating` by a crash between asking the gateway and recording its
/// answer (the gateway answers in seconds) must not block its card for ever. Its
/// address was never given to anyone, so it cannot be paid.
async fn fail_stale_creating(
    conn: &mut sqlx::SqliteConnection,
    card_id: &str,
) -> Result<(), AppError> {
    let stale = secrets::timestamp(chrono::Utc::now() - chrono::Duration::minutes(2));
    sqlx::query(
        "UPDATE gateway_sessions SET status = 'failed', updated_at = ?
         WHERE card_id = ? AND status = 'creating' AND created_at <= ?",
    )
    .bind(secrets::now())
    .bind(card_id)
    .bind(&stale)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a gateway session of the card is being created or is open, inside the
/// caller's transaction: then the card must not be closed, or charged elsewhere, yet.
pub async fn session_in_flight(
    conn: &mut sqlx::SqliteConnection,
    card_id: &str,
) -> Result<bool, AppError> {
    fail_stale_creating(conn, card_id).await?;
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gateway_sessions WHERE card_id = ? AND status IN ('creating', 'open'))",
    )
    .bind(card_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Records that a session completed with `outcome`, once: a session already settled
/// (its attempt recorded) is left alone. Returns the events to publish.
async fn settle_session(
    conn: &mut sqlx::SqliteConnection,
    session: &SessionRow,
    outcome: &Outcome,
) -> Result<Vec<i64>, AppError> {
    let recorded = settled(conn, &session.attempt_id).await?;
    let status = match outcome {
        Outcome::Succeeded { .. } => "complete",
        Outcome::Failed { .. } => "failed",
    };
    set_session_status(conn, &session.attempt_id, status, &[]).await?;
    if recorded {
        return Ok(Vec::new());
    }
    let (card, seqs) = settle(
        conn,
        &session.attempt_id,
        &session.card_id,
        &session.kind,
        None,
        outcome,
    )
    .await?;
    tracing::info!(card = %card.id, attempt = %session.attempt_id, status = %card.status, "stripe: payment settled");
    Ok(seqs)
}

/// `POST /webhooks/stripe/{gateway_id}`: a signed Stripe event. Verified on the raw
/// body; each event id takes effect once; a forged or stale one is refused (400) and
/// changes nothing.
#[utoipa::path(post, path = "/webhooks/stripe/{gateway_id}", tag = "webhooks",
    params(("gateway_id" = String, Path, description = "the configured Stripe gateway")),
    request_body(content = String, content_type = "application/json", description = "a Stripe event"),
    responses((status = 200, description = "received (also for an event seen before)"), crate::api::doc::BadRequest,
        crate::api::doc::Unauthorized, crate::api::doc::NotFound, crate::api::doc::BodyRejected),
    security(("stripe_signature" = [])))]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    Path(gateway_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let stripe = stripe_for(&state, &gateway_id).await?;
    let notification = stripe.verify_notification(&headers, &body).map_err(|err| {
        tracing::warn!(gateway = %gateway_id, error = %err, "stripe: webhook refused");
        AppError::BadSignature
    })?;

    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let first_time = sqlx::query(
        "INSERT INTO gateway_events (gateway_id, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&gateway_id)
    .bind(&notification.event_id)
    .bind(secrets::now())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let mut seqs = Vec::new();
    if first_time {
        let session: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM gateway_sessions WHERE reference = ? AND gateway_id = ?"
        ))
        .bind(&notification.reference)
        .bind(&gateway_id)
        .fetch_optional(&mut *tx)
        .await?;
        match session {
            None => {
                tracing::warn!(session = %notification.reference, event = %notification.event_id,
                "stripe: event for a session this server did not open; ignored")
            }
            Some(s)
                if notification
                    .card_id
                    .as_deref()
                    .is_some_and(|c| c != s.card_id) =>
            {
                tracing::warn!(session = %notification.reference, "stripe: event names another card; ignored")
            }
            Some(s) => {
                seqs = apply(&mut tx, &s, &notification.happened, &notification.reference).await?
            }
        }
    } else {
        tracing::info!(event = %notification.event_id, "stripe: event seen before; ignored");
    }
    tx.commit().await?;
    for seq in seqs {
        state.live.published(seq);
    }
    Ok(Json(serde_json::json!({ "received": true })).into_response())
}

/// What a gateway says happened to a session, applied to it and its card. Safe to apply
/// more than once and out of order: a settled session's attempt is recorded once, and a
/// late "still processing" does not reopen a session already settled.
async fn apply(
    conn: &mut sqlx::SqliteConnection,
    session: &SessionRow,
    happened: &Happened,
    reference: &str,
) -> Result<Vec<i64>, AppError> {
    let mut seqs = Vec::new();
    match happened {
        Happened::Paid => {
            let outcome = Outcome::Succeeded {
                reference: reference.to_owned(),
            };
            seqs = settle_session(conn, session, &outcome).await?;
        }
        Happened::Failed { reason } => {
            let outcome = Outcome::Failed {
                reason: reason.clone(),
            };
            seqs = settle_session(conn, session, &outcome).await?;
        }
        Happened::Processing => {
            if !settled(conn, &session.attempt_id).await? {
                // Completed, the money on its way: the card waits in `processing`.
                set_session_status(conn, &session.attempt_id, "complete", &[]).await?;
                let (row, _) = load_card(conn, &session.card_id).await?;
                if row.into_api()?.status.allows(&CardAction::StartPayment) {
                    let (_, seq) = crate::api::cards::transition_in(
                        conn,
                        None,
                        &session.card_id,
                        &CardAction::StartPayment,
                    )
                    .await?;
                    seqs.push(seq);
                }
            }
        }
        Happened::Expired => {
            // The card stays as it is: payable again through a new session.
            set_session_status(conn, &session.attempt_id, "expired", &["creating", "open"]).await?;
        }
        Happened::Other => {}
    }
    Ok(seqs)
}

/// Back from Stripe's page: asks Stripe how the card's open session ended, so the page
/// can tell at once even if the webhook is late, or lost to a misconfigured endpoint.
pub async fn reconcile(state: &AppState, card_id: &str) -> Result<(), AppError> {
    for session in open_sessions(state, card_id).await? {
        let reference = session.reference.clone().unwrap_or_default();
        let Ok(stripe) = stripe_for(state, &session.gateway_id).await else {
            continue;
        };
        let Ok(happened) = stripe.session_outcome(&reference).await else {
            continue;
        };
        apply_and_publish(state, &session, &happened, &reference).await?;
    }
    Ok(())
}

async fn apply_and_publish(
    state: &AppState,
    session: &SessionRow,
    happened: &Happened,
    reference: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let seqs = apply(&mut tx, session, happened, reference).await?;
    tx.commit().await?;
    for seq in seqs {
        state.live.published(seq);
    }
    Ok(())
}

/// Expires the card's open gateway sessions, so none can be paid after this. One the
/// customer completed first is applied instead (the card is paid, or waits for its
/// payment), and the card's state then decides what may still happen to it.
pub async fn close_sessions(state: &AppState, card_id: &str) -> Result<(), AppError> {
    let unavailable = || AppError::Conflict {
        code: "gateway_unavailable",
        message: "the payment gateway could not be reached to close the open payment; try again"
            .into(),
    };
    for session in open_sessions(state, card_id).await? {
        let reference = session.reference.clone().unwrap_or_default();
        let stripe = stripe_for(state, &session.gateway_id).await.map_err(|err| {
            tracing::warn!(error = %err, session = %reference, "stripe: no client for an open session's gateway");
            unavailable()
        })?;
        let closed = stripe.close(&reference).await.map_err(|err| {
            tracing::warn!(error = %err, session = %reference, "stripe: expiring a session failed");
            unavailable()
        })?;
        let happened = match closed {
            Closed::Closed => Happened::Expired,
            Closed::Completed(happened) => happened,
        };
        apply_and_publish(state, &session, &happened, &reference).await?;
    }
    Ok(())
}

/// How many times a close looks again for gateway sessions opened while it ran.
const CLOSE_ROUNDS: u32 = 6;

/// Closes a card (cancel, decline, expire) after closing its gateway sessions, so that a
/// closed card is never payable at a gateway:
/// - what is open at the gateway is expired first; a payment that completed there first
///   wins, and the close gets the state machine's 409;
/// - the card is then closed in a transaction that finds no session being created or
///   open; one that appeared meanwhile (the visitor pressed Pay that same instant) sends
///   the close round again;
/// - a gateway that cannot be reached, or a session still being created after the
///   last round, leaves the card as it is: 409 (`gateway_unavailable`,
///   `payment_in_progress`), since it cannot be sure that nothing will be paid.
pub async fn close_card(
    state: &AppState,
    caller: Option<&Caller>,
    card_id: &str,
    action: CardAction,
) -> Result<Card, AppError> {
    if let Some(caller) = caller {
        // Who may act, and whether the card can be closed at all, before any gateway
        // is asked to do anything.
        let mut conn = state.db.acquire().await?;
        let (row, brand) = load_card(&mut conn, card_id).await?;
        crate::api::cards::authorize(caller, &row, &brand)?;
        row.state()?.apply(&action)?;
    }
    for round in 0..CLOSE_ROUNDS {
        close_sessions(state, card_id).await?;
        let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
        if session_in_flight(&mut tx, card_id).await? {
            drop(tx);
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(round + 1))).await;
            continue;
        }
        let (card, seq) =
            crate::api::cards::transition_in(&mut tx, caller, card_id, &action).await?;
        tx.commit().await?;
        state.live.published(seq);
        return Ok(card);
    }
    Err(AppError::Conflict {
        code: "payment_in_progress",
        message:
            "the visitor is being sent to the payment provider right now; try again in a moment"
                .into(),
    })
}
