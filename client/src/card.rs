//! The payment card, as the visitor and the operator see it (SPEC §5): a group named by
//! its title, carrying `data-status`, with the amount and recurrence written by the
//! shared rules, a status line in a polite live region, and only the buttons the card's
//! status allows.

use leptos::prelude::*;
use paycard_core::api::Card;
use paycard_core::recurrence::price_text;
use paycard_core::{CardAction, CardStatus, Locale};

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
    // Keyboard users land on "Keep it" when the question opens, and back on Cancel when
    // it closes (by either answer or by Escape, which closes only the question).
    let keep_button = NodeRef::<leptos::html::Button>::new();
    let cancel_button = NodeRef::<leptos::html::Button>::new();
    let return_focus = RwSignal::new(false);
    // Both wait for their button to be on the page (each is drawn when the question opens
    // or closes), so they also read the button.
    Effect::new(move |_| {
        if let (true, Some(b)) = (confirming.get(), keep_button.get()) {
            let _ = b.focus();
        }
    });
    Effect::new(move |_| {
        if let (true, Some(b)) = (return_focus.get(), cancel_button.get()) {
            if b.is_connected() {
                let _ = b.focus();
                return_focus.set(false);
            }
        }
    });
    let close_question = move || {
        confirming.set(false);
        return_focus.set(true);
    };
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
    // Until it is paid or closed, a card says until when it can be paid.
    let payable = matches!(status, CardStatus::Pending | CardStatus::Failed);
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
                // Its own element: the status reads alone ("Refunded"), the time beside it.
                <span class="card__line">{status_line}</span>
                " "<time class="card__time" datetime=card.updated_at.clone()>{crate::time::clock(&card.updated_at, locale)}</time>
            </p>
            {payable.then(|| view! {
                <p class="card__expiry">
                    {t(locale, Text::PayBefore)}" "
                    <time datetime=card.expires_at.clone()>{crate::time::clock(&card.expires_at, locale)}</time>
                </p>
            })}
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
                        <button type="button" class="btn" disabled=busy node_ref=cancel_button
                            on:click=move |_| confirming.set(true)>
                            {t(locale, Text::Cancel)}
                        </button>
                    })}
                    {can_cancel.then(|| {
                        view! {
                            <button type="button" class="btn btn--danger" disabled=busy node_ref=cancel_button
                                on:click=move |_| confirming.set(true)>
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
            // Declining (the visitor) and cancelling (the operator) are final: both ask first.
            <Show when=move || confirming.get() && (can_decline || can_cancel)>
                {
                    let (decline_id, cancel_id) = (decline_id.clone(), cancel_id.clone());
                    let (question, yes) = if side == Side::Visitor {
                        (Text::ConfirmDecline, Text::YesDecline)
                    } else {
                        (Text::ConfirmCancel, Text::YesCancel)
                    };
                    view! {
                        <div class="card__confirm" role="alertdialog" aria-label=t(locale, question)
                            on:keydown=move |e| if e.key() == "Escape" {
                                // Only the question closes, not the whole chat.
                                e.stop_propagation();
                                close_question();
                            }>
                            <p>{t(locale, question)}</p>
                            <div class="card__actions">
                                <button type="button" class="btn btn--danger" disabled=busy
                                    on:click=move |_| {
                                        confirming.set(false);
                                        match (on_decline, on_cancel) {
                                            (Some(cb), _) if side == Side::Visitor => cb.run(decline_id.clone()),
                                            (_, Some(cb)) if side == Side::Operator => cb.run(cancel_id.clone()),
                                            _ => {}
                                        }
                                    }>
                                    {t(locale, yes)}
                                </button>
                                <button type="button" class="btn" node_ref=keep_button on:click=move |_| close_question()>
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
