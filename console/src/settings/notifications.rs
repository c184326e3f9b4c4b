//! Settings > Notifications (SPEC §8.4, §8.5): whether receipts go out by email (and the
//! last delivery error), and the merchant's webhook endpoints: add one (its signing
//! secret shown once), see its recent deliveries with the receiver's last answer, send
//! one again, remove it.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{
    Brand, CreatedWebhookEndpoint, DeliveryStatus, MailStatus, NewWebhookEndpoint, WebhookDelivery,
    WebhookEndpoint, WEBHOOK_EVENTS,
};
use paycard_core::validation::FieldError;
use paycard_core::Locale;

use super::api_keys::when;
use super::{error_for, failure_text, report, Clears, FormField};
use crate::i18n::tr;
use paycard_client::{admin, ApiError};

#[component]
pub fn NotificationSettings(locale: Locale) -> impl IntoView {
    let mail = LocalResource::new(admin::mail_status);
    view! {
        <h2 class="settings__heading">{tr(locale, "Email receipts", "Recibos por correo")}</h2>
        <Transition fallback=move || view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }>
            {move || mail.get().map(|result| match result {
                Ok(status) => view! { <MailPanel locale=locale status=status/> }.into_any(),
                Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
            })}
        </Transition>
        <WebhookSettings locale=locale/>
    }
}

#[component]
fn MailPanel(locale: Locale, status: MailStatus) -> impl IntoView {
    let counts = match locale {
        Locale::En => format!(
            "Sent in the last 30 days: {} · Waiting: {}",
            status.sent, status.pending
        ),
        Locale::Es => format!(
            "Enviados en los últimos 30 días: {} · En espera: {}",
            status.sent, status.pending
        ),
    };
    let state = if status.configured {
        match locale {
            Locale::En => format!(
                "Payers get a receipt for each payment and refund, from {} through {}.",
                status.from.clone().unwrap_or_default(),
                status.server.clone().unwrap_or_default()
            ),
            Locale::Es => format!(
                "Quien paga recibe un recibo de cada pago y reembolso, de {} a través de {}.",
                status.from.clone().unwrap_or_default(),
                status.server.clone().unwrap_or_default()
            ),
        }
    } else {
        tr(locale,
            "Email is not configured: receipts are not sent. Set PAYCARD_SMTP_URL and PAYCARD_MAIL_FROM on the server to send them.",
            "El correo no está configurado: no se envían recibos. Defina PAYCARD_SMTP_URL y PAYCARD_MAIL_FROM en el servidor para enviarlos.").to_owned()
    };
    let error = status.last_error.clone().map(|e| {
        let at = status
            .last_error_at
            .as_deref()
            .map(when)
            .unwrap_or_default();
        match locale {
            Locale::En => {
                format!("Last delivery error ({at}): {e}. Receipts waiting are tried again.")
            }
            Locale::Es => {
                format!("Último error de envío ({at}): {e}. Los recibos en espera se reintentan.")
            }
        }
    });
    view! {
        <div class="panel mail-status" data-configured=status.configured.to_string()>
            <p>{state}</p>
            <p>{counts}</p>
            {error.map(|e| view! { <p class="settings__failure">{e}</p> })}
        </div>
    }
}

