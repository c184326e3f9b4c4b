//! Browser tests of the Payments picker, in headless Chromium.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use paycard_console::picker::Picker;
use paycard_core::api::Payment;
use paycard_core::{Currency, Locale, Recurrence};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn payment(id: &str, title: &str, minor: i64, recurrence: Option<Recurrence>) -> Payment {
    Payment {
        id: id.into(),
        brand_id: "acme".into(),
        title: title.into(),
        description: format!("About {title}"),
        amount_minor: minor,
        currency: Currency::from_code("EUR").unwrap(),
        recurrence,
        active: true,
    }
}

fn catalogue() -> Vec<Payment> {
    vec![
        payment(
            "pay_beans",
            "Coffee subscription",
            4900,
            Some(Recurrence::MONTHLY),
        ),
        payment("pay_mug", "Custom mug", 2500, None),
        payment("pay_workshop", "Barista workshop", 12000, None),
    ]
}

struct Mounted {
    root: HtmlElement,
    shared: RwSignal<Vec<String>>,
    closed: RwSignal<u32>,
}

async fn mount_picker(locale: Locale, payments: Option<Vec<Payment>>) -> Mounted {
    let root = document()
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document().body().unwrap().append_child(&root).unwrap();
    let shared = RwSignal::new(Vec::<String>::new());
    let closed = RwSignal::new(0);
    let list = RwSignal::new(payments);
    mount_to(root.clone(), move || {
        view! {
            <Picker locale=locale payments=list
                on_share=Callback::new(move |id| shared.update(|s| s.push(id)))
                on_close=Callback::new(move |_| closed.update(|c| *c += 1))/>
        }
    })
    .forget();
    tick().await;
    Mounted {
        root,
        shared,
        closed,
    }
}

fn items(root: &HtmlElement) -> Vec<Element> {
    let list = root.query_selector_all(".pick").unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.unchecked_into())
        .collect()
}

fn titles(root: &HtmlElement) -> Vec<String> {
    items(root)
        .iter()
        .map(|i| {
            i.query_selector(".pick__title")
                .unwrap()
                .unwrap()
                .text_content()
                .unwrap()
        })
        .collect()
}

fn search(root: &HtmlElement, name: &str) -> HtmlInputElement {
    root.query_selector(&format!("input[aria-label='{name}']"))
        .unwrap()
        .expect("search box")
        .unchecked_into()
}

