//! The paycard operator console: sign in, the conversations of your brands (live, with
//! unread markers), one conversation with its cards and the Payments picker.
//!
//! - [`ConsoleApp`]: the page at `/console/` (routes `/console/conversations/{id}`).
//! - [`conversation`]: one conversation, operator side.
//! - [`picker`]: the Payments picker.
//! - [`settings`]: the admins' Settings pages (portal, gateways, payments, brands, API
//!   keys, notifications), over `paycard_client::admin`.
//! - [`reports`]: the admins' Reports page (SPEC §8.6).
//! - [`mount_conversation`]: the operator side of one conversation, mounted on its own
//!   into another page (SPEC §6).
//!
//! The API client, live updates, the payment card and the transcript come from
//! `paycard-client`, shared with the visitor widget.

pub mod alerts;
pub mod conversation;
pub mod i18n;
pub mod picker;
pub mod refund;
pub mod reports;
pub mod settings;
pub mod visitor;

use std::collections::HashSet;
use std::rc::Rc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_params_map;
use leptos_router::path;
use paycard_client::api::{Api, ApiError, Auth, ListFilter};
use paycard_client::live::{
    spawn_live, LiveConfig, LiveEvent, LiveHandle, LiveSource, LiveStatus, LocalFuture,
};
use paycard_core::api::{
    visitor_name_in, Author, Conversation, ConversationPage, OperatorAccount, Role,
};
use paycard_core::transcript::Transcript;
use paycard_core::Locale;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::conversation::{reload, ConversationView};
use crate::i18n::{t, tr, Text};
use crate::settings::{Section, SettingsPage};

/// Bumped on every live `payment` event: an open Payments picker reloads on it, so a
/// payment an admin adds, moves or withdraws shows (or goes) without a reload.
#[derive(Clone, Copy)]
pub struct PaymentsChanged(pub RwSignal<u64>);

/// The operator's stream of all their brands; polling refreshes through `refresh`.
struct OperatorSource {
    api: Api,
    refresh: Rc<dyn Fn() -> LocalFuture<Result<Option<i64>, ApiError>>>,
}

impl LiveSource for OperatorSource {
    fn stream_url(&self, last_event_id: i64) -> LocalFuture<Result<String, ApiError>> {
        let api = self.api.clone();
        Box::pin(async move {
            let ticket = api.stream_ticket(&Auth::Session).await?;
            Ok(api.url(&format!(
                "/api/v1/operator/events?ticket={}&last_event_id={last_event_id}",
                ticket.ticket
            )))
        })
    }

    fn poll(&self) -> LocalFuture<Result<Option<i64>, ApiError>> {
        (self.refresh)()
    }
}

fn start_operator_live(
    api: Api,
    after: i64,
    on_event: Rc<dyn Fn(LiveEvent)>,
    refresh: Rc<dyn Fn() -> LocalFuture<Result<Option<i64>, ApiError>>>,
    status: RwSignal<LiveStatus>,
) -> LiveHandle {
    spawn_live(
        Rc::new(OperatorSource { api, refresh }),
        after,
        on_event,
        status,
        LiveConfig {
            // Payment changes, for the Payments picker.
            extra_kinds: vec!["payment"],
            ..LiveConfig::default()
        },
    )
}

/// The console page.
#[component]
pub fn ConsoleApp() -> impl IntoView {
    let locale = paycard_client::page::detect_locale();
    // Who is signed in: asked once on start (`None` until the server answers), then
    // written by signing in and out.
    let account = LocalResource::new(|| async { Api::new("").me().await.ok() });
    view! {
        <Router base="/console">
            {move || match (account.get(), embedded_conversation()) {
                (None, _) => view! { <p class="console__loading">{t(locale, Text::Loading)}</p> }.into_any(),
                (Some(None), _) => view! { <Login locale=locale on_signed_in=Callback::new(move |a| account.set(Some(Some(a))))/> }.into_any(),
                (Some(Some(_)), Some(id)) => view! {
                    <main class="console__embedded"><StandaloneConversation locale=locale conversation_id=id/></main>
                }.into_any(),
                (Some(Some(me)), None) => view! { <Workspace locale=locale account=me on_signed_out=Callback::new(move |_| account.set(Some(None)))/> }.into_any(),
            }}
        </Router>
    }
}

