//! Settings, for admins only (SPEC §2.1–2.4, §8.5): the payment portal, its gateways, the
//! payments, the brands, the API keys, and notifications (receipts, webhooks). Each page loads what it shows from the admin API, validates
//! forms with the shared rules as the admin types, and shows the server's field errors
//! next to their fields.

pub mod api_keys;
pub mod brands;
pub mod gateways;
pub mod notifications;
pub mod payments;
pub mod portal;

use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;
use paycard_core::validation::FieldError;
use paycard_core::Locale;

use crate::i18n::tr;
use paycard_client::ApiError;

/// The settings pages, in the order of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Portal,
    Gateways,
    Payments,
    Brands,
    ApiKeys,
    Notifications,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Portal,
        Section::Gateways,
        Section::Payments,
        Section::Brands,
        Section::ApiKeys,
        Section::Notifications,
    ];

    fn path(self) -> &'static str {
        match self {
            // The Settings link's own page (`/console/settings/portal` shows it too).
            Section::Portal => "/console/settings",
            Section::Gateways => "/console/settings/gateways",
            Section::Payments => "/console/settings/payments",
            Section::Brands => "/console/settings/brands",
            Section::ApiKeys => "/console/settings/api-keys",
            Section::Notifications => "/console/settings/notifications",
        }
    }

    pub fn title(self, locale: Locale) -> &'static str {
        match self {
            Section::Portal => tr(locale, "Payment portal", "Portal de pagos"),
            Section::Gateways => tr(locale, "Gateways", "Pasarelas"),
            Section::Payments => tr(locale, "Payments", "Pagos"),
            Section::Brands => tr(locale, "Brands", "Marcas"),
            Section::ApiKeys => tr(locale, "API keys", "Claves de API"),
            Section::Notifications => tr(locale, "Notifications", "Notificaciones"),
        }
    }
}

/// A settings page: the section navigation and the section's content.
#[component]
pub fn SettingsPage(locale: Locale, section: Section, is_admin: bool) -> impl IntoView {
    if !is_admin {
        return view! {
            <section class="settings">
                <p class="settings__notice">{tr(locale, "Only admins can change settings.", "Solo los administradores pueden cambiar los ajustes.")}</p>
            </section>
        }
        .into_any();
    }
    let confirm = Confirm::new();
    provide_context(confirm);
    view! {
        <ConfirmDialog locale=locale confirm=confirm/>
        <section class="settings" aria-labelledby="settings-title">
            <h1 id="settings-title" class="settings__title">{tr(locale, "Settings", "Ajustes")}</h1>
            <nav class="settings__nav" aria-label=tr(locale, "Settings sections", "Secciones de ajustes")>
                {Section::ALL.into_iter().map(|s| view! {
                    <A href=s.path() exact=true attr:class="settings__tab">{s.title(locale)}</A>
                }).collect_view()}
            </nav>
            <div class="settings__body">
                {match section {
                    Section::Portal => view! { <portal::PortalSettings locale=locale/> }.into_any(),
                    Section::Gateways => view! { <gateways::GatewaySettings locale=locale/> }.into_any(),
                    Section::Payments => view! { <payments::PaymentSettings locale=locale/> }.into_any(),
                    Section::Brands => view! { <brands::BrandSettings locale=locale/> }.into_any(),
                    Section::ApiKeys => view! { <api_keys::ApiKeySettings locale=locale/> }.into_any(),
                    Section::Notifications => view! { <notifications::NotificationSettings locale=locale/> }.into_any(),
                }}
            </div>
        </section>
    }
    .into_any()
}

/// The message for `field` among `errors`, in the admin's language.
pub fn error_for(errors: &[FieldError], field: &str, locale: Locale) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message(locale))
}

/// What to say when a request failed other than with field errors.
pub fn failure_text(error: &ApiError, locale: Locale) -> &'static str {
    match error.code() {
        "no_portal" => tr(
            locale,
            "Connect a payment portal first.",
            "Primero conecta un portal de pagos.",
        ),
        "gateway_exists" => tr(
            locale,
            "That gateway is already set up; replace its credentials instead.",
            "Esa pasarela ya está configurada; sustituye sus credenciales.",
        ),
        "brand_exists" => tr(
            locale,
            "A brand with that ID already exists.",
            "Ya existe una marca con ese ID.",
        ),
        "not_refundable" => tr(
            locale,
            "This card has nothing left to refund.",
            "A esta tarjeta no le queda nada por reembolsar.",
        ),
        "refund_unavailable" => tr(
            locale,
            "This payment went through a gateway paycard cannot refund yet: refund it in the gateway's dashboard.",
            "Este pago se hizo con una pasarela que paycard aún no puede reembolsar: reembólsalo en el panel de la pasarela.",
        ),
        "validation_failed" => tr(
            locale,
            "Please correct the fields marked below.",
            "Corrige los campos señalados.",
        ),
        "forbidden" => tr(
            locale,
            "Only admins can change settings.",
            "Solo los administradores pueden cambiar los ajustes.",
        ),
        "network" => tr(
            locale,
            "The server cannot be reached. Check your connection and try again.",
            "No se puede contactar con el servidor. Comprueba la conexión e inténtalo de nuevo.",
        ),
        _ => tr(
            locale,
            "Something went wrong. Please try again.",
            "Algo salió mal. Inténtalo de nuevo.",
        ),
    }
}

