//! The hosted checkout (`/pay/{checkout_token}`): the page, the payment, the outcome.
//!
//! A card is charged at most once. Paying first moves the card to `processing` in its
//! own transaction, through the shared state machine; only the request that made that
//! move charges. A second tab, a double click, or a Cancel that arrives meanwhile find
//! the card `processing` and are refused. The attempt, the card's result and, for a
//! recurring payment, the subscription are then written in one transaction.
//!
//! Card numbers and CVCs live only in this request's memory: the attempt keeps the last
//! four digits; nothing is logged.

pub mod gateway;
pub mod page;

use std::sync::LazyLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use chrono::Utc;
use paycard_core::api::Card;
use paycard_core::card_form::{validate_card_form, CardForm};
use paycard_core::validation::{FieldError, Problem};
use paycard_core::{CardAction, CardStatus, Locale};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use self::gateway::{Begun, Charge, Gateway, Outcome, Sandbox};
use crate::api::cards::{load_card, transition, transition_in};
use crate::error::AppError;
use crate::origin::Provenance;
use crate::secrets::{self, hash_secret, new_id};
use crate::AppState;

/// The policy for every checkout answer: nothing but this page's own style and form.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(page::CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
});

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PayForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    gateway: String,
}

fn locale(query: &LangQuery, headers: &HeaderMap) -> Locale {
    if let Some(locale) = query.lang.as_deref().and_then(Locale::from_tag) {
        return locale;
    }
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Locale::from_accept_language(accept.unwrap_or(""))
}

