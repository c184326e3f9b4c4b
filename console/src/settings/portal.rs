//! Settings > Payment portal (SPEC §2.1): with none connected, pick a known portal or
//! set one up (the business location fills in currency and time zone); once connected,
//! who connected it, Edit (location, currency, time zone, edition) and Disconnect.
//! Countries are named in the admin's language by the browser (`Intl.DisplayNames`).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Portal, PortalInput};
use paycard_core::gateways::Edition;
use paycard_core::money::countries;
use paycard_core::validation::{validate_portal, FieldError};
use paycard_core::{Currency, Locale};

use super::{
    error_for, failure_text, form_save, submission, Clears, FormActions, FormField, Modal,
};
use crate::i18n::tr;
use paycard_client::{admin, ApiError};

/// The browser's names of regions in `locale` ("España"), when it has them.
fn region_names(locale: Locale) -> Option<js_sys::Intl::DisplayNames> {
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    if !js_sys::Reflect::has(&intl, &"DisplayNames".into()).unwrap_or(false) {
        return None;
    }
    let options = js_sys::Intl::DisplayNamesOptions::new();
    options.set_type(js_sys::Intl::DisplayNamesType::Region);
    options.set_fallback(js_sys::Intl::DisplayNamesFallback::None);
    let locales = js_sys::Array::of1(&locale.tag().into());
    Some(js_sys::Intl::DisplayNames::new(&locales, &options))
}

