//! The context panel of a conversation (issue 15): who the visitor is — name and email
//! (from their first checkout, editable here), language, the page the chat started on,
//! their local time — and every card they were asked to pay, with its attempts (gateway,
//! last four digits, reason, time) and refunds.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_client::api::Api;
use paycard_client::time::{clock, now_in};
use paycard_core::api::{VisitorCard, VisitorPatch, VisitorProfile};
use paycard_core::status::failure_reason_text;
use paycard_core::validation::{validate_email, validate_text};
use paycard_core::{Locale, Money};

use crate::i18n::tr;

#[component]
pub fn VisitorPanel(
    locale: Locale,
    conversation_id: String,
    /// Changes whenever the conversation does (a message, a card): the panel reloads.
    #[prop(into)]
    changed: Signal<usize>,
) -> impl IntoView {
    let api = StoredValue::new_local(Api::new(""));
    let id = StoredValue::new(conversation_id);
    let profile = LocalResource::new(move || {
        changed.track();
        let (api, id) = (api.get_value(), id.get_value());
        async move { api.visitor(&id).await }
    });
    // The panel's own copy: an edit shows at once, without waiting for a reload.
    let shown = RwSignal::new(None::<VisitorProfile>);
    Effect::new(move |_| {
        if let Some(Ok(p)) = profile.get() {
            shown.set(Some(p));
        }
    });
    // The title above names the visitor; the summary adds how to reach them.
    let summary = move || {
        let label = tr(locale, "Visitor details", "Datos del visitante");
        shown.with(|p| match p.as_ref().and_then(|p| p.email.as_ref()) {
            Some(email) => format!("{label} · {email}"),
            None => label.to_owned(),
        })
    };
    view! {
        <details class="visitor">
            <summary class="visitor__summary">{summary}</summary>
            {move || match (shown.get(), profile.get()) {
                (Some(p), _) => view! { <Details locale=locale profile=p shown=shown api=api/> }.into_any(),
                (None, Some(Err(_))) => view! { <p class="settings__failure">{tr(locale, "The visitor's details could not be loaded.", "No se pudieron cargar los datos del visitante.")}</p> }.into_any(),
                (None, _) => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
            }}
        </details>
    }
}