/// The card behind a checkout link, with its brand's name.
async fn card_for(state: &AppState, token: &str) -> Result<Option<(Card, String)>, AppError> {
    let card_id: Option<String> =
        sqlx::query_scalar("SELECT card_id FROM checkout_tokens WHERE token_hash = ?")
            .bind(hash_secret(token))
            .fetch_optional(&state.db)
            .await?;
    let Some(card_id) = card_id else {
        return Ok(None);
    };
    let mut conn = state.db.acquire().await?;
    let (row, _) = load_card(&mut conn, &card_id).await?;
    let brand: String = sqlx::query_scalar(
        "SELECT b.name FROM brands b JOIN conversations c ON c.brand_id = b.id WHERE c.id = ?",
    )
    .bind(&row.conversation_id)
    .fetch_one(&mut *conn)
    .await?;
    let mut card = row.into_api()?;
    // A card past its time expires now, even if the sweeper has not come by yet.
    if matches!(card.status, CardStatus::Pending | CardStatus::Failed)
        && card.expires_at <= secrets::now()
    {
        drop(conn);
        match transition(state, None, &card.id, CardAction::Expire).await {
            Ok(expired) => card = expired,
            Err(AppError::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Some((card, brand)))
}

fn respond(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page for a card that cannot be paid now (or a bad link).
fn status_page(card: Option<(&Card, &str)>, locale: Locale) -> Response {
    let w = page::words(locale);
    let Some((card, brand)) = card else {
        let body = page::outcome(w.invalid_link, "bad", "", locale, true);
        return respond(
            StatusCode::NOT_FOUND,
            page::document(locale, w.invalid_link, "", &body),
        );
    };
    let (heading, class, line, refresh) = match card.status {
        CardStatus::Paid => (w.success, "ok", w.already_paid, false),
        CardStatus::Processing => (w.in_progress, "muted", w.busy, true),
        CardStatus::Cancelled => (w.cancelled, "muted", "", false),
        CardStatus::Declined => (w.declined, "muted", "", false),
        CardStatus::Expired => (w.expired, "muted", "", false),
        CardStatus::Pending | CardStatus::Failed => (w.in_progress, "muted", "", false),
    };
    let head = if refresh {
        "<meta http-equiv=\"refresh\" content=\"3\">"
    } else {
        ""
    };
    let body =
        page::summary(card, brand, locale) + &page::outcome(heading, class, line, locale, true);
    let status = if card.status == CardStatus::Paid {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    respond(status, page::document(locale, heading, head, &body))
}

/// What every form page is about: the link, its card and brand, the language.
#[derive(Clone, Copy)]
struct About<'a> {
    token: &'a str,
    card: &'a Card,
    brand: &'a str,
    locale: Locale,
}

fn form_page(
    about: About<'_>,
    values: &CardForm,
    errors: &[FieldError],
    alert: Option<&str>,
    status: StatusCode,
) -> Response {
    let About {
        token,
        card,
        brand,
        locale,
    } = about;
    let mut body = page::summary(card, brand, locale);
    if card.status == CardStatus::Failed && errors.is_empty() && alert.is_none() {
        let w = page::words(locale);
        let line = format!(
            "{} {}",
            page::failure_line(card.failure_reason.as_deref(), locale),
            w.try_again
        );
        body += &page::outcome(w.failed, "bad", &line, locale, false);
    }
    body += &page::form(token, card, locale, values, errors, alert);
    respond(status, page::document(locale, &card.title, "", &body))
}

/// `GET /pay/{token}`: the checkout page, or why this card cannot be paid.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let locale = locale(&query, &headers);
    let Some((card, brand)) = card_for(&state, &token).await? else {
        return Ok(status_page(None, locale));
    };
    if !card.status.allows(&CardAction::StartPayment) {
        return Ok(status_page(Some((&card, &brand)), locale));
    }
    Ok(form_page(
        About {
            token: &token,
            card: &card,
            brand: &brand,
            locale,
        },
        &CardForm::default(),
        &[],
        None,
        StatusCode::OK,
    ))
}

/// A form post must come from the page itself. Browsers say where a request comes
/// from: by `Origin`, except that under this page's `no-referrer` policy they send
/// `Origin: null`, so then by Fetch Metadata (`Sec-Fetch-Site`). Clients that send
/// neither are not browsers, and so cannot be tricked into a cross-site submission.
fn same_origin(headers: &HeaderMap) -> bool {
    let seen = Provenance::of(headers);
    if let Some(same) = seen.origin_is_host() {
        return same;
    }
    match seen.fetch_site {
        Some(site) => site == "same-origin" || site == "none",
        // `Origin: null` with no Fetch Metadata: an opaque origin we cannot place.
        None => seen.origin.is_none(),
    }
}

/// `POST /pay/{token}`: checks the form, charges through the gateway, shows the outcome.
pub async fn pay(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    form: Result<Form<PayForm>, FormRejection>,
) -> Result<Response, AppError> {
    let locale = locale(&query, &headers);
    let w = page::words(locale);
    let Some((card, brand)) = card_for(&state, &token).await? else {
        return Ok(status_page(None, locale));
    };
    let about = About {
        token: &token,
        card: &card,
        brand: &brand,
        locale,
    };
    if !same_origin(&headers) {
        return Ok(form_page(
            about,
            &CardForm::default(),
            &[],
            Some(w.cross_site),
            StatusCode::FORBIDDEN,
        ));
    }
    if !card.status.allows(&CardAction::StartPayment) {
        return Ok(status_page(Some((&card, &brand)), locale));
    }
    let Form(form) = form.unwrap_or_default();
    let typed = CardForm {
        name: form.name,
        email: form.email,
        card_number: form.card_number,
        expiry: form.expiry,
        cvc: form.cvc,
    };
    let valid = match validate_card_form(&typed, Utc::now().date_naive()) {
        Ok(valid) => valid,
        Err(errors) => {
            return Ok(form_page(
                about,
                &typed,
                &errors,
                None,
                StatusCode::BAD_REQUEST,
            ))
        }
    };
    let gateway = Sandbox;
    if !(form.gateway.is_empty() || form.gateway == gateway.kind()) {
        let errors = [FieldError::new("gateway", Problem::NotFound)];
        return Ok(form_page(
            about,
            &typed,
            &errors,
            Some(w.gateway_unavailable),
            StatusCode::BAD_REQUEST,
        ));
    }

    // 1. Take the card: pending/failed -> processing. Exactly one request can.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let taken = transition_in(&mut tx, None, &card.id, &CardAction::StartPayment).await;
    let (processing, seq) = match taken {
        Ok(taken) => taken,
        Err(AppError::Conflict { .. }) => {
            drop(tx);
            let now = card_for(&state, &token).await?;
            return Ok(status_page(
                now.as_ref().map(|(c, b)| (c, b.as_str())),
                locale,
            ));
        }
        Err(other) => return Err(other),
    };
    tx.commit().await?;
    state.live.published(seq);

    // 2. Charge.
    let attempt_id = new_id("att");
    let begun = gateway
        .begin(&Charge {
            card_id: &processing.id,
            amount_minor: processing.amount_minor,
            currency: processing.currency,
            recurrence: processing.recurrence,
            card: &valid,
            idempotency_key: &attempt_id,
        })
        .await;
    let outcome = match begun {
        Ok(Begun::Done(outcome)) => outcome,
        // Redirecting gateways settle by notification; none is offered on this page yet,
        // and an unreachable gateway is a failed attempt the visitor can retry.
        Ok(Begun::Redirect { .. }) => Outcome::Failed {
            reason: "processing_error".into(),
        },
        Err(err) => {
            tracing::warn!(error = %err, gateway = gateway.kind(), "gateway failed");
            Outcome::Failed {
                reason: "processing_error".into(),
            }
        }
    };

    // 3. Record the attempt and the result together.
    let now = secrets::now();
    let (status, reason, action) = match &outcome {
        Outcome::Succeeded { .. } => ("succeeded", None, CardAction::PaymentSucceeded),
        Outcome::Failed { reason } => (
            "failed",
            Some(reason.clone()),
            CardAction::PaymentFailed {
                reason: reason.clone(),
            },
        ),
    };
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&attempt_id)
    .bind(&processing.id)
    .bind(status)
    .bind(processing.amount_minor)
    .bind(processing.currency.code())
    .bind(gateway.kind())
    .bind(valid.last4())
    .bind(&reason)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let (result, seq) = transition_in(&mut tx, None, &processing.id, &action).await?;
    if let (CardStatus::Paid, Some(recurrence)) = (result.status, result.recurrence) {
        let today = Utc::now().date_naive();
        let next = recurrence
            .next_charge_date(today)
            .map(|d| d.to_string())
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO subscriptions (id, card_id, amount_minor, currency, interval, count, started_on, next_charge_on, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new_id("sub"))
        .bind(&result.id)
        .bind(result.amount_minor)
        .bind(result.currency.code())
        .bind(recurrence.interval.as_str())
        .bind(recurrence.count)
        .bind(today.to_string())
        .bind(next)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    state.live.published(seq);
    tracing::info!(card = %result.id, attempt = %attempt_id, status, gateway = gateway.kind(), "payment attempt");

    Ok(match result.status {
        CardStatus::Paid => {
            let body = page::summary(&result, &brand, locale)
                + &page::outcome(w.success, "ok", w.paid_note, locale, true);
            respond(StatusCode::OK, page::document(locale, w.success, "", &body))
        }
        _ => {
            let kept = CardForm {
                name: typed.name,
                email: typed.email,
                ..CardForm::default()
            };
            form_page(
                About {
                    token: &token,
                    card: &result,
                    brand: &brand,
                    locale,
                },
                &kept,
                &[],
                None,
                StatusCode::OK,
            )
        }
    })
}
