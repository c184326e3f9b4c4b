//! The hosted checkout (`/pay/{checkout_token}`): the page, the payment, the outcome.
//!
//! This module only reads the form and answers with a page: what may be charged, and
//! how, is [`domain::charges`]' to say. Card numbers and CVCs live only in this
//! request's memory: the attempt keeps the last four digits; nothing is logged.

pub mod page;
pub mod webhooks;

use std::sync::LazyLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY,
    RETRY_AFTER, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use chrono::Utc;
use paycard_core::api::Card;
use paycard_core::card_form::{validate_card_form, CardForm};
use paycard_core::gateways::{PAYPAL, RAZORPAY, STRIPE};
use paycard_core::validation::{FieldError, Problem};
use paycard_core::{CardAction, CardStatus, Locale};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::charges::{self, Charged, Method, Sent};
use crate::domain::gateways::Gateway;
use crate::error::AppError;
use crate::origin::{Client, Provenance};
use crate::state::AppState;

/// The policy for every checkout answer: nothing but this page's own style and form.
/// `form_targets`: other origins the form may lead to (browsers apply `form-action` to
/// the redirect after a post too, and Pay with Stripe redirects to Stripe's page).
fn csp(form_targets: &str) -> String {
    static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(page::CSS.as_bytes()))
    });
    static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(page::FOLLOW_JS.as_bytes()))
    });
    let hash = STYLE_HASH.as_str();
    let script = SCRIPT_HASH.as_str();
    let targets = if form_targets.is_empty() {
        String::new()
    } else {
        format!(" {form_targets}")
    };
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; script-src 'sha256-{script}'; connect-src 'self'; \
         form-action 'self'{targets}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Where the offered gateways' pages are, for the page's `form-action` (browsers apply
/// it to the redirect after a post too): each gateway's own checkout origins, and the
/// origin of its API base when that is not the gateway's own (a stand-in).
fn form_targets(state: &AppState, methods: &[Method]) -> String {
    let mut targets: Vec<String> = Vec::new();
    for method in methods {
        let (pages, base, own_api): (&[&str], &str, &str) = match method.kind {
            STRIPE => (
                &["https://checkout.stripe.com"],
                &state.config.stripe_api_base,
                "https://api.stripe.com",
            ),
            PAYPAL => (
                &["https://www.paypal.com", "https://www.sandbox.paypal.com"],
                &state.config.paypal_api_base,
                "https://api-m.paypal.com",
            ),
            RAZORPAY => (
                &[
                    "https://rzp.io",
                    // Payment Links' short addresses lead to razorpay.com's own pages.
                    "https://razorpay.com",
                    "https://pages.razorpay.com",
                    "https://api.razorpay.com",
                ],
                &state.config.razorpay_api_base,
                "https://api.razorpay.com",
            ),
            _ => continue,
        };
        targets.extend(pages.iter().map(|p| (*p).to_owned()));
        if let Ok(base) = url::Url::parse(base) {
            let origin = base.origin().ascii_serialization();
            if origin != own_api && origin != "null" && !origin.ends_with(".paypal.com") {
                targets.push(origin);
            }
        }
    }
    targets.dedup();
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

/// The status page of the card behind `token` as it is now (another request changed it).
async fn status_page_now(
    state: &AppState,
    token: &str,
    locale: Locale,
) -> Result<Response, AppError> {
    let now = charges::card_of_link(state, token).await?;
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

/// Back from the gateway's page, before its word: the page waits and refreshes.
fn awaiting_page(card: &Card, brand: &str, locale: Locale) -> Response {
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
        CardStatus::Refunded => (w.refunded, "muted", "", false),
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
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let locale = locale(&query, &headers);
    let Some((card, brand)) = charges::card_of_link(&state, &token).await? else {
        return Ok(status_page(None, locale));
    };
    // Back from the gateway's page after its notification already settled the card:
    // this visitor just paid, so thank them rather than say it was paid before.
    if query.returned.is_some() && card.status == CardStatus::Paid {
        return Ok(success_page(&card, &brand, locale));
    }
    if !card.status.allows(&CardAction::StartPayment) {
        return Ok(status_page(Some((&card, &brand)), locale));
    }
    // Back from the gateway's page: ask it how the payment went, in case its
    // notification is late; until it is settled, the page waits.
    let back_here = match query.returned.as_deref() {
        Some(kind) => charges::session_open_at(&state, &card.id, Some(kind)).await?,
        None => false,
    };
    // Back from a gateway whose session no longer counts (the visitor chose another way
    // in another tab, which ended it): nothing is taken there; say so.
    let alert = (query.returned.is_some()
        && !back_here
        && card.status == CardStatus::Pending
        && charges::session_open(&state, &card.id).await?)
        .then(|| page::words(locale).returned_elsewhere);
    let (card, brand) = if back_here {
        // In a task of its own: a capture (PayPal) runs to its end even if the
        // visitor's connection drops meanwhile.
        let (task_state, card_id) = (state.clone(), card.id.clone());
        tokio::spawn(async move {
            charges::reconcile(&task_state, &card_id, raw_query.as_deref()).await
        })
        .await
        .map_err(|e| AppError::Internal(format!("reconcile task: {e}")))??;
        let Some((card, brand)) = charges::card_of_link(&state, &token).await? else {
            return Ok(status_page(None, locale));
        };
        if card.status == CardStatus::Paid {
            return Ok(success_page(&card, &brand, locale));
        }
        if !card.status.allows(&CardAction::StartPayment) {
            return Ok(status_page(Some((&card, &brand)), locale));
        }
        if charges::session_open(&state, &card.id).await? {
            return Ok(awaiting_page(&card, &brand, locale));
        }
        // Settled as failed (the form says why), or ended unpaid: the form again.
        (card, brand)
    } else {
        (card, brand)
    };
    let offer = charges::methods(&state, &card).await?;
    if offer.methods.is_empty() {
        return Ok(no_gateway_page(&card, &brand, &offer, locale));
    }
    let targets = form_targets(&state, &offer.methods);
    Ok(form_page(
        About {
            token: &token,
            card: &card,
            brand: &brand,
            locale,
            methods: &offer.methods,
            form_targets: &targets,
        },
        &CardForm::default(),
        &[],
        alert,
        StatusCode::OK,
    ))
}

/// No configured gateway can take this card (its currency, amount or recurrence): the
/// page says so, and why each cannot, instead of a form that would fail.
fn no_gateway_page(card: &Card, brand: &str, offer: &charges::Offer, locale: Locale) -> Response {
    let w = page::words(locale);
    let reasons: Vec<String> = offer
        .refused
        .iter()
        .map(|(name, why)| why.message(name, card.currency.code(), locale))
        .collect();
    let body = page::summary(card, brand, locale)
        + &page::outcome(w.no_gateway, "muted", &reasons.join(" "), locale, true);
    respond(
        StatusCode::CONFLICT,
        page::document(locale, w.no_gateway, "", &body),
    )
}

/// `GET /pay/{token}/status`: whether the card behind the link can still be paid, for
/// the open checkout page to follow it (see `page::FOLLOW_JS`). An unknown link is a
/// card that cannot be paid.
pub async fn status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let card = charges::card_of_link(&state, &token)
        .await?
        .map(|(card, _)| card);
    let body = serde_json::json!({
        "status": card.as_ref().map(|c| c.status.as_str()),
        "payable": card.is_some_and(|c| c.status.allows(&CardAction::StartPayment)),
    });
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
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

/// `POST /pay/{token}`: checks the form, charges through the chosen gateway (or sends
/// the visitor to its page), shows the outcome.
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
    let Some((card, brand)) = charges::card_of_link(&state, &token).await? else {
        return Ok(status_page(None, locale));
    };
    if !card.status.allows(&CardAction::StartPayment) {
        return Ok(status_page(Some((&card, &brand)), locale));
    }
    let offer = charges::methods(&state, &card).await?;
    if offer.methods.is_empty() {
        return Ok(no_gateway_page(&card, &brand, &offer, locale));
    }
    let targets = form_targets(&state, &offer.methods);
    let about = About {
        token: &token,
        card: &card,
        brand: &brand,
        locale,
        methods: &offer.methods,
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
    // What the visitor keeps on a page shown again: never the card's details.
    let kept = CardForm {
        name: typed.name.clone(),
        email: typed.email.clone(),
        ..CardForm::default()
    };
    // Card testers try numbers by the hundred: one address gets a few tries a minute.
    if let Err(AppError::TooManyRequests { retry_after_secs }) =
        state.limits.payments.check(&client.addr)
    {
        let mut page = form_page(
            about,
            &kept,
            &[],
            Some(w.too_many),
            StatusCode::TOO_MANY_REQUESTS,
        );
        page.headers_mut()
            .insert(RETRY_AFTER, retry_after_secs.into());
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
    let gateway = match Gateway::of(&state, method.kind, method.gateway_id.as_deref()).await {
        Ok(gateway) => gateway,
        // Removed since the page was shown, or its credentials no longer open.
        Err(AppError::NotFound(_)) => {
            return Ok(form_page(
                about,
                &typed,
                &[],
                Some(w.gateway_unavailable),
                StatusCode::OK,
            ))
        }
        // Its credentials cannot be opened: nothing can be charged there now.
        Err(AppError::Internal(why)) => {
            tracing::warn!(kind = method.kind, %why, "a gateway on offer cannot be used");
            return Ok(form_page(
                about,
                &typed,
                &[],
                Some(w.gateway_down),
                StatusCode::OK,
            ));
        }
        Err(other) => return Err(other),
    };
    let errors = match validate_card_form(&typed, Utc::now().date_naive()) {
        Ok(_) => Vec::new(),
        // On a gateway's own page the card is typed there: only the account fields
        // are this page's.
        Err(errors) if gateway.redirects() => errors
            .into_iter()
            .filter(|e| e.field == "name" || e.field == "email")
            .collect(),
        Err(errors) => errors,
    };
    if !errors.is_empty() {
        return Ok(form_page(
            about,
            &typed,
            &errors,
            None,
            StatusCode::BAD_REQUEST,
        ));
    }

    if gateway.redirects() {
        let gateway_id = method.gateway_id.as_deref().unwrap_or_default();
        let back = format!("{}/pay/{}?lang={}", state.public_url, token, locale.tag());
        let sent = charges::send_to_gateway(
            &state,
            &gateway,
            gateway_id,
            &card.id,
            typed.name.trim(),
            typed.email.trim(),
            locale.tag(),
            &back,
        )
        .await?;
        return match sent {
            Sent::To(url) => Ok(see_other(&url)),
            Sent::Awaiting => Ok(awaiting_page(&card, &brand, locale)),
            Sent::NotPayable => status_page_now(&state, &token, locale).await,
            Sent::GatewayGone => Ok(form_page(
                about,
                &typed,
                &[],
                Some(w.gateway_unavailable),
                StatusCode::OK,
            )),
            Sent::GatewayDown => Ok(form_page(
                about,
                &typed,
                &[],
                Some(w.gateway_down),
                StatusCode::OK,
            )),
        };
    }

    // Validated above; the card's details are this page's to take.
    let valid = validate_card_form(&typed, Utc::now().date_naive())
        .map_err(|_| AppError::Internal("a valid form no longer validates".into()))?;
    match charges::charge(&state, &gateway, &card.id, &valid, locale.tag()).await? {
        Charged::Settled(result) if result.status == CardStatus::Paid => {
            Ok(success_page(&result, &brand, locale))
        }
        Charged::Settled(result) => Ok(form_page(
            About {
                card: &result,
                ..about
            },
            &kept,
            &[],
            None,
            StatusCode::OK,
        )),
        Charged::Busy => Ok(form_page(
            about,
            &typed,
            &[],
            Some(w.busy),
            StatusCode::CONFLICT,
        )),
        Charged::GatewayDown => Ok(form_page(
            about,
            &typed,
            &[],
            Some(w.gateway_down),
            StatusCode::OK,
        )),
        Charged::Taken | Charged::Unsettled => status_page_now(&state, &token, locale).await,
    }
}
