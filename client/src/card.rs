//! The payment card, as the visitor and the operator see it (SPEC §5): a group named by
//! its title, carrying `data-status`, with the amount and recurrence written by the
//! shared rules, a status line in a polite live region, and only the buttons the card's
//! status allows.

use leptos::prelude::*;
use paycard_core::api::Card;
use paycard_core::recurrence::price_text;
use paycard_core::{CardAction, CardStatus, Locale};
use wasm_bindgen::JsCast;

use crate::words::{t, Text};

/// Which side of the chat the card is shown on: it decides the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Pay Now and Cancel (decline).
    Visitor,
    /// Cancel request.
    Operator,
}

/// What a card's button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Press {
    Pay,
    /// Decline (the visitor) or Cancel request (the operator): asks first.
    Ask,
    Refund,
    /// The question's "Yes".
    Confirm,
    /// The question's "Keep it".
    Keep,
}

impl Press {
    /// The button's `data-press`, by which focus finds it again.
    fn name(self) -> &'static str {
        match self {
            Press::Pay => "pay",
            Press::Ask => "ask",
            Press::Refund => "refund",
            Press::Confirm => "confirm",
            Press::Keep => "keep",
        }
    }
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
    // One handler, one button shape and one panel for every action: each distinct view
    // or closure type is code in the visitor's download (docs/benchmarks.md), and a card
    // has up to four buttons and a question.
    let confirming = RwSignal::new(false);
    let status = card.status;
    let visitor = side == Side::Visitor;
    let mut actions = Vec::new();
    if visitor && status.allows(&CardAction::StartPayment) && on_pay.is_some() {
        actions.push((Press::Pay, "btn btn--primary", Text::PayNow));
    }
    if visitor && status.allows(&CardAction::Decline) && on_decline.is_some() {
        actions.push((Press::Ask, "btn", Text::Cancel));
    }
    if !visitor && status.allows(&CardAction::Cancel) && on_cancel.is_some() {
        actions.push((Press::Ask, "btn btn--danger", Text::CancelRequest));
    }
    if !visitor
        && status.allows(&CardAction::RefundInFull)
        && card.refunded_minor < card.amount_minor
        && on_refund.is_some()
    {
        actions.push((Press::Refund, "btn", Text::Refund));
    }
    let (question, yes) = if visitor {
        (Text::ConfirmDecline, Text::YesDecline)
    } else {
        (Text::ConfirmCancel, Text::YesCancel)
    };

    // Keyboard users land on "Keep it" when the question opens, and back on the button
    // that asked it when it closes (by "Keep it" or by Escape, which closes only the
    // question), once the panel has been drawn anew.
    let article = NodeRef::<leptos::html::Article>::new();
    let focus_after_drawing = move |selector: &'static str| {
        request_animation_frame(move || {
            if let Some(Ok(Some(button))) =
                article.get_untracked().map(|a| a.query_selector(selector))
            {
                let _ = button.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        })
    };
    let press = {
        let card = card.clone();
        Callback::new(move |press: Press| match press {
            Press::Pay => {
                if let Some(cb) = on_pay {
                    cb.run(card.id.clone());
                }
            }
            Press::Refund => {
                if let Some(cb) = on_refund {
                    cb.run(card.clone());
                }
            }
            Press::Ask => {
                confirming.set(true);
                focus_after_drawing("[data-press=keep]");
            }
            Press::Keep => {
                confirming.set(false);
                focus_after_drawing("[data-press=ask]");
            }
            Press::Confirm => {
                confirming.set(false);
                if let Some(cb) = if visitor { on_decline } else { on_cancel } {
                    cb.run(card.id.clone());
                }
            }
        })
    };
    let button = move |(press_what, class, label): (Press, &'static str, Text)| {
        // "Keep it" never waits: it only closes the question.
        let waits = press_what != Press::Keep;
        view! {
            <button type="button" class=class data-press=press_what.name()
                disabled=move || waits && busy.get()
                on:click=move |_| press.run(press_what)>
                {t(locale, label)}
            </button>
        }
    };
    let panel = move || {
        if confirming.get() {
            // Declining (the visitor) and cancelling (the operator) are final: both ask first.
            view! {
                <div class="card__confirm" role="alertdialog" aria-label=t(locale, question)
                    on:keydown=move |e| if e.key() == "Escape" {
                        // Only the question closes, not the whole chat.
                        e.stop_propagation();
                        press.run(Press::Keep);
                    }>
                    <p>{t(locale, question)}</p>
                    <div class="card__actions">
                        {button((Press::Confirm, "btn btn--danger", yes))}
                        {button((Press::Keep, "btn", Text::KeepIt))}
                    </div>
                </div>
            }
            .into_any()
        } else if actions.is_empty() {
            ().into_any()
        } else {
            view! { <div class="card__actions">{actions.iter().copied().map(button).collect_view()}</div> }
                .into_any()
        }
    };

    let title_id = format!("card-{}-title", card.id);
    let labelled_by = title_id.clone();
    let price = price_text(&card.money(), card.recurrence.as_ref(), locale);
    let status_line = card.status_line(locale);
    // Until it is paid or closed, a card says until when it can be paid.
    let payable = matches!(status, CardStatus::Pending | CardStatus::Failed);
    let description = (!card.description.is_empty())
        .then(|| view! { <p class="card__description">{card.description.clone()}</p> });

    view! {
        <article
            class=format!("card card--{}", status.as_str())
            role="group"
            aria-labelledby=labelled_by
            data-status=status.as_str()
            node_ref=article
        >
            <p class="card__kind">{t(locale, Text::PaymentRequest)}</p>
            <h3 class="card__title" id=title_id>{card.title.clone()}</h3>
            <p class="card__price">{price}</p>
            {description}
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
            {panel}
        </article>
    }
}
