//! The built browser apps, from `dist/` (Trunk's output).
//!
//! Release builds embed the files in the binary, so `target/release/paycard-server` is
//! the whole deployment. Debug builds read them from `dist/` at run time, so a
//! `trunk build` shows up without recompiling the server.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
// Relative to server/Cargo.toml.
#[folder = "../dist/"]
#[allow_missing = true]
struct Dist;

/// `GET /widget/`: the visitor widget's page, loaded in the iframe.
pub async fn widget_index(headers: HeaderMap) -> Response {
    serve("widget/index.html", &headers)
}

/// `GET /widget/{path}`: the widget's wasm, JS and CSS.
pub async fn widget_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("widget/{path}"), &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(file) = Dist::get(path) else {
        if path.ends_with("index.html") {
            // A server built before the browser apps: say what to do, not just 404.
            return AppError::NotBuilt.into_response();
        }
        return AppError::NotFound("file").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    // Trunk puts a content hash in every file name but the page's: those never change.
    let cache = if path.ends_with(".html") { "no-cache" } else { "public, max-age=31536000, immutable" };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