/// The errors a field's edit makes stale: those of fields named `prefix` or under it.
#[derive(Clone)]
pub struct Clears {
    pub errors: RwSignal<Vec<FieldError>>,
    pub prefix: String,
}

impl Clears {
    fn clear(&self) {
        let prefix = self.prefix.as_str();
        if self
            .errors
            .with_untracked(|e| e.iter().any(|e| e.field.starts_with(prefix)))
        {
            self.errors
                .update(|e| e.retain(|e| !e.field.starts_with(prefix)));
        }
    }
}

/// A labelled form field with its error line. The control inside must carry `id` and
/// `aria-describedby="{id}-error"`. With `clears`, editing the field removes its error:
/// the message goes as soon as the admin acts on it.
#[component]
pub fn FormField(
    id: String,
    label: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] clears: Option<Clears>,
    children: Children,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let clears = StoredValue::new(clears);
    let edited = move || {
        clears.with_value(|c| {
            if let Some(c) = c {
                c.clear()
            }
        })
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()
            on:input=move |_| edited() on:change=move |_| edited()>
            <label for=id>{label}</label>
            {children()}
            {hint.map(|h| view! { <p class="field__hint">{h}</p> })}
            <p class="field__error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

/// A modal dialog (the browser's own `<dialog>`: focus stays inside, Escape closes it)
/// that shows its content while `open` is true.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    children: ChildrenFn,
) -> impl IntoView {
    static NEXT_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    let title_id = format!(
        "dialog-title-{}",
        NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let labelled_by = title_id.clone();
    view! {
        <dialog class="modal" node_ref=dialog aria-labelledby=labelled_by on:close=move |_| open.set(false)>
            <h2 class="modal__title" id=title_id>{title}</h2>
            <Show when=move || open.get()>{children()}</Show>
        </dialog>
    }
}

/// A form's request as a Leptos [`Action`]: Save dispatches it, its `pending()` is the
/// form's busy state, and `on_answer` takes each answer as it comes.
pub fn submission<I, O, Fut>(
    request: impl Fn(I) -> Fut + 'static,
    on_answer: impl Fn(Result<O, ApiError>) + 'static,
) -> Action<I, ()>
where
    I: Clone + 'static,
    O: 'static,
    Fut: std::future::Future<Output = Result<O, ApiError>> + 'static,
{
    let on_answer = std::rc::Rc::new(on_answer);
    Action::new_local(move |input: &I| {
        let answer = request(input.clone());
        let on_answer = on_answer.clone();
        async move { on_answer(answer.await) }
    })
}

/// A form's Save: a [`submission`] whose answer goes to `on_done`, or, refused, shows
/// beside the form ([`report`]).
pub fn form_save<I, O, Fut>(
    request: impl Fn(I) -> Fut + 'static,
    on_done: Callback<O>,
    errors: RwSignal<Vec<FieldError>>,
    failure: RwSignal<Option<&'static str>>,
    locale: Locale,
) -> Action<I, ()>
where
    I: Clone + 'static,
    O: 'static,
    Fut: std::future::Future<Output = Result<O, ApiError>> + 'static,
{
    submission(request, move |answer| match answer {
        Ok(done) => on_done.run(done),
        Err(e) => report(&e, errors, failure, locale),
    })
}

/// Shows a failed save: its field errors beside their fields, or else one line saying
/// what went wrong.
pub fn report(
    error: &ApiError,
    errors: RwSignal<Vec<FieldError>>,
    failure: RwSignal<Option<&'static str>>,
    locale: Locale,
) {
    if error.fields().is_empty() {
        failure.set(Some(failure_text(error, locale)));
    } else {
        errors.set(error.fields().to_vec());
        failure.set(None);
    }
}

/// Copies `text` (a webhook URL, an embed tag) to the clipboard and says so beside the
/// button. Where the browser offers no clipboard (a page served over plain HTTP), the
/// text next to the button is selected instead, for Ctrl+C.
#[component]
pub fn CopyButton(
    locale: Locale,
    /// What is copied.
    text: String,
    /// The button's accessible name: "Copy webhook URL".
    label: String,
    /// The element showing the text, selected when the clipboard is not available.
    source_id: String,
) -> impl IntoView {
    let said = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let (text, source_id) = (text.clone(), source_id.clone());
        leptos::task::spawn_local(async move {
            let copied = match clipboard() {
                Some(clipboard) => {
                    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
                        .await
                        .is_ok()
                }
                None => false,
            };
            said.set(Some(if copied {
                tr(locale, "Copied.", "Copiado.")
            } else {
                select_text_of(&source_id);
                tr(
                    locale,
                    "Selected: press Ctrl+C (⌘C on a Mac) to copy.",
                    "Seleccionado: pulsa Ctrl+C (⌘C en un Mac) para copiar.",
                )
            }));
            set_timeout(move || said.set(None), std::time::Duration::from_secs(4));
        });
    };
    view! {
        <button type="button" class="btn btn--small" aria-label=label on:click=copy>{tr(locale, "Copy", "Copiar")}</button>
        <span class="copy__said" role="status">{move || said.get()}</span>
    }
}

