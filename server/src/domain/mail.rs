//! Receipts by email (SPEC §8.4). A receipt is rendered and queued in the transaction
//! that pays the card (or settles a refund), so it is sent if and only if that happened;
//! the background worker sends the outbox through SMTP (lettre), retrying with backoff
//! while the server is down: mail is delayed, never lost, and never holds a payment.
//!
//! Without `PAYCARD_SMTP_URL` receipts wait in the outbox unsent, and the console's
//! settings say mail is not configured.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use paycard_core::api::{Card, MailStatus};
use paycard_core::money::Money;
use paycard_core::recurrence::price_text;
use paycard_core::Locale;

use crate::error::AppError;
use crate::secrets::{self, new_id};
use crate::state::AppState;
use crate::store::{self, Db};

/// How many messages one round of the worker sends at most.
const BATCH: i64 = 20;
/// Retries back off from 30 s to an hour, and go on for three days.
const FIRST_RETRY: Duration = Duration::from_secs(30);
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::days(3);

/// The SMTP connection receipts go through.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From `PAYCARD_SMTP_URL` and `PAYCARD_MAIL_FROM` (both checked when read).
    pub fn from_config(config: &crate::Config) -> Option<Mailer> {
        let url = config.smtp_url.as_deref()?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| tracing::error!(error = %e, "PAYCARD_SMTP_URL: mail disabled"))
            .ok()?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = config.mail_from.parse().ok()?;
        Some(Mailer { transport, from })
    }
}

/// When a message that failed `tries` times is tried again.
fn backoff(tries: i64) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << tries.clamp(0, 16) as u32);
    doubled.min(LONGEST_WAIT)
}

fn later(after: Duration) -> String {
    secrets::timestamp(Utc::now() + chrono::Duration::from_std(after).unwrap_or_default())
}

/// The portal's time zone at `at`, for dates in receipts (UTC without a portal).
fn local(at: DateTime<Utc>, time_zone: Option<&str>) -> (DateTime<FixedOffset>, String) {
    let zone = time_zone.unwrap_or("UTC");
    (
        at.with_timezone(&super::settings::offset_at(at, zone)),
        zone.to_owned(),
    )
}

fn date_time(at: DateTime<Utc>, time_zone: Option<&str>, locale: Locale) -> String {
    let (at, zone) = local(at, time_zone);
    match locale {
        Locale::En => format!("{} ({zone})", at.format("%-d %b %Y, %H:%M")),
        Locale::Es => format!("{} ({zone})", at.format("%d/%m/%Y %H:%M")),
    }
}

fn date(day: chrono::NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::En => day.format("%-d %b %Y").to_string(),
        Locale::Es => day.format("%d/%m/%Y").to_string(),
    }
}

/// A message as queued: subject, plain text, HTML.
struct Rendered {
    subject: String,
    text: String,
    html: String,
}

/// Lines of `label: value` as plain text and as an HTML table, under a heading.
fn render(subject: String, intro: &str, rows: &[(&str, String)], footer: &str) -> Rendered {
    let mut text = format!("{intro}\n\n");
    let mut html_rows = String::new();
    for (label, value) in rows {
        text.push_str(&format!("{label}: {value}\n"));
        html_rows.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;padding:4px 12px 4px 0\">{}</th><td style=\"padding:4px 0\">{}</td></tr>",
            html_escape::encode_text(label),
            html_escape::encode_text(value)
        ));
    }
    text.push_str(&format!("\n{footer}\n"));
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#1a1a1a\"><p>{intro}</p>\
         <table role=\"presentation\">{html_rows}</table><p style=\"color:#555\">{footer}</p></body></html>",
        title = html_escape::encode_text(&subject),
        intro = html_escape::encode_text(intro),
        footer = html_escape::encode_text(footer),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// What every receipt needs besides the card: the brand's name, the portal's time zone,
/// the payer's address and language.
struct Context {
    brand: String,
    time_zone: Option<String>,
    to: String,
    locale: Locale,
}

async fn context(db: &mut impl Db, card: &Card) -> Result<Option<Context>, AppError> {
    let Some((to, locale)) = store::cards::payer(db, &card.id).await? else {
        return Ok(None);
    };
    let brand = store::conversations::brand_name(db, &card.conversation_id)
        .await?
        .unwrap_or_default();
    let time_zone = store::portals::connected(db).await?.map(|p| p.time_zone);
    let locale = locale
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or_default();
    Ok(Some(Context {
        brand,
        time_zone,
        to,
        locale,
    }))
}

