//! Browser tests of the shared pieces: the payment card in each state and language,
//! and live updates' fallback to polling, in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`, see `.cargo/config.toml`). They find
//! elements by role and accessible name, as a person (or a screen reader) does.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use paycard_client::api::ApiError;
use paycard_client::card::{PaymentCard, Side};
use paycard_client::live::{spawn_live, LiveConfig, LiveSource, LiveStatus, LocalFuture};
use paycard_core::api::Card;
use paycard_core::{CardStatus, Currency, Locale, Recurrence};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page to mount into.
fn container() -> HtmlElement {
    let document = document();
    let el = document
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document.body().unwrap().append_child(&el).unwrap();
    el
}

fn buttons(root: &Element) -> Vec<HtmlButtonElement> {
    let list = root.query_selector_all("button").unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|b| b.unchecked_into::<HtmlButtonElement>())
        .collect()
}

fn button_names(root: &Element) -> Vec<String> {
    buttons(root)
        .iter()
        .map(|b| b.text_content().unwrap_or_default().trim().to_owned())
        .collect()
}

fn button(root: &Element, name: &str) -> HtmlButtonElement {
    buttons(root)
        .into_iter()
        .find(|b| b.text_content().unwrap_or_default().trim() == name)
        .unwrap_or_else(|| panic!("no button named {name:?} among {:?}", button_names(root)))
}

fn card(status: CardStatus, recurrence: Option<Recurrence>) -> Card {
    Card {
        id: "card_1".into(),
        conversation_id: "conv_1".into(),
        payment_id: "pay_1".into(),
        title: "Coffee subscription".into(),
        description: "Fresh beans every month.".into(),
        amount_minor: 4900,
        currency: Currency::from_code("EUR").unwrap(),
        recurrence,
        status,
        failure_reason: (status == CardStatus::Failed).then(|| "insufficient_funds".to_owned()),
        version: 1,
        created_at: String::new(),
        updated_at: String::new(),
        expires_at: String::new(),
        refunded_minor: 0,
    }
}

/// The card group in `root`, found by role and name.
fn card_group(root: &HtmlElement, name: &str) -> Element {
    let groups = root.query_selector_all("[role=group]").unwrap();
    (0..groups.length())
        .filter_map(|i| groups.item(i))
        .map(|n| n.unchecked_into::<Element>())
        .find(|g| {
            let label_id = g.get_attribute("aria-labelledby").unwrap();
            document()
                .get_element_by_id(&label_id)
                .and_then(|l| l.text_content())
                .as_deref()
                == Some(name)
        })
        .unwrap_or_else(|| panic!("no group named {name:?}"))
}

// ---------------------------------------------------------------- the card in each state

struct Rendered {
    status: String,
    buttons: Vec<String>,
    status_line: String,
    price: String,
}

async fn render_card(status: CardStatus, side: Side, locale: Locale) -> Rendered {
    let root = container();
    let c = card(status, Some(Recurrence::MONTHLY));
    let noop = Callback::new(|_: String| ());
    mount_to(root.clone(), move || match side {
        Side::Visitor => {
            view! { <PaymentCard card=c locale=locale side=side on_pay=noop on_decline=noop/> }
                .into_any()
        }
        Side::Operator => {
            view! { <PaymentCard card=c locale=locale side=side on_cancel=noop/> }.into_any()
        }
    })
    .forget();
    tick().await;
    let group = card_group(&root, "Coffee subscription");
    let line = group
        .query_selector("[aria-live=polite]")
        .unwrap()
        .expect("a polite live status line");
    Rendered {
        status: group.get_attribute("data-status").unwrap(),
        buttons: button_names(&group),
        status_line: line.text_content().unwrap().trim().to_owned(),
        price: group
            .query_selector(".card__price")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
    }
}

#[wasm_bindgen_test]
async fn the_card_in_each_of_its_seven_states_in_english() {
    use CardStatus::*;
    let expected: [(CardStatus, &[&str], &[&str], &str); 7] = [
        (
            Pending,
            &["Pay Now", "Cancel"],
            &["Cancel request"],
            "Awaiting payment",
        ),
        (Processing, &[], &[], "Payment in progress"),
        (Paid, &[], &[], "Payment successful"),
        (
            Failed,
            &["Pay Now", "Cancel"],
            &["Cancel request"],
            "Payment failed: insufficient funds",
        ),
        (Cancelled, &[], &[], "Cancelled by the operator"),
        (Declined, &[], &[], "Declined by the visitor"),
        (Expired, &[], &[], "Expired"),
    ];
    for (status, visitor_buttons, operator_buttons, line) in expected {
        let visitor = render_card(status, Side::Visitor, Locale::En).await;
        assert_eq!(visitor.status, status.as_str());
        assert_eq!(
            visitor.buttons, visitor_buttons,
            "visitor buttons when {status}"
        );
        assert_eq!(visitor.status_line, line);
        assert_eq!(visitor.price, "€49.00 / month");
        let operator = render_card(status, Side::Operator, Locale::En).await;
        assert_eq!(
            operator.buttons, operator_buttons,
            "operator buttons when {status}"
        );
        assert_eq!(operator.status_line, line);
    }
}

