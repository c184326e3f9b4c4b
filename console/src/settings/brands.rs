//! Settings > Brands ("SalesIQ settings", SPEC §2.4): each brand with its payments,
//! where a payment can be moved to another brand, the websites allowed to embed the
//! brand's widget, and its embed tag. New brands are added here too.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Brand, BrandPatch, NewBrand, PaymentPatch};
use paycard_core::recurrence::price_text;
use paycard_core::validation::{validate_brand, FieldError};
use paycard_core::{Locale, Money};

use super::{
    error_for, failure_text, form_save, submission, Clears, CopyButton, FormActions, FormField,
    Modal,
};
use crate::i18n::tr;
use paycard_client::admin;

fn origins_text(origins: &[String]) -> String {
    origins.join("\n")
}

/// One origin a line, as the API takes them: trimmed and lowercase (an admin may type
/// `https://Shop.Example`; browsers send it lowercase).
fn origins_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[component]
pub fn BrandSettings(locale: Locale) -> impl IntoView {
    let brands = LocalResource::new(admin::brands);
    let failure = RwSignal::new(None::<&'static str>);
    let notice = RwSignal::new(None::<String>);
    let add_open = RwSignal::new(false);
    let load = move || brands.refetch();

    // (payment id, its title, the brand it goes to, that brand's name)
    let moving = submission(
        |(payment_id, title, to, to_name): (String, String, String, String)| async move {
            let patch = PaymentPatch {
                brand_id: Some(to),
                ..Default::default()
            };
            admin::update_payment(&payment_id, &patch)
                .await
                .map(|_| (title, to_name))
        },
        move |answer| match answer {
            Ok((title, to_name)) => {
                failure.set(None);
                notice.set(Some(match locale {
                    Locale::En => format!("“{title}” moved to {to_name}."),
                    Locale::Es => format!("«{title}» se ha movido a {to_name}."),
                }));
                load();
            }
            Err(e) => failure.set(Some(failure_text(&e, locale))),
        },
    );
    let move_payment = move |payment_id: String, title: String, to: String, to_name: String| {
        moving.dispatch((payment_id, title, to, to_name));
    };

    view! {
        <h2 class="settings__heading">{tr(locale, "Brands", "Marcas")}</h2>
        <p class="settings__failure" role="alert">{move || failure.get()}</p>
        <p class="settings__notice" role="status">{move || notice.get()}</p>
        <button type="button" class="btn btn--primary" on:click=move |_| add_open.set(true)>{tr(locale, "Add brand", "Añadir marca")}</button>
        {move || match brands.get() {
            None => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="settings__failure" role="alert">{failure_text(&e, locale)}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="settings__empty">{tr(locale, "No brands yet.", "Aún no hay marcas.")}</p> }.into_any(),
            Some(Ok(list)) => {
                let all: Vec<(String, String)> = list.iter().map(|b| (b.id.clone(), b.name.clone())).collect();
                list.into_iter().map(|b| {
                    let all = all.clone();
                    view! { <BrandPanel locale=locale brand=b all=all on_move=move_payment
                        on_saved=Callback::new(move |name: String| {
                            failure.set(None);
                            notice.set(Some(match locale {
                                Locale::En => format!("{name}: allowed websites saved."),
                                Locale::Es => format!("{name}: sitios web permitidos guardados."),
                            }));
                            load();
                        })/> }
                }).collect_view().into_any()
            }
        }}
        <Modal open=add_open title=tr(locale, "Add a brand", "Añadir una marca").to_owned()>
            <BrandForm locale=locale
                on_done=Callback::new(move |b: Brand| {
                    add_open.set(false);
                    notice.set(Some(match locale {
                        Locale::En => format!("Brand {} added.", b.name),
                        Locale::Es => format!("Marca {} añadida.", b.name),
                    }));
                    load();
                })
                on_cancel=Callback::new(move |_| add_open.set(false))/>
        </Modal>
    }
}

