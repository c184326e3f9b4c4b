//! The Payments picker: the brand's active payments, searchable, reachable by keyboard.
//! Hovering or focusing a payment shows its Share button.

use leptos::html;
use leptos::prelude::*;
use paycard_core::api::Payment;
use paycard_core::recurrence::price_text;
use paycard_core::search::matches;
use paycard_core::Locale;
use wasm_bindgen::JsCast;

use crate::i18n::{t, Text};

/// Moves focus among the list's payments: `step` +1 next, -1 previous.
fn move_focus(list: &web_sys::HtmlElement, step: i32) {
    let Ok(items) = list.query_selector_all(".pick") else {
        return;
    };
    let count = items.length() as i32;
    if count == 0 {
        return;
    }
    let active = document().active_element();
    let current = (0..count).find(|i| {
        let item = items.item(*i as u32);
        match (&item, &active) {
            (Some(item), Some(active)) => {
                item.is_same_node(Some(active)) || item.contains(Some(active))
            }
            _ => false,
        }
    });
    let next = match current {
        Some(i) => (i + step).clamp(0, count - 1),
        None if step > 0 => 0,
        None => count - 1,
    };
    if let Some(item) = items.item(next as u32) {
        let _ = item.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

#[component]
pub fn Picker(
    locale: Locale,
    /// The payments to offer; `None` while loading.
    #[prop(into)]
    payments: Signal<Option<Vec<Payment>>>,
    /// Share was chosen (payment id).
    #[prop(into)]
    on_share: Callback<String>,
    /// Escape: close the picker.
    #[prop(into)]
    on_close: Callback<()>,
    /// The payment being shared, if any: its button waits.
    #[prop(optional, into)]
    sharing: Signal<Option<String>>,
) -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let list_ref = NodeRef::<html::Ul>::new();
    let search_ref = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = search_ref.get() {
            let _ = input.focus();
        }
    });
    let shown = Memo::new(move |_| {
        // As the server's searches match: any case, with or without accents.
        let query = query.get();
        let needle = query.trim();
        payments.get().map(|all| {
            all.into_iter()
                .filter(|p| matches(&p.title, needle) || matches(&p.description, needle))
                .collect::<Vec<_>>()
        })
    });
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let Some(list) = list_ref.get() else { return };
        let list: web_sys::HtmlElement = list.into();
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                move_focus(&list, 1);
            }
            "ArrowUp" => {
                ev.prevent_default();
                move_focus(&list, -1);
            }
            "Escape" => {
                ev.prevent_default();
                on_close.run(());
            }
            _ => {}
        }
    };

    view! {
        <div class="picker" on:keydown=on_keydown>
            <input
                node_ref=search_ref
                class="picker__search"
                type="search"
                aria-label=t(locale, Text::SearchPayments)
                placeholder=t(locale, Text::SearchPayments)
                prop:value=query
                on:input:target=move |ev| set_query.set(ev.target().value())
            />
            {move || match shown.get() {
                None => view! { <p class="picker__empty">{t(locale, Text::Loading)}</p> }.into_any(),
                Some(list) if list.is_empty() => {
                    let text = if query.get().trim().is_empty() { Text::NoPayments } else { Text::NoMatch };
                    view! { <p class="picker__empty">{t(locale, text)}</p> }.into_any()
                }
                Some(list) => view! {
                    <ul class="picker__list" node_ref=list_ref aria-label=t(locale, Text::Payments)>
                        {list.into_iter().map(|payment| {
                            let id = payment.id.clone();
                            let enter_id = payment.id.clone();
                            let busy_id = payment.id.clone();
                            let price = price_text(&paycard_core::Money::new(payment.amount_minor, payment.currency), payment.recurrence.as_ref(), locale);
                            let busy = move || sharing.get().as_deref() == Some(busy_id.as_str());
                            let title_id = format!("pick-{}", payment.id);
                            view! {
                                <li class="pick" tabindex="0"
                                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                                        // Enter on the row itself (not on its button) shares too.
                                        let on_row = ev.target().zip(ev.current_target()).is_some_and(|(t, c)| t == c);
                                        if ev.key() == "Enter" && on_row {
                                            ev.prevent_default();
                                            on_share.run(enter_id.clone());
                                        }
                                    }>
                                    <div class="pick__text">
                                        <span class="pick__title" id=title_id.clone()>{payment.title.clone()}</span>
                                        <span class="pick__price">{price}</span>
                                    </div>
                                    <button type="button" class="btn btn--primary pick__share" disabled=busy
                                        aria-describedby=title_id
                                        on:click=move |_| on_share.run(id.clone())>
                                        {t(locale, Text::Share)}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}
