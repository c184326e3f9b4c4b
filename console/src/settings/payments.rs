//! Settings > Payments (SPEC §2.3): every brand's payments; add, edit, deactivate,
//! delete. The amount is typed in the currency's own format and stored in minor units;
//! the shared rules check the form before it is sent.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Brand, Payment, PaymentPatch};
use paycard_core::gateways::gateway_kind;
use paycard_core::money::MoneyParseError;
use paycard_core::recurrence::price_text;
use paycard_core::validation::{validate_payment, FieldError, PaymentDraft, Problem};
use paycard_core::{Currency, Interval, Locale, Money, Recurrence};

use super::{
    error_for, failure_text, form_save, submission, Clears, FormActions, FormField, Modal,
};
use crate::i18n::tr;
use paycard_client::{admin, ApiError};

/// What the payments page shows and its form needs.
#[derive(Clone)]
struct Loaded {
    payments: Vec<Payment>,
    brands: Vec<Brand>,
    default_currency: String,
    gateway_kinds: Vec<String>,
}

impl Default for Loaded {
    /// Before the page has loaded: euros, as a new portal's form proposes.
    fn default() -> Self {
        Loaded {
            payments: Vec::new(),
            brands: Vec::new(),
            default_currency: "EUR".to_owned(),
            gateway_kinds: Vec::new(),
        }
    }
}

/// The frequency choices of the form; custom is every N days, weeks, months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frequency {
    OneTime,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    Custom,
}

impl Frequency {
    const ALL: [Frequency; 6] = [
        Frequency::OneTime,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Yearly,
        Frequency::Custom,
    ];

    fn value(self) -> &'static str {
        match self {
            Frequency::OneTime => "once",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
            Frequency::Custom => "custom",
        }
    }

    fn label(self, locale: Locale) -> &'static str {
        match self {
            Frequency::OneTime => tr(locale, "One-time", "Pago único"),
            Frequency::Weekly => tr(locale, "Weekly", "Semanal"),
            Frequency::Monthly => tr(locale, "Monthly", "Mensual"),
            Frequency::Quarterly => tr(locale, "Quarterly", "Trimestral"),
            Frequency::Yearly => tr(locale, "Yearly", "Anual"),
            Frequency::Custom => tr(locale, "Custom", "Personalizada"),
        }
    }

    fn of(recurrence: Option<Recurrence>) -> Frequency {
        match recurrence {
            None => Frequency::OneTime,
            Some(Recurrence::WEEKLY) => Frequency::Weekly,
            Some(Recurrence::MONTHLY) => Frequency::Monthly,
            Some(Recurrence::QUARTERLY) => Frequency::Quarterly,
            Some(Recurrence::YEARLY) => Frequency::Yearly,
            Some(_) => Frequency::Custom,
        }
    }
}

fn unit_label(interval: Interval, locale: Locale) -> &'static str {
    match interval {
        Interval::Day => tr(locale, "days", "días"),
        Interval::Week => tr(locale, "weeks", "semanas"),
        Interval::Month => tr(locale, "months", "meses"),
        Interval::Year => tr(locale, "years", "años"),
    }
}

