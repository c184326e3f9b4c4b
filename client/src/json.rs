//! JSON through the browser's own `JSON.parse` and `JSON.stringify`, with
//! serde-wasm-bindgen between JS values and Rust types: the console's admin types. The
//! visitor's path uses [`crate::wire`] instead, which ships no serde at all.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Parses JSON text into `T`; `None` if it is not JSON or not a `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// Writes `value` as JSON text (`None` becomes `null`, as the API expects).
pub fn stringify<T: Serialize>(value: &T) -> Option<String> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = value.serialize(&serializer).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}
