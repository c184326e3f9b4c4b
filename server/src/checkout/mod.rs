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
pub mod redirect;
pub mod stripe;

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
use crate::api::cards::{load_card, transition_in};
use crate::error::AppError;
use crate::origin::{Client, Provenance};
use crate::secrets::{self, hash_secret, new_id};
use crate::AppState;

/// The policy for every checkout answer: nothing but this page's own style and form.
/// `form_targets`: other origins the form may lead to (browsers apply `form-action` to
/// the redirect after a post too, and Pay with Stripe redirects to Stripe's page).
fn csp(form_targets: &str) -> String {
    static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(page::CSS.as_bytes()))
    });
    let hash = STYLE_HASH.as_str();
    let targets = if form_targets.is_empty() {
        String::new()
    } else {
        format!(" {form_targets}")
    };
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'{targets}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Where the offered gateways' pages are: Stripe Checkout, and the origin of
/// `PAYCARD_STRIPE_API_BASE` when it is not Stripe's own (a stand-in).
fn form_targets(state: &AppState, methods: &[Method]) -> String {
    if !methods
        .iter()
        .any(|m| m.kind == paycard_core::gateways::STRIPE)
    {
        return String::new();
    }
    let mut targets = vec!["https://checkout.stripe.com".to_owned()];
    if let Ok(base) = url::Url::parse(&state.config.stripe_api_base) {
        let origin = base.origin().ascii_serialization();
        if origin != "https://api.stripe.com" && origin != "null" {
            targets.push(origin);
        }
    }
    targets.join(" ")
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
    /// Set on the way back from a gateway's page (`?return=stripe`).
    #[serde(rename = "return")]
    returned: Option<String>,
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
pub async fn card_for(state: &AppState, token: &str) -> Result<Option<(Card, String)>, AppError> {
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
        match redirect::close_card(state, None, &card.id, CardAction::Expire).await {
            Ok(expired) => card = expired,
            Err(AppError::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Some((card, brand)))
}

pub fn respond(status: StatusCode, html: String) -> Response {
    respond_with_targets(status, html, "")
}

fn respond_with_targets(status: StatusCode, html: String, form_targets: &str) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp(form_targets)) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The status page of the card behind `token` as it is now (another request changed it).
pub async fn status_page_now(
    state: &AppState,
    token: &str,
    locale: Locale,
) -> Result<Response, AppError> {
    let now = card_for(state, token).await?;
    Ok(status_page(
        now.as_ref().map(|(c, b)| (c, b.as_str())),
        locale,
    ))
}

/// The page right after a payment went through.
fn success_page(card: &Card, brand: &str, locale: Locale) -> Response {
    let w = page::words(locale);
    let body = page::summary(card, brand, locale)
        + &page::outcome(w.success, "ok", w.paid_note, locale, true);
    respond(StatusCode::OK, page::document(locale, w.success, "", &body))
}

/// The page for a card that cannot be paid now (or a bad link).
pub fn status_page(card: Option<(&Card, &str)>, locale: Locale) -> Response {
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

/// What every form page is about: the link, its card and brand, the language, and the
/// ways to pay on offer.
#[derive(Clone, Copy)]
pub struct About<'a> {
    pub token: &'a str,
    pub card: &'a Card,
    pub brand: &'a str,
    pub locale: Locale,
    pub methods: &'a [Method],
    /// Origins the form may lead to, for the page's `form-action`.
    pub form_targets: &'a str,
}

/// A way to pay the checkout offers: a gateway kind, and the configured gateway behind
/// it (none for the built-in sandbox when nothing is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub kind: &'static str,
    pub gateway_id: Option<String>,
}

