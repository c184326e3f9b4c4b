//! Settings > API keys (SPEC §8.5): keys for bots and the merchant's own systems. A key
//! acts as an operator of the brands chosen here (share cards, write, follow the live
//! stream), never as an admin. It is shown once, when made; the list shows when each was
//! last used, and deleting one stops it at once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{ApiKey, Brand, CreatedApiKey, NewApiKey};
use paycard_core::validation::{validate_api_key, FieldError};
use paycard_core::Locale;

use super::{error_for, failure_text, report, Clears, FormField};
use crate::i18n::tr;
use paycard_client::{admin, ApiError};

/// `2026-11-27T16:51:18.123Z` as `2026-11-27 16:51 UTC`.
pub fn when(timestamp: &str) -> String {
    match timestamp.get(..16) {
        Some(minute) => format!("{} UTC", minute.replacen('T', " ", 1)),
        None => timestamp.to_owned(),
    }
}

#[component]
pub fn ApiKeySettings(locale: Locale) -> impl IntoView {
    let keys = LocalResource::new(admin::api_keys);
    let brands = LocalResource::new(admin::brands);
    let failure = RwSignal::new(None::<&'static str>);
    let notice = RwSignal::new(None::<String>);
    // The key just made: shown until the admin makes another or leaves the page.
    let fresh = RwSignal::new(None::<CreatedApiKey>);

    let delete = Action::new_local(move |key: &ApiKey| {
        let key = key.clone();
        async move {
            admin::delete_api_key(&key.id).await?;
            Ok::<String, ApiError>(key.name)
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(name)) => {
            failure.set(None);
            notice.set(Some(match locale {
                Locale::En => format!("Key “{name}” deleted: it no longer works."),
                Locale::Es => format!("Clave «{name}» eliminada: ya no funciona."),
            }));
            keys.refetch();
        }
        Some(Err(e)) => failure.set(Some(failure_text(&e, locale))),
        None => {}
    });

    view! {
        <h2 class="settings__heading">{tr(locale, "API keys", "Claves de API")}</h2>
        <p class="settings__intro">{tr(locale,
            "A key lets a bot or another system act as an operator of its brands: write in conversations, share payment cards, follow the live updates. It cannot change settings.",
            "Una clave permite a un bot u otro sistema actuar como operador de sus marcas: escribir en conversaciones, compartir tarjetas de pago y seguir las novedades en directo. No puede cambiar los ajustes.")}</p>
        <p class="settings__failure" role="alert">{move || failure.get()}</p>
        <p class="settings__notice" role="status">{move || notice.get()}</p>
        {move || fresh.get().map(|key| view! {
            <div class="panel api-key__fresh" role="status">
                <p><strong>{tr(locale, "Copy this key now: it will not be shown again.", "Copia esta clave ahora: no se volverá a mostrar.")}</strong></p>
                <label for="api-key-value">{match locale {
                    Locale::En => format!("Key “{}”", key.name),
                    Locale::Es => format!("Clave «{}»", key.name),
                }}</label>
                <input id="api-key-value" class="api-key__value" type="text" readonly=true prop:value=key.key
                    on:focus=move |ev| {
                        use leptos::wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    }/>
            </div>
        })}
        <Transition fallback=move || view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }>
            {move || brands.get().map(|result| match result {
                Ok(list) => view! {
                    <KeyForm locale=locale brands=list on_made=Callback::new(move |key: CreatedApiKey| {
                        failure.set(None);
                        notice.set(None);
                        fresh.set(Some(key));
                        keys.refetch();
                    })/>
                }.into_any(),
                Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
            })}
            {move || keys.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! {
                    <p class="settings__empty">{tr(locale, "No API keys yet.", "Aún no hay claves de API.")}</p>
                }.into_any(),
                Ok(list) => view! { <KeyTable locale=locale keys=list delete=delete/> }.into_any(),
                Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// The keys, each with a Delete button that asks first.
#[component]
fn KeyTable(
    locale: Locale,
    keys: Vec<ApiKey>,
    delete: Action<ApiKey, Result<String, ApiError>>,
) -> impl IntoView {
    let ask = super::use_confirm();
    view! {
        <table class="table api-keys">
            <caption class="visually-hidden">{tr(locale, "API keys", "Claves de API")}</caption>
            <thead>
                <tr>
                    <th scope="col">{tr(locale, "Name", "Nombre")}</th>
                    <th scope="col">{tr(locale, "Brands", "Marcas")}</th>
                    <th scope="col">{tr(locale, "Created", "Creada")}</th>
                    <th scope="col">{tr(locale, "Last used", "Último uso")}</th>
                    <th scope="col"><span class="visually-hidden">{tr(locale, "Actions", "Acciones")}</span></th>
                </tr>
            </thead>
            <tbody>
                {keys.into_iter().map(|key| {
                    let label = match locale {
                        Locale::En => format!("Delete key {}", key.name),
                        Locale::Es => format!("Eliminar la clave {}", key.name),
                    };
                    let question = match locale {
                        Locale::En => format!("Delete the key “{}”? Whatever uses it stops working at once.", key.name),
                        Locale::Es => format!("¿Eliminar la clave «{}»? Lo que la use dejará de funcionar al instante.", key.name),
                    };
                    let last_used = key.last_used_at.as_deref().map(when)
                        .unwrap_or_else(|| tr(locale, "Never", "Nunca").to_owned());
                    let row = key.clone();
                    view! {
                        <tr>
                            <th scope="row">{key.name.clone()}</th>
                            <td>{key.brand_ids.join(", ")}</td>
                            <td>{when(&key.created_at)}</td>
                            <td>{last_used}</td>
                            <td>
                                <button type="button" class="btn btn--small" aria-label=label
                                    disabled=move || delete.pending().get()
                                    on:click=move |_| {
                                        let (question, row) = (question.clone(), row.clone());
                                        leptos::task::spawn_local(async move {
                                            if ask.ask(question, tr(locale, "Delete", "Eliminar")).await { delete.dispatch(row); }
                                        });
                                    }>
                                    {tr(locale, "Delete", "Eliminar")}
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Name and brands of a new key, checked as the admin types with the server's rules.
#[component]
fn KeyForm(locale: Locale, brands: Vec<Brand>, on_made: Callback<CreatedApiKey>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let create = Action::new_local(|input: &NewApiKey| {
        let input = input.clone();
        async move { admin::create_api_key(&input).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(key)) => {
            name.set(String::new());
            chosen.set(Vec::new());
            errors.set(Vec::new());
            failure.set(None);
            on_made.run(key);
        }
        Some(Err(e)) => report(&e, errors, failure, locale),
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = NewApiKey {
            name: name.get_untracked(),
            brand_ids: chosen.get_untracked(),
        };
        if let Err(found) = validate_api_key(&input.name, &input.brand_ids) {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        create.dispatch(input);
    };
    let name_error = Signal::derive(move || errors.with(|e| error_for(e, "name", locale)));
    let brands_error = Signal::derive(move || errors.with(|e| error_for(e, "brand_ids", locale)));
    view! {
        <form class="panel form api-key__form" on:submit=submit novalidate=true
            aria-label=tr(locale, "New API key", "Nueva clave de API")>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormField id="api-key-name".into() label=tr(locale, "Name", "Nombre").into() error=name_error
                hint=tr(locale, "Shown as the author of what the key writes, such as “Sales bot”.", "Aparece como autor de lo que escriba la clave, por ejemplo «Bot de ventas».").to_owned()
                clears=Clears { errors, prefix: "name".into() }>
                <input id="api-key-name" type="text" maxlength="80" aria-describedby="api-key-name-error"
                    prop:value=move || name.get() on:input:target=move |ev| name.set(ev.target().value())/>
            </FormField>
            <fieldset class="field" class:field--invalid=move || brands_error.get().is_some()
                aria-describedby="api-key-brands-error">
                <legend>{tr(locale, "Brands", "Marcas")}</legend>
                {brands.into_iter().map(|brand| {
                    let id = brand.id.clone();
                    let checked = {
                        let id = id.clone();
                        move || chosen.with(|c| c.contains(&id))
                    };
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=checked on:change:target=move |ev| {
                                let on = ev.target().checked();
                                chosen.update(|c| {
                                    c.retain(|b| b != &id);
                                    if on { c.push(id.clone()); }
                                });
                                errors.update(|e| e.retain(|e| !e.field.starts_with("brand_ids")));
                            }/>
                            {brand.name.clone()}
                        </label>
                    }
                }).collect_view()}
                <p class="field__error" id="api-key-brands-error">{move || brands_error.get()}</p>
            </fieldset>
            <div class="form__actions">
                <button type="submit" class="btn btn--primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() {
                        tr(locale, "Creating…", "Creando…")
                    } else {
                        tr(locale, "Create key", "Crear clave")
                    }}
                </button>
            </div>
        </form>
    }
}
