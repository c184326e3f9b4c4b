//! The payment card, as the visitor and the operator see it (SPEC §5): a group named by
//! its title, carrying `data-status`, with the amount and recurrence written by the
//! shared rules, a status line in a polite live region, and only the buttons the card's
//! status allows.

use leptos::prelude::*;
use paycard_core::api::Card;
use paycard_core::recurrence::price_text;
use paycard_core::{CardAction, Locale};

use crate::words::{t, Text};

/// Which side of the chat the card is shown on: it decides the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Pay Now and Cancel (decline).
    Visitor,
    /// Cancel request.
    Operator,
}

#[component]
pub fn PaymentCard(
    /// The card as it now is.
    card: Card,
    /// The language of the words and of the amount.
    locale: Locale,
    /// Whose chat this is.
    side: Side,
    /// Visitor: Pay Now was pressed (card id).
    #[prop(default = None, into)]
    on_pay: Option<Callback<String>>,
    /// Visitor: the decline was confirmed (card id).
    #[prop(default = None, into)]
    on_decline: Option<Callback<String>>,
    /// Operator: Cancel request was pressed (card id).
    #[prop(default = None, into)]
    on_cancel: Option<Callback<String>>,
    /// Operator (an admin): Refund was pressed on a paid card with money left to refund.
    #[prop(default = None, into)]
    on_refund: Option<Callback<Card>>,
    /// An action on this card is in flight: its buttons wait.
    #[prop(optional, into)]
    busy: Signal<bool>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let status = card.status;
    let can_pay =
        side == Side::Visitor && status.allows(&CardAction::StartPayment) && on_pay.is_some();
    let can_decline =
        side == Side::Visitor && status.allows(&CardAction::Decline) && on_decline.is_some();
    let can_cancel =
        side == Side::Operator && status.allows(&CardAction::Cancel) && on_cancel.is_some();
    let can_refund = side == Side::Operator
        && status.allows(&CardAction::RefundInFull)
        && card.refunded_minor < card.amount_minor
        && on_refund.is_some();
    let refund_card = card.clone();
    let title_id = format!("card-{}-title", card.id);
    let labelled_by = title_id.clone();
    let price = price_text(&card.money(), card.recurrence.as_ref(), locale);
    let status_line = card.status_line(locale);
    let id = card.id.clone();
    let (pay_id, decline_id, cancel_id) = (id.clone(), id.clone(), id);

    view! {
        <article
            class=format!("card card--{}", status.as_str())
            role="group"
            aria-labelledby=labelled_by
            data-status=status.as_str()
        >
            <p class="card__kind">{t(locale, Text::PaymentRequest)}</p>
            <h3 class="card__title" id=title_id>{card.title.clone()}</h3>
            <p class="card__price">{price}</p>
            <Show when={
                let empty = card.description.is_empty();
                move || !empty
            }>
                <p class="card__description">{card.description.clone()}</p>
            </Show>
            <p class="card__status" aria-live="polite">
                <span class="card__dot" aria-hidden="true"></span>
                {status_line}
            </p>
            <Show when=move || !confirming.get() && (can_pay || can_decline || can_cancel || can_refund)>
                <div class="card__actions">
                    {can_pay.then(|| {
                        let id = pay_id.clone();
                        view! {
                            <button type="button" class="btn btn--primary" disabled=busy
                                on:click=move |_| { if let Some(cb) = on_pay { cb.run(id.clone()) } }>
                                {t(locale, Text::PayNow)}
                            </button>
                        }
                    })}
                    {can_decline.then(|| view! {
                        <button type="button" class="btn" disabled=busy on:click=move |_| confirming.set(true)>
                            {t(locale, Text::Cancel)}
                        </button>
                    })}
                    {can_cancel.then(|| {
                        let id = cancel_id.clone();
                        view! {
                            <button type="button" class="btn btn--danger" disabled=busy
                                on:click=move |_| { if let Some(cb) = on_cancel { cb.run(id.clone()) } }>
                                {t(locale, Text::CancelRequest)}
                            </button>
                        }
                    })}
                    {can_refund.then(|| {
                        let card = refund_card.clone();
                        view! {
                            <button type="button" class="btn" disabled=busy
                                on:click=move |_| { if let Some(cb) = on_refund { cb.run(card.clone()) } }>
                                {t(locale, Text::Refund)}
                            </button>
                        }
                    })}
                </div>
            </Show>
            <Show when=move || confirming.get() && can_decline>
                {
                    let id = decline_id.clone();
                    view! {
                        <div class="card__confirm" role="alertdialog" aria-label=t(locale, Text::ConfirmDecline)>
                            <p>{t(locale, Text::ConfirmDecline)}</p>
                            <div class="card__actions">
                                <button type="button" class="btn btn--danger" disabled=busy
                                    on:click=move |_| {
                                        confirming.set(false);
                                        if let Some(cb) = on_decline { cb.run(id.clone()) }
                                    }>
                                    {t(locale, Text::YesDecline)}
                                </button>
                                <button type="button" class="btn" autofocus on:click=move |_| confirming.set(false)>
                                    {t(locale, Text::KeepIt)}
                                </button>
                            </div>
                        </div>
                    }
                }
            </Show>
        </article>
    }
}