#[component]
fn Login(locale: Locale, on_signed_in: Callback<OperatorAccount>) -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let error = RwSignal::new(None::<&'static str>);
    let signing_in = Action::new_local(move |(email, password): &(String, String)| {
        let (email, password) = (email.clone(), password.clone());
        async move {
            match Api::new("").login(&email, &password).await {
                Ok(logged_in) => on_signed_in.run(logged_in.operator),
                Err(ApiError::Http { status: 401, .. }) => {
                    error.set(Some(t(locale, Text::WrongCredentials)))
                }
                Err(_) => error.set(Some(t(locale, Text::SomethingWrong))),
            }
        }
    });
    let busy = signing_in.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        signing_in.dispatch((email.get_untracked(), password.get_untracked()));
    };
    view! {
        <main class="login">
            <form class="login__form" on:submit=submit>
                <h1>{t(locale, Text::Console)}</h1>
                <p class="login__intro">{t(locale, Text::SignInTitle)}</p>
                <label for="login-email">{t(locale, Text::Email)}</label>
                <input id="login-email" type="email" autocomplete="username" required
                    prop:value=email on:input:target=move |ev| set_email.set(ev.target().value())/>
                <label for="login-password">{t(locale, Text::Password)}</label>
                <input id="login-password" type="password" autocomplete="current-password" required
                    prop:value=password on:input:target=move |ev| set_password.set(ev.target().value())/>
                <p class="login__error" role="alert">{move || error.get()}</p>
                <button type="submit" class="btn btn--primary" disabled=busy>{t(locale, Text::SignIn)}</button>
            </form>
        </main>
    }
}