#[wasm_bindgen_test]
async fn the_card_in_each_of_its_seven_states_in_spanish() {
    use CardStatus::*;
    let expected: [(CardStatus, &[&str], &str); 7] = [
        (Pending, &["Pagar ahora", "Cancelar"], "Pendiente de pago"),
        (Processing, &[], "Pago en curso"),
        (Paid, &[], "Pago realizado"),
        (
            Failed,
            &["Pagar ahora", "Cancelar"],
            "Pago fallido: fondos insuficientes",
        ),
        (Cancelled, &[], "Cancelado por el operador"),
        (Declined, &[], "Rechazado por el visitante"),
        (Expired, &[], "Caducado"),
    ];
    for (status, buttons, line) in expected {
        let r = render_card(status, Side::Visitor, Locale::Es).await;
        assert_eq!(r.status, status.as_str());
        assert_eq!(r.buttons, buttons, "{status}");
        assert_eq!(r.status_line, line);
        assert_eq!(r.price, "49,00 € / mes");
        let operator = render_card(status, Side::Operator, Locale::Es).await;
        let can_cancel = matches!(status, Pending | Failed);
        assert_eq!(
            operator.buttons.contains(&"Cancelar solicitud".to_owned()),
            can_cancel,
            "{status}"
        );
    }
}

#[wasm_bindgen_test]
async fn pay_now_and_a_confirmed_decline_report_the_card() {
    let root = container();
    let paid = RwSignal::new(Vec::<String>::new());
    let declined = RwSignal::new(Vec::<String>::new());
    let c = card(CardStatus::Pending, None);
    mount_to(root.clone(), move || {
        view! {
            <PaymentCard card=c locale=Locale::En side=Side::Visitor
                on_pay=Callback::new(move |id| paid.update(|p| p.push(id)))
                on_decline=Callback::new(move |id| declined.update(|d| d.push(id)))/>
        }
    })
    .forget();
    tick().await;
    button(&root, "Pay Now").click();
    tick().await;
    assert_eq!(paid.get_untracked(), ["card_1"]);

    // Cancel asks first; "Keep it" changes nothing.
    button(&root, "Cancel").click();
    tick().await;
    assert!(root
        .text_content()
        .unwrap()
        .contains("Decline this payment request?"));
    button(&root, "Keep it").click();
    tick().await;
    assert!(declined.get_untracked().is_empty());
    button(&root, "Cancel").click();
    tick().await;
    button(&root, "Yes, decline").click();
    tick().await;
    assert_eq!(declined.get_untracked(), ["card_1"]);
}

// ---------------------------------------------------------------- live updates

/// A source whose stream never connects (a closed port) and whose polling is counted;
/// with `signed_out`, polls answer 401.
struct BrokenStream {
    stream_attempts: Rc<Cell<u32>>,
    polls: Rc<RefCell<Vec<u32>>>,
    signed_out: bool,
}

impl BrokenStream {
    fn new(signed_out: bool) -> Rc<BrokenStream> {
        Rc::new(BrokenStream {
            stream_attempts: Rc::new(Cell::new(0)),
            polls: Rc::new(RefCell::new(Vec::new())),
            signed_out,
        })
    }
}

impl LiveSource for BrokenStream {
    fn stream_url(&self, _last: i64) -> LocalFuture<Result<String, ApiError>> {
        self.stream_attempts.set(self.stream_attempts.get() + 1);
        Box::pin(async { Ok("http://127.0.0.1:9/nothing-listens-here".to_owned()) })
    }

    fn poll(&self) -> LocalFuture<Result<Option<i64>, ApiError>> {
        let polls = self.polls.clone();
        let attempts = self.stream_attempts.get();
        let signed_out = self.signed_out;
        Box::pin(async move {
            polls.borrow_mut().push(attempts);
            if signed_out {
                return Err(ApiError::Http {
                    status: 401,
                    code: "unauthorized".into(),
                    message: "sign in to continue".into(),
                    fields: Vec::new(),
                });
            }
            Ok(Some(42))
        })
    }
}

