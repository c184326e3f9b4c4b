//! The refund dialog (SPEC §8.3): an admin, on a paid card in the conversation, gives
//! back part of the money or the rest. The amount comes filled in with what is left; the
//! button says exactly what will happen ("Refund €15.00"), which is the confirmation.
//! One key per opening of the dialog, so a double click or a retry refunds once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{Card, NewRefund, Refund, RefundStatus};
use paycard_core::money::MoneyParseError;
use paycard_core::validation::{validate_refund, FieldError, Problem};
use paycard_core::{Locale, Money};

use crate::i18n::tr;
use crate::settings::{error_for, report, Clears, FormField};
use paycard_client::admin;
use paycard_client::api::idempotency_key;

/// The form inside the dialog, for `card`. `on_done` gets the refund made.
#[component]
pub fn RefundForm(
    locale: Locale,
    card: Card,
    on_done: Callback<Refund>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let left = card.amount_minor - card.refunded_minor;
    let currency = card.currency;
    let amount = RwSignal::new(Money::new(left, currency).format_number(locale));
    let reason = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let key = idempotency_key("refund");
    let card_id = card.id.clone();
    let refund = Action::new_local(move |input: &NewRefund| {
        let (input, card_id, key) = (input.clone(), card_id.clone(), key.clone());
        async move { admin::refund(&card_id, &input, &key).await }
    });
    Effect::new(move |_| match refund.value().get() {
        Some(Ok(done)) => on_done.run(done),
        Some(Err(e)) => report(&e, errors, failure, locale),
        None => {}
    });
    // What the amount box says, read as money: the button names it.
    let parsed =
        Memo::new(move |_| Money::parse(&amount.get(), currency, locale).map(|m| m.amount_minor));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let minor = match parsed.get_untracked() {
            Ok(minor) => minor,
            Err(e) => {
                errors.set(vec![FieldError::new(
                    "amount_minor",
                    match e {
                        MoneyParseError::Empty => Problem::Required,
                        _ => Problem::InvalidFormat,
                    },
                )]);
                return;
            }
        };
        let reason = reason.get_untracked();
        let reason = (!reason.trim().is_empty()).then_some(reason);
        if let Err(found) = validate_refund(Some(minor), reason.as_deref(), left) {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        refund.dispatch(NewRefund {
            amount_minor: Some(minor),
            reason,
        });
    };
    let amount_error =
        Signal::derive(move || errors.with(|e| error_for(e, "amount_minor", locale)));
    let reason_error = Signal::derive(move || errors.with(|e| error_for(e, "reason", locale)));
    let most = Money::new(left, currency).format(locale);
    let submit_label = move || {
        let what = parsed
            .get()
            .ok()
            .filter(|m| (1..=left).contains(m))
            .map(|m| Money::new(m, currency).format(locale));
        match (what, locale) {
            (Some(m), Locale::En) => format!("Refund {m}"),
            (Some(m), Locale::Es) => format!("Reembolsar {m}"),
            (None, _) => tr(locale, "Refund", "Reembolsar").to_owned(),
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate=true>
            <p class="form__lead">{card.title.clone()}</p>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormField id="refund-amount".into() label=tr(locale, "Amount to refund", "Importe a reembolsar").into()
                error=amount_error
                hint=match locale {
                    Locale::En => format!("Up to {most}, what has not been refunded yet."),
                    Locale::Es => format!("Hasta {most}, lo que aún no se ha reembolsado."),
                }
                clears=Clears { errors, prefix: "amount_minor".into() }>
                <input id="refund-amount" type="text" inputmode="decimal" aria-describedby="refund-amount-error"
                    prop:value=move || amount.get() on:input:target=move |ev| amount.set(ev.target().value())/>
            </FormField>
            <FormField id="refund-reason".into() label=tr(locale, "Reason (optional)", "Motivo (opcional)").into()
                error=reason_error
                clears=Clears { errors, prefix: "reason".into() }>
                <input id="refund-reason" type="text" maxlength="200" aria-describedby="refund-reason-error"
                    prop:value=move || reason.get() on:input:target=move |ev| reason.set(ev.target().value())/>
            </FormField>
            <div class="form__actions">
                <button type="button" class="btn" on:click=move |_| on_cancel.run(())>
                    {tr(locale, "Back", "Volver")}
                </button>
                <button type="submit" class="btn btn--primary" disabled=move || refund.pending().get()>
                    {submit_label}
                </button>
            </div>
        </form>
    }
}

/// What to tell the admin once a refund is made.
pub fn done_text(refund: &Refund, locale: Locale) -> String {
    let amount = Money::new(refund.amount_minor, refund.currency).format(locale);
    match (refund.status, locale) {
        (RefundStatus::Succeeded, Locale::En) => format!("{amount} refunded."),
        (RefundStatus::Succeeded, Locale::Es) => format!("{amount} reembolsados."),
        // The gateway took it; the card changes when it says the money went back.
        (RefundStatus::Pending, Locale::En) => {
            format!("Refund of {amount} sent to the payment gateway; the card shows it once it is done.")
        }
        (RefundStatus::Pending, Locale::Es) => {
            format!("Reembolso de {amount} enviado a la pasarela; la tarjeta lo mostrará cuando se complete.")
        }
        (RefundStatus::Failed, Locale::En) => {
            format!("The gateway refused the refund of {amount}.")
        }
        (RefundStatus::Failed, Locale::Es) => {
            format!("La pasarela rechazó el reembolso de {amount}.")
        }
    }
}
