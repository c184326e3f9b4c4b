//! The admin settings endpoints (SPEC §4, admin rows), for the console's Settings
//! pages, on this page's own origin and session. Unlike the chat's calls, errors here
//! keep their field errors: the forms show each one next to its field.

use gloo_net::http::{Request, RequestBuilder, Response};
use paycard_core::api::{
    ApiKey, Brand, BrandPatch, CountryOption, CreatedApiKey, CreatedWebhookEndpoint, Gateway,
    GatewayCheck, GatewayKindInfo, MailStatus, NewApiKey, NewBrand, NewGateway, NewPayment,
    NewRefund, NewWebhookEndpoint, Payment, PaymentPatch, Portal, PortalDefaults, PortalInput,
    Refund, ReportSummary, WebhookDelivery, WebhookEndpoint,
};
use paycard_core::validation::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::{network, with_json, ApiError};
use crate::json;

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fields: Vec<FieldError>,
}

fn unexpected() -> ApiError {
    ApiError::Network("the server's answer is not what was expected".into())
}

async fn answer<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    let status = res.status();
    let text = res.text().await.map_err(network)?;
    if (200..300).contains(&status) {
        // 204 has no body: `()` reads from `null`.
        let text = if text.is_empty() { "null" } else { &text };
        return json::parse(text).ok_or_else(unexpected);
    }
    let (code, message, fields) = json::parse::<ErrorBody>(&text)
        .map(|b| (b.error.code, b.error.message, b.error.fields))
        .unwrap_or_else(|| ("http_error".into(), format!("HTTP {status}"), Vec::new()));
    Err(ApiError::Http {
        status,
        code,
        message,
        fields,
    })
}

/// Sends a request in the admin's language (the server words its messages in it).
async fn send<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    let builder = builder.header("Accept-Language", crate::page::detect_locale().tag());
    let res = match body {
        Some(body) => with_json(builder, body)?.send().await,
        None => builder.send().await,
    }
    .map_err(network)?;
    answer(res).await
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Request::get(path), None::<&()>).await
}

pub async fn countries() -> Result<Vec<CountryOption>, ApiError> {
    get("/api/v1/admin/countries").await
}

pub async fn portal_defaults(country: &str) -> Result<PortalDefaults, ApiError> {
    let country: String = country.chars().filter(char::is_ascii_alphabetic).collect();
    get(&format!("/api/v1/admin/portal/defaults?country={country}")).await
}

