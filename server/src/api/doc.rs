//! The OpenAPI document's shared parts: the error answers each operation lists (every
//! status a handler can return is in the document, SPEC §4), and who may call what.
//!
//! The response types exist for the document only: nothing builds them.
#![allow(dead_code)]

use paycard_core::api::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::{IntoResponses, Modify};

/// Malformed or invalid input: bad JSON, a wrong type, a value the schema refuses; a
/// validation failure lists each field's problem in `fields`.
#[derive(IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(#[to_schema] ErrorBody);

/// No valid credentials: sign in (operators), or open a conversation (visitors).
#[derive(IntoResponses)]
#[response(status = 401)]
pub struct Unauthorized(#[to_schema] ErrorBody);

/// Valid credentials without access to this (another brand, another visitor's
/// conversation, an operator on an admin page), or a cookie request from another site.
#[derive(IntoResponses)]
#[response(status = 403)]
pub struct Forbidden(#[to_schema] ErrorBody);

/// No such thing (or a well-formed reference to nothing, such as an unknown brand id).
#[derive(IntoResponses)]
#[response(status = 404)]
pub struct NotFound(#[to_schema] ErrorBody);

/// The request conflicts with the state of things: a card that cannot make that move,
/// a gateway in use, something that already exists. `code` says which.
#[derive(IntoResponses)]
#[response(status = 409)]
pub struct Conflict(#[to_schema] ErrorBody);

/// What any request with a body may meet: a body over the limit (413), or one that did
/// not arrive within the body timeout (408, and the connection is closed).
#[derive(IntoResponses)]
pub enum BodyRejected {
    #[response(status = 408, description = "the body did not arrive in time")]
    Timeout(#[to_schema] ErrorBody),
    #[response(status = 413, description = "the body is too large")]
    TooLarge(#[to_schema] ErrorBody),
}

/// A rate limit by client address (SPEC §8.1).
#[derive(IntoResponses)]
#[response(status = 429, headers(("Retry-After" = u64, description = "seconds to wait")))]
pub struct TooManyRequests(#[to_schema] ErrorBody);

/// The bearer token (a console session, or a visitor's token) and the console's session
/// cookie.
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "a console session token (`pcs_…`), an API key (`pck_…`, operator operations of its brands only), or for visitor operations the visitor token (`pcv_…`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "stripe_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Stripe-Signature",
                "`t=…,v1=…`: HMAC-SHA256 of `t.body` with the gateway's webhook secret",
            ))),
        );
        components.add_security_scheme(
            "paypal_transmission_sig",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "PayPal-Transmission-Sig",
                "with PayPal-Auth-Algo, PayPal-Cert-Url, PayPal-Transmission-Id and PayPal-Transmission-Time: checked by PayPal's verify-webhook-signature API",
            ))),
        );
        components.add_security_scheme(
            "razorpay_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Razorpay-Signature",
                "hex HMAC-SHA256 of the raw body with the gateway's webhook secret",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::api::auth::SESSION_COOKIE,
                "the console's HttpOnly session cookie, set at sign-in",
            ))),
        );
    }
}

/// The values only the server knows: the IANA time zones it takes for a portal.
pub struct TimeZones;

impl Modify for TimeZones {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let Some(RefOr::T(Schema::Object(portal))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("PortalInput"))
        else {
            return;
        };
        let zones: Vec<&str> = timezone_data::names().collect();
        portal.properties.insert(
            "time_zone".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(zones))
                .description(Some("an IANA time zone"))
                .into(),
        );
    }
}