#[component]
pub fn PaymentSettings(locale: Locale) -> impl IntoView {
    let failure = RwSignal::new(None::<&'static str>);
    let notice = RwSignal::new(None::<String>);
    let form_open = RwSignal::new(false);
    let editing = RwSignal::new(None::<Payment>);

    // The payments, with what the form needs: the brands, the portal's currency and the
    // kinds of the configured gateways (the form says which can take a payment).
    let loaded = LocalResource::new(|| async {
        let payments = admin::payments().await?;
        let brands = admin::brands().await?;
        let portal = admin::portal().await.ok().flatten();
        let gateway_kinds = match portal {
            Some(_) => admin::gateways()
                .await
                .map(|g| g.into_iter().map(|g| g.kind).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok::<_, ApiError>(Loaded {
            payments,
            brands,
            default_currency: portal.map_or_else(|| "EUR".to_owned(), |p| p.currency),
            gateway_kinds,
        })
    });
    let load = move || loaded.refetch();
    let known = move || loaded.get().and_then(Result::ok).unwrap_or_default();

    let brand_name = move |id: &str| {
        known()
            .brands
            .iter()
            .find(|b| b.id == id)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let toggling = submission(
        |(p, active): (Payment, bool)| async move {
            let patch = PaymentPatch {
                active: Some(active),
                ..Default::default()
            };
            admin::update_payment(&p.id, &patch).await
        },
        move |answer| match answer {
            Ok(_) => {
                failure.set(None);
                load();
            }
            Err(e) => failure.set(Some(failure_text(&e, locale))),
        },
    );
    let set_active = move |p: Payment, active: bool| {
        toggling.dispatch((p, active));
    };
    let ask = super::use_confirm();
    // Asks first; `None` when the admin thinks better of it.
    let deleting = Action::new_local(move |p: &Payment| {
        let p = p.clone();
        async move {
            let question = match locale {
                Locale::En => format!("Delete “{}”?", p.title),
                Locale::Es => format!("¿Eliminar «{}»?", p.title),
            };
            if !ask.ask(question, tr(locale, "Delete", "Eliminar")).await {
                return;
            }
            match admin::delete_payment(&p.id).await {
                Ok(()) => notice.set(Some(match locale {
                    Locale::En => format!("“{}” was deleted. Cards already shared keep it as it was.", p.title),
                    Locale::Es => format!("«{}» se ha eliminado. Las tarjetas ya compartidas lo conservan como estaba.", p.title),
                })),
                Err(e) => failure.set(Some(failure_text(&e, locale))),
            }
            load();
        }
    });
    let delete = move |p: Payment| {
        deleting.dispatch(p);
    };

    view! {
        <h2 class="settings__heading">{tr(locale, "Payments", "Pagos")}</h2>
        <p class="settings__failure" role="alert">{move || failure.get()}</p>
        <p class="settings__notice" role="status">{move || notice.get()}</p>
        <div class="panel">
            // The form takes the brands, the currency and the gateways as they are when it
            // opens: not before they have loaded.
            <button type="button" class="btn btn--primary" disabled=move || loaded.get().is_none()
                on:click=move |_| { editing.set(None); form_open.set(true); }>
                {tr(locale, "Add payment", "Añadir pago")}
            </button>
            {move || match loaded.get().map(|r| r.map(|l| l.payments)) {
                None => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="settings__failure" role="alert">{failure_text(&e, locale)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="settings__empty">{tr(locale, "No payments yet. Add the first one.", "Aún no hay pagos. Añade el primero.")}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="table">
                        <caption class="visually-hidden">{tr(locale, "Payments", "Pagos")}</caption>
                        <thead><tr>
                            <th scope="col">{tr(locale, "Title", "Título")}</th>
                            <th scope="col">{tr(locale, "Brand", "Marca")}</th>
                            <th scope="col">{tr(locale, "Price", "Precio")}</th>
                            <th scope="col">{tr(locale, "Status", "Estado")}</th>
                            <th scope="col"><span class="visually-hidden">{tr(locale, "Actions", "Acciones")}</span></th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|p| {
                                let price = price_text(&Money::new(p.amount_minor, p.currency), p.recurrence.as_ref(), locale);
                                let (for_edit, for_toggle, for_delete) = (p.clone(), p.clone(), p.clone());
                                let active = p.active;
                                let title = p.title.clone();
                                view! {
                                    <tr class:table__row--inactive=!active>
                                        <th scope="row">
                                            <span class="table__title">{p.title.clone()}</span>
                                            <span class="table__meta">{p.description.clone()}</span>
                                        </th>
                                        <td>{brand_name(&p.brand_id)}</td>
                                        <td>{price}</td>
                                        <td>{if active { tr(locale, "Active", "Activo") } else { tr(locale, "Inactive", "Inactivo") }}</td>
                                        <td><div class="table__actions">
                                            <button type="button" class="btn btn--small" aria-label=format!("{} {}", tr(locale, "Edit", "Editar"), title)
                                                on:click=move |_| { editing.set(Some(for_edit.clone())); form_open.set(true); }>
                                                {tr(locale, "Edit", "Editar")}
                                            </button>
                                            <button type="button" class="btn btn--small"
                                                aria-label=format!("{} {}", if active { tr(locale, "Deactivate", "Desactivar") } else { tr(locale, "Activate", "Activar") }, title)
                                                on:click=move |_| set_active(for_toggle.clone(), !active)>
                                                {if active { tr(locale, "Deactivate", "Desactivar") } else { tr(locale, "Activate", "Activar") }}
                                            </button>
                                            <button type="button" class="btn btn--small btn--danger" aria-label=format!("{} {}", tr(locale, "Delete", "Eliminar"), title)
                                                on:click=move |_| delete(for_delete.clone())>
                                                {tr(locale, "Delete", "Eliminar")}
                                            </button>
                                        </div></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </div>
        <Modal open=form_open title=Signal::derive(move || {
            if editing.with(Option::is_some) { tr(locale, "Edit payment", "Editar pago") } else { tr(locale, "Add payment", "Añadir pago") }.to_owned()
        })>
            {move || { let known = untrack(known); view! {
                <PaymentForm locale=locale payment=editing.get_untracked() brands=known.brands
                    default_currency=known.default_currency
                    gateway_kinds=known.gateway_kinds
                    on_done=Callback::new(move |saved: Payment| {
                        form_open.set(false);
                        failure.set(None);
                        notice.set(Some(match locale {
                            Locale::En => format!("“{}” was saved.", saved.title),
                            Locale::Es => format!("«{}» se ha guardado.", saved.title),
                        }));
                        load();
                    })
                    on_cancel=Callback::new(move |_| form_open.set(false))/>
            }}}
        </Modal>
    }
}

/// Adds a payment, or edits `payment`. The shared rules run before anything is sent.
#[component]
pub fn PaymentForm(
    locale: Locale,
    payment: Option<Payment>,
    brands: Vec<Brand>,
    default_currency: String,
    /// The kinds of the configured gateways (none: the built-in sandbox takes all).
    #[prop(optional)]
    gateway_kinds: Vec<String>,
    on_done: Callback<Payment>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let editing_id = payment.as_ref().map(|p| p.id.clone());
    let title = RwSignal::new(
        payment
            .as_ref()
            .map(|p| p.title.clone())
            .unwrap_or_default(),
    );
    let description = RwSignal::new(
        payment
            .as_ref()
            .map(|p| p.description.clone())
            .unwrap_or_default(),
    );
    let brand = RwSignal::new(
        payment
            .as_ref()
            .map(|p| p.brand_id.clone())
            .or_else(|| (brands.len() == 1).then(|| brands[0].id.clone()))
            .unwrap_or_default(),
    );
    let currency = RwSignal::new(
        payment
            .as_ref()
            .map(|p| p.currency.code().to_owned())
            .unwrap_or(default_currency),
    );
    let amount = RwSignal::new(
        payment
            .as_ref()
            .map(|p| Money::new(p.amount_minor, p.currency).format_number(locale))
            .unwrap_or_default(),
    );
    let recurrence = payment.as_ref().and_then(|p| p.recurrence);
    let frequency = RwSignal::new(Frequency::of(recurrence));
    let custom_count = RwSignal::new(
        recurrence
            .filter(|_| Frequency::of(recurrence) == Frequency::Custom)
            .map(|r| r.count.to_string())
            .unwrap_or_else(|| "2".to_owned()),
    );
    let custom_unit = RwSignal::new(
        recurrence
            .filter(|_| Frequency::of(recurrence) == Frequency::Custom)
            .map(|r| r.interval)
            .unwrap_or(Interval::Week),
    );
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    // A new payment, or the edit of `editing_id`'s.
    let saving = form_save(
        move |(editing_id, draft): (Option<String>, PaymentDraft)| async move {
            match &editing_id {
                Some(id) => {
                    let patch = PaymentPatch {
                        brand_id: Some(draft.brand_id),
                        title: Some(draft.title),
                        description: Some(draft.description),
                        amount_minor: Some(draft.amount_minor),
                        currency: Some(draft.currency),
                        recurrence: Some(draft.recurrence),
                        active: None,
                    };
                    admin::update_payment(id, &patch).await
                }
                None => admin::add_payment(&draft).await,
            }
        },
        on_done,
        errors,
        failure,
        locale,
    );
    let busy = saving.pending();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut found = Vec::new();
        let code = currency.get_untracked();
        let parsed_currency = Currency::from_code(&code);
        // The amount as typed, read in the admin's locale and the currency's exponent.
        // When it cannot be read, that is its one error; the rules check the rest.
        let amount_minor = match parsed_currency {
            Some(c) => match Money::parse(&amount.get_untracked(), c, locale) {
                Ok(m) => Some(m.amount_minor),
                Err(e) => {
                    found.push(FieldError::new(
                        "amount_minor",
                        match e {
                            MoneyParseError::Empty => Problem::Required,
                            MoneyParseError::TooLarge => Problem::TooLarge { max: i64::MAX },
                            _ => Problem::InvalidFormat,
                        },
                    ));
                    None
                }
            },
            None => None, // the currency's own error says what to fix
        };
        let count = custom_count
            .get_untracked()
            .trim()
            .parse::<u32>()
            .unwrap_or(0);
        let recurrence = match frequency.get_untracked() {
            Frequency::OneTime => None,
            Frequency::Weekly => Some(Recurrence::WEEKLY),
            Frequency::Monthly => Some(Recurrence::MONTHLY),
            Frequency::Quarterly => Some(Recurrence::QUARTERLY),
            Frequency::Yearly => Some(Recurrence::YEARLY),
            Frequency::Custom => Some(Recurrence::every(count, custom_unit.get_untracked())),
        };
        let draft = PaymentDraft {
            brand_id: brand.get_untracked(),
            title: title.get_untracked(),
            description: description.get_untracked(),
            amount_minor: amount_minor.unwrap_or(1),
            currency: code,
            recurrence,
        };
        if let Err(rules) = validate_payment(&draft) {
            found.extend(
                rules
                    .into_iter()
                    .filter(|e| e.field != "amount_minor" || amount_minor.is_some()),
            );
        }
        if !found.is_empty() {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        saving.dispatch((editing_id.clone(), draft));
    };
    let err = move |field: &'static str| {
        Signal::derive(move || errors.with(|e| error_for(e, field, locale)))
    };
    let amount_hint = move || {
        let example = Currency::from_code(&currency.get())
            .map(|c| Money::new(25 * c.minor_per_major(), c).format_number(locale))
            .unwrap_or_default();
        match locale {
            Locale::En => format!("For example {example}"),
            Locale::Es => format!("Por ejemplo {example}"),
        }
    };

    // Which configured gateways can take this payment (its currency, amount and
    // recurrence), as the checkout will offer them: said as soon as one cannot.
    let gateway_note = move || {
        let c = Currency::from_code(&currency.get())?;
        let recurring = frequency.get() != Frequency::OneTime;
        let amount_minor = Money::parse(&amount.get(), c, locale)
            .map(|m| m.amount_minor)
            .unwrap_or(0);
        let mut takes = Vec::new();
        let mut refused = Vec::new();
        for kind in gateway_kinds.iter().filter_map(|k| gateway_kind(k)) {
            match kind.refusal(amount_minor, c, recurring) {
                None => takes.push(kind.name),
                Some(why) => refused.push(why.message(kind.name, c.code(), locale)),
            }
        }
        if refused.is_empty() {
            return None;
        }
        let head = match (takes.is_empty(), locale) {
            (true, Locale::En) => "No gateway you have set up can take this payment: visitors could not pay it.".to_owned(),
            (true, Locale::Es) => "Ninguna pasarela configurada puede cobrar este pago: los visitantes no podrían pagarlo.".to_owned(),
            (false, Locale::En) => format!("Visitors can pay it with {}.", takes.join(", ")),
            (false, Locale::Es) => format!("Los visitantes pueden pagarlo con {}.", takes.join(", ")),
        };
        Some(format!("{head} {}", refused.join(" ")))
    };

    view! {
        <form class="form" on:submit=submit novalidate>
            <FormField id="pay-title".into() label=tr(locale, "Title", "Título").into() error=err("title") clears=Clears { errors, prefix: "title".into() }>
                <input id="pay-title" type="text" aria-describedby="pay-title-error"
                    aria-invalid=move || err("title").get().is_some().to_string()
                    prop:value=title on:input:target=move |ev| title.set(ev.target().value())/>
            </FormField>
            <FormField id="pay-description".into() label=tr(locale, "Description", "Descripción").into() error=err("description") clears=Clears { errors, prefix: "description".into() }>
                <textarea id="pay-description" rows="3" aria-describedby="pay-description-error"
                    prop:value=description on:input:target=move |ev| description.set(ev.target().value())></textarea>
            </FormField>
            <FormField id="pay-brand".into() label=tr(locale, "Brand", "Marca").into() error=err("brand_id") clears=Clears { errors, prefix: "brand_id".into() }>
                <select id="pay-brand" aria-describedby="pay-brand-error"
                    aria-invalid=move || err("brand_id").get().is_some().to_string()
                    on:change:target=move |ev| brand.set(ev.target().value())>
                    <option value="" selected=move || brand.get().is_empty()>{tr(locale, "Choose a brand", "Elige una marca")}</option>
                    {brands.into_iter().map(|b| {
                        let id = b.id.clone();
                        view! { <option value=b.id.clone() selected=move || brand.get() == id>{b.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </FormField>
            <div class="form__pair">
                <FormField id="pay-amount".into() label=tr(locale, "Amount", "Importe").into() error=err("amount_minor") clears=Clears { errors, prefix: "amount_minor".into() }>
                    <input id="pay-amount" type="text" inputmode="decimal" aria-describedby="pay-amount-error pay-amount-hint"
                        aria-invalid=move || err("amount_minor").get().is_some().to_string()
                        prop:value=amount on:input:target=move |ev| amount.set(ev.target().value())/>
                    <p class="field__hint" id="pay-amount-hint">{amount_hint}</p>
                </FormField>
                <FormField id="pay-currency".into() label=tr(locale, "Currency", "Moneda").into() error=err("currency") clears=Clears { errors, prefix: "currency".into() }>
                    <select id="pay-currency" aria-describedby="pay-currency-error"
                        on:change:target=move |ev| currency.set(ev.target().value())>
                        {Currency::all().into_iter().map(|c| {
                            let code = c.code();
                            view! { <option value=code selected=move || currency.get() == code>{code}</option> }
                        }).collect_view()}
                    </select>
                </FormField>
            </div>
            <fieldset class="field">
                <legend>{tr(locale, "Payment type", "Tipo de pago")}</legend>
                <label for="pay-frequency" class="visually-hidden">{tr(locale, "Frequency", "Frecuencia")}</label>
                <select id="pay-frequency" on:change:target=move |ev| {
                    let v = ev.target().value();
                    if let Some(f) = Frequency::ALL.into_iter().find(|f| f.value() == v) { frequency.set(f); }
                }>
                    {Frequency::ALL.into_iter().map(|f| view! {
                        <option value=f.value() selected=move || frequency.get() == f>{f.label(locale)}</option>
                    }).collect_view()}
                </select>
                <Show when=move || frequency.get() == Frequency::Custom>
                    <div class="form__pair form__custom">
                        <FormField id="pay-every".into() label=tr(locale, "Every", "Cada").into() error=err("recurrence.count") clears=Clears { errors, prefix: "recurrence.count".into() }>
                            <input id="pay-every" type="number" min="1" max="365" inputmode="numeric" aria-describedby="pay-every-error"
                                aria-invalid=move || err("recurrence.count").get().is_some().to_string()
                                prop:value=custom_count on:input:target=move |ev| custom_count.set(ev.target().value())/>
                        </FormField>
                        <div class="field">
                            <label for="pay-unit">{tr(locale, "Unit", "Unidad")}</label>
                            <select id="pay-unit" on:change:target=move |ev| {
                                if let Some(i) = Interval::parse(&ev.target().value()) { custom_unit.set(i); }
                            }>
                                {Interval::ALL.into_iter().map(|i| view! {
                                    <option value=i.as_str() selected=move || custom_unit.get() == i>{unit_label(i, locale)}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    </div>
                </Show>
            </fieldset>
            <p class="field__hint payment__gateways" role="status">{gateway_note}</p>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormActions back_label=tr(locale, "Cancel", "Cancelar") submit_label=tr(locale, "Save payment", "Guardar pago") busy=busy on_back=on_cancel/>
        </form>
    }
}
