//! The admin settings endpoints (SPEC §4, admin rows), for the Settings pages. Unlike
//! the shared client, errors here keep their field errors: the forms show each one
//! next to its field.

use gloo_net::http::{Request, RequestBuilder, Response};
use paycard_core::api::{
    Brand, BrandPatch, CountryOption, Gateway, GatewayKindInfo, NewBrand, NewGateway, NewPayment,
    Payment, PaymentPatch, Portal, PortalDefaults, PortalInput,
};
use paycard_core::validation::FieldError;
use paycard_widget::json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    Http {
        status: u16,
        code: String,
        fields: Vec<FieldError>,
    },
    Network,
}

impl AdminError {
    pub fn status(&self) -> Option<u16> {
        match self {
            AdminError::Http { status, .. } => Some(*status),
            AdminError::Network => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AdminError::Http { code, .. } => code,
            AdminError::Network => "network",
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AdminError::Http { fields, .. } => fields,
            AdminError::Network => &[],
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    fields: Vec<FieldError>,
}

async fn answer<T: DeserializeOwned>(res: Response) -> Result<T, AdminError> {
    let status = res.status();
    let text = res.text().await.map_err(|_| AdminError::Network)?;
    if (200..300).contains(&status) {
        // 204 has no body: `()` reads from `null`.
        let text = if text.is_empty() { "null" } else { &text };
        return json::parse(text).ok_or(AdminError::Network);
    }
    let (code, fields) = json::parse::<ErrorBody>(&text)
        .map(|b| (b.error.code, b.error.fields))
        .unwrap_or_else(|| ("http_error".into(), Vec::new()));
    Err(AdminError::Http {
        status,
        code,
        fields,
    })
}

async fn send<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<T, AdminError> {
    let builder = builder.header(
        "Accept-Language",
        paycard_widget::i18n::detect_locale().tag(),
    );
    let res = match body {
        Some(body) => {
            let text = json::stringify(body).ok_or(AdminError::Network)?;
            builder
                .header("Content-Type", "application/json")
                .body(text)
                .map_err(|_| AdminError::Network)?
                .send()
                .await
        }
        None => builder.send().await,
    }
    .map_err(|_| AdminError::Network)?;
    answer(res).await
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, AdminError> {
    send(Request::get(path), None::<&()>).await
}

pub async fn countries() -> Result<Vec<CountryOption>, AdminError> {
    get("/api/v1/admin/countries").await
}

pub async fn portal_defaults(country: &str) -> Result<PortalDefaults, AdminError> {
    let country: String = country.chars().filter(char::is_ascii_alphabetic).collect();
    get(&format!("/api/v1/admin/portal/defaults?country={country}")).await
}

/// The connected portal; `None` when there is none.
pub async fn portal() -> Result<Option<Portal>, AdminError> {
    match get("/api/v1/admin/portal").await {
        Ok(p) => Ok(Some(p)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn portals() -> Result<Vec<Portal>, AdminError> {
    get("/api/v1/admin/portals").await
}

pub async fn connect_portal(input: &PortalInput) -> Result<Portal, AdminError> {
    send(Request::put("/api/v1/admin/portal"), Some(input)).await
}

pub async fn disconnect_portal() -> Result<(), AdminError> {
    send(Request::delete("/api/v1/admin/portal"), None::<&()>).await
}

pub async fn gateway_kinds() -> Result<Vec<GatewayKindInfo>, AdminError> {
    get("/api/v1/admin/gateway-kinds").await
}

pub async fn gateways() -> Result<Vec<Gateway>, AdminError> {
    get("/api/v1/admin/gateways").await
}

pub async fn add_gateway(input: &NewGateway) -> Result<Gateway, AdminError> {
    send(Request::post("/api/v1/admin/gateways"), Some(input)).await
}

pub async fn replace_gateway(id: &str, input: &NewGateway) -> Result<Gateway, AdminError> {
    send(
        Request::put(&format!("/api/v1/admin/gateways/{id}")),
        Some(input),
    )
    .await
}

pub async fn remove_gateway(id: &str) -> Result<(), AdminError> {
    send(
        Request::delete(&format!("/api/v1/admin/gateways/{id}")),
        None::<&()>,
    )
    .await
}

pub async fn payments() -> Result<Vec<Payment>, AdminError> {
    get("/api/v1/admin/payments").await
}

pub async fn add_payment(input: &NewPayment) -> Result<Payment, AdminError> {
    send(Request::post("/api/v1/admin/payments"), Some(input)).await
}

pub async fn update_payment(id: &str, patch: &PaymentPatch) -> Result<Payment, AdminError> {
    send(
        Request::patch(&format!("/api/v1/admin/payments/{id}")),
        Some(patch),
    )
    .await
}

/// Deletes a payment (one with shared cards stays for them, hidden and inactive).
pub async fn delete_payment(id: &str) -> Result<(), AdminError> {
    let _: Option<Payment> = send(
        Request::delete(&format!("/api/v1/admin/payments/{id}")),
        None::<&()>,
    )
    .await?;
    Ok(())
}

pub async fn brands() -> Result<Vec<Brand>, AdminError> {
    get("/api/v1/admin/brands").await
}

pub async fn add_brand(input: &NewBrand) -> Result<Brand, AdminError> {
    send(Request::post("/api/v1/admin/brands"), Some(input)).await
}

pub async fn update_brand(id: &str, patch: &BrandPatch) -> Result<Brand, AdminError> {
    send(
        Request::patch(&format!("/api/v1/admin/brands/{id}")),
        Some(patch),
    )
    .await
}