/// Every country as (code, name in the admin's language), in that language's order;
/// the shared list's English name where the browser has none.
fn countries_in(locale: Locale) -> Vec<(&'static str, String)> {
    let names = region_names(locale);
    let mut all: Vec<(&'static str, String)> = countries()
        .into_iter()
        .map(|(code, english)| {
            let name = names.as_ref().and_then(|n| n.of(code)).map(String::from);
            (code, name.unwrap_or_else(|| english.to_owned()))
        })
        .collect();
    let order = js_sys::Array::of1(&locale.tag().into());
    all.sort_by(|a, b| {
        js_sys::JsString::from(a.1.as_str())
            .locale_compare(&b.1, &order, &js_sys::Object::new())
            .cmp(&0)
    });
    all
}

/// What connecting `portal` again with its settings as they are sends.
fn input_of(portal: Portal) -> PortalInput {
    PortalInput {
        name: portal.name,
        country: portal.country,
        currency: portal.currency,
        time_zone: portal.time_zone,
        edition: portal.edition,
    }
}

fn country_name(code: &str, locale: Locale) -> String {
    region_names(locale)
        .and_then(|n| n.of(code))
        .map(String::from)
        .or_else(|| {
            countries()
                .into_iter()
                .find(|(c, _)| *c == code)
                .map(|(_, name)| name.to_owned())
        })
        .unwrap_or_else(|| code.to_owned())
}

#[component]
pub fn PortalSettings(locale: Locale) -> impl IntoView {
    let failure = RwSignal::new(None::<&'static str>);
    let setup_open = RwSignal::new(false);
    let edit_open = RwSignal::new(false);

    // The connected portal (`None` when none is), and when none is, the admin's others.
    let fetched = LocalResource::new(|| async {
        let portal = admin::portal().await?;
        let known = match portal {
            None => admin::portals().await.unwrap_or_default(),
            Some(_) => Vec::new(),
        };
        Ok::<_, ApiError>((portal, known))
    });
    // The server answers a connect or an edit with the portal as it now is: shown at once.
    let show = move |connected: Portal| fetched.set(Some(Ok((Some(connected), Vec::new()))));
    let load = move || fetched.refetch();
    // None while loading; Some(None) when no portal is connected.
    let portal = Signal::derive(move || fetched.get().and_then(Result::ok).map(|(p, _)| p));
    let known = Signal::derive(move || {
        fetched
            .get()
            .and_then(Result::ok)
            .map(|(_, known)| known)
            .unwrap_or_default()
    });

    let connecting = submission(
        |p: Portal| async move { admin::connect_portal(&input_of(p)).await },
        move |answer| match answer {
            Ok(connected) => {
                failure.set(None);
                show(connected);
            }
            Err(e) => failure.set(Some(failure_text(&e, locale))),
        },
    );
    let connect_known = move |p: Portal| {
        connecting.dispatch(p);
    };
    let ask = super::use_confirm();
    // Asks first; nothing happens when the admin thinks better of it.
    let disconnecting = Action::new_local(move |_: &()| async move {
        let question = tr(
            locale,
            "Disconnect this portal? Visitors will pay through the sandbox until you connect one again.",
            "¿Desconectar este portal? Los visitantes pagarán con el sandbox hasta que conectes otro.",
        );
        if !ask
            .ask(question.to_owned(), tr(locale, "Disconnect", "Desconectar"))
            .await
        {
            return;
        }
        match admin::disconnect_portal().await {
            Ok(()) => load(),
            Err(e) => failure.set(Some(failure_text(&e, locale))),
        }
    });
    let disconnect = move |_| {
        disconnecting.dispatch(());
    };
    let busy = Signal::derive(move || connecting.pending().get() || disconnecting.pending().get());

    view! {
        <h2 class="settings__heading">{tr(locale, "Payment portal", "Portal de pagos")}</h2>
        <p class="settings__failure" role="alert">{move || failure.get()
            .or_else(|| fetched.get().and_then(Result::err).map(|e| failure_text(&e, locale)))}</p>
        {move || match portal.get() {
            None => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
            Some(Some(p)) => {
                let edition = Edition::parse(&p.edition).map(|e| e.label(locale)).unwrap_or("");
                let by = p.connected_by.clone().map(|b| format!("{} ({})", b.name, b.email)).unwrap_or_default();
                view! {
                    <div class="panel">
                        <dl class="facts">
                            <dt>{tr(locale, "Portal", "Portal")}</dt><dd>{p.name.clone()}</dd>
                            <dt>{tr(locale, "Business location", "Ubicación del negocio")}</dt><dd>{country_name(&p.country, locale)}</dd>
                            <dt>{tr(locale, "Currency", "Moneda")}</dt><dd>{p.currency.clone()}</dd>
                            <dt>{tr(locale, "Time zone", "Zona horaria")}</dt><dd>{p.time_zone.clone()}</dd>
                            <dt>{tr(locale, "Edition", "Edición")}</dt><dd>{edition}</dd>
                            <dt>{tr(locale, "Connected by", "Conectado por")}</dt><dd>{by}</dd>
                        </dl>
                        <div class="row__actions">
                            <button type="button" class="btn" disabled=busy on:click=move |_| edit_open.set(true)>
                                {tr(locale, "Edit", "Editar")}
                            </button>
                            <button type="button" class="btn btn--danger" disabled=busy on:click=disconnect>
                                {tr(locale, "Disconnect", "Desconectar")}
                            </button>
                        </div>
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
                                let summary = format!("{} · {} · {}", country_name(&p.country, locale), p.currency, p.time_zone);
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
            <PortalForm locale=locale editing=None on_done=Callback::new(move |connected: Portal| {
                show(connected);
                failure.set(None);
                setup_open.set(false);
            }) on_cancel=Callback::new(move |_| setup_open.set(false))/>
        </Modal>
        <Modal open=edit_open title=tr(locale, "Edit the payment portal", "Editar el portal de pagos").to_owned()>
            // Built afresh each time it opens, from the portal as it is now.
            {move || edit_open.get().then(|| portal.get_untracked().flatten()).flatten().map(|current| view! {
                <PortalForm locale=locale editing=Some(current) on_done=Callback::new(move |saved: Portal| {
                    show(saved);
                    failure.set(None);
                    edit_open.set(false);
                }) on_cancel=Callback::new(move |_| edit_open.set(false))/>
            })}
        </Modal>
    }
}

/// The setup (and edit) dialog's form: choosing the business location fills in its
/// currency and time zone, both still editable. Editing keeps the name, which is how a
/// portal is known (its gateways stay with it).
#[component]
fn PortalForm(
    locale: Locale,
    editing: Option<Portal>,
    on_done: Callback<Portal>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let is_edit = editing.is_some();
    let current = editing.map(input_of).unwrap_or_else(|| PortalInput {
        name: String::new(),
        country: String::new(),
        currency: String::new(),
        time_zone: String::new(),
        edition: "free".into(),
    });
    let name = RwSignal::new(current.name);
    let country = RwSignal::new(current.country);
    let currency = RwSignal::new(current.currency);
    let time_zone = RwSignal::new(current.time_zone);
    let zones = RwSignal::new(Vec::<String>::new());
    let edition = RwSignal::new(current.edition);
    // A country's defaults: its time zones for the list and, when the country was just
    // chosen (`fill`), its currency and principal time zone.
    let defaults = Action::new_local(move |(code, fill): &(String, bool)| {
        let (code, fill) = (code.clone(), *fill);
        async move {
            if let Ok(d) = admin::portal_defaults(&code).await {
                if fill {
                    if let Some(c) = d.currency {
                        currency.set(c);
                    }
                    if let Some(z) = d.time_zone {
                        time_zone.set(z);
                    }
                }
                zones.set(d.time_zones);
            }
        }
    });
    if is_edit {
        // The time zones of the country, for the list; the values stay as they are.
        defaults.dispatch((country.get_untracked(), false));
    }
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let saving = form_save(
        |input: PortalInput| async move { admin::connect_portal(&input).await },
        on_done,
        errors,
        failure,
        locale,
    );
    let busy = saving.pending();
    // Only a country just chosen fills in anything (not the edit's list of zones).
    let filling = Signal::derive(move || {
        defaults.pending().get()
            && defaults
                .input()
                .with(|i| i.as_ref().is_some_and(|(_, fill)| *fill))
    });

    let choose_country = move |code: String| {
        country.set(code.clone());
        if code.is_empty() {
            return;
        }
        defaults.dispatch((code, true));
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
        saving.dispatch(input);
    };
    let err = move |field: &'static str| {
        Signal::derive(move || errors.with(|e| error_for(e, field, locale)))
    };

    view! {
        <form class="form" on:submit=submit novalidate>
            <FormField id="portal-name".into() label=tr(locale, "Portal name", "Nombre del portal").into() error=err("name") clears=Clears { errors, prefix: "name".into() }>
                <input id="portal-name" type="text" autocomplete="organization" aria-describedby="portal-name-error"
                    readonly=is_edit
                    aria-invalid=move || err("name").get().is_some().to_string()
                    prop:value=name on:input:target=move |ev| name.set(ev.target().value())/>
            </FormField>
            <FormField id="portal-country".into() label=tr(locale, "Business location", "Ubicación del negocio").into() error=err("country") clears=Clears { errors, prefix: "country".into() }>
                <select id="portal-country" aria-describedby="portal-country-error"
                    on:change:target=move |ev| choose_country(ev.target().value())>
                    <option value="" selected=move || country.get().is_empty()>{tr(locale, "Choose a country", "Elige un país")}</option>
                    {countries_in(locale).into_iter().map(|(code, cname)| view! {
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
            <FormActions back_label=tr(locale, "Cancel", "Cancelar")
                submit_label=if is_edit { tr(locale, "Save changes", "Guardar cambios") } else { tr(locale, "Connect portal", "Conectar portal") }
                busy=busy on_back=on_cancel/>
        </form>
    }
}
