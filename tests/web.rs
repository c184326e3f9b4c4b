//! Browser tests of the widget's chat panel, in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`, see `.cargo/config.toml`).
//! They find elements by role and accessible name, as a person (or a screen reader)
//! does, and assert on text and attributes. The card's own tests are `paycard-client`'s.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use paycard_core::api::{Author, Card, Message};
use paycard_core::{CardStatus, Currency, Locale, Recurrence};
use paycard_widget::chat::ChatPanel;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

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

fn textbox(root: &HtmlElement, name: &str) -> HtmlInputElement {
    root.query_selector(&format!("input[aria-label='{name}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no textbox named {name:?}"))
        .unchecked_into()
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

fn type_into(input: &HtmlInputElement, text: &str) {
    input.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
}

fn transcript(root: &HtmlElement) -> Vec<String> {
    let items = root.query_selector_all("[role=log] li.msg").unwrap();
    (0..items.length())
        .filter_map(|i| items.item(i))
        .map(|n| n.text_content().unwrap_or_default().trim().to_owned())
        .collect()
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

// ---------------------------------------------------------------- the chat panel

fn text_message(id: &str, author: Author, text: &str) -> Message {
    Message {
        id: id.into(),
        conversation_id: "conv_1".into(),
        author,
        author_name: if author == Author::Visitor {
            "Ana".into()
        } else {
            "Oscar".into()
        },
        text: Some(text.into()),
        card: None,
        created_at: String::new(),
    }
}

/// Mounts a chat panel whose `on_send` appends to the transcript and records what was sent.
fn mount_chat(locale: Locale) -> (HtmlElement, RwSignal<Vec<String>>) {
    let root = container();
    let messages = RwSignal::new(Vec::<Message>::new());
    let sent = RwSignal::new(Vec::<String>::new());
    let on_send = Callback::new(move |text: String| {
        sent.update(|s| s.push(text.clone()));
        messages.update(|m| {
            let id = format!("msg_{}", m.len() + 1);
            m.push(text_message(&id, Author::Visitor, &text))
        });
    });
    mount_to(
        root.clone(),
        move || view! { <ChatPanel locale=locale messages=messages on_send=on_send/> },
    )
    .forget();
    (root, sent)
}

#[wasm_bindgen_test]
async fn sending_a_message_shows_it_and_clears_the_box() {
    let (root, sent) = mount_chat(Locale::En);
    let input = textbox(&root, "Message");
    let send = button(&root, "Send");
    assert!(send.disabled(), "nothing to send yet");
    assert!(
        root.text_content().unwrap().contains("Ask us anything"),
        "empty state shown"
    );

    type_into(&input, "  Do you ship to Lisbon?  ");
    tick().await;
    assert!(!send.disabled());
    send.click();
    tick().await;

    assert_eq!(sent.get_untracked(), ["Do you ship to Lisbon?"]);
    assert_eq!(transcript(&root), ["You: Do you ship to Lisbon?"]);
    assert_eq!(input.value(), "", "the box is cleared after sending");
    assert!(send.disabled());
    assert!(
        !root.text_content().unwrap().contains("Ask us anything"),
        "empty state gone"
    );
}

#[wasm_bindgen_test]
async fn blank_messages_are_not_sent_even_by_enter() {
    let (root, sent) = mount_chat(Locale::En);
    let input = textbox(&root, "Message");
    type_into(&input, "    ");
    tick().await;
    assert!(button(&root, "Send").disabled());
    let form: web_sys::HtmlFormElement = root
        .query_selector("form")
        .unwrap()
        .unwrap()
        .unchecked_into();
    form.request_submit().unwrap();
    tick().await;
    assert!(sent.get_untracked().is_empty());
    assert!(transcript(&root).is_empty());
}

#[wasm_bindgen_test]
async fn speaks_spanish() {
    let (root, sent) = mount_chat(Locale::Es);
    let input = textbox(&root, "Mensaje");
    type_into(&input, "Hola");
    tick().await;
    button(&root, "Enviar").click();
    tick().await;
    assert_eq!(sent.get_untracked(), ["Hola"]);
    assert!(root.text_content().unwrap().contains("Chatea con nosotros"));
}

#[wasm_bindgen_test]
async fn the_transcript_shows_cards_among_messages_and_redraws_them_when_they_change() {
    let root = container();
    let messages = RwSignal::new(vec![
        text_message("m1", Author::Visitor, "A mug please"),
        Message {
            text: None,
            card: Some(card(CardStatus::Pending, None)),
            ..text_message("m2", Author::Operator, "")
        },
    ]);
    let noop = Callback::new(|_: String| ());
    mount_to(root.clone(), move || {
        view! { <ChatPanel locale=Locale::En messages=messages on_send=noop on_pay=noop on_decline=noop/> }
    })
    .forget();
    tick().await;
    let group = card_group(&root, "Coffee subscription");
    assert_eq!(
        group.get_attribute("data-status").as_deref(),
        Some("pending")
    );
    assert_eq!(button_names(&group), ["Pay Now", "Cancel"]);

    messages.update(|m| {
        let c = m[1].card.as_mut().unwrap();
        c.status = CardStatus::Cancelled;
        c.version = 2;
    });
    tick().await;
    let group = card_group(&root, "Coffee subscription");
    assert_eq!(
        group.get_attribute("data-status").as_deref(),
        Some("cancelled")
    );
    assert!(button_names(&group).is_empty());
    assert!(group
        .text_content()
        .unwrap()
        .contains("Cancelled by the operator"));
}