/// One brand: its embed tag, its allowed websites, its payments (each movable).
#[component]
fn BrandPanel(
    locale: Locale,
    brand: Brand,
    all: Vec<(String, String)>,
    on_move: impl Fn(String, String, String, String) + Copy + Send + Sync + 'static,
    on_saved: Callback<String>,
) -> impl IntoView {
    let origins = RwSignal::new(origins_text(&brand.allowed_origins));
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let id = brand.id.clone();
    let name = brand.name.clone();
    let origins_id = format!("origins-{}", brand.id);
    let heading_id = format!("brand-{}", brand.id);
    let labelled_by = heading_id.clone();
    let saving = {
        let name = name.clone();
        submission(
            |(id, list): (String, Vec<String>)| async move {
                let patch = BrandPatch {
                    allowed_origins: Some(list),
                    ..Default::default()
                };
                admin::update_brand(&id, &patch).await
            },
            move |answer| match answer {
                Ok(_) => on_saved.run(name.clone()),
                Err(e) => errors.set(e.fields().to_vec()),
            },
        )
    };
    let busy = saving.pending();
    let save = {
        let id = id.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let list = origins_of(&origins.get_untracked());
            if let Err(found) = validate_brand(None, None, Some(&list)) {
                errors.set(found);
                return;
            }
            errors.set(Vec::new());
            saving.dispatch((id.clone(), list));
        }
    };
    // Any line's error, named by its line number.
    let origins_error = Signal::derive(move || {
        errors.with(|e| {
            e.iter()
                .find(|e| e.field.starts_with("allowed_origins"))
                .map(|e| {
                    let line = e
                        .field
                        .rsplit('.')
                        .next()
                        .and_then(|n| n.parse::<usize>().ok())
                        .map(|n| n + 1);
                    match (line, locale) {
                        (Some(n), Locale::En) => {
                            format!("Line {n}: {} Use https://shop.example", e.message(locale))
                        }
                        (Some(n), Locale::Es) => format!(
                            "Línea {n}: {} Use https://tienda.example",
                            e.message(locale)
                        ),
                        (None, _) => e.message(locale),
                    }
                })
        })
    });
    let embed = brand.embed_tag.clone();
    let embed_id = format!("embed-{}", brand.id);
    view! {
        <section class="panel brand" aria-labelledby=labelled_by>
            <h3 class="settings__subheading" id=heading_id>{brand.name.clone()}<span class="brand__id">{format!(" ({})", brand.id)}</span></h3>
            <p class="field__hint">{tr(locale, "Embed tag for the website:", "Etiqueta para insertar en el sitio web:")}</p>
            <div class="copyable">
                <code class="brand__embed" id=embed_id.clone()>{embed.clone()}</code>
                <CopyButton locale=locale text=embed source_id=embed_id
                    label=format!("{} {}", tr(locale, "Copy the embed tag of", "Copiar la etiqueta de inserción de"), brand.name)/>
            </div>
            <form class="form" on:submit=save novalidate>
                <FormField id=origins_id.clone() label=tr(locale, "Websites allowed to embed the chat (one per line)", "Sitios web que pueden insertar el chat (uno por línea)").into() error=origins_error clears=Clears { errors, prefix: "allowed_origins".into() }>
                    <textarea id=origins_id.clone() rows="2" aria-describedby=format!("{origins_id}-error") spellcheck="false"
                        placeholder="https://shop.example"
                        prop:value=origins on:input:target=move |ev| origins.set(ev.target().value())></textarea>
                </FormField>
                <div class="form__actions form__actions--start">
                    <button type="submit" class="btn" disabled=busy>{tr(locale, "Save websites", "Guardar sitios web")}</button>
                </div>
            </form>
            <h4 class="brand__payments-title">{tr(locale, "Payments", "Pagos")}</h4>
            {if brand.payments.is_empty() {
                view! { <p class="settings__empty">{tr(locale, "No payments assigned.", "No tiene pagos asignados.")}</p> }.into_any()
            } else {
                view! {
                    <ul class="rows" aria-label=format!("{} — {}", tr(locale, "Payments", "Pagos"), brand.name)>
                        {brand.payments.into_iter().map(|p| {
                            let target = RwSignal::new(String::new());
                            let select_id = format!("move-{}", p.id);
                            let price = price_text(&Money::new(p.amount_minor, p.currency), p.recurrence.as_ref(), locale);
                            let others: Vec<(String, String)> = all.iter().filter(|(bid, _)| *bid != id).cloned().collect();
                            let names = all.clone();
                            let (pid, title) = (p.id.clone(), p.title.clone());
                            view! {
                                <li class="row">
                                    <div class="row__text">
                                        <span class="row__title">{p.title.clone()}{(!p.active).then(|| format!(" · {}", tr(locale, "inactive", "inactivo")))}</span>
                                        <span class="row__meta">{price}</span>
                                    </div>
                                    <div class="row__actions">
                                        <label for=select_id.clone() class="visually-hidden">{format!("{} {}", tr(locale, "Move to brand:", "Mover a la marca:"), p.title)}</label>
                                        <select id=select_id prop:value=target on:change:target=move |ev| target.set(ev.target().value())>
                                            <option value="">{tr(locale, "Move to…", "Mover a…")}</option>
                                            {others.into_iter().map(|(bid, bname)| view! { <option value=bid>{bname}</option> }).collect_view()}
                                        </select>
                                        <button type="button" class="btn" disabled=move || target.get().is_empty()
                                            aria-label=format!("{} {}", tr(locale, "Move", "Mover"), title)
                                            on:click=move |_| {
                                                let to = target.get_untracked();
                                                let to_name = names.iter().find(|(b, _)| *b == to).map(|(_, n)| n.clone()).unwrap_or_default();
                                                on_move(pid.clone(), title.clone(), to, to_name);
                                            }>
                                            {tr(locale, "Move", "Mover")}
                                        </button>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn BrandForm(locale: Locale, on_done: Callback<Brand>, on_cancel: Callback<()>) -> impl IntoView {
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let origins = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let adding = form_save(
        |input: NewBrand| async move { admin::add_brand(&input).await },
        on_done,
        errors,
        failure,
        locale,
    );
    let busy = adding.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = NewBrand {
            id: id.get_untracked().trim().to_owned(),
            name: name.get_untracked(),
            allowed_origins: origins_of(&origins.get_untracked()),
        };
        if let Err(found) = validate_brand(
            Some(&input.id),
            Some(&input.name),
            Some(&input.allowed_origins),
        ) {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        adding.dispatch(input);
    };
    let err = move |field: &'static str| {
        Signal::derive(move || errors.with(|e| error_for(e, field, locale)))
    };
    let origins_error = Signal::derive(move || {
        errors.with(|e| {
            e.iter()
                .find(|e| e.field.starts_with("allowed_origins"))
                .map(|e| e.message(locale))
        })
    });
    view! {
        <form class="form" on:submit=submit novalidate>
            <FormField id="brand-name".into() label=tr(locale, "Name", "Nombre").into() error=err("name") clears=Clears { errors, prefix: "name".into() }>
                <input id="brand-name" type="text" aria-describedby="brand-name-error"
                    prop:value=name on:input:target=move |ev| name.set(ev.target().value())/>
            </FormField>
            <FormField id="brand-id".into() label=tr(locale, "Brand ID", "ID de la marca").into() error=err("id") clears=Clears { errors, prefix: "id".into() }
                hint=tr(locale, "Lowercase letters, digits and hyphens; it goes in the embed tag.", "Minúsculas, dígitos y guiones; va en la etiqueta de inserción.").to_owned()>
                <input id="brand-id" type="text" spellcheck="false" aria-describedby="brand-id-error"
                    prop:value=id on:input:target=move |ev| id.set(ev.target().value())/>
            </FormField>
            <FormField id="brand-origins".into() label=tr(locale, "Websites allowed to embed the chat (one per line)", "Sitios web que pueden insertar el chat (uno por línea)").into() error=origins_error clears=Clears { errors, prefix: "allowed_origins".into() }>
                <textarea id="brand-origins" rows="2" spellcheck="false" aria-describedby="brand-origins-error" placeholder="https://shop.example"
                    prop:value=origins on:input:target=move |ev| origins.set(ev.target().value())></textarea>
            </FormField>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormActions back_label=tr(locale, "Cancel", "Cancelar") submit_label=tr(locale, "Add brand", "Añadir marca") busy=busy on_back=on_cancel/>
        </form>
    }
}