fn key(target: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    target
        .dispatch_event(
            &web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
}

fn focused_title() -> Option<String> {
    let active = document().active_element()?;
    let item = active.closest(".pick").ok()??;
    item.query_selector(".pick__title").ok()??.text_content()
}

#[wasm_bindgen_test]
async fn lists_payments_with_their_price_and_searches_them() {
    let m = mount_picker(Locale::En, Some(catalogue())).await;
    assert_eq!(
        titles(&m.root),
        ["Coffee subscription", "Custom mug", "Barista workshop"]
    );
    let text = m.root.text_content().unwrap();
    assert!(
        text.contains("€49.00 / month") && text.contains("€25.00"),
        "{text}"
    );

    let input = search(&m.root, "Search payments");
    assert_eq!(
        document().active_element().unwrap(),
        input.clone().unchecked_into::<Element>(),
        "the search box takes focus"
    );
    input.set_value("MUG");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(titles(&m.root), ["Custom mug"]);
    // With or without accents, as the server searches.
    input.set_value("BARÍSTA");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(titles(&m.root), ["Barista workshop"]);
    input.set_value("nothing like this");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert!(titles(&m.root).is_empty());
    assert!(m
        .root
        .text_content()
        .unwrap()
        .contains("No payment matches your search."));
}

#[wasm_bindgen_test]
async fn arrow_keys_move_between_payments_and_enter_shares() {
    let m = mount_picker(Locale::En, Some(catalogue())).await;
    let input = search(&m.root, "Search payments");
    key(&input, "ArrowDown");
    assert_eq!(focused_title().as_deref(), Some("Coffee subscription"));
    let first = document().active_element().unwrap();
    key(&first, "ArrowDown");
    assert_eq!(focused_title().as_deref(), Some("Custom mug"));
    let second = document().active_element().unwrap();
    key(&second, "ArrowDown");
    key(&document().active_element().unwrap(), "ArrowDown");
    assert_eq!(
        focused_title().as_deref(),
        Some("Barista workshop"),
        "stops at the last"
    );
    key(&document().active_element().unwrap(), "ArrowUp");
    assert_eq!(focused_title().as_deref(), Some("Custom mug"));
    key(&document().active_element().unwrap(), "Enter");
    tick().await;
    assert_eq!(m.shared.get_untracked(), ["pay_mug"]);
}

#[wasm_bindgen_test]
async fn each_payment_has_a_share_button_and_escape_closes() {
    let m = mount_picker(Locale::En, Some(catalogue())).await;
    let buttons: Vec<HtmlButtonElement> = items(&m.root)
        .iter()
        .map(|i| {
            i.query_selector("button")
                .unwrap()
                .unwrap()
                .unchecked_into()
        })
        .collect();
    assert!(buttons
        .iter()
        .all(|b| b.text_content().unwrap().trim() == "Share"));
    buttons[2].click();
    tick().await;
    assert_eq!(m.shared.get_untracked(), ["pay_workshop"]);
    key(&search(&m.root, "Search payments"), "Escape");
    assert_eq!(m.closed.get_untracked(), 1);
}

#[wasm_bindgen_test]
async fn loading_empty_and_spanish() {
    let loading = mount_picker(Locale::En, None).await;
    assert!(loading.root.text_content().unwrap().contains("Loading…"));
    let empty = mount_picker(Locale::En, Some(Vec::new())).await;
    assert!(empty
        .root
        .text_content()
        .unwrap()
        .contains("This brand has no active payments yet."));
    let es = mount_picker(Locale::Es, Some(catalogue())).await;
    search(&es.root, "Buscar pagos");
    let text = es.root.text_content().unwrap();
    assert!(
        text.contains("49,00 € / mes") && text.contains("Compartir"),
        "{text}"
    );
}

fn conversation(id: &str, updated_at: &str) -> paycard_core::api::Conversation {
    paycard_core::api::Conversation {
        id: id.into(),
        brand_id: "acme".into(),
        visitor_name: format!("Visitor {id}"),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: updated_at.into(),
        last_message: None,
        unread: 0,
        closed_at: None,
    }
}

#[wasm_bindgen_test]
fn a_filter_admits_what_it_shows_and_leaves_search_to_the_server() {
    use paycard_client::api::ListFilter;
    let open = conversation("c1", "2026-01-01T00:00:00.000Z");
    let mut closed = conversation("c2", "2026-01-01T00:00:00.000Z");
    closed.closed_at = Some("2026-01-02T00:00:00.000Z".into());
    let mut zen = conversation("c3", "2026-01-01T00:00:00.000Z");
    zen.brand_id = "zen".into();
    let only_open = ListFilter {
        open: Some(true),
        ..ListFilter::default()
    };
    assert!(only_open.admits(&open) && !only_open.admits(&closed) && only_open.admits(&zen));
    let only_closed = ListFilter {
        open: Some(false),
        ..ListFilter::default()
    };
    assert!(!only_closed.admits(&open) && only_closed.admits(&closed));
    let zen_only = ListFilter {
        brand_id: Some("zen".into()),
        ..ListFilter::default()
    };
    assert!(zen_only.admits(&zen) && !zen_only.admits(&open) && !zen_only.admits(&closed));
    let all = ListFilter::default();
    assert!([&open, &closed, &zen].iter().all(|c| all.admits(c)));
}

#[wasm_bindgen_test]
fn a_fresh_first_page_keeps_the_older_pages_already_scrolled_to() {
    use paycard_console::merge_first_page;
    let ids = |list: &[paycard_core::api::Conversation]| {
        list.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
    };
    // Loaded: page one (c4, c3) and page two (c2, c1).
    let mut list = vec![
        conversation("c4", "2026-01-04T00:00:00.000Z"),
        conversation("c3", "2026-01-03T00:00:00.000Z"),
        conversation("c2", "2026-01-02T00:00:00.000Z"),
        conversation("c1", "2026-01-01T00:00:00.000Z"),
    ];
    // Meanwhile c2 got a message: the new first page is c2, c4.
    let fresh = vec![
        conversation("c2", "2026-01-05T00:00:00.000Z"),
        conversation("c4", "2026-01-04T00:00:00.000Z"),
    ];
    assert!(merge_first_page(&mut list, fresh.clone(), true));
    assert_eq!(ids(&list), ["c2", "c4", "c3", "c1"]);
    // When the first page is all there is, it is the whole list.
    let mut list = vec![conversation("c9", "2026-01-09T00:00:00.000Z")];
    assert!(!merge_first_page(&mut list, fresh, false));
    assert_eq!(ids(&list), ["c2", "c4"]);
}
