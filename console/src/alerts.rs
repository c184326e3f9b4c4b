//! Telling the operator of new messages when they are not looking at them: the unread
//! total in the tab's title always, and, only once they ask for it with a button (never
//! on load), a desktop notification and a short sound. The choices are kept in this
//! browser.

use leptos::prelude::*;
use paycard_core::api::Conversation;
use paycard_core::Locale;

use crate::i18n::tr;

const DESKTOP_KEY: &str = "paycard.console.desktop-notifications";
const SOUND_KEY: &str = "paycard.console.sound";

/// What the operator turned on.
#[derive(Debug, Clone, Copy)]
pub struct Alerts {
    pub desktop: RwSignal<bool>,
    pub sound: RwSignal<bool>,
}

fn stored(key: &str) -> bool {
    window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(key).ok().flatten())
        .as_deref()
        == Some("on")
}

fn store(key: &str, on: bool) {
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(key, if on { "on" } else { "off" });
    }
}

fn permission_granted() -> bool {
    web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
}

impl Alerts {
    /// The choices kept from before (desktop ones only while the browser still allows).
    pub fn load() -> Alerts {
        let can_notify = js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false);
        Alerts {
            desktop: RwSignal::new(can_notify && stored(DESKTOP_KEY) && permission_granted()),
            sound: RwSignal::new(stored(SOUND_KEY)),
        }
    }

    /// A visitor wrote `text` in `who`'s conversation while the operator was elsewhere.
    pub fn new_message(&self, who: &str, text: &str) {
        if self.desktop.get_untracked() && permission_granted() {
            let options = web_sys::NotificationOptions::new();
            options.set_body(text);
            options.set_tag("paycard-message");
            let _ = web_sys::Notification::new_with_options(who, &options);
        }
        if self.sound.get_untracked() {
            chime();
        }
    }
}

/// Two short soft notes, made by the browser (no sound file to load).
fn chime() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let now = context.current_time();
    for (i, frequency) in [880.0_f32, 1_320.0].into_iter().enumerate() {
        let (Ok(osc), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else {
            return;
        };
        osc.frequency().set_value(frequency);
        let start = now + i as f64 * 0.12;
        let _ = gain.gain().set_value_at_time(0.0001, start);
        let _ = gain
            .gain()
            .exponential_ramp_to_value_at_time(0.15, start + 0.02);
        let _ = gain
            .gain()
            .exponential_ramp_to_value_at_time(0.0001, start + 0.25);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&context.destination());
        let _ = osc.start_with_when(start);
        let _ = osc.stop_with_when(start + 0.3);
    }
}

/// Keeps the tab's title saying how many visitor messages wait unread ("(3) …").
pub fn unread_in_title(conversations: RwSignal<Option<Vec<Conversation>>>) {
    let base = document().title();
    Effect::new(move |_| {
        let total: i64 = conversations.with(|list| list.iter().flatten().map(|c| c.unread).sum());
        let title = if total > 0 {
            format!("({total}) {base}")
        } else {
            base.clone()
        };
        document().set_title(&title);
    });
}

/// The header's two switches: desktop notifications (asks the browser first) and sound.
#[component]
pub fn AlertSwitches(locale: Locale, alerts: Alerts) -> impl IntoView {
    let refused = RwSignal::new(false);
    let toggle_desktop = move |_| {
        if alerts.desktop.get_untracked() {
            alerts.desktop.set(false);
            store(DESKTOP_KEY, false);
            return;
        }
        if !js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false) {
            refused.set(true);
            return;
        }
        let Ok(asked) = web_sys::Notification::request_permission() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let answer = wasm_bindgen_futures::JsFuture::from(asked).await;
            let granted = answer.ok().and_then(|v| v.as_string()).as_deref() == Some("granted");
            refused.set(!granted);
            alerts.desktop.set(granted);
            store(DESKTOP_KEY, granted);
        });
    };
    let toggle_sound = move |_| {
        let on = !alerts.sound.get_untracked();
        alerts.sound.set(on);
        store(SOUND_KEY, on);
        if on {
            chime();
        }
    };
    view! {
        <div class="alerts" role="group" aria-label=tr(locale, "New message alerts", "Avisos de mensajes nuevos")>
            <button type="button" class="btn btn--small alerts__switch" aria-pressed=move || alerts.desktop.get().to_string()
                on:click=toggle_desktop>
                {tr(locale, "Desktop alerts", "Avisos de escritorio")}
            </button>
            <button type="button" class="btn btn--small alerts__switch" aria-pressed=move || alerts.sound.get().to_string()
                on:click=toggle_sound>
                {tr(locale, "Sound", "Sonido")}
            </button>
            <p class="alerts__refused" role="status">
                {move || refused.get().then(|| tr(locale,
                    "The browser blocks notifications for this site: allow them in its site settings.",
                    "El navegador bloquea las notificaciones de este sitio: permítelas en su configuración."))}
            </p>
        </div>
    }
}