/// The connected portal; `None` when there is none.
pub async fn portal() -> Result<Option<Portal>, ApiError> {
    match get("/api/v1/admin/portal").await {
        Ok(p) => Ok(Some(p)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn portals() -> Result<Vec<Portal>, ApiError> {
    get("/api/v1/admin/portals").await
}

pub async fn connect_portal(input: &PortalInput) -> Result<Portal, ApiError> {
    send(Request::put("/api/v1/admin/portal"), Some(input)).await
}

pub async fn disconnect_portal() -> Result<(), ApiError> {
    send(Request::delete("/api/v1/admin/portal"), None::<&()>).await
}

pub async fn gateway_kinds() -> Result<Vec<GatewayKindInfo>, ApiError> {
    get("/api/v1/admin/gateway-kinds").await
}

pub async fn gateways() -> Result<Vec<Gateway>, ApiError> {
    get("/api/v1/admin/gateways").await
}

pub async fn add_gateway(input: &NewGateway) -> Result<Gateway, ApiError> {
    send(Request::post("/api/v1/admin/gateways"), Some(input)).await
}

pub async fn replace_gateway(id: &str, input: &NewGateway) -> Result<Gateway, ApiError> {
    send(
        Request::put(&format!("/api/v1/admin/gateways/{id}")),
        Some(input),
    )
    .await
}

pub async fn remove_gateway(id: &str) -> Result<(), ApiError> {
    send(
        Request::delete(&format!("/api/v1/admin/gateways/{id}")),
        None::<&()>,
    )
    .await
}

/// Asks the gateway now whether it takes the stored credentials.
pub async fn check_gateway(id: &str) -> Result<GatewayCheck, ApiError> {
    send(
        Request::post(&format!("/api/v1/admin/gateways/{id}/check")),
        None::<&()>,
    )
    .await
}

pub async fn payments() -> Result<Vec<Payment>, ApiError> {
    get("/api/v1/admin/payments").await
}

pub async fn add_payment(input: &NewPayment) -> Result<Payment, ApiError> {
    send(Request::post("/api/v1/admin/payments"), Some(input)).await
}

pub async fn update_payment(id: &str, patch: &PaymentPatch) -> Result<Payment, ApiError> {
    send(
        Request::patch(&format!("/api/v1/admin/payments/{id}")),
        Some(patch),
    )
    .await
}

/// Deletes a payment (one with shared cards stays for them, hidden and inactive).
pub async fn delete_payment(id: &str) -> Result<(), ApiError> {
    let _: Option<Payment> = send(
        Request::delete(&format!("/api/v1/admin/payments/{id}")),
        None::<&()>,
    )
    .await?;
    Ok(())
}

pub async fn brands() -> Result<Vec<Brand>, ApiError> {
    get("/api/v1/admin/brands").await
}

pub async fn add_brand(input: &NewBrand) -> Result<Brand, ApiError> {
    send(Request::post("/api/v1/admin/brands"), Some(input)).await
}

pub async fn update_brand(id: &str, patch: &BrandPatch) -> Result<Brand, ApiError> {
    send(
        Request::patch(&format!("/api/v1/admin/brands/{id}")),
        Some(patch),
    )
    .await
}

pub async fn api_keys() -> Result<Vec<ApiKey>, ApiError> {
    get("/api/v1/admin/api-keys").await
}

/// Makes a key; the answer holds the key itself, shown this once.
pub async fn create_api_key(input: &NewApiKey) -> Result<CreatedApiKey, ApiError> {
    send(Request::post("/api/v1/admin/api-keys"), Some(input)).await
}

pub async fn delete_api_key(id: &str) -> Result<(), ApiError> {
    send(
        Request::delete(&format!("/api/v1/admin/api-keys/{id}")),
        None::<&()>,
    )
    .await
}

/// Refunds part or the rest of a paid card; `key` makes a retried request refund once.
pub async fn refund(card_id: &str, input: &NewRefund, key: &str) -> Result<Refund, ApiError> {
    send(
        Request::post(&format!("/api/v1/admin/cards/{card_id}/refunds"))
            .header("Idempotency-Key", key),
        Some(input),
    )
    .await
}

/// Whether receipts can go out, and how the last ones went.
/// The query of a report (SPEC §8.6): the days and the brand, each only when chosen.
pub fn report_query(from: &str, to: &str, brand_id: &str) -> String {
    [("from", from), ("to", to), ("brand_id", brand_id)]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", js_sys::encode_uri_component(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn report_summary(query: &str) -> Result<ReportSummary, ApiError> {
    get(&format!("/api/v1/admin/reports/summary?{query}")).await
}

/// Where the report's cards download as CSV (the session cookie goes with the link).
pub fn report_csv_url(query: &str) -> String {
    format!("/api/v1/admin/reports/cards?{query}&format=csv")
}

pub async fn mail_status() -> Result<MailStatus, ApiError> {
    get("/api/v1/admin/mail").await
}

pub async fn webhooks() -> Result<Vec<WebhookEndpoint>, ApiError> {
    get("/api/v1/admin/webhooks").await
}

/// Registers an endpoint; the answer holds its signing secret, shown this once.
pub async fn create_webhook(
    input: &NewWebhookEndpoint,
) -> Result<CreatedWebhookEndpoint, ApiError> {
    send(Request::post("/api/v1/admin/webhooks"), Some(input)).await
}

pub async fn delete_webhook(id: &str) -> Result<(), ApiError> {
    send(
        Request::delete(&format!("/api/v1/admin/webhooks/{id}")),
        None::<&()>,
    )
    .await
}

pub async fn webhook_deliveries(id: &str) -> Result<Vec<WebhookDelivery>, ApiError> {
    get(&format!("/api/v1/admin/webhooks/{id}/deliveries")).await
}

/// Sends a delivery again now.
pub async fn send_webhook_again(id: &str, delivery_id: &str) -> Result<WebhookDelivery, ApiError> {
    send(
        Request::post(&format!(
            "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry"
        )),
        None::<&()>,
    )
    .await
}