#[component]
fn Details(
    locale: Locale,
    profile: VisitorProfile,
    shown: RwSignal<Option<VisitorProfile>>,
    api: StoredValue<Api, LocalStorage>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let language = profile.locale.as_deref().map(|tag| match (tag, locale) {
        ("es", Locale::En) => "Spanish",
        ("es", Locale::Es) => "español",
        (_, Locale::En) => "English",
        (_, Locale::Es) => "inglés",
    });
    let local_time = profile
        .time_zone
        .as_deref()
        .map(|tz| format!("{} ({tz})", now_in(tz, locale)));
    let cards = profile.cards.clone();
    let conversation_id = profile.conversation_id.clone();
    view! {
        <div class="visitor__body">
            {move || if editing.get() {
                view! { <EditForm locale=locale conversation_id=conversation_id.clone() shown=shown editing=editing api=api/> }.into_any()
            } else {
                view! {
                    <button type="button" class="btn btn--small" on:click=move |_| editing.set(true)>
                        {tr(locale, "Edit name and email", "Editar nombre y correo")}
                    </button>
                }.into_any()
            }}
            <dl class="visitor__facts">
                <dt>{tr(locale, "Name", "Nombre")}</dt><dd>{paycard_core::api::visitor_name_in(&profile.name, locale).into_owned()}</dd>
                <dt>{tr(locale, "Email", "Correo")}</dt>
                <dd>{profile.email.clone().unwrap_or_else(|| tr(locale, "Not given yet", "Aún no lo ha dado").to_owned())}</dd>
                {language.map(|l| view! { <dt>{tr(locale, "Language", "Idioma")}</dt><dd>{l}</dd> })}
                {local_time.map(|t| view! { <dt>{tr(locale, "Local time", "Hora local")}</dt><dd>{t}</dd> })}
                {profile.page.clone().map(|page| {
                    let href = page.clone();
                    view! {
                        <dt>{tr(locale, "Started on", "Empezó en")}</dt>
                        <dd><a href=href target="_blank" rel="noopener noreferrer">{page}</a></dd>
                    }
                })}
            </dl>
            <h3 class="visitor__heading">{tr(locale, "Payments", "Pagos")}</h3>
            {if cards.is_empty() {
                view! { <p class="settings__empty">{tr(locale, "No payment requests yet.", "Aún no hay solicitudes de pago.")}</p> }.into_any()
            } else {
                view! {
                    <ul class="visitor__cards">
                        {cards.into_iter().map(|c| view! { <CardHistory locale=locale entry=c/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn CardHistory(locale: Locale, entry: VisitorCard) -> impl IntoView {
    let card = entry.card;
    let amount = Money::new(card.amount_minor, card.currency).format(locale);
    let status = card.status_line(locale);
    let attempts = entry
        .attempts
        .into_iter()
        .map(|a| {
            let outcome = match (a.status.as_str(), locale) {
                ("succeeded", Locale::En) => "Paid".to_owned(),
                ("succeeded", Locale::Es) => "Pagado".to_owned(),
                ("pending", Locale::En) => "In progress".to_owned(),
                ("pending", Locale::Es) => "En curso".to_owned(),
                (_, _) => {
                    let reason = failure_reason_text(
                        a.failure_reason.as_deref().unwrap_or("unknown"),
                        locale,
                    );
                    match locale {
                        Locale::En => format!("Failed: {reason}"),
                        Locale::Es => format!("Falló: {reason}"),
                    }
                }
            };
            let card_digits = a
                .card_last4
                .map(|d| format!(" ···· {d}"))
                .unwrap_or_default();
            view! {
                <li>
                    <time datetime=a.created_at.clone()>{clock(&a.created_at, locale)}</time>
                    {format!(" · {}{card_digits} · {outcome}", a.gateway)}
                </li>
            }
        })
        .collect_view();
    let refunds = entry.refunds.into_iter().map(|r| {
        let given = Money::new(r.amount_minor, r.currency).format(locale);
        let what = match locale {
            Locale::En => format!(" · refund {given} ({})", r.status.as_str()),
            Locale::Es => format!(" · reembolso {given} ({})", r.status.as_str()),
        };
        view! { <li><time datetime=r.created_at.clone()>{clock(&r.created_at, locale)}</time>{what}</li> }
    }).collect_view();
    view! {
        <li class="visitor__card" data-card-status=card.status.as_str()>
            <span class="table__title">{card.title.clone()}" · "{amount}</span>
            <span class="table__meta">{status}" · "<time datetime=card.created_at.clone()>{clock(&card.created_at, locale)}</time></span>
            <ul class="visitor__attempts">{attempts}{refunds}</ul>
        </li>
    }
}

#[component]
fn EditForm(
    locale: Locale,
    conversation_id: String,
    shown: RwSignal<Option<VisitorProfile>>,
    editing: RwSignal<bool>,
    api: StoredValue<Api, LocalStorage>,
) -> impl IntoView {
    let current = shown.get_untracked();
    let name = RwSignal::new(
        current
            .as_ref()
            .map(|p| paycard_core::api::visitor_name_in(&p.name, locale).into_owned())
            .unwrap_or_default(),
    );
    let email = RwSignal::new(current.and_then(|p| p.email).unwrap_or_default());
    let errors = RwSignal::new(Vec::<paycard_core::validation::FieldError>::new());
    let failed = RwSignal::new(false);
    let id = StoredValue::new(conversation_id);
    // The shared rules first: the server would say the same.
    let save = Action::new_local(move |patch: &VisitorPatch| {
        let (api, id, patch) = (api.get_value(), id.get_value(), patch.clone());
        async move { api.update_visitor(&id, &patch).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(profile)) => {
            shown.set(Some(profile));
            editing.set(false);
        }
        Some(Err(_)) => failed.set(true),
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (n, e) = (name.get_untracked(), email.get_untracked());
        let mut found = Vec::new();
        let n = validate_text("name", &n, paycard_core::api::VISITOR_NAME_MAX_CHARS, true)
            .map_err(|e| found.push(e))
            .ok();
        let e = if e.trim().is_empty() {
            None
        } else {
            validate_email("email", &e).map_err(|e| found.push(e)).ok()
        };
        errors.set(found);
        failed.set(false);
        if errors.with_untracked(Vec::is_empty) {
            save.dispatch(VisitorPatch { name: n, email: e });
        }
    };
    let error_for = move |field: &'static str| {
        move || {
            errors.with(|list| {
                list.iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message(locale))
            })
        }
    };
    view! {
        <form class="visitor__form" on:submit=submit novalidate>
            <div class="field" class:field--invalid=move || error_for("name")().is_some()>
                <label for="visitor-name">{tr(locale, "Name", "Nombre")}</label>
                <input id="visitor-name" type="text" aria-describedby="visitor-name-error" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="field__error" id="visitor-name-error">{error_for("name")}</p>
            </div>
            <div class="field" class:field--invalid=move || error_for("email")().is_some()>
                <label for="visitor-email">{tr(locale, "Email", "Correo")}</label>
                <input id="visitor-email" type="email" aria-describedby="visitor-email-error" prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))/>
                <p class="field__error" id="visitor-email-error">{error_for("email")}</p>
            </div>
            <p class="settings__failure" role="alert">{move || failed.get().then(|| tr(locale, "Not saved. Please try again.", "No se guardó. Inténtalo de nuevo."))}</p>
            <div class="form__actions">
                <button type="button" class="btn" on:click=move |_| editing.set(false)>{tr(locale, "Back", "Volver")}</button>
                <button type="submit" class="btn btn--primary" disabled=move || save.pending().get()>{tr(locale, "Save", "Guardar")}</button>
            </div>
        </form>
    }
}
