//! The rules of [`crate::validation`] and [`crate::gateways`] as OpenAPI schemas (the
//! server's `/api/openapi.json`), built from the same constants and patterns, so that
//! what the document promises is exactly what the server takes: a request valid by the
//! schema is never refused as malformed, and one that breaks it always is.
//!
//! Used with `#[schema(schema_with = …)]` on the request types' fields.

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::RefOr;

use crate::api::{MESSAGE_MAX_CHARS, VISITOR_NAME_MAX_CHARS, WEBHOOK_EVENTS};
use crate::gateways::{Edition, GATEWAY_KINDS};
use crate::recurrence::COUNT_RANGE;
use crate::validation::{
    pattern, AMOUNT_MINOR_MAX, API_KEY_NAME_MAX_CHARS, BRAND_NAME_MAX_CHARS, DESCRIPTION_MAX_CHARS,
    MAX_ALLOWED_ORIGINS, MAX_API_KEY_BRANDS, PORTAL_NAME_MAX_CHARS, REFUND_REASON_MAX_CHARS,
    TITLE_MAX_CHARS, WEBHOOK_URL_MAX_CHARS,
};
use crate::{Currency, Interval};

/// The longest email and password sign-in takes.
pub const LOGIN_EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MAX_CHARS: usize = 1024;

fn string(pattern: &str, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(Some(max))
}

/// The same schema, also allowing `null` (an optional field).
fn or_null(schema: ObjectBuilder, types: Type) -> Schema {
    schema
        .schema_type(SchemaType::Array(vec![types, Type::Null]))
        .build()
        .into()
}

fn one_of_strings<I: IntoIterator<Item = &'static str>>(values: I) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

pub fn message_text() -> Schema {
    string(pattern::BLOCK, MESSAGE_MAX_CHARS).build().into()
}

pub fn visitor_name() -> Schema {
    or_null(string(pattern::LINE, VISITOR_NAME_MAX_CHARS), Type::String)
}

/// A card's status, as a query parameter (the reports' `status`).
pub fn card_status() -> Schema {
    one_of_strings(crate::CardStatus::ALL.map(crate::CardStatus::as_str))
        .build()
        .into()
}

pub fn visitor_email() -> Schema {
    or_null(
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Email,
            )))
            .max_length(Some(254)),
        Type::String,
    )
}

pub fn brand_id() -> Schema {
    string(pattern::BRAND_ID, 40)
        .min_length(Some(2))
        .build()
        .into()
}

pub fn brand_id_or_null() -> Schema {
    or_null(
        string(pattern::BRAND_ID, 40).min_length(Some(2)),
        Type::String,
    )
}

pub fn refund_reason() -> Schema {
    or_null(string(pattern::LINE, REFUND_REASON_MAX_CHARS), Type::String)
}

pub fn api_key_name() -> Schema {
    string(pattern::LINE, API_KEY_NAME_MAX_CHARS)
        .min_length(Some(1))
        .build()
        .into()
}

pub fn api_key_brands() -> Schema {
    ArrayBuilder::new()
        .items(string(pattern::BRAND_ID, 40).min_length(Some(2)))
        .min_items(Some(1))
        .max_items(Some(MAX_API_KEY_BRANDS))
        .build()
        .into()
}

pub fn webhook_url() -> Schema {
    string(pattern::WEBHOOK_URL, WEBHOOK_URL_MAX_CHARS)
        .description(Some(
            "https:// to a public host name (http:// and private addresses only with PAYCARD_WEBHOOK_ALLOW_PRIVATE=1)",
        ))
        .build()
        .into()
}

pub fn webhook_brands() -> Schema {
    ArrayBuilder::new()
        .items(string(pattern::BRAND_ID, 40).min_length(Some(2)))
        .max_items(Some(MAX_API_KEY_BRANDS))
        .build()
        .into()
}

pub fn webhook_events() -> Schema {
    ArrayBuilder::new()
        .items(one_of_strings(WEBHOOK_EVENTS))
        .max_items(Some(WEBHOOK_EVENTS.len()))
        .build()
        .into()
}

pub fn brand_name() -> Schema {
    string(pattern::LINE, BRAND_NAME_MAX_CHARS).build().into()
}