async fn queue(db: &mut impl Db, about: &str, to: &str, m: Rendered) -> Result<(), AppError> {
    store::mail::queue(
        db,
        &store::mail::NewMail {
            id: &new_id("mail"),
            about,
            to,
            subject: &m.subject,
            text_body: &m.text,
            html_body: &m.html,
        },
        &secrets::now(),
    )
    .await?;
    Ok(())
}

/// Queues the receipt of a card just paid by `attempt_id`, in the caller's transaction
/// (nothing when the checkout was given no email).
pub async fn queue_receipt(
    db: &mut impl Db,
    card: &Card,
    attempt_id: &str,
) -> Result<(), AppError> {
    let Some(cx) = context(db, card).await? else {
        return Ok(());
    };
    let now = Utc::now();
    let l = cx.locale;
    let money = Money::new(card.amount_minor, card.currency);
    let mut rows = vec![
        (
            if l == Locale::Es { "Concepto" } else { "Item" },
            card.title.clone(),
        ),
        (
            if l == Locale::Es { "Importe" } else { "Amount" },
            price_text(&money, card.recurrence.as_ref(), l),
        ),
    ];
    if let Some(next) = card
        .recurrence
        .and_then(|r| r.next_charge_date(now.date_naive()))
    {
        rows.push((
            if l == Locale::Es {
                "Próximo cargo"
            } else {
                "Next charge"
            },
            date(next, l),
        ));
    }
    rows.push((
        if l == Locale::Es { "Fecha" } else { "Date" },
        date_time(now, cx.time_zone.as_deref(), l),
    ));
    rows.push((
        if l == Locale::Es {
            "Referencia"
        } else {
            "Reference"
        },
        attempt_id.to_owned(),
    ));
    let (subject, intro, footer) = match l {
        Locale::En => (
            format!("Your receipt from {}: {}", cx.brand, card.title),
            format!("Thank you for your payment to {}.", cx.brand),
            "Keep this email for your records. Reply to the chat if something is not right.",
        ),
        Locale::Es => (
            format!("Recibo de {}: {}", cx.brand, card.title),
            format!("Gracias por su pago a {}.", cx.brand),
            "Guarde este correo como comprobante. Si algo no es correcto, escríbanos en el chat.",
        ),
    };
    let rendered = render(subject, &intro, &rows, footer);
    queue(db, &format!("receipt:{attempt_id}"), &cx.to, rendered).await
}

/// Queues the receipt of a refund that just succeeded, in the caller's transaction.
pub async fn queue_refund_receipt(
    db: &mut impl Db,
    card: &Card,
    refund_id: &str,
    amount_minor: i64,
) -> Result<(), AppError> {
    let Some(cx) = context(db, card).await? else {
        return Ok(());
    };
    let l = cx.locale;
    let refunded = Money::new(amount_minor, card.currency).format(l);
    let paid = Money::new(card.amount_minor, card.currency).format(l);
    let total = Money::new(card.refunded_minor, card.currency).format(l);
    let rows = vec![
        (
            if l == Locale::Es { "Concepto" } else { "Item" },
            card.title.clone(),
        ),
        (
            if l == Locale::Es {
                "Reembolsado"
            } else {
                "Refunded"
            },
            refunded.clone(),
        ),
        (if l == Locale::Es { "Pagado" } else { "Paid" }, paid),
        (
            if l == Locale::Es {
                "Reembolsado en total"
            } else {
                "Refunded in total"
            },
            total,
        ),
        (
            if l == Locale::Es { "Fecha" } else { "Date" },
            date_time(Utc::now(), cx.time_zone.as_deref(), l),
        ),
        (
            if l == Locale::Es {
                "Referencia"
            } else {
                "Reference"
            },
            refund_id.to_owned(),
        ),
    ];
    let (subject, intro, footer) = match l {
        Locale::En => (
            format!("Refund from {}: {}", cx.brand, card.title),
            format!("{} has refunded {refunded} to you.", cx.brand),
            "The money reaches your account in a few days, depending on your bank.",
        ),
        Locale::Es => (
            format!("Reembolso de {}: {}", cx.brand, card.title),
            format!("{} le ha reembolsado {refunded}.", cx.brand),
            "El dinero llegará a su cuenta en unos días, según su banco.",
        ),
    };
    let rendered = render(subject, &intro, &rows, footer);
    queue(db, &format!("refund:{refund_id}"), &cx.to, rendered).await
}

