//! Settings > Gateways (SPEC §2.2): the portal's gateways with their credentials
//! masked; Add offers the edition's kinds, each with its own credential form; a
//! gateway's credentials can be replaced, or the gateway removed.

use std::collections::BTreeMap;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use paycard_core::api::{CheckResult, Gateway, GatewayKindInfo, NewGateway};
use paycard_core::validation::FieldError;
use paycard_core::Locale;

use super::{
    error_for, failure_text, form_save, Clears, CopyButton, FormActions, FormField, Modal,
};
use crate::i18n::tr;
use paycard_client::{admin, ApiError};

/// What the page knows: `None` while loading.
#[derive(Clone)]
struct Loaded {
    connected: bool,
    gateways: Vec<Gateway>,
    kinds: Vec<GatewayKindInfo>,
}

#[component]
pub fn GatewaySettings(locale: Locale) -> impl IntoView {
    let failure = RwSignal::new(None::<&'static str>);
    let add_open = RwSignal::new(false);
    // The gateway whose credentials are being replaced.
    let replacing = RwSignal::new(None::<Gateway>);
    let replace_open = RwSignal::new(false);

    let resource = LocalResource::new(|| async {
        Ok::<_, ApiError>(match admin::portal().await? {
            None => Loaded {
                connected: false,
                gateways: Vec::new(),
                kinds: Vec::new(),
            },
            Some(_) => Loaded {
                connected: true,
                gateways: admin::gateways().await?,
                kinds: admin::gateway_kinds().await?,
            },
        })
    });
    let load = move || resource.refetch();
    // `None` while loading (or when it could not load: the failure says so).
    let loaded = Signal::derive(move || resource.get().and_then(Result::ok));

    let ask = super::use_confirm();
    // Asks first; nothing happens when the admin thinks better of it.
    let removing = Action::new_local(move |g: &Gateway| {
        let g = g.clone();
        async move {
            let question = match locale {
                Locale::En => format!("Remove {}? Its credentials are deleted.", g.name),
                Locale::Es => format!("¿Quitar {}? Sus credenciales se eliminan.", g.name),
            };
            if !ask.ask(question, tr(locale, "Remove", "Quitar")).await {
                return;
            }
            match admin::remove_gateway(&g.id).await {
                Ok(()) => {
                    failure.set(None);
                    load();
                }
                Err(e) => failure.set(Some(failure_text(&e, locale))),
            }
        }
    });
    let remove = move |g: Gateway| {
        removing.dispatch(g);
    };
    let kind_of = move |kind: &str| {
        loaded.with_untracked(|l| {
            l.as_ref()
                .and_then(|l| l.kinds.iter().find(|k| k.kind == kind).cloned())
        })
    };

    view! {
        <h2 class="settings__heading">{tr(locale, "Gateways", "Pasarelas")}</h2>
        <p class="settings__failure" role="alert">{move || failure.get()
            .or_else(|| resource.get().and_then(Result::err).map(|e| failure_text(&e, locale)))}</p>
        {move || match loaded.get() {
            None => view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }.into_any(),
            Some(l) if !l.connected => view! {
                <div class="panel">
                    <p>{tr(locale, "Gateways belong to a payment portal. Connect one first.", "Las pasarelas pertenecen a un portal de pagos. Conecta uno primero.")}</p>
                    <A href="/console/settings" attr:class="btn btn--primary">{tr(locale, "Connect a portal", "Conectar un portal")}</A>
                </div>
            }.into_any(),
            Some(l) => {
                let can_add = l.kinds.iter().any(|k| !l.gateways.iter().any(|g| g.kind == k.kind));
                view! {
                    <div class="panel">
                        {if l.gateways.is_empty() {
                            view! { <p class="settings__empty">{tr(locale,
                                "No gateways yet. Until you add one, visitors pay with the sandbox's test cards.",
                                "Aún no hay pasarelas. Hasta que añadas una, los visitantes pagan con las tarjetas de prueba del sandbox.")}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="rows" aria-label=tr(locale, "Configured gateways", "Pasarelas configuradas")>
                                    {l.gateways.into_iter().map(|g| {
                                        let has_fields = !g.masked.is_empty();
                                        // Each field by its label in the admin's language.
                                        let label = |name: &str| l.kinds.iter()
                                            .find(|k| k.kind == g.kind)
                                            .and_then(|k| k.fields.iter().find(|f| f.name == name))
                                            .map(|f| f.label.clone())
                                            .unwrap_or_else(|| name.to_owned());
                                        let facts = g.masked.iter().map(|(k, v)| format!("{}: {v}", label(k))).collect::<Vec<_>>().join(" · ");
                                        let (for_replace, for_remove) = (g.clone(), g.clone());
                                        let name = g.name.clone();
                                        let events = g.webhook_events.clone();
                                        let webhook = g.webhook_url.clone().map(|url| {
                                            let url_id = format!("webhook-url-{}", g.id);
                                            let events_id = format!("webhook-events-{}", g.id);
                                            let events_text = events.join("\n");
                                            view! {
                                                <div class="row__meta webhook">
                                                    <span>{tr(locale, "Webhook endpoint to register at the gateway: ", "Endpoint de webhooks que registrar en la pasarela: ")}</span>
                                                    <span class="copyable">
                                                        <code class="webhook-url" id=url_id.clone()>{url.clone()}</code>
                                                        <CopyButton locale=locale text=url source_id=url_id
                                                            label=format!("{} {}", tr(locale, "Copy the webhook endpoint of", "Copiar el endpoint de webhooks de"), g.name)/>
                                                    </span>
                                                    {(!events.is_empty()).then(|| view! {
                                                        <span>{tr(locale, "Events to send to it:", "Eventos que enviarle:")}</span>
                                                        <span class="copyable">
                                                            <ul class="webhook-events" id=events_id.clone() aria-label=format!("{} {}", tr(locale, "Webhook events for", "Eventos de webhook para"), g.name)>
                                                                {events.iter().map(|e| view! { <li><code>{e.clone()}</code></li> }).collect_view()}
                                                            </ul>
                                                            <CopyButton locale=locale text=events_text source_id=events_id
                                                                label=format!("{} {}", tr(locale, "Copy the webhook events of", "Copiar los eventos de webhook de"), g.name)/>
                                                        </span>
                                                    })}
                                                </div>
                                            }
                                        });
                                        let check_id = g.id.clone();
                                        let check_name = g.name.clone();
                                        view! {
                                            <li class="row">
                                                <div class="row__text">
                                                    <span class="row__title">{g.name.clone()}</span>
                                                    <span class="row__meta">{if facts.is_empty() { tr(locale, "No credentials needed", "No necesita credenciales").to_owned() } else { facts }}</span>
                                                    {paycard_core::gateways::gateway_kind(&g.kind).filter(|k| !k.recurring).map(|_| view! {
                                                        <span class="row__meta">{tr(locale,
                                                            "Takes one-time payments only: recurring payments go through your other gateways.",
                                                            "Solo acepta pagos únicos: los pagos periódicos se cobran con tus otras pasarelas.")}</span>
                                                    })}
                                                    {webhook}
                                                </div>
                                                <div class="row__actions">
                                                    {has_fields.then(|| view! {
                                                        <CheckConnection locale=locale gateway_id=check_id.clone() name=check_name.clone()/>
                                                    })}
                                                    <Show when=move || has_fields>
                                                        {
                                                            let g = for_replace.clone();
                                                            let name = name.clone();
                                                            view! {
                                                                <button type="button" class="btn"
                                                                    aria-label=format!("{} {}", tr(locale, "Replace credentials of", "Sustituir credenciales de"), name)
                                                                    on:click=move |_| { replacing.set(Some(g.clone())); replace_open.set(true); }>
                                                                    {tr(locale, "Replace credentials", "Sustituir credenciales")}
                                                                </button>
                                                            }
                                                        }
                                                    </Show>
                                                    <button type="button" class="btn btn--danger"
                                                        aria-label=format!("{} {}", tr(locale, "Remove", "Quitar"), for_remove.name)
                                                        on:click=move |_| remove(for_remove.clone())>
                                                        {tr(locale, "Remove", "Quitar")}
                                                    </button>
                                                </div>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <button type="button" class="btn btn--primary" disabled=!can_add on:click=move |_| add_open.set(true)
                            aria-describedby="gateways-all-set">
                            {tr(locale, "Add gateway", "Añadir pasarela")}
                        </button>
                        <p class="field__hint" id="gateways-all-set" hidden=can_add>
                            {tr(locale, "Every gateway your portal's edition offers is set up.", "Ya están configuradas todas las pasarelas que ofrece la edición de tu portal.")}
                        </p>
                    </div>
                }.into_any()
            }
        }}
        <Modal open=add_open title=tr(locale, "Add a gateway", "Añadir una pasarela").to_owned()>
            {move || {
                let available: Vec<GatewayKindInfo> = loaded.with_untracked(|l| l.as_ref().map(|l| {
                    l.kinds.iter().filter(|k| !l.gateways.iter().any(|g| g.kind == k.kind)).cloned().collect()
                }).unwrap_or_default());
                view! { <AddGateway locale=locale kinds=available
                    on_done=Callback::new(move |_| { add_open.set(false); failure.set(None); load(); })
                    on_cancel=Callback::new(move |_| add_open.set(false))/> }
            }}
        </Modal>
        <Modal open=replace_open title=tr(locale, "Replace credentials", "Sustituir credenciales").to_owned()>
            {move || replacing.get().and_then(|g| kind_of(&g.kind).map(|kind| (g, kind))).map(|(g, kind)| view! {
                <CredentialForm locale=locale kind=kind gateway_id=Some(g.id)
                    on_done=Callback::new(move |_| { replace_open.set(false); load(); })
                    on_cancel=Callback::new(move |_| replace_open.set(false))/>
            })}
        </Modal>
    }
}

/// The Add dialog: the kinds still available, then the chosen kind's form.
#[component]
fn AddGateway(
    locale: Locale,
    kinds: Vec<GatewayKindInfo>,
    on_done: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let chosen = RwSignal::new(None::<GatewayKindInfo>);
    view! {
        {move || match chosen.get() {
            Some(kind) => view! {
                <CredentialForm locale=locale kind=kind gateway_id=None on_done=on_done
                    on_cancel=Callback::new(move |_| chosen.set(None))/>
            }.into_any(),
            None => {
                let kinds = kinds.clone();
                view! {
                    <p>{tr(locale, "Choose the gateway to add:", "Elige la pasarela que quieres añadir:")}</p>
                    <ul class="choices" aria-label=tr(locale, "Available gateways", "Pasarelas disponibles")>
                        {kinds.into_iter().map(|k| {
                            let name = k.name.clone();
                            view! {
                                <li><button type="button" class="btn choice" on:click=move |_| chosen.set(Some(k.clone()))>{name}</button></li>
                            }
                        }).collect_view()}
                    </ul>
                    <div class="form__actions">
                        <button type="button" class="btn" on:click=move |_| on_cancel.run(())>{tr(locale, "Cancel", "Cancelar")}</button>
                    </div>
                }.into_any()
            }
        }}
    }
}

/// A kind's credential form: adds a gateway, or replaces one's credentials. Secret
/// fields are password inputs; nothing typed is ever shown back.
#[component]
fn CredentialForm(
    locale: Locale,
    kind: GatewayKindInfo,
    gateway_id: Option<String>,
    on_done: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    // New credentials for `gateway_id`, or a new gateway.
    let saving = form_save(
        |(gateway_id, gateway): (Option<String>, NewGateway)| async move {
            match &gateway_id {
                Some(id) => admin::replace_gateway(id, &gateway).await.map(drop),
                None => admin::add_gateway(&gateway).await.map(drop),
            }
        },
        on_done,
        errors,
        failure,
        locale,
    );
    let busy = saving.pending();
    let kind_name = kind.kind.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        // Pasted keys often carry a space or a line break at either end.
        let credentials: BTreeMap<String, String> = values
            .get_untracked()
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_owned()))
            .collect();
        saving.dispatch((
            gateway_id.clone(),
            NewGateway {
                kind: kind_name.clone(),
                credentials,
            },
        ));
    };
    let no_fields = kind.fields.is_empty();
    view! {
        <form class="form" on:submit=submit novalidate>
            <p class="form__lead">{kind.name.clone()}</p>
            {no_fields.then(|| view! { <p>{tr(locale, "The sandbox needs no credentials: it takes the test card numbers.", "El sandbox no necesita credenciales: acepta los números de tarjeta de prueba.")}</p> })}
            {kind.fields.into_iter().map(|f| {
                let id = format!("gw-{}", f.name);
                let field_key = format!("credentials.{}", f.name);
                let prefix = field_key.clone();
                let name = f.name.clone();
                let error = Signal::derive(move || errors.with(|e| error_for(e, &field_key, locale)));
                let hint = (!f.example.is_empty()).then(|| match locale {
                    Locale::En => format!("Looks like {}", f.example),
                    Locale::Es => format!("Tiene esta forma: {}", f.example),
                });
                view! {
                    <FormField id=id.clone() label=f.label error=error hint=hint.unwrap_or_default() clears=Clears { errors, prefix }>
                        <input id=id.clone() type=if f.secret { "password" } else { "text" } autocomplete="off" spellcheck="false"
                            aria-describedby=format!("{id}-error")
                            aria-invalid=move || error.get().is_some().to_string()
                            on:input:target=move |ev| { let v = ev.target().value(); values.update(|m| { m.insert(name.clone(), v); }); }/>
                    </FormField>
                }
            }).collect_view()}
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormActions back_label=tr(locale, "Back", "Atrás") submit_label=tr(locale, "Save gateway", "Guardar pasarela") busy=busy on_back=on_cancel/>
        </form>
    }
}

/// "Test connection": asks the gateway now whether it takes the stored credentials, and
/// says what it answered beside the button (a live region, so a screen reader hears it).
#[component]
fn CheckConnection(locale: Locale, gateway_id: String, name: String) -> impl IntoView {
    let name_label = name.clone();
    let check = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { admin::check_gateway(&id).await }
    });
    let said = move || {
        if check.pending().get() {
            return Some(("", tr(locale, "Testing…", "Probando…").to_owned()));
        }
        let name = name.clone();
        check.value().get().map(|result| match result {
            Ok(c) => match c.result {
                CheckResult::Accepted => ("ok", match locale {
                    Locale::En => format!("{name} accepted the credentials."),
                    Locale::Es => format!("{name} aceptó las credenciales."),
                }),
                CheckResult::Rejected => ("bad", match locale {
                    Locale::En => format!("{name} refused the credentials: “{}”. Replace them with the ones in your {name} dashboard.", c.message.unwrap_or_default()),
                    Locale::Es => format!("{name} rechazó las credenciales: «{}». Sustitúyelas por las de tu panel de {name}.", c.message.unwrap_or_default()),
                }),
                CheckResult::Unreachable => ("bad", match locale {
                    Locale::En => format!("{name} could not be reached. Try again in a moment."),
                    Locale::Es => format!("No se pudo contactar con {name}. Inténtalo de nuevo en un momento."),
                }),
            },
            Err(e) => ("bad", failure_text(&e, locale).to_owned()),
        })
    };
    let said = Memo::new(move |_| said());
    let name_for_label = name_label;
    view! {
        // aria-disabled, not disabled, while it works: a disabled button would drop the
        // keyboard's focus.
        <button type="button" class="btn" aria-disabled=move || check.pending().get().to_string()
            aria-label=format!("{} {name_for_label}", tr(locale, "Test connection of", "Probar la conexión de"))
            on:click=move |_| {
                if !check.pending().get_untracked() {
                    check.dispatch(gateway_id.clone());
                }
            }>
            {tr(locale, "Test connection", "Probar conexión")}
        </button>
        <span class="check__said" role="status"
            data-result=move || said.get().map(|(r, _)| r).unwrap_or_default()>
            {move || said.get().map(|(_, text)| text)}
        </span>
    }
}