/// The signed-in console: the conversation list beside the open conversation.
#[component]
fn Workspace(
    locale: Locale,
    account: OperatorAccount,
    on_signed_out: Callback<()>,
) -> impl IntoView {
    let api = Api::new("");
    let conversations = RwSignal::new(None::<Vec<Conversation>>);
    // What the list shows: open conversations, of every brand, until the operator asks.
    let filter = RwSignal::new(ListFilter {
        open: Some(true),
        ..ListFilter::default()
    });
    // The cursor of the next older page, while there is one.
    let older = RwSignal::new(None::<String>);
    let load_older = {
        let api = api.clone();
        Action::new_local(move |cursor: &String| {
            let (api, cursor) = (api.clone(), cursor.clone());
            async move {
                let listed = list_page(&api, filter, Some(&cursor)).await?;
                if !listed.current {
                    return Ok(()); // a page of another list
                }
                let page = listed.page;
                conversations.update(|list| {
                    let list = list.get_or_insert_with(Vec::new);
                    let known: HashSet<String> = list.iter().map(|c| c.id.clone()).collect();
                    list.extend(page.items.into_iter().filter(|c| !known.contains(&c.id)));
                });
                older.set(page.next);
                Ok::<(), ApiError>(())
            }
        })
    };
    let open = RwSignal::new(None::<String>);
    let transcript = RwSignal::new(Transcript::default());
    let live_status = RwSignal::new(LiveStatus::Connecting);
    let live = StoredValue::new_local(None::<LiveHandle>);
    let payments_changed = RwSignal::new(0_u64);
    provide_context(PaymentsChanged(payments_changed));
    let is_admin = account.role == Role::Admin;
    provide_context(conversation::CanRefund(is_admin));
    provide_context(conversation::LiveStatusSignal(live_status));
    let alerts = alerts::Alerts::load();
    alerts::unread_in_title(conversations);

    let refresh: Rc<dyn Fn() -> LocalFuture<Result<Option<i64>, ApiError>>> = {
        let api = api.clone();
        Rc::new(move || {
            let api = api.clone();
            Box::pin(async move {
                // Polling may have missed payment events: let an open picker reload.
                payments_changed.update(|n| *n += 1);
                let listed_after = refresh_first_page(&api, conversations, older, filter).await?;
                if let Some(id) = open.get_untracked() {
                    reload(&api, &id, transcript).await?;
                }
                // The stream resumes after the event the list reflects: the list was read
                // first, so nothing after it is skipped, and nothing it counts (unread
                // lines) is counted again; the open transcript, read later, takes the
                // few events in between again harmlessly (by id and card version).
                Ok(listed_after)
            })
        })
    };
    let api_for_events = api.clone();
    let on_event: Rc<dyn Fn(LiveEvent)> = Rc::new(move |event| match event {
        LiveEvent::Conversation(e) => conversations.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            let changed = e.conversation;
            let wanted = filter.with_untracked(|f| f.admits(&changed));
            match list.iter().position(|c| c.id == changed.id) {
                // Closed (or opened again) out of what the list shows.
                Some(i) if !wanted => {
                    list.remove(i);
                }
                // The visitor was named (at checkout, or by an operator), or it was
                // closed or opened again.
                Some(i) => {
                    list[i].visitor_name = changed.visitor_name;
                    list[i].closed_at = changed.closed_at;
                }
                // New, or opened again because the visitor wrote (their message, next,
                // fills it in); a search is left as the operator asked it.
                None if wanted && filter.with_untracked(|f| f.search.trim().is_empty()) => {
                    list.insert(0, changed)
                }
                None => {}
            }
        }),
        LiveEvent::Message(e) => {
            let message = e.message;
            let is_open = open.get_untracked().as_deref() == Some(message.conversation_id.as_str());
            let listed = conversations.with_untracked(|list| {
                list.as_ref()
                    .is_some_and(|l| l.iter().any(|c| c.id == message.conversation_id))
            });
            // A search's results stay as asked, and a closed list has no place for new
            // activity (a visitor's message opens the conversation).
            let could_show =
                filter.with_untracked(|f| f.open != Some(false) && f.search.trim().is_empty());
            if !listed && could_show {
                // An older conversation, beyond the pages loaded: it comes back to the top.
                let api = api_for_events.clone();
                leptos::task::spawn_local(async move {
                    let _ = refresh_first_page(&api, conversations, older, filter).await;
                });
            }
            conversations.update(|list| {
                let Some(list) = list else { return };
                if let Some(i) = list.iter().position(|c| c.id == message.conversation_id) {
                    let mut c = list.remove(i);
                    if message.author == Author::Visitor && !is_open {
                        c.unread += 1;
                    }
                    c.updated_at = message.created_at.clone();
                    c.last_message = Some(paycard_core::api::LastMessage {
                        author: message.author,
                        text: message
                            .text
                            .clone()
                            .or_else(|| message.card.as_ref().map(|c| c.title.clone()))
                            .unwrap_or_default(),
                        created_at: message.created_at.clone(),
                    });
                    list.insert(0, c);
                }
            });
            let looking = is_open && !document().hidden();
            if message.author == Author::Visitor && !looking {
                let who = conversations.with_untracked(|list| {
                    list.iter()
                        .flatten()
                        .find(|c| c.id == message.conversation_id)
                        .map(|c| visitor_name_in(&c.visitor_name, locale).into_owned())
                });
                let text = message.text.clone().unwrap_or_default();
                alerts.new_message(&who.unwrap_or_default(), &text);
            }
            if is_open {
                // Read as it arrives: the server's count stays 0 for this operator.
                if message.author == Author::Visitor {
                    let (api, id) = (api_for_events.clone(), message.conversation_id.clone());
                    leptos::task::spawn_local(async move {
                        let _ = api.mark_read(&id).await;
                    });
                }
                transcript.update(|t| t.add_message(message));
            }
        }
        LiveEvent::Card(e) => {
            if open.get_untracked().as_deref() == Some(e.card.conversation_id.as_str()) {
                transcript.update(|t| {
                    t.update_card(e.card);
                });
            }
        }
        LiveEvent::Other { kind, .. } if kind == "payment" => payments_changed.update(|n| *n += 1),
        LiveEvent::Other { .. } => {}
    });
    {
        let api = api.clone();
        let refresh = refresh.clone();
        leptos::task::spawn_local(async move {
            // The list says which event it reflects; the stream resumes right after it,
            // so nothing that happens in between is missed.
            let after = match list_page(&api, filter, None).await {
                Ok(listed) => {
                    // Filtered meanwhile: that list is loading; the stream starts anyway.
                    if listed.current {
                        conversations.set(Some(listed.page.items));
                        older.set(listed.page.next);
                    }
                    listed.after
                }
                Err(_) => {
                    conversations.set(Some(Vec::new()));
                    0
                }
            };
            let handle = start_operator_live(api, after, on_event, refresh, live_status);
            live.set_value(Some(handle));
        });
    }

    // Another filter: the list anew, as the server finds it (the stream goes on).
    Effect::new({
        let api = api.clone();
        move |first: Option<()>| {
            filter.track();
            if first.is_none() {
                return; // the first list comes with the stream's start, above
            }
            // The older pages were the last filter's.
            older.set(None);
            let api = api.clone();
            leptos::task::spawn_local(async move {
                if let Ok(listed) = list_page(&api, filter, None).await {
                    if listed.current {
                        conversations.set(Some(listed.page.items));
                        older.set(listed.page.next);
                    }
                }
            });
        }
    });
    let several_brands = account.brands.len() > 1;
    let brand_names = StoredValue::new(account.brand_names.clone());
    let filtered = move || {
        filter.with(|f| {
            *f != ListFilter {
                open: Some(true),
                ..ListFilter::default()
            }
        })
    };

    // Signed out elsewhere (or the session expired): the live stream says so.
    Effect::new(move |_| {
        if live_status.get() == LiveStatus::Revoked {
            on_signed_out.run(());
        }
    });

    // Signed out whatever the server answers (a session it no longer knows is out too).
    let sign_out = {
        let api = api.clone();
        Action::new_local(move |_: &()| {
            let api = api.clone();
            async move {
                let _ = api.logout().await;
                on_signed_out.run(());
            }
        })
    };

    // On a phone the list and a conversation take turns: the list is the console's own
    // page ("/console/"); anything else (a conversation, settings) shows alone.
    let location = leptos_router::hooks::use_location();
    let listing = move || {
        let path = location.pathname.get();
        path.trim_end_matches('/') == "/console" || path.is_empty() || path == "/"
    };
    view! {
        <div class="console" class:console--listing=listing>
            <header class="console__header">
                <span class="console__brand">{t(locale, Text::Console)}</span>
                <Show when=move || is_admin>
                    <A href="/console/reports" attr:class="console__settings">{tr(locale, "Reports", "Informes")}</A>
                    <A href="/console/settings" attr:class="console__settings">{tr(locale, "Settings", "Ajustes")}</A>
                </Show>
                <span class="console__who">{account.name.clone()}</span>
                <alerts::AlertSwitches locale=locale alerts=alerts/>
                <p class="console__live" role="status">
                    {move || matches!(live_status.get(), LiveStatus::Reconnecting | LiveStatus::Polling).then(|| t(locale, Text::Reconnecting))}
                </p>
                <Show when=move || matches!(live_status.get(), LiveStatus::Reconnecting | LiveStatus::Polling)>
                    // The button goes once the connection is back: the message box keeps
                    // the keyboard meanwhile.
                    <button type="button" class="btn btn--small" on:click=move |_| {
                        live.with_value(|h| if let Some(h) = h { h.retry_now() });
                        paycard_client::transcript::focus_message_box(".conversation");
                    }>
                        {tr(locale, "Retry now", "Reintentar ahora")}
                    </button>
                </Show>
                <button type="button" class="btn" disabled=sign_out.pending() on:click=move |_| { sign_out.dispatch(()); }>{t(locale, Text::SignOut)}</button>
            </header>
            <nav class="console__list" aria-label=t(locale, Text::Conversations)
                on:scroll:target=move |ev| {
                    // Near the end of what is loaded: the next page, as the operator scrolls.
                    let list = ev.target();
                    let near_end = list.scroll_top() + list.client_height() + 200 >= list.scroll_height();
                    if let (true, Some(cursor), false) = (near_end, older.get_untracked(), load_older.pending().get_untracked()) {
                        load_older.dispatch(cursor);
                    }
                }>
                <h1 class="console__list-title">{t(locale, Text::Conversations)}</h1>
                <ListTools locale=locale filter=filter brands={if several_brands { brand_names.get_value() } else { Default::default() }}/>
                // What a filter found, said once it is there (the region is always on the
                // page, so screen readers announce its changes).
                <p class="visually-hidden" role="status">
                    {move || filtered().then(|| conversations.with(|list| list.as_ref().map(|l| match (l.len(), locale) {
                        (0, _) => tr(locale, "No conversations match.", "Ninguna conversación coincide.").to_owned(),
                        (1, Locale::En) => "1 conversation".to_owned(),
                        (1, Locale::Es) => "1 conversación".to_owned(),
                        (n, Locale::En) => format!("{n} conversations"),
                        (n, Locale::Es) => format!("{n} conversaciones"),
                    }))).flatten()}
                </p>
                {move || match conversations.get() {
                    None => view! { <p class="console__empty">{t(locale, Text::Loading)}</p> }.into_any(),
                    Some(list) if list.is_empty() && filtered() => view! {
                        <p class="console__empty">{tr(locale, "No conversations match.", "Ninguna conversación coincide.")}</p>
                    }.into_any(),
                    Some(list) if list.is_empty() => view! { <p class="console__empty">{t(locale, Text::NoConversations)}</p> }.into_any(),
                    Some(list) => view! {
                        <ul class="convs">
                            {list.into_iter().map(|c| {
                                let id = c.id.clone();
                                let count = c.unread;
                                let is_current = { let id = id.clone(); move || open.get().as_deref() == Some(id.as_str()) };
                                view! {
                                    <li class="conv" class:conv--unread={count > 0} class:conv--current=is_current>
                                        <A href=format!("/console/conversations/{}", c.id)>
                                            <span class="conv__name">{visitor_name_in(&c.visitor_name, locale).into_owned()}</span>
                                            {(count > 0).then(|| view! {
                                                <span class="conv__count" aria-hidden="true">{count}</span>
                                                <span class="visually-hidden">{format!(" ({count} {})", t(locale, Text::Unread))}</span>
                                            })}
                                            {c.last_message.map(|m| view! {
                                                <span class="conv__last">{m.text}</span>
                                                <time class="conv__time" datetime=m.created_at.clone()>{paycard_client::time::clock(&m.created_at, locale)}</time>
                                            })}
                                            {(several_brands || c.closed_at.is_some()).then(|| view! {
                                                <span class="conv__tags">
                                                    {several_brands.then(|| view! {
                                                        <span class="conv__brand">{brand_names.with_value(|n| n.get(&c.brand_id).cloned().unwrap_or_else(|| c.brand_id.clone()))}</span>
                                                    })}
                                                    {c.closed_at.is_some().then(|| view! {
                                                        <span class="conv__closed">{tr(locale, "Closed", "Cerrada")}</span>
                                                    })}
                                                </span>
                                            })}
                                        </A>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
                // Also a button, for the keyboard and for lists too short to scroll.
                {move || older.get().map(|cursor| view! {
                    <button type="button" class="btn console__older" disabled=move || load_older.pending().get()
                        on:click=move |_| { load_older.dispatch(cursor.clone()); }>
                        {move || if load_older.pending().get() { t(locale, Text::Loading) } else { t(locale, Text::OlderConversations) }}
                    </button>
                })}
            </nav>
            <main class="console__main">
                <Routes fallback=move || view! { <p class="console__empty">{t(locale, Text::ChooseConversation)}</p> }>
                    <Route path=path!("/") view=move || view! { <p class="console__empty">{t(locale, Text::ChooseConversation)}</p> }/>
                    <Route path=path!("/conversations/:id") view=move || view! {
                        <ConversationRoute locale=locale open=open transcript=transcript conversations=conversations/>
                    }/>
                    <Route path=path!("/reports") view=move || view! { <reports::ReportsPage locale=locale is_admin=is_admin/> }/>
                    <Route path=path!("/settings") view=move || view! { <SettingsPage locale=locale section=Section::Portal is_admin=is_admin/> }/>
                    <Route path=path!("/settings/portal") view=move || view! { <SettingsPage locale=locale section=Section::Portal is_admin=is_admin/> }/>
                    <Route path=path!("/settings/gateways") view=move || view! { <SettingsPage locale=locale section=Section::Gateways is_admin=is_admin/> }/>
                    <Route path=path!("/settings/payments") view=move || view! { <SettingsPage locale=locale section=Section::Payments is_admin=is_admin/> }/>
                    <Route path=path!("/settings/brands") view=move || view! { <SettingsPage locale=locale section=Section::Brands is_admin=is_admin/> }/>
                    <Route path=path!("/settings/api-keys") view=move || view! { <SettingsPage locale=locale section=Section::ApiKeys is_admin=is_admin/> }/>
                    <Route path=path!("/settings/notifications") view=move || view! { <SettingsPage locale=locale section=Section::Notifications is_admin=is_admin/> }/>
                </Routes>
            </main>
        </div>
    }
}

/// Above the list: search, open/closed/all and, for people of several brands, the brand.
#[component]
fn ListTools(
    locale: Locale,
    filter: RwSignal<ListFilter>,
    /// The brands to choose from, by id; none for people of one brand.
    brands: std::collections::BTreeMap<String, String>,
) -> impl IntoView {
    // The search goes out when typing pauses, not on every key.
    let typing = StoredValue::new(0_u32);
    let on_search = move |text: String| {
        typing.update_value(|n| *n += 1);
        let this = typing.get_value();
        set_timeout(
            move || {
                if typing.get_value() == this {
                    filter.update(|f| f.search = text);
                }
            },
            std::time::Duration::from_millis(250),
        );
    };
    let status = move || match filter.with(|f| f.open) {
        Some(true) => "open",
        Some(false) => "closed",
        None => "all",
    };
    view! {
        <div class="list-tools" role="search">
            <input type="search" class="list-tools__search" aria-label=tr(locale, "Search conversations", "Buscar conversaciones")
                placeholder=tr(locale, "Name, email or message", "Nombre, correo o mensaje")
                on:input:target=move |ev| on_search(ev.target().value())/>
            <select class="list-tools__select" aria-label=tr(locale, "Conversations listed", "Conversaciones listadas")
                on:change:target=move |ev| {
                    let open = match ev.target().value().as_str() {
                        "open" => Some(true),
                        "closed" => Some(false),
                        _ => None,
                    };
                    filter.update(|f| f.open = open);
                }>
                <option value="open" selected=move || status() == "open">{tr(locale, "Open", "Abiertas")}</option>
                <option value="closed" selected=move || status() == "closed">{tr(locale, "Closed", "Cerradas")}</option>
                <option value="all" selected=move || status() == "all">{tr(locale, "All", "Todas")}</option>
            </select>
            {(!brands.is_empty()).then(|| view! {
                <select class="list-tools__select" aria-label=tr(locale, "Website", "Sitio web")
                    on:change:target=move |ev| {
                        let brand = ev.target().value();
                        filter.update(|f| f.brand_id = (!brand.is_empty()).then_some(brand));
                    }>
                    <option value="">{tr(locale, "All websites", "Todos los sitios web")}</option>
                    {brands.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            })}
        </div>
    }
}

/// A page of the conversation list, as the server answered it.
struct Listed {
    page: ConversationPage,
    /// The event it reflects (a stream resumes after it).
    after: i64,
    /// Whether the filter is still the one it was asked for: an answer that comes after
    /// the operator changed the filter is for no list.
    current: bool,
}

/// The page after `cursor` (the first with `None`) of the list `filter` asks for now.
async fn list_page(
    api: &Api,
    filter: RwSignal<ListFilter>,
    cursor: Option<&str>,
) -> Result<Listed, ApiError> {
    let asked = filter.get_untracked();
    let (page, after) = api.conversations(&asked, cursor).await?;
    let current = filter.with_untracked(|now| *now == asked);
    Ok(Listed {
        page,
        after,
        current,
    })
}

/// Reloads the newest page of conversations into `list`, keeping the older pages the
/// operator has already scrolled to (see [`merge_first_page`]). Returns the event the
/// list now reflects, unless the answer was for a filter since changed.
async fn refresh_first_page(
    api: &Api,
    list: RwSignal<Option<Vec<Conversation>>>,
    older: RwSignal<Option<String>>,
    filter: RwSignal<ListFilter>,
) -> Result<Option<i64>, ApiError> {
    let listed = list_page(api, filter, None).await?;
    if !listed.current {
        return Ok(None);
    }
    let after = listed.after;
    let page = listed.page;
    list.update(|list| {
        let list = list.get_or_insert_with(Vec::new);
        let kept_older = merge_first_page(list, page.items, page.next.is_some());
        if !kept_older {
            older.set(page.next);
        }
    });
    Ok(Some(after))
}

/// Puts a fresh first page at the head of `list`. The conversations loaded beyond it
/// (older than its last one, when there is more than one page) stay after it; returns
/// whether any did, in which case the cursor of the pages loaded so far still holds.
pub fn merge_first_page(list: &mut Vec<Conversation>, page: Vec<Conversation>, more: bool) -> bool {
    let in_page: HashSet<&str> = page.iter().map(|c| c.id.as_str()).collect();
    let boundary = page.last().map(|c| (c.updated_at.clone(), c.id.clone()));
    let kept: Vec<Conversation> = match (more, boundary) {
        (true, Some(boundary)) => list
            .drain(..)
            .filter(|c| {
                !in_page.contains(c.id.as_str()) && (c.updated_at.clone(), c.id.clone()) < boundary
            })
            .collect(),
        _ => Vec::new(),
    };
    let kept_any = !kept.is_empty();
    *list = page;
    list.extend(kept);
    kept_any
}

#[component]
fn ConversationRoute(
    locale: Locale,
    open: RwSignal<Option<String>>,
    transcript: RwSignal<Transcript>,
    conversations: RwSignal<Option<Vec<Conversation>>>,
) -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let api = Api::new("");
    let api_for_close = api.clone();
    Effect::new(move |_| {
        let id = id.get();
        open.set(Some(id.clone()));
        conversations.update(|list| {
            if let Some(c) = list
                .iter_mut()
                .flatten()
                .find(|c| c.id == id && c.unread > 0)
            {
                c.unread = 0;
            }
        });
        transcript.set(Transcript::default());
        let api = api.clone();
        leptos::task::spawn_local(async move {
            let _ = reload(&api, &id, transcript).await;
            let _ = api.mark_read(&id).await;
        });
    });
    on_cleanup(move || open.set(None));
    // The visitor's name from the list; kept when the conversation leaves the list
    // (closed under "Open", or another filter) while it is still on screen.
    let title = Memo::new(move |before: Option<&(String, String)>| {
        let id = id.get();
        let listed = conversations.with(|list| {
            list.as_ref()
                .and_then(|l| l.iter().find(|c| c.id == id))
                .map(|c| visitor_name_in(&c.visitor_name, locale).into_owned())
        });
        let kept = before
            .filter(|(was, _)| *was == id)
            .map(|(_, name)| name.clone());
        (id, listed.or(kept).unwrap_or_default())
    });
    let title = Signal::derive(move || title.with(|(_, name)| name.clone()));
    // Closed or not, as last known: from the list (kept live) while it holds the
    // conversation, from Close/Reopen's answer, and kept when the conversation leaves
    // the list (closed under "Open", or another filter). Unknown (opened by its address
    // while filtered out): taken as open; closing a closed one answers it as it is.
    let known = RwSignal::new(None::<(String, bool)>);
    Effect::new(move |_| {
        let id = id.get();
        let listed = conversations.with(|list| {
            list.as_ref()
                .and_then(|l| l.iter().find(|c| c.id == id))
                .map(|c| c.closed_at.is_some())
        });
        if let Some(closed) = listed {
            known.set(Some((id, closed)));
        }
    });
    let closed = Signal::derive(move || {
        let id = id.get();
        known
            .with(|k| {
                k.as_ref()
                    .filter(|(was, _)| *was == id)
                    .map(|(_, closed)| *closed)
            })
            .unwrap_or(false)
    });
    let set_closed = {
        let api = api_for_close;
        Action::new_local(move |(conversation_id, close): &(String, bool)| {
            let (api, conversation_id, close) = (api.clone(), conversation_id.clone(), *close);
            async move {
                let result = api.set_closed(&conversation_id, close).await;
                if let Ok(c) = &result {
                    known.set(Some((c.id.clone(), c.closed_at.is_some())));
                    conversations.update(|list| {
                        if let Some(known) = list.iter_mut().flatten().find(|k| k.id == c.id) {
                            known.closed_at = c.closed_at.clone();
                        }
                    });
                }
                result
            }
        })
    };
    let said = move || {
        if set_closed.pending().get() {
            return None;
        }
        set_closed.value().get().map(|r| match r {
            Ok(c) if c.closed_at.is_some() => tr(
                locale,
                "Conversation closed. It opens again if the visitor writes.",
                "Conversación cerrada. Se abre de nuevo si el visitante escribe.",
            ),
            Ok(_) => tr(
                locale,
                "Conversation open again.",
                "Conversación abierta de nuevo.",
            ),
            Err(_) => tr(
                locale,
                "Could not change it. Try again.",
                "No se pudo cambiar. Inténtalo de nuevo.",
            ),
        })
    };
    view! {
        <div class="conversation__bar">
            <A href="/console/" attr:class="console__back">{t(locale, Text::Back)}</A>
            <span class="visually-hidden" role="status">{said}</span>
            // aria-disabled, not disabled, while it works: a disabled button would drop
            // the keyboard's focus.
            <button type="button" class="btn btn--small conversation__close" aria-disabled=move || set_closed.pending().get().to_string()
                on:click=move |_| {
                    if !set_closed.pending().get_untracked() {
                        set_closed.dispatch((id.get_untracked(), !closed.get_untracked()));
                    }
                }>
                {move || if closed.get() { tr(locale, "Reopen", "Reabrir") } else { tr(locale, "Close conversation", "Cerrar conversación") }}
            </button>
        </div>
        {move || {
            let id = id.get();
            view! { <ConversationView locale=locale conversation_id=id transcript=transcript title=title/> }
        }}
    }
}

/// The operator side of one conversation on its own, without the console around it,
/// with its own live updates (SPEC §6).
#[component]
pub fn StandaloneConversation(locale: Locale, conversation_id: String) -> impl IntoView {
    let transcript = RwSignal::new(Transcript::default());
    let status = RwSignal::new(LiveStatus::Connecting);
    let api = Api::new("");
    let id = conversation_id.clone();
    let refresh: Rc<dyn Fn() -> LocalFuture<Result<Option<i64>, ApiError>>> = {
        let (api, id) = (api.clone(), id.clone());
        Rc::new(move || {
            let (api, id) = (api.clone(), id.clone());
            Box::pin(async move { reload(&api, &id, transcript).await.map(Some) })
        })
    };
    let payments_changed = RwSignal::new(0_u64);
    provide_context(PaymentsChanged(payments_changed));
    let on_event: Rc<dyn Fn(LiveEvent)> = {
        let id = id.clone();
        Rc::new(move |event| match event {
            LiveEvent::Other { kind, .. } if kind == "payment" => {
                payments_changed.update(|n| *n += 1)
            }
            LiveEvent::Message(e) if e.message.conversation_id == id => {
                transcript.update(|t| t.add_message(e.message))
            }
            LiveEvent::Card(e) if e.card.conversation_id == id => transcript.update(|t| {
                t.update_card(e.card);
            }),
            _ => {}
        })
    };
    let live = StoredValue::new_local(None::<LiveHandle>);
    leptos::task::spawn_local(async move {
        let after = reload(&api, &id, transcript).await.unwrap_or(0);
        live.set_value(Some(start_operator_live(
            api, after, on_event, refresh, status,
        )));
    });
    view! {
        <ConversationView locale=locale conversation_id=conversation_id transcript=transcript title=Signal::derive(String::new)/>
    }
}

/// The conversation id of `/console/embed/conversations/{id}`, the console's page for
/// one conversation alone (for another same-origin page to frame).
fn embedded_conversation() -> Option<String> {
    let path = window().location().pathname().ok()?;
    let id = path
        .strip_prefix("/console/embed/conversations/")?
        .trim_end_matches('/');
    (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
}

/// Mounts the operator side of one conversation into `element` of another page (the
/// page must be same-origin and signed in): `wasmBindings.mount_conversation(el, id)`.
#[wasm_bindgen]
pub fn mount_conversation(element: web_sys::HtmlElement, conversation_id: String) {
    let locale = paycard_client::page::detect_locale();
    leptos::mount::mount_to(element, move || {
        view! { <StandaloneConversation locale=locale conversation_id=conversation_id/> }
    })
    .forget();
}