/// The page's clipboard, when it has one (secure contexts only).
fn clipboard() -> Option<web_sys::Clipboard> {
    let navigator = web_sys::window()?.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
    (!clipboard.is_undefined()).then(|| navigator.clipboard())
}

fn select_text_of(id: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let (Some(el), Ok(Some(selection))) = (
        window.document().and_then(|d| d.get_element_by_id(id)),
        window.get_selection(),
    ) {
        let _ = selection.select_all_children(&el);
    }
}

/// A dialog form's buttons: go back without saving, and save (waiting while `busy`).
#[component]
pub fn FormActions(
    back_label: &'static str,
    submit_label: &'static str,
    #[prop(into)] busy: Signal<bool>,
    on_back: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="form__actions">
            <button type="button" class="btn" on:click=move |_| on_back.run(())>{back_label}</button>
            <button type="submit" class="btn btn--primary" disabled=busy>{submit_label}</button>
        </div>
    }
}

/// Asks before a destructive action, in the app's own dialog (the browser's `confirm()`
/// looks like no part of the app, blocks the page and cannot be styled or translated in
/// its buttons). Given by [`SettingsPage`] to every settings page through context.
#[derive(Clone, Copy)]
pub struct Confirm {
    /// The question and its yes-button while asked.
    asked: RwSignal<Option<(String, String)>>,
    answer: StoredValue<Option<futures_channel::oneshot::Sender<bool>>, LocalStorage>,
}

impl Confirm {
    fn new() -> Confirm {
        Confirm {
            asked: RwSignal::new(None),
            answer: StoredValue::new_local(None),
        }
    }

    /// Shows `question` with `yes` and "Cancel"; true when the admin says yes.
    pub async fn ask(self, question: String, yes: &str) -> bool {
        let (sender, receiver) = futures_channel::oneshot::channel();
        // A question still open (it cannot be, the dialog is modal) is answered no.
        if let Some(old) = self
            .answer
            .try_update_value(|a| a.replace(sender))
            .flatten()
        {
            let _ = old.send(false);
        }
        self.asked.set(Some((question, yes.to_owned())));
        receiver.await.unwrap_or(false)
    }

    fn reply(self, yes: bool) {
        self.asked.set(None);
        if let Some(sender) = self.answer.try_update_value(Option::take).flatten() {
            let _ = sender.send(yes);
        }
    }
}

/// The settings pages' [`Confirm`].
pub fn use_confirm() -> Confirm {
    expect_context::<Confirm>()
}

/// The dialog of [`Confirm`]: modal, focus on "Cancel" (the safe answer), Escape says no.
#[component]
fn ConfirmDialog(locale: Locale, confirm: Confirm) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let cancel = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if confirm.asked.with(Option::is_some) {
            if !el.open() {
                let _ = el.show_modal();
            }
            if let Some(b) = cancel.get() {
                let _ = b.focus();
            }
        } else if el.open() {
            el.close();
        }
    });
    view! {
        <dialog class="modal confirm" node_ref=dialog role="alertdialog" aria-labelledby="confirm-question"
            on:close=move |_| if confirm.asked.with_untracked(Option::is_some) { confirm.reply(false) }>
            <p id="confirm-question" class="confirm__question">{move || confirm.asked.with(|a| a.as_ref().map(|(q, _)| q.clone()))}</p>
            <div class="form__actions">
                <button type="button" class="btn" node_ref=cancel on:click=move |_| confirm.reply(false)>
                    {tr(locale, "Cancel", "Cancelar")}
                </button>
                <button type="button" class="btn btn--danger" on:click=move |_| confirm.reply(true)>
                    {move || confirm.asked.with(|a| a.as_ref().map(|(_, yes)| yes.clone()))}
                </button>
            </div>
        </dialog>
    }
}