pub fn brand_name_or_null() -> Schema {
    or_null(string(pattern::LINE, BRAND_NAME_MAX_CHARS), Type::String)
}

fn origins() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(string(pattern::ORIGIN, 300))
        .max_items(Some(MAX_ALLOWED_ORIGINS))
}

pub fn allowed_origins() -> Schema {
    origins().build().into()
}

pub fn allowed_origins_or_null() -> Schema {
    origins()
        .schema_type(SchemaType::Array(vec![Type::Array, Type::Null]))
        .build()
        .into()
}

pub fn title() -> Schema {
    string(pattern::LINE, TITLE_MAX_CHARS as usize)
        .build()
        .into()
}

pub fn title_or_null() -> Schema {
    or_null(
        string(pattern::LINE, TITLE_MAX_CHARS as usize),
        Type::String,
    )
}

pub fn description() -> Schema {
    string(pattern::OPTIONAL_BLOCK, DESCRIPTION_MAX_CHARS as usize)
        .build()
        .into()
}

pub fn description_or_null() -> Schema {
    or_null(
        string(pattern::OPTIONAL_BLOCK, DESCRIPTION_MAX_CHARS as usize),
        Type::String,
    )
}

fn amount() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(1))
        .maximum(Some(AMOUNT_MINOR_MAX))
}

pub fn amount_minor() -> Schema {
    amount().build().into()
}

pub fn amount_minor_or_null() -> Schema {
    or_null(amount(), Type::Integer)
}

fn currency_codes() -> Vec<&'static str> {
    Currency::all().into_iter().map(|c| c.code()).collect()
}

pub fn currency() -> Schema {
    one_of_strings(currency_codes()).build().into()
}

pub fn currency_or_null() -> Schema {
    // `null` is one of the values too, or the enum would refuse it.
    let mut values: Vec<Option<&str>> = currency_codes().into_iter().map(Some).collect();
    values.push(None);
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
        .into()
}

fn recurrence_object() -> ObjectBuilder {
    ObjectBuilder::new()
        .property(
            "interval",
            one_of_strings(Interval::ALL.iter().map(|i| i.as_str())),
        )
        .property(
            "count",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(*COUNT_RANGE.start()))
                .maximum(Some(*COUNT_RANGE.end())),
        )
        .required("interval")
        .required("count")
}

/// `{"interval", "count"}`, or `null` for a one-time payment.
pub fn recurrence_or_null() -> Schema {
    or_null(recurrence_object(), Type::Object)
}

pub fn portal_name() -> Schema {
    string(pattern::LINE, PORTAL_NAME_MAX_CHARS).build().into()
}

pub fn country() -> Schema {
    let mut codes: Vec<&str> = crate::money::countries().into_iter().map(|c| c.0).collect();
    codes.sort_unstable();
    one_of_strings(codes).build().into()
}

pub fn edition() -> Schema {
    one_of_strings(Edition::ALL.iter().map(|e| e.as_str()))
        .build()
        .into()
}

pub fn login_email() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(LOGIN_EMAIL_MAX_CHARS))
        .build()
        .into()
}

pub fn password() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(PASSWORD_MAX_CHARS))
        .build()
        .into()
}

/// A gateway's kind and its credentials: one shape per kind that works, each field of
/// the kind required and of its shape, nothing else.
pub fn gateway_input() -> Schema {
    let mut one_of = OneOfBuilder::new();
    for kind in GATEWAY_KINDS.iter().filter(|k| k.works) {
        let mut credentials = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for field in kind.fields {
            credentials = credentials
                .property(
                    field.name,
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(field.shape.pattern())),
                )
                .required(field.name);
        }
        let mut variant = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("kind", one_of_strings([kind.kind]))
            .property("credentials", credentials)
            .required("kind");
        if !kind.fields.is_empty() {
            variant = variant.required("credentials");
        }
        one_of = one_of.item(variant);
    }
    one_of.build().into()
}

impl utoipa::PartialSchema for crate::api::NewGateway {
    fn schema() -> RefOr<Schema> {
        gateway_input().into()
    }
}

impl utoipa::ToSchema for crate::api::NewGateway {}

/// An ISO 3166-1 alpha-2 country code, as a type for parameters that name one.
pub struct CountryCode;

impl utoipa::PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        country().into()
    }
}

impl utoipa::ToSchema for CountryCode {}