#[component]
fn WebhookSettings(locale: Locale) -> impl IntoView {
    let endpoints = LocalResource::new(admin::webhooks);
    let brands = LocalResource::new(admin::brands);
    let failure = RwSignal::new(None::<&'static str>);
    let notice = RwSignal::new(None::<String>);
    let fresh = RwSignal::new(None::<CreatedWebhookEndpoint>);
    // The endpoint whose deliveries are shown.
    let shown = RwSignal::new(None::<String>);

    let delete = Action::new_local(move |endpoint: &WebhookEndpoint| {
        let endpoint = endpoint.clone();
        async move {
            admin::delete_webhook(&endpoint.id).await?;
            Ok::<String, ApiError>(endpoint.url)
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(url)) => {
            failure.set(None);
            notice.set(Some(match locale {
                Locale::En => format!("Endpoint {url} removed: nothing more is sent to it."),
                Locale::Es => format!("Destino {url} eliminado: ya no se le envía nada."),
            }));
            shown.set(None);
            endpoints.refetch();
        }
        Some(Err(e)) => failure.set(Some(failure_text(&e, locale))),
        None => {}
    });

    view! {
        <h2 class="settings__heading">{tr(locale, "Webhooks", "Webhooks")}</h2>
        <p class="settings__intro">{tr(locale,
            "paycard sends each payment event (card.shared, card.paid, card.failed, card.cancelled, card.declined, card.expired, card.refunded) to these addresses as a signed JSON POST, and tries again for more than a day until it gets a 2xx answer. The docs show how to check the Paycard-Signature header.",
            "paycard envía cada evento de pago (card.shared, card.paid, card.failed, card.cancelled, card.declined, card.expired, card.refunded) a estas direcciones como un POST JSON firmado, y lo reintenta durante más de un día hasta recibir una respuesta 2xx. La documentación explica cómo comprobar la cabecera Paycard-Signature.")}</p>
        <p class="settings__failure" role="alert">{move || failure.get()}</p>
        <p class="settings__notice" role="status">{move || notice.get()}</p>
        {move || fresh.get().map(|endpoint| view! {
            <div class="panel api-key__fresh" role="status">
                <p><strong>{tr(locale, "Copy this signing secret now: it will not be shown again.", "Copia este secreto de firma ahora: no se volverá a mostrar.")}</strong></p>
                <label for="webhook-secret">{match locale {
                    Locale::En => format!("Signing secret of {}", endpoint.url),
                    Locale::Es => format!("Secreto de firma de {}", endpoint.url),
                }}</label>
                <input id="webhook-secret" class="api-key__value" type="text" readonly=true prop:value=endpoint.secret/>
            </div>
        })}
        <Transition fallback=move || view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }>
            {move || brands.get().map(|result| match result {
                Ok(list) => view! {
                    <EndpointForm locale=locale brands=list on_made=Callback::new(move |endpoint: CreatedWebhookEndpoint| {
                        failure.set(None);
                        notice.set(None);
                        fresh.set(Some(endpoint));
                        endpoints.refetch();
                    })/>
                }.into_any(),
                Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
            })}
            {move || endpoints.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! {
                    <p class="settings__empty">{tr(locale, "No webhook endpoints yet.", "Aún no hay destinos de webhooks.")}</p>
                }.into_any(),
                Ok(list) => view! { <EndpointTable locale=locale endpoints=list delete=delete shown=shown/> }.into_any(),
                Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
            })}
        </Transition>
        {move || shown.get().map(|id| view! { <Deliveries locale=locale endpoint_id=id/> })}
    }
}

fn events_text(events: &[String], locale: Locale) -> String {
    if events.is_empty() {
        tr(locale, "All events", "Todos los eventos").to_owned()
    } else {
        events.join(", ")
    }
}

