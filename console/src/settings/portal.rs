//! Settings > Payment portal (SPEC §2.1): with none connected, pick a known portal or
//! set one up (the business location fills in currency and time zone); once connected,
//! who connected it, and Disconnect.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Portal, PortalInput};
use paycard_core::gateways::Edition;
use paycard_core::money::countries;
use paycard_core::validation::{validate_portal, FieldError};
use paycard_core::{Currency, Locale};

use super::{error_for, failure_text, report, Clears, FormActions, FormField, Modal};
use crate::i18n::tr;
use paycard_client::admin;

fn country_name(code: &str) -> String {
    countries()
        .into_iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| name.to_owned())
        .unwrap_or_else(|| code.to_owned())
}

#[component]
pub fn PortalSettings(locale: Locale) -> impl IntoView {
    // None while loading; Some(None) when no portal is connected.
    let portal = RwSignal::new(None::<Option<Portal>>);
    let known = RwSignal::new(Vec::<Portal>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let setup_open = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let load = move || {
        leptos::task::spawn_local(async move {
            match admin::portal().await {
                Ok(p) => {
                    if p.is_none() {
                        known.set(admin::portals().await.unwrap_or_default());
                    }
                    portal.set(Some(p));
                }
                Err(e) => failure.set(Some(failure_text(&e, locale))),
            }
        });
    };
    load();

    let connect_known = move |p: Portal| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let input = PortalInput {
                name: p.name,
                country: p.country,
                currency: p.currency,
                time_zone: p.time_zone,
                edition: p.edition,
            };
            match admin::connect_portal(&input).await {
                Ok(p) => {
                    portal.set(Some(Some(p)));
                    failure.set(None);
                }
                Err(e) => failure.set(Some(failure_text(&e, locale))),
            }
            busy.set(false);
        });
    };
    let ask = super::use_confirm();
    let disconnect = move |_| {
        leptos::task::spawn_local(async move {
            let question = tr(
                locale,
                "Disconnect this portal? Visitors will pay through the sandbox until you connect one again.",
                "¿Desconectar este portal? Los visitantes pagarán con el sandbox hasta que conectes otro.",
            );
            if !ask.ask(question.to_owned(), tr(locale, "Disconnect", "Desconectar")).await {
                return;
            }
            busy.set(true);
            match admin::disconnect_portal().await {
                Ok(()) => {
                    portal.set(None);
                    load();
                }
                Err(e) => failure.set(Some(failure_text(&e, locale))),
            }
            busy.set(false);
        });
    };

    view! {
        <h2 class="settings__heading">{tr(locale, "Payment portal", "Portal de pagos")}</h2>
        <p class="settings__failure" role="alert">{move || failure.get()}</p>
        {move || match portal.get() {
            None => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
            Some(Some(p)) => {
                let edition = Edition::parse(&p.edition).map(|e| e.label(locale)).unwrap_or("");
                let by = p.connected_by.clone().map(|b| format!("{} ({})", b.name, b.email)).unwrap_or_default();
                view! {
                    <div class="panel">
                        <dl class="facts">
                            <dt>{tr(locale, "Portal", "Portal")}</dt><dd>{p.name.clone()}</dd>
                            <dt>{tr(locale, "Business location", "Ubicación del negocio")}</dt><dd>{country_name(&p.country)}</dd>
                            <dt>{tr(locale, "Currency", "Moneda")}</dt><dd>{p.currency.clone()}</dd>
                            <dt>{tr(locale, "Time zone", "Zona horaria")}</dt><dd>{p.time_zone.clone()}</dd>
                            <dt>{tr(locale, "Edition", "Edición")}</dt><dd>{edition}</dd>
                            <dt>{tr(locale, "Connected by", "Conectado por")}</dt><dd>{by}</dd>
                        </dl>
                        <button type="button" class="btn btn--danger" disabled=busy on:click=disconnect>
                            {tr(locale, "Disconnect", "Desconectar")}
                        </button>
                    </div>
                }.into_any()
            }
            Some(None) => view! {
                <div class="panel">
                    <p>{tr(locale,
                        "No payment portal is connected. Connect one to add gateways and set the default currency.",
                        "No hay ningún portal de pagos conectado. Conecta uno para añadir pasarelas y fijar la moneda por defecto.")}</p>
                    <Show when=move || !known.get().is_empty()>
                        <h3 class="settings__subheading">{tr(locale, "Your portals", "Tus portales")}</h3>
                        <ul class="rows" aria-label=tr(locale, "Your portals", "Tus portales")>
                            {move || known.get().into_iter().map(|p| {
                                let summary = format!("{} · {} · {}", country_name(&p.country), p.currency, p.time_zone);
                                let name = p.name.clone();
                                view! {
                                    <li class="row">
                                        <div class="row__text">
                                            <span class="row__title">{name.clone()}</span>
                                            <span class="row__meta">{summary}</span>
                                        </div>
                                        <button type="button" class="btn" disabled=busy
                                            aria-label=format!("{} {}", tr(locale, "Connect", "Conectar"), name)
                                            on:click=move |_| connect_known(p.clone())>
                                            {tr(locale, "Connect", "Conectar")}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </Show>
                    <button type="button" class="btn btn--primary" on:click=move |_| setup_open.set(true)>
                        {tr(locale, "Set up a portal", "Configurar un portal")}
                    </button>
                </div>
            }.into_any(),
        }}
        <Modal open=setup_open title=tr(locale, "Set up your payment portal", "Configura tu portal de pagos").to_owned()>
            <PortalForm locale=locale on_done=Callback::new(move |p: Portal| {
                portal.set(Some(Some(p)));
                failure.set(None);
                setup_open.set(false);
            }) on_cancel=Callback::new(move |_| setup_open.set(false))/>
        </Modal>
    }
}

/// The setup dialog's form: choosing the business location fills in its currency and
/// time zone, both still editable.
#[component]
fn PortalForm(locale: Locale, on_done: Callback<Portal>, on_cancel: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let currency = RwSignal::new(String::new());
    let time_zone = RwSignal::new(String::new());
    let zones = RwSignal::new(Vec::<String>::new());
    let edition = RwSignal::new("free".to_owned());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let filling = RwSignal::new(false);

    let choose_country = move |code: String| {
        country.set(code.clone());
        if code.is_empty() {
            return;
        }
        filling.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(d) = admin::portal_defaults(&code).await {
                if let Some(c) = d.currency {
                    currency.set(c);
                }
                if let Some(z) = d.time_zone {
                    time_zone.set(z);
                }
                zones.set(d.time_zones);
            }
            filling.set(false);
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = PortalInput {
            name: name.get_untracked(),
            country: country.get_untracked(),
            currency: currency.get_untracked(),
            time_zone: time_zone.get_untracked(),
            edition: edition.get_untracked(),
        };
        // The shared rules first; the time zone is the server's to check.
        if let Err(found) = validate_portal(&input, paycard_core::money::is_country, |_| true) {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match admin::connect_portal(&input).await {
                Ok(p) => on_done.run(p),
                Err(e) => report(&e, errors, failure, locale),
            }
            busy.set(false);
        });
    };
    let err = move |field: &'static str| {
        Signal::derive(move || errors.with(|e| error_for(e, field, locale)))
    };

    view! {
        <form class="form" on:submit=submit novalidate>
            <FormField id="portal-name".into() label=tr(locale, "Portal name", "Nombre del portal").into() error=err("name") clears=Clears { errors, prefix: "name".into() }>
                <input id="portal-name" type="text" autocomplete="organization" aria-describedby="portal-name-error"
                    aria-invalid=move || err("name").get().is_some().to_string()
                    prop:value=name on:input:target=move |ev| name.set(ev.target().value())/>
            </FormField>
            <FormField id="portal-country".into() label=tr(locale, "Business location", "Ubicación del negocio").into() error=err("country") clears=Clears { errors, prefix: "country".into() }>
                <select id="portal-country" aria-describedby="portal-country-error"
                    on:change:target=move |ev| choose_country(ev.target().value())>
                    <option value="" selected=move || country.get().is_empty()>{tr(locale, "Choose a country", "Elige un país")}</option>
                    {countries().into_iter().map(|(code, cname)| view! {
                        <option value=code selected=move || country.get() == code>{cname}</option>
                    }).collect_view()}
                </select>
            </FormField>
            <p class="form__status" role="status">{move || filling.get().then(|| tr(locale, "Filling in currency and time zone…", "Completando moneda y zona horaria…"))}</p>
            <FormField id="portal-currency".into() label=tr(locale, "Currency", "Moneda").into() error=err("currency") clears=Clears { errors, prefix: "currency".into() }>
                <select id="portal-currency" aria-describedby="portal-currency-error"
                    on:change:target=move |ev| currency.set(ev.target().value())>
                    <option value="" selected=move || currency.get().is_empty()>{tr(locale, "Choose a currency", "Elige una moneda")}</option>
                    {Currency::all().into_iter().map(|c| {
                        let code = c.code();
                        view! { <option value=code selected=move || currency.get() == code>{format!("{code} — {}", c.name())}</option> }
                    }).collect_view()}
                </select>
            </FormField>
            <FormField id="portal-zone".into() label=tr(locale, "Time zone", "Zona horaria").into() error=err("time_zone") clears=Clears { errors, prefix: "time_zone".into() }
                hint=tr(locale, "An IANA time zone, such as Europe/Madrid.", "Una zona horaria IANA, como Europe/Madrid.").to_owned()>
                <input id="portal-zone" type="text" list="portal-zones" aria-describedby="portal-zone-error"
                    prop:value=time_zone on:input:target=move |ev| time_zone.set(ev.target().value())/>
                <datalist id="portal-zones">
                    {move || zones.get().into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                </datalist>
            </FormField>
            <FormField id="portal-edition".into() label=tr(locale, "Edition", "Edición").into() error=err("edition") clears=Clears { errors, prefix: "edition".into() }
                hint=tr(locale, "The edition decides which gateways you can add.", "La edición decide qué pasarelas puedes añadir.").to_owned()>
                <select id="portal-edition" aria-describedby="portal-edition-error"
                    on:change:target=move |ev| edition.set(ev.target().value())>
                    {Edition::ALL.into_iter().map(|e| view! {
                        <option value=e.as_str() selected=move || edition.get() == e.as_str()>{e.label(locale)}</option>
                    }).collect_view()}
                </select>
            </FormField>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormActions back_label=tr(locale, "Cancel", "Cancelar") submit_label=tr(locale, "Connect portal", "Conectar portal") busy=busy on_back=on_cancel/>
        </form>
    }
}
