//! Browser tests of the widget's components, in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`, see `.cargo/config.toml`).
//! They find elements by role and accessible name, as a person (or a screen reader)
//! does, and assert on text and attributes.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use paycard_widget::chat::{ChatMessage, ChatPanel};
use paycard_widget::i18n::Locale;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page to mount into.
fn container() -> HtmlElement {
    let document = document();
    let el = document.create_element("div").unwrap().unchecked_into::<HtmlElement>();
    document.body().unwrap().append_child(&el).unwrap();
    el
}

fn textbox(root: &HtmlElement, name: &str) -> HtmlInputElement {
    root.query_selector(&format!("input[aria-label='{name}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no textbox named {name:?}"))
        .unchecked_into()
}

fn button(root: &HtmlElement, name: &str) -> HtmlButtonElement {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .map(|b| b.unchecked_into::<HtmlButtonElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == name)
        .unwrap_or_else(|| panic!("no button named {name:?}"))
}

fn type_into(input: &HtmlInputElement, text: &str) {
    input.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

fn transcript(root: &HtmlElement) -> Vec<String> {
    let items = root.query_selector_all("[role=log] li.msg").unwrap();
    (0..items.length())
        .filter_map(|i| items.item(i))
        .map(|n| n.text_content().unwrap_or_default().trim().to_owned())
        .collect()
}

/// Mounts a chat panel whose `on_send` appends to the transcript and records what was sent.
fn mount_chat(locale: Locale) -> (HtmlElement, RwSignal<Vec<String>>) {
    let root = container();
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let sent = RwSignal::new(Vec::<String>::new());
    let on_send = Callback::new(move |text: String| {
        sent.update(|s| s.push(text.clone()));
        messages.update(|m| {
            let id = m.len() as u64 + 1;
            m.push(ChatMessage { id, from_visitor: true, text })
        });
    });
    mount_to(root.clone(), move || view! { <ChatPanel locale=locale messages=messages on_send=on_send/> }).forget();
    (root, sent)
}

#[wasm_bindgen_test]
async fn sending_a_message_shows_it_and_clears_the_box() {
    let (root, sent) = mount_chat(Locale::En);
    let input = textbox(&root, "Message");
    let send = button(&root, "Send");
    assert!(send.disabled(), "nothing to send yet");
    assert!(root.text_content().unwrap().contains("Ask us anything"), "empty state shown");

    type_into(&input, "  Do you ship to Lisbon?  ");
    tick().await;
    assert!(!send.disabled());
    send.click();
    tick().await;

    assert_eq!(sent.get_untracked(), ["Do you ship to Lisbon?"]);
    assert_eq!(transcript(&root), ["Do you ship to Lisbon?"]);
    assert_eq!(input.value(), "", "the box is cleared after sending");
    assert!(send.disabled());
    assert!(!root.text_content().unwrap().contains("Ask us anything"), "empty state gone");
}

#[wasm_bindgen_test]
async fn blank_messages_are_not_sent_even_by_enter() {
    let (root, sent) = mount_chat(Locale::En);
    let input = textbox(&root, "Message");
    type_into(&input, "    ");
    tick().await;
    assert!(button(&root, "Send").disabled());
    // Enter in the box submits the form.
    let form: web_sys::HtmlFormElement = root.query_selector("form").unwrap().unwrap().unchecked_into();
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