/// How long a sent (or given-up) receipt is kept: long enough to answer "did the
/// customer get it?", not longer than needed for the address and card details in it.
pub const KEPT_DAYS: i64 = 30;

/// Forgets the receipts sent or given up on more than [`KEPT_DAYS`] ago. Returns how many.
pub async fn prune(state: &AppState) -> Result<u64, AppError> {
    let before = secrets::timestamp(Utc::now() - chrono::Duration::days(KEPT_DAYS));
    let mut db = state.store.read().await?;
    Ok(store::mail::prune(&mut db, &before).await?)
}

/// Sends what is due in the outbox. Returns how many went out.
pub async fn send_due(state: &AppState) -> Result<usize, AppError> {
    let Some(mailer) = state.mailer.as_ref() else {
        return Ok(0);
    };
    let due = {
        let mut db = state.store.read().await?;
        store::mail::due(&mut db, &secrets::now(), BATCH).await?
    };
    let mut sent = 0;
    for mail in due {
        let result = match build(mailer, &mail) {
            Ok(message) => mailer
                .transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| (e.is_permanent(), e.to_string())),
            Err(why) => Err((true, why)),
        };
        let mut db = state.store.write().await?;
        let now = secrets::now();
        match result {
            Ok(()) => {
                store::mail::sent(&mut db, &mail.id, &now).await?;
                sent += 1;
            }
            Err((permanent, why)) => {
                let too_old = chrono::DateTime::parse_from_rfc3339(&mail.created_at)
                    .map(|t| Utc::now() - t.with_timezone(&Utc) > GIVE_UP_AFTER)
                    .unwrap_or(false);
                let next = (!permanent && !too_old).then(|| later(backoff(mail.tries)));
                tracing::warn!(mail = %mail.id, about = %mail.about, error = %why,
                    retry_at = next.as_deref().unwrap_or("never"), "a receipt could not be sent");
                store::mail::not_sent(&mut db, &mail.id, &why, next.as_deref(), &now).await?;
            }
        }
        db.commit().await?;
    }
    Ok(sent)
}

fn build(mailer: &Mailer, mail: &store::mail::MailRow) -> Result<Message, String> {
    let to: Mailbox = mail
        .to_address
        .parse()
        .map_err(|e| format!("the address {:?} is not valid: {e}", mail.to_address))?;
    Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(format!("<{}@paycard>", mail.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text_body.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.html_body.clone()),
                ),
        )
        .map_err(|e| e.to_string())
}

/// Whether mail is configured, and how the outbox stands (the console's settings).
pub async fn status(state: &AppState) -> Result<MailStatus, AppError> {
    let mut db = state.store.read().await?;
    let (pending, sent, last_error) = store::mail::summary(&mut db).await?;
    let configured = state.mailer.is_some();
    Ok(MailStatus {
        configured,
        from: configured.then(|| state.config.mail_from.clone()),
        server: state
            .config
            .smtp_url
            .as_deref()
            .filter(|_| configured)
            .map(crate::config::redact_password),
        pending,
        sent,
        last_error_at: last_error.as_ref().map(|(_, at)| at.clone()),
        last_error: last_error.map(|(e, _)| e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(5), Duration::from_secs(960));
        assert_eq!(backoff(7), LONGEST_WAIT);
        assert_eq!(backoff(1000), LONGEST_WAIT);
    }

    #[test]
    fn dates_are_in_the_portal_time_zone() {
        let at = "2026-07-01T10:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            date_time(at, Some("Europe/Madrid"), Locale::Es),
            "01/07/2026 12:30 (Europe/Madrid)"
        );
        assert_eq!(
            date_time(at, Some("America/New_York"), Locale::En),
            "1 Jul 2026, 06:30 (America/New_York)"
        );
        assert_eq!(date_time(at, None, Locale::En), "1 Jul 2026, 10:30 (UTC)");
    }
}