/// The ways to pay: the connected portal's configured gateways that work and that its
/// edition offers, sandbox first; the sandbox alone when none is configured (SPEC §2.2:
/// it is the embedded default).
pub async fn methods(state: &AppState) -> Result<Vec<Method>, AppError> {
    let portal = crate::api::admin::portal::connected(state).await?;
    let edition = portal
        .as_ref()
        .and_then(|p| paycard_core::gateways::Edition::parse(&p.edition));
    let mut methods: Vec<Method> = match edition {
        Some(edition) => crate::api::admin::gateways::configured(state)
            .await?
            .into_iter()
            .filter_map(|g| {
                let kind =
                    paycard_core::gateways::offered_kinds(edition).find(|k| k.kind == g.kind)?;
                Some(Method {
                    kind: kind.kind,
                    gateway_id: Some(g.id),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    methods.sort_by_key(|m| m.kind != paycard_core::gateways::SANDBOX);
    if methods.is_empty() {
        methods.push(Method {
            kind: paycard_core::gateways::SANDBOX,
            gateway_id: None,
        });
    }
    Ok(methods)
}

pub fn form_page(
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
        methods,
        form_targets,
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
    let kinds: Vec<&str> = methods.iter().map(|m| m.kind).collect();
    body += &page::form(token, card, locale, values, errors, alert, &kinds);
    respond_with_targets(
        status,
        page::document(locale, &card.title, "", &body),
        form_targets,
    )
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
    // Back from the gateway's page: ask it how the payment went, in case its
    // notification is late; until it is settled, the page waits.
    if query.returned.is_some() && redirect::session_open(&state, &card.id).await? {
        redirect::reconcile(&state, &card.id).await?;
        let Some((card, brand)) = card_for(&state, &token).await? else {
            return Ok(status_page(None, locale));
        };
        if card.status == CardStatus::Paid {
            return Ok(success_page(&card, &brand, locale));
        }
        if !card.status.allows(&CardAction::StartPayment) {
            return Ok(status_page(Some((&card, &brand)), locale));
        }
        if redirect::session_open(&state, &card.id).await? {
            return Ok(redirect::awaiting_page(&card, &brand, locale));
        }
    }
    let methods = methods(&state).await?;
    let targets = form_targets(&state, &methods);
    Ok(form_page(
        About {
            token: &token,
            card: &card,
            brand: &brand,
            locale,
            methods: &methods,
            form_targets: &targets,
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
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let seen = Provenance::of(headers);
    if let Some(same) = seen.origin_is_ours(public_url) {
        return same;
    }
    match seen.fetch_site {
        Some(site) => site == "same-origin" || site == "none",
        // `Origin: null` with no Fetch Metadata: an opaque origin we cannot place.
        None => seen.origin.is_none(),
    }
}

/// `POST /pay/{token}`: checks the form, charges through the gateway, shows the outcome.
///
/// The work runs in a task of its own: a visitor whose connection drops right after
/// pressing Pay still has their payment taken to its end, and the card is never left
/// `processing` by a request that went away.
pub async fn pay(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<LangQuery>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<PayForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    tokio::spawn(pay_to_the_end(state, token, query, client, headers, form))
        .await
        .map_err(|e| AppError::Internal(format!("payment task: {e}")))?
}

async fn pay_to_the_end(
    state: AppState,
    token: String,
    query: LangQuery,
    client: Client,
    headers: HeaderMap,
    form: PayForm,
) -> Result<Response, AppError> {
    let locale = locale(&query, &headers);
    let w = page::words(locale);
    let Some((card, brand)) = card_for(&state, &token).await? else {
        return Ok(status_page(None, locale));
    };
    let methods = methods(&state).await?;
    let targets = form_targets(&state, &methods);
    let about = About {
        token: &token,
        card: &card,
        brand: &brand,
        locale,
        methods: &methods,
        form_targets: &targets,
    };
    if !same_origin(&headers, &state.public_url) {
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
    let typed = CardForm {
        name: form.name,
        email: form.email,
        card_number: form.card_number,
        expiry: form.expiry,
        cvc: form.cvc,
    };
    // Card testers try numbers by the hundred: one address gets a few tries a minute.
    if let Err(AppError::TooManyRequests { retry_after_secs }) =
        state.limits.payments.check(&client.addr)
    {
        let kept = CardForm {
            name: typed.name,
            email: typed.email,
            ..CardForm::default()
        };
        let mut page = form_page(
            about,
            &kept,
            &[],
            Some(w.too_many),
            StatusCode::TOO_MANY_REQUESTS,
        );
        page.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        return Ok(page);
    }
    let chosen = match form.gateway.trim() {
        "" => about.methods.first(),
        kind => about.methods.iter().find(|m| m.kind == kind),
    };
    let Some(method) = chosen.cloned() else {
        let errors = [FieldError::new("gateway", Problem::NotFound)];
        return Ok(form_page(
            about,
            &typed,
            &errors,
            Some(w.gateway_unavailable),
            StatusCode::BAD_REQUEST,
        ));
    };
    if method.kind == paycard_core::gateways::STRIPE {
        return redirect::pay_with_stripe(&state, about, &typed, &method).await;
    }
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
    let gateway = Sandbox::new(state.db.clone(), state.config.sandbox_latency);
    // A session left open at another gateway (Stripe, in another tab) must not be
    // payable once this card is charged here: close it first. If it was paid, it wins:
    // taking the card below then meets a paid card and shows so.
    if redirect::close_sessions(&state, &card.id).await.is_err() {
        return Ok(form_page(
            about,
            &typed,
            &[],
            Some(w.gateway_down),
            StatusCode::OK,
        ));
    }

    // 1. Take the card (pending/failed -> processing; exactly one request can) and put
    //    the attempt on record in the same transaction: from here on, whatever happens
    //    to this request or this process, the charge can be asked about and settled.
    let attempt_id = new_id("att");
    let last4 = valid.last4();
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    if redirect::session_in_flight(&mut tx, &card.id).await? {
        // The visitor is being sent to another gateway in another tab this very moment.
        drop(tx);
        return Ok(form_page(
            about,
            &typed,
            &[],
            Some(w.busy),
            StatusCode::CONFLICT,
        ));
    }
    let taken = transition_in(&mut tx, None, &card.id, &CardAction::StartPayment).await;
    let (processing, seq) = match taken {
        Ok(taken) => taken,
        Err(AppError::Conflict { .. }) => {
            drop(tx);
            return status_page_now(&state, &token, locale).await;
        }
        Err(other) => return Err(other),
    };
    record_pending_attempt(
        &mut tx,
        &attempt_id,
        &processing,
        gateway.kind(),
        Some(last4),
    )
    .await?;
    tx.commit().await?;
    state.live.published(seq);

    // 2. Charge.
    let begun = gateway
        .begin(&Charge {
            card_id: &processing.id,
            amount_minor: processing.amount_minor,
            currency: processing.currency,
            recurrence: processing.recurrence,
            title: &processing.title,
            description: &processing.description,
            email: &valid.email,
            locale: locale.tag(),
            card: Some(&valid),
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
                // Still no answer: the attempt stays on record, pending, and the
                // background job settles it once the gateway answers.
                Err(err) => {
                    tracing::error!(error = %err, attempt = %attempt_id, "gateway unreachable; the payment will be settled later");
                    return status_page_now(&state, &token, locale).await;
                }
            }
        }
    };

    // 3. Record the result.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (result, seqs) = settle(
        &mut tx,
        &attempt_id,
        &processing.id,
        gateway.kind(),
        Some(last4),
        &outcome,
    )
    .await?;
    tx.commit().await?;
    for seq in seqs {
        state.live.published(seq);
    }
    tracing::info!(card = %result.id, attempt = %attempt_id, status = %result.status, gateway = gateway.kind(), "payment attempt");

    Ok(match result.status {
        CardStatus::Paid => success_page(&result, &brand, locale),
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
                    methods: &methods,
                    form_targets: &targets,
                },
                &kept,
                &[],
                None,
                StatusCode::OK,
            )
        }
    })
}

/// Puts an attempt on record before its gateway is called (status `pending`, not shown
/// by the attempts API), in the transaction that takes the card.
async fn record_pending_attempt(
    conn: &mut sqlx::SqliteConnection,
    attempt_id: &str,
    card: &Card,
    gateway: &str,
    last4: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at)
         VALUES (?, ?, 'pending', ?, ?, ?, ?, NULL, ?)",
    )
    .bind(attempt_id)
    .bind(&card.id)
    .bind(card.amount_minor)
    .bind(card.currency.code())
    .bind(gateway)
    .bind(last4)
    .bind(secrets::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records an attempt's outcome on its card, inside the caller's transaction: the card
/// is taken to `processing` first if it is not there yet (a gateway that reports later),
/// then to `paid` or `failed`; a paid recurring card gets its subscription. The attempt
/// row is written, or its `pending` row completed. Settling an attempt already settled
/// changes nothing (a replayed notification, a recovery racing the request).
///
/// At most one attempt per card succeeds (also a database constraint): a second success
/// (money taken twice at a gateway, which the gateways' rules prevent) is recorded as
/// failed with `duplicate_payment`, to be refunded, and logged as an error. So is an
/// outcome that arrives for a card already closed (cancelled, expired…), which is left
/// as it is. Returns the card and the events to publish.
pub async fn settle(
    conn: &mut sqlx::SqliteConnection,
    attempt_id: &str,
    card_id: &str,
    gateway: &str,
    last4: Option<&str>,
    outcome: &Outcome,
) -> Result<(Card, Vec<i64>), AppError> {
    let mut seqs = Vec::new();
    let (row, _) = load_card(conn, card_id).await?;
    let mut card = row.into_api()?;
    let recorded: Option<String> = sqlx::query_scalar("SELECT status FROM attempts WHERE id = ?")
        .bind(attempt_id)
        .fetch_optional(&mut *conn)
        .await?;
    if recorded.as_deref().is_some_and(|s| s != "pending") {
        return Ok((card, seqs));
    }
    if card.status.allows(&CardAction::StartPayment) {
        let (taken, seq) = transition_in(conn, None, card_id, &CardAction::StartPayment).await?;
        card = taken;
        seqs.push(seq);
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
    if status == "succeeded" {
        let paid_before: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM attempts WHERE card_id = ? AND status = 'succeeded' AND id <> ?)",
        )
        .bind(card_id)
        .bind(attempt_id)
        .fetch_one(&mut *conn)
        .await?;
        if paid_before {
            tracing::error!(card = %card.id, attempt = %attempt_id, gateway,
                "a second payment succeeded for a card already paid; refund it at the gateway");
            (status, reason) = ("failed", Some("duplicate_payment".to_owned()));
        }
    }
    sqlx::query(
        "INSERT INTO attempts (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason,
             card_last4 = COALESCE(attempts.card_last4, excluded.card_last4)",
    )
    .bind(attempt_id)
    .bind(card_id)
    .bind(status)
    .bind(card.amount_minor)
    .bind(card.currency.code())
    .bind(gateway)
    .bind(last4)
    .bind(&reason)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    if card.status != CardStatus::Processing {
        if status == "succeeded" {
            tracing::error!(card = %card.id, attempt = %attempt_id, status = %card.status,
                "a payment succeeded for a card that is closed; refund it at the gateway");
        }
        return Ok((card, seqs));
    }
    let (result, seq) = transition_in(conn, None, card_id, &action).await?;
    seqs.push(seq);
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
        .execute(&mut *conn)
        .await?;
    }
    Ok((result, seqs))
}