#[wasm_bindgen_test]
async fn live_updates_fall_back_to_polling_and_then_try_streaming_again() {
    let _owner = Owner::new();
    let source = BrokenStream::new(false);
    let (stream_attempts, polls) = (source.stream_attempts.clone(), source.polls.clone());
    let status = RwSignal::new(LiveStatus::Connecting);
    let seen_statuses = Rc::new(RefCell::new(Vec::new()));
    let config = LiveConfig {
        retry_delays_ms: vec![20, 20],
        poll_every_ms: 50,
        retry_stream_after_ms: 200,
        ..LiveConfig::default()
    };
    let handle = spawn_live(source, 0, Rc::new(|_| ()), status, config);

    // Record every status the subscription goes through (an effect sees each one: the
    // loop always waits on a timer or the network between two of them).
    let record = seen_statuses.clone();
    Effect::new(move |_| {
        let now = status.get();
        let mut seen = record.borrow_mut();
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    });
    // Wait up to 5 s for the fallback and the return to streaming.
    for _ in 0..100 {
        if stream_attempts.get() >= 5 && !polls.borrow().is_empty() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    drop(handle);
    let seen = seen_statuses.borrow().clone();
    assert!(seen.contains(&LiveStatus::Reconnecting), "{seen:?}");
    assert!(seen.contains(&LiveStatus::Polling), "{seen:?}");
    assert!(!polls.borrow().is_empty(), "it polled");
    assert_eq!(
        polls.borrow()[0],
        3,
        "polling starts after three failed streams"
    );
    assert!(
        stream_attempts.get() >= 4,
        "and it tries the stream again after polling a while"
    );
}

/// Signed out while polling (the stream was already failing): the first poll's 401 ends
/// it, rather than polling on until the stream is tried again.
#[wasm_bindgen_test]
async fn a_poll_refused_for_a_lost_session_ends_the_subscription() {
    let _owner = Owner::new();
    let source = BrokenStream::new(true);
    let polls = source.polls.clone();
    let status = RwSignal::new(LiveStatus::Connecting);
    let config = LiveConfig {
        retry_delays_ms: vec![20, 20],
        poll_every_ms: 50,
        retry_stream_after_ms: 60_000,
        ..LiveConfig::default()
    };
    let _handle = spawn_live(source, 0, Rc::new(|_| ()), status, config);
    for _ in 0..60 {
        if status.get_untracked() == LiveStatus::Revoked {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    assert_eq!(status.get_untracked(), LiveStatus::Revoked);
    assert_eq!(polls.borrow().len(), 1, "one refused poll was enough");
}

/// Retry now ends the polling spell at once: the stream is tried again long before
/// `retry_stream_after_ms`.
#[wasm_bindgen_test]
async fn retry_now_tries_the_stream_again_at_once() {
    let _owner = Owner::new();
    let source = BrokenStream::new(false);
    let (stream_attempts, polls) = (source.stream_attempts.clone(), source.polls.clone());
    let status = RwSignal::new(LiveStatus::Connecting);
    let config = LiveConfig {
        retry_delays_ms: vec![20, 20],
        poll_every_ms: 10_000,
        retry_stream_after_ms: 60_000,
        ..LiveConfig::default()
    };
    let handle = spawn_live(source, 0, Rc::new(|_| ()), status, config);
    for _ in 0..100 {
        if !polls.borrow().is_empty() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    assert_eq!(status.get_untracked(), LiveStatus::Polling);
    let before = stream_attempts.get();
    handle.retry_now();
    for _ in 0..50 {
        if stream_attempts.get() > before {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    assert!(
        stream_attempts.get() > before,
        "streamed again within a second, not after the 10 s poll"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn an_admin_sees_refund_on_a_paid_card_until_all_of_it_is_refunded() {
    let refunded = RwSignal::new(Vec::<(String, i64)>::new());
    let on_refund = Callback::new(move |c: paycard_core::api::Card| {
        refunded.update(|r| r.push((c.id, c.refunded_minor)))
    });
    // Partly refunded: the line says how much; Refund offers the rest.
    let root = container();
    let mut partly = card(CardStatus::Paid, None);
    partly.refunded_minor = 1000;
    mount_to(root.clone(), move || {
        view! { <PaymentCard card=partly.clone() locale=Locale::En side=Side::Operator on_refund=on_refund/> }
    })
    .forget();
    tick().await;
    let group = card_group(&root, "Coffee subscription");
    assert!(group
        .text_content()
        .unwrap()
        .contains("Payment successful · €10.00 refunded"));
    button(&root, "Refund").click();
    tick().await;
    assert_eq!(refunded.get_untracked(), [("card_1".to_owned(), 1000)]);

    // Refunded in full: no button; and the visitor never sees one.
    let root = container();
    let mut all = card(CardStatus::Refunded, None);
    all.refunded_minor = all.amount_minor;
    let visitor_view = card(CardStatus::Paid, None);
    mount_to(root.clone(), move || {
        view! {
            <PaymentCard card=all.clone() locale=Locale::Es side=Side::Operator on_refund=on_refund/>
            <PaymentCard card=visitor_view.clone() locale=Locale::En side=Side::Visitor/>
        }
    })
    .forget();
    tick().await;
    assert!(button_names(&root).is_empty(), "{:?}", button_names(&root));
    assert!(root.text_content().unwrap().contains("Reembolsado"));
}
