//! Reports (SPEC §8.6), for admins: for a range of days and one brand or all, the money
//! paid, refunded and kept per currency, what became of the cards shared, the conversion
//! from shared to paid, a chart of the money paid per day, and the cards as CSV.
//!
//! The chart is plain SVG drawn here: bars need no charting library, and the console's
//! bundle stays as it is (the visitor widget does not link this module at all).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use paycard_core::api::{DayTotal, ReportSummary};
use paycard_core::{Currency, Locale, Money};

use crate::i18n::tr;
use crate::settings::failure_text;
use paycard_client::admin;

/// The page at `/console/reports`.
#[component]
pub fn ReportsPage(locale: Locale, is_admin: bool) -> impl IntoView {
    if !is_admin {
        return view! {
            <section class="settings">
                <p class="settings__notice">{tr(locale, "Only admins can see reports.", "Solo los administradores pueden ver los informes.")}</p>
            </section>
        }
        .into_any();
    }
    // What the form says, and what was last asked for (the server's defaults at first:
    // the last 30 days in the portal's time zone, every brand).
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let brand = RwSignal::new(String::new());
    let asked = RwSignal::new(String::new());
    let summary = LocalResource::new(move || {
        let query = asked.get();
        async move { admin::report_summary(&query).await }
    });
    // The form shows the days the report covers, including the defaults.
    Effect::new(move |_| {
        if let Some(Ok(report)) = summary.get() {
            from.set(report.from.clone());
            to.set(report.to.clone());
        }
    });
    let brands = LocalResource::new(admin::brands);
    let show = move |ev: SubmitEvent| {
        ev.prevent_default();
        asked.set(admin::report_query(
            &from.get_untracked(),
            &to.get_untracked(),
            &brand.get_untracked(),
        ));
    };
    view! {
        <section class="settings reports" aria-labelledby="reports-title">
            <h1 id="reports-title" class="settings__title">{tr(locale, "Reports", "Informes")}</h1>
            <form class="reports__form" on:submit=show>
                <div class="field">
                    <label for="report-from">{tr(locale, "From", "Desde")}</label>
                    <input id="report-from" type="date" required prop:value=move || from.get()
                        on:input=move |ev| from.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="report-to">{tr(locale, "To", "Hasta")}</label>
                    <input id="report-to" type="date" required prop:value=move || to.get()
                        on:input=move |ev| to.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="report-brand">{tr(locale, "Brand", "Marca")}</label>
                    <select id="report-brand" on:change=move |ev| brand.set(event_target_value(&ev))>
                        <option value="">{tr(locale, "All brands", "Todas las marcas")}</option>
                        {move || brands.get().and_then(Result::ok).map(|list| list.into_iter().map(|b| {
                            let id = b.id.clone();
                            view! { <option value=b.id selected=move || brand.get() == id>{b.name}</option> }
                        }).collect_view())}
                    </select>
                </div>
                <button type="submit" class="btn btn--primary">{tr(locale, "Show", "Mostrar")}</button>
                <a class="btn" download="" href=move || admin::report_csv_url(&asked.get())>
                    {tr(locale, "Download CSV", "Descargar CSV")}
                </a>
            </form>
            <Transition fallback=move || view! { <p class="settings__empty">{tr(locale, "Loading…", "Cargando…")}</p> }>
                {move || summary.get().map(|result| match result {
                    Ok(report) => view! { <Summary locale=locale report=report/> }.into_any(),
                    Err(e) => view! { <p class="settings__failure" role="alert">{report_failure(&e, locale)}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// A refused range in words; other failures as in the settings.
fn report_failure(error: &paycard_client::ApiError, locale: Locale) -> &'static str {
    match error.code() {
        "invalid_range" => tr(
            locale,
            "The last day must not be before the first.",
            "El último día no puede ser anterior al primero.",
        ),
        "range_too_long" => tr(
            locale,
            "A report covers at most 366 days.",
            "Un informe abarca como máximo 366 días.",
        ),
        "invalid_date" => tr(locale, "Choose both days.", "Elige los dos días."),
        _ => failure_text(error, locale),
    }
}

fn money(minor: i64, code: &str, locale: Locale) -> String {
    match Currency::from_code(code) {
        Some(currency) => Money::new(minor, currency).format(locale),
        None => format!("{minor} {code}"),
    }
}

#[component]
fn Summary(locale: Locale, report: ReportSummary) -> impl IntoView {
    let counts = report.counts.clone();
    let percent = format!("{:.0} %", report.conversion * 100.0);
    let conversion = match locale {
        Locale::En => format!(
            "{} of {} cards shared were paid",
            counts.paid, counts.shared
        ),
        Locale::Es => format!(
            "Se pagaron {} de {} tarjetas compartidas",
            counts.paid, counts.shared
        ),
    };
    let zone = match locale {
        Locale::En => format!("Days in {}.", report.time_zone),
        Locale::Es => format!("Días en {}.", report.time_zone),
    };
    let outcomes = [
        (tr(locale, "Shared", "Compartidas"), counts.shared),
        (tr(locale, "Paid", "Pagadas"), counts.paid),
        (
            tr(locale, "Failed attempts", "Intentos fallidos"),
            counts.failed_attempts,
        ),
        (tr(locale, "Cancelled", "Canceladas"), counts.cancelled),
        (
            tr(
                locale,
                "Declined by the visitor",
                "Rechazadas por el visitante",
            ),
            counts.declined,
        ),
        (tr(locale, "Expired", "Caducadas"), counts.expired),
        (tr(locale, "Refunded", "Reembolsadas"), counts.refunded),
    ];
    let nothing = report.counts.shared == 0;
    view! {
        <div class="reports__body" data-shared=counts.shared>
            <p class="settings__intro">{zone}</p>
            <div class="reports__tiles">
                <div class="panel reports__tile">
                    <h2 class="settings__subheading">{tr(locale, "Conversion", "Conversión")}</h2>
                    <p class="reports__figure" data-figure="conversion">{percent}</p>
                    <p class="table__meta">{conversion}</p>
                </div>
                <div class="panel reports__tile">
                    <h2 class="settings__subheading">{tr(locale, "Outcomes", "Resultados")}</h2>
                    <dl class="reports__counts">
                        {outcomes.into_iter().map(|(label, n)| view! { <dt>{label}</dt><dd>{n}</dd> }).collect_view()}
                    </dl>
                </div>
            </div>
            <h2 class="settings__heading">{tr(locale, "Money", "Dinero")}</h2>
            {if report.currencies.is_empty() {
                view! { <p class="settings__empty">{if nothing {
                    tr(locale, "No cards were shared in these days.", "No se compartieron tarjetas en estos días.")
                } else {
                    tr(locale, "Nothing was paid in these days.", "No se pagó nada en estos días.")
                }}</p> }.into_any()
            } else {
                view! {
                    <table class="table reports__money">
                        <caption class="visually-hidden">{tr(locale, "Totals per currency", "Totales por moneda")}</caption>
                        <thead><tr>
                            <th scope="col">{tr(locale, "Currency", "Moneda")}</th>
                            <th scope="col">{tr(locale, "Paid", "Pagado")}</th>
                            <th scope="col">{tr(locale, "Refunded", "Reembolsado")}</th>
                            <th scope="col">{tr(locale, "Net", "Neto")}</th>
                        </tr></thead>
                        <tbody>
                            {report.currencies.iter().map(|c| view! {
                                <tr>
                                    <th scope="row">{c.currency.clone()}</th>
                                    <td>{money(c.paid_minor, &c.currency, locale)}</td>
                                    <td>{money(c.refunded_minor, &c.currency, locale)}</td>
                                    <td>{money(c.net_minor, &c.currency, locale)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {report.currencies.iter().map(|c| view! {
                        <DayChart locale=locale currency=c.currency.clone() from=report.from.clone() to=report.to.clone() days=report.by_day.clone()/>
                    }).collect_view()}
                }.into_any()
            }}
        </div>
    }
}

/// The paid money of one currency per day, as bars, with the same figures as a table
/// for screen readers and for copying.
#[component]
fn DayChart(
    locale: Locale,
    currency: String,
    from: String,
    to: String,
    days: Vec<DayTotal>,
) -> impl IntoView {
    let mut bars: Vec<(String, i64)> = every_day(&from, &to).into_iter().map(|d| (d, 0)).collect();
    for day in days.iter().filter(|d| d.currency == currency) {
        match bars.iter_mut().find(|(d, _)| *d == day.date) {
            Some(bar) => bar.1 += day.paid_minor,
            // Paid after the range's last day (a card shared on it, paid the next).
            None => bars.push((day.date.clone(), day.paid_minor)),
        }
    }
    bars.sort();
    let highest = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 160.0;
    let step = WIDTH / bars.len().max(1) as f64;
    let title = match locale {
        Locale::En => format!("Paid per day, {currency}"),
        Locale::Es => format!("Pagado por día, {currency}"),
    };
    let chart_id = format!("chart-{currency}");
    let first = bars.first().map(|(d, _)| d.clone()).unwrap_or_default();
    let last = bars.last().map(|(d, _)| d.clone()).unwrap_or_default();
    let top = money(highest, &currency, locale);
    let paid_days: Vec<(String, i64)> = bars.iter().filter(|(_, v)| *v > 0).cloned().collect();
    view! {
        <figure class="panel reports__chart">
            <figcaption id=chart_id.clone() class="settings__subheading">{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {}", HEIGHT + 22.0) role="img" aria-labelledby=chart_id.clone()
                preserveAspectRatio="xMidYMid meet" class="reports__svg">
                <line x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT class="reports__axis"/>
                <text x="0" y="12" class="reports__label">{top}</text>
                {bars.iter().enumerate().filter(|(_, (_, v))| *v > 0).map(|(i, (date, value))| {
                    let h = (*value as f64 / highest as f64) * (HEIGHT - 18.0);
                    let label = format!("{date}: {}", money(*value, &currency, locale));
                    view! {
                        <rect x=format!("{:.1}", i as f64 * step + step * 0.15) y=format!("{:.1}", HEIGHT - h)
                            width=format!("{:.1}", (step * 0.7).max(1.0)) height=format!("{h:.1}") class="reports__bar">
                            <title>{label}</title>
                        </rect>
                    }
                }).collect_view()}
                <text x="0" y=HEIGHT + 18.0 class="reports__label">{first}</text>
                <text x=WIDTH y=HEIGHT + 18.0 text-anchor="end" class="reports__label">{last}</text>
            </svg>
            <details class="reports__data">
                <summary>{tr(locale, "Show as a table", "Ver como tabla")}</summary>
                <table class="table">
                    <caption class="visually-hidden">{title}</caption>
                    <thead><tr>
                        <th scope="col">{tr(locale, "Day", "Día")}</th>
                        <th scope="col">{tr(locale, "Paid", "Pagado")}</th>
                    </tr></thead>
                    <tbody>
                        {paid_days.into_iter().map(|(date, value)| view! {
                            <tr><th scope="row">{date}</th><td>{money(value, &currency, locale)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}

/// Every day from `from` to `to`, both included, written `YYYY-MM-DD` (none if either
/// does not read as a day).
fn every_day(from: &str, to: &str) -> Vec<String> {
    let read = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let (Some(mut day), Some(last)) = (read(from), read(to)) else {
        return Vec::new();
    };
    let mut days = Vec::new();
    while day <= last && days.len() <= 366 {
        days.push(day.to_string());
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    days
}