#[component]
fn EndpointTable(
    locale: Locale,
    endpoints: Vec<WebhookEndpoint>,
    delete: Action<WebhookEndpoint, Result<String, ApiError>>,
    shown: RwSignal<Option<String>>,
) -> impl IntoView {
    let ask = super::use_confirm();
    view! {
        <table class="table webhooks">
            <caption class="visually-hidden">{tr(locale, "Webhook endpoints", "Destinos de webhooks")}</caption>
            <thead>
                <tr>
                    <th scope="col">{tr(locale, "Address", "Dirección")}</th>
                    <th scope="col">{tr(locale, "Brands", "Marcas")}</th>
                    <th scope="col">{tr(locale, "Events", "Eventos")}</th>
                    <th scope="col">{tr(locale, "Created", "Creado")}</th>
                    <th scope="col"><span class="visually-hidden">{tr(locale, "Actions", "Acciones")}</span></th>
                </tr>
            </thead>
            <tbody>
                {endpoints.into_iter().map(|endpoint| {
                    let id = endpoint.id.clone();
                    let open = {
                        let id = id.clone();
                        move || shown.with(|s| s.as_deref() == Some(id.as_str()))
                    };
                    let show_label = match locale {
                        Locale::En => format!("Deliveries to {}", endpoint.url),
                        Locale::Es => format!("Envíos a {}", endpoint.url),
                    };
                    let delete_label = match locale {
                        Locale::En => format!("Remove endpoint {}", endpoint.url),
                        Locale::Es => format!("Eliminar el destino {}", endpoint.url),
                    };
                    let question = match locale {
                        Locale::En => format!("Remove {}? Nothing more will be sent to it.", endpoint.url),
                        Locale::Es => format!("¿Eliminar {}? Ya no se le enviará nada.", endpoint.url),
                    };
                    let row = endpoint.clone();
                    let toggle_id = id.clone();
                    view! {
                        <tr>
                            <th scope="row" class="webhooks__url">{endpoint.url.clone()}</th>
                            <td>{endpoint.brand_ids.join(", ")}</td>
                            <td>{events_text(&endpoint.events, locale)}</td>
                            <td>{when(&endpoint.created_at)}</td>
                            <td class="webhooks__actions">
                                <button type="button" class="btn btn--small" aria-label=show_label
                                    aria-expanded=move || open().to_string()
                                    on:click=move |_| shown.update(|s| {
                                        *s = if s.as_deref() == Some(toggle_id.as_str()) { None } else { Some(toggle_id.clone()) };
                                    })>
                                    {tr(locale, "Deliveries", "Envíos")}
                                </button>
                                <button type="button" class="btn btn--small" aria-label=delete_label
                                    disabled=move || delete.pending().get()
                                    on:click=move |_| {
                                        let (question, row) = (question.clone(), row.clone());
                                        leptos::task::spawn_local(async move {
                                            if ask.ask(question, tr(locale, "Remove", "Eliminar")).await { delete.dispatch(row); }
                                        });
                                    }>
                                    {tr(locale, "Remove", "Eliminar")}
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn status_text(status: DeliveryStatus, locale: Locale) -> &'static str {
    match status {
        DeliveryStatus::Pending => tr(locale, "Retrying", "Reintentando"),
        DeliveryStatus::Delivered => tr(locale, "Delivered", "Entregado"),
        DeliveryStatus::Failed => tr(locale, "Failed", "Fallido"),
    }
}

/// An endpoint's latest deliveries, each with the receiver's last answer and "Send again".
#[component]
fn Deliveries(locale: Locale, endpoint_id: String) -> impl IntoView {
    let id = StoredValue::new(endpoint_id);
    let list =
        LocalResource::new(move || async move { admin::webhook_deliveries(&id.get_value()).await });
    let again = Action::new_local(move |delivery_id: &String| {
        let delivery_id = delivery_id.clone();
        async move { admin::send_webhook_again(&id.get_value(), &delivery_id).await }
    });
    let failure = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| match again.value().get() {
        Some(Ok(_)) => {
            failure.set(None);
            list.refetch();
        }
        Some(Err(e)) => failure.set(Some(failure_text(&e, locale))),
        None => {}
    });
    view! {
        <section class="panel webhooks__deliveries" aria-labelledby="deliveries-title">
            <div class="webhooks__deliveries-head">
                <h3 id="deliveries-title">{tr(locale, "Recent deliveries", "Envíos recientes")}</h3>
                <button type="button" class="btn btn--small" on:click=move |_| list.refetch()>
                    {tr(locale, "Refresh", "Actualizar")}
                </button>
            </div>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <Transition fallback=move || view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }>
                {move || list.get().map(|result| match result {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="settings__empty">{tr(locale, "Nothing sent yet: events appear here as cards are shared and paid.", "Aún no se ha enviado nada: los eventos aparecen aquí al compartir y pagar tarjetas.")}</p>
                    }.into_any(),
                    Ok(rows) => view! { <DeliveryTable locale=locale rows=rows again=again/> }.into_any(),
                    Err(e) => view! { <p class="settings__failure">{failure_text(&e, locale)}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeliveryTable(
    locale: Locale,
    rows: Vec<WebhookDelivery>,
    again: Action<String, Result<WebhookDelivery, ApiError>>,
) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">{tr(locale, "Recent deliveries", "Envíos recientes")}</caption>
            <thead>
                <tr>
                    <th scope="col">{tr(locale, "Event", "Evento")}</th>
                    <th scope="col">{tr(locale, "Status", "Estado")}</th>
                    <th scope="col">{tr(locale, "Tries", "Intentos")}</th>
                    <th scope="col">{tr(locale, "Last answer", "Última respuesta")}</th>
                    <th scope="col">{tr(locale, "Next try", "Próximo intento")}</th>
                    <th scope="col"><span class="visually-hidden">{tr(locale, "Actions", "Acciones")}</span></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|d| {
                    let answer = match (d.last_status_code, d.last_error.clone()) {
                        (Some(code), _) => format!("HTTP {code}"),
                        (None, Some(e)) => e,
                        (None, None) => "—".to_owned(),
                    };
                    let label = match locale {
                        Locale::En => format!("Send {} again", d.kind),
                        Locale::Es => format!("Enviar {} de nuevo", d.kind),
                    };
                    let delivery_id = d.id.clone();
                    view! {
                        <tr data-status=d.status.as_str()>
                            <th scope="row"><span class="webhooks__event">{d.kind.clone()}</span><br/><small>{when(&d.created_at)}</small></th>
                            <td>{status_text(d.status, locale)}</td>
                            <td>{d.attempts}</td>
                            <td>{answer}</td>
                            <td>{d.next_attempt_at.as_deref().map(when).unwrap_or_else(|| "—".to_owned())}</td>
                            <td>
                                <button type="button" class="btn btn--small" aria-label=label
                                    disabled=move || again.pending().get()
                                    on:click=move |_| { again.dispatch(delivery_id.clone()); }>
                                    {tr(locale, "Send again", "Reenviar")}
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Address, brands and event types of a new endpoint.
#[component]
fn EndpointForm(
    locale: Locale,
    brands: Vec<Brand>,
    on_made: Callback<CreatedWebhookEndpoint>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let chosen_brands = RwSignal::new(Vec::<String>::new());
    let chosen_events = RwSignal::new(Vec::<String>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<&'static str>);
    let create = Action::new_local(|input: &NewWebhookEndpoint| {
        let input = input.clone();
        async move { admin::create_webhook(&input).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(endpoint)) => {
            url.set(String::new());
            chosen_brands.set(Vec::new());
            chosen_events.set(Vec::new());
            errors.set(Vec::new());
            failure.set(None);
            on_made.run(endpoint);
        }
        Some(Err(e)) => report(&e, errors, failure, locale),
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = NewWebhookEndpoint {
            url: url.get_untracked().trim().to_owned(),
            brand_ids: chosen_brands.get_untracked(),
            events: chosen_events.get_untracked(),
        };
        if input.url.is_empty() {
            errors.set(vec![FieldError::new(
                "url",
                paycard_core::validation::Problem::Required,
            )]);
            return;
        }
        errors.set(Vec::new());
        create.dispatch(input);
    };
    let url_error = Signal::derive(move || errors.with(|e| error_for(e, "url", locale)));
    let checkbox = move |value: String, label: String, chosen: RwSignal<Vec<String>>| {
        let checked = {
            let value = value.clone();
            move || chosen.with(|c| c.contains(&value))
        };
        view! {
            <label class="check">
                <input type="checkbox" prop:checked=checked on:change:target=move |ev| {
                    let on = ev.target().checked();
                    chosen.update(|c| {
                        c.retain(|b| b != &value);
                        if on { c.push(value.clone()); }
                    });
                }/>
                {label}
            </label>
        }
    };
    view! {
        <form class="panel form webhook__form" on:submit=submit novalidate=true
            aria-label=tr(locale, "New webhook endpoint", "Nuevo destino de webhooks")>
            <p class="settings__failure" role="alert">{move || failure.get()}</p>
            <FormField id="webhook-url".into() label=tr(locale, "Address", "Dirección").into() error=url_error
                hint=tr(locale, "An https:// address of your system, such as https://shop.example.com/paycard-events.", "Una dirección https:// de su sistema, por ejemplo https://tienda.example.com/paycard-events.").to_owned()
                clears=Clears { errors, prefix: "url".into() }>
                <input id="webhook-url" type="url" maxlength="2000" aria-describedby="webhook-url-error"
                    placeholder="https://" prop:value=move || url.get() on:input:target=move |ev| url.set(ev.target().value())/>
            </FormField>
            <fieldset class="field">
                <legend>{tr(locale, "Brands (none chosen: all of yours)", "Marcas (ninguna elegida: todas las suyas)")}</legend>
                {brands.into_iter().map(|brand| checkbox(brand.id.clone(), brand.name.clone(), chosen_brands)).collect_view()}
            </fieldset>
            <fieldset class="field webhook__events">
                <legend>{tr(locale, "Events (none chosen: all)", "Eventos (ninguno elegido: todos)")}</legend>
                {WEBHOOK_EVENTS.iter().map(|e| checkbox(e.to_string(), e.to_string(), chosen_events)).collect_view()}
            </fieldset>
            <div class="form__actions">
                <button type="submit" class="btn btn--primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() {
                        tr(locale, "Adding…", "Añadiendo…")
                    } else {
                        tr(locale, "Add endpoint", "Añadir destino")
                    }}
                </button>
            </div>
        </form>
    }
}
