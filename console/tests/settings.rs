//! Browser tests of the Settings forms, in headless Chromium: what the shared rules
//! catch before anything is sent, in both languages, and how an error leaves.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use paycard_console::settings::payments::PaymentForm;
use paycard_core::api::{Brand, Payment};
use paycard_core::{Currency, Locale, Recurrence};
use wasm_bindgen_test::*;
use web_sys::{Event, EventInit, HtmlElement, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

fn brands() -> Vec<Brand> {
    vec![Brand {
        id: "acme".into(),
        name: "Acme Coffee".into(),
        allowed_origins: vec![],
        payments: vec![],
        embed_tag: String::new(),
    }]
}

struct Form {
    root: HtmlElement,
    saved: RwSignal<u32>,
}

async fn mount_form(locale: Locale, payment: Option<Payment>) -> Form {
    mount_form_with(locale, payment, Vec::new()).await
}

async fn mount_form_with(
    locale: Locale,
    payment: Option<Payment>,
    gateway_kinds: Vec<String>,
) -> Form {
    let root = document()
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document().body().unwrap().append_child(&root).unwrap();
    let saved = RwSignal::new(0);
    mount_to(root.clone(), move || {
        view! {
            <PaymentForm locale=locale payment=payment.clone() brands=brands() default_currency="EUR".to_owned()
                gateway_kinds=gateway_kinds.clone()
                on_done=Callback::new(move |_| saved.update(|n| *n += 1))
                on_cancel=Callback::new(|_| ())/>
        }
    })
    .forget();
    tick().await;
    Form { root, saved }
}

impl Form {
    fn input(&self, id: &str) -> HtmlInputElement {
        self.root
            .query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap_or_else(|| panic!("#{id}"))
            .unchecked_into()
    }

    fn error(&self, id: &str) -> String {
        self.root
            .query_selector(&format!("#{id}-error"))
            .unwrap()
            .unwrap_or_else(|| panic!("#{id}-error"))
            .text_content()
            .unwrap_or_default()
    }

    async fn type_into(&self, id: &str, text: &str) {
        let input = self.input(id);
        input.set_value(text);
        let init = EventInit::new();
        init.set_bubbles(true);
        input
            .dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap())
            .unwrap();
        tick().await;
    }

    async fn choose(&self, id: &str, value: &str) {
        let select: HtmlSelectElement = self
            .root
            .query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap()
            .unchecked_into();
        select.set_value(value);
        let init = EventInit::new();
        init.set_bubbles(true);
        select
            .dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap())
            .unwrap();
        tick().await;
    }

    async fn submit(&self) {
        let form: web_sys::HtmlFormElement = self
            .root
            .query_selector("form")
            .unwrap()
            .unwrap()
            .unchecked_into();
        form.request_submit().unwrap();
        tick().await;
    }
}

#[wasm_bindgen_test]
async fn an_empty_form_shows_each_fields_error_and_sends_nothing() {
    let form = mount_form(Locale::En, None).await;
    form.submit().await;
    assert_eq!(form.error("pay-title"), "This field is required.");
    assert_eq!(form.error("pay-amount"), "This field is required.");
    // The only brand is chosen for the admin.
    assert_eq!(form.error("pay-brand"), "");
    assert_eq!(form.saved.get_untracked(), 0);
    assert_eq!(
        form.input("pay-title")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    // Typing in a field takes its error away; the others stay.
    form.type_into("pay-title", "Tasting club").await;
    assert_eq!(form.error("pay-title"), "");
    assert_eq!(form.error("pay-amount"), "This field is required.");
}

#[wasm_bindgen_test]
async fn amounts_are_read_in_the_admins_language_and_the_currencys_exponent() {
    let form = mount_form(Locale::Es, None).await;
    form.type_into("pay-title", "Clase").await;
    form.type_into("pay-amount", "12,345").await;
    form.submit().await;
    assert_eq!(
        form.error("pay-amount"),
        "Escriba un importe como 25,00, sin más decimales de los que tiene la moneda (ninguno en JPY).",
        "EUR has two decimals"
    );
    form.type_into("pay-amount", "0").await;
    form.submit().await;
    assert_eq!(
        form.error("pay-amount"),
        "El importe debe ser mayor que cero."
    );
    form.choose("pay-currency", "JPY").await;
    form.type_into("pay-amount", "1500,5").await;
    form.submit().await;
    assert_eq!(
        form.error("pay-amount"),
        "Escriba un importe como 25,00, sin más decimales de los que tiene la moneda (ninguno en JPY).",
        "JPY has none"
    );
}

#[wasm_bindgen_test]
async fn a_custom_frequency_is_bounded_by_the_shared_rules() {
    let form = mount_form(Locale::En, None).await;
    form.type_into("pay-title", "Tasting club").await;
    form.type_into("pay-amount", "19.50").await;
    form.choose("pay-frequency", "custom").await;
    form.type_into("pay-every", "400").await;
    form.submit().await;
    assert_eq!(form.error("pay-every"), "Enter a number from 1 to 365.");
    assert_eq!(form.error("pay-amount"), "");
}

#[wasm_bindgen_test]
async fn editing_shows_the_payment_as_saved() {
    let payment = Payment {
        id: "pay_1".into(),
        brand_id: "acme".into(),
        title: "Tasting club".into(),
        description: "Beans".into(),
        amount_minor: 123_450,
        currency: Currency::from_code("EUR").unwrap(),
        recurrence: Some(Recurrence::every(2, paycard_core::Interval::Week)),
        active: true,
    };
    let form = mount_form(Locale::Es, Some(payment)).await;
    assert_eq!(form.input("pay-title").value(), "Tasting club");
    assert_eq!(form.input("pay-amount").value(), "1234,50");
    assert_eq!(form.input("pay-every").value(), "2");
    let unit: HtmlSelectElement = form
        .root
        .query_selector("#pay-unit")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(unit.value(), "week");
}

#[wasm_bindgen_test]
async fn the_form_says_which_configured_gateways_can_take_the_payment() {
    let form = mount_form_with(
        Locale::En,
        None,
        vec!["stripe".into(), "paypal".into(), "razorpay".into()],
    )
    .await;
    let note = || {
        form.root
            .query_selector(".payment__gateways")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap_or_default()
    };
    form.type_into("pay-amount", "25.00").await;
    // EUR once: PayPal and Razorpay take it too, nothing to say.
    assert_eq!(note(), "");
    form.choose("pay-frequency", "monthly").await;
    assert_eq!(
        note(),
        "Visitors can pay it with Stripe. PayPal takes one-time payments only. Razorpay takes one-time payments only."
    );
    form.choose("pay-frequency", "once").await;
    form.choose("pay-currency", "KWD").await;
    form.type_into("pay-amount", "295.991").await;
    assert_eq!(
        note(),
        "Visitors can pay it with Stripe. PayPal does not take KWD. Razorpay takes KWD amounts in coarser steps only."
    );
    let spanish = mount_form_with(Locale::Es, None, vec!["paypal".into()]).await;
    spanish.choose("pay-frequency", "monthly").await;
    let text = spanish
        .root
        .query_selector(".payment__gateways")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap_or_default();
    assert_eq!(
        text,
        "Ninguna pasarela configurada puede cobrar este pago: los visitantes no podrían pagarlo. PayPal solo acepta pagos únicos."
    );
}
