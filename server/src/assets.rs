//! The built browser apps, from `dist/` (Trunk's output).
//!
//! Release builds embed the files in the binary, so `target/release/paycard-server` is
//! the whole deployment. Debug builds read them from `dist/` at run time, so a
//! `trunk build` shows up without recompiling the server.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::AppError;
use crate::AppState;

#[derive(RustEmbed)]
// Relative to server/Cargo.toml.
#[folder = "../dist/"]
#[allow_missing = true]
struct Dist;

/// `GET /widget/?brand=…`: the visitor widget's page, loaded in the iframe. Only the
/// brand's own site (and this server, for `/demo`) may frame it: a
/// `frame-ancestors` policy from the brand's allowed origins.
pub async fn widget_index(
    State(state): State<AppState>,
    Query(query): Query<WidgetQuery>,
    headers: HeaderMap,
) -> Response {
    let origins: Vec<String> = match query.brand.as_deref() {
        Some(brand) => {
            let found = match state.store.read().await {
                Ok(mut db) => crate::store::brands::allowed_origins(&mut db, brand).await,
                Err(err) => Err(err),
            };
            found.ok().flatten().unwrap_or_default()
        }
        None => Vec::new(),
    };
    page("widget/index.html", &headers, &frame_ancestors(&origins))
}

#[derive(serde::Deserialize)]
pub struct WidgetQuery {
    brand: Option<String>,
}

/// `frame-ancestors 'self' …` with only well-formed origins, so a stored value can
/// never inject another directive.
fn frame_ancestors(origins: &[String]) -> String {
    let mut policy = String::from("frame-ancestors 'self'");
    for origin in origins {
        let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
            && origin
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":/.-*".contains(c));
        if ok {
            policy.push(' ');
            policy.push_str(origin);
        }
    }
    policy
}

/// `GET /widget/{path}`: the widget's wasm, JS and CSS.
pub async fn widget_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("widget/{path}"), &headers)
}

/// `GET /console/…`: the console's files, and its page for every other path (the
/// console routes in the browser: `/console/conversations/{id}`).
pub async fn console(path: Option<Path<String>>, headers: HeaderMap) -> Response {
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let file = format!("console/{path}");
    if !path.is_empty() && Dist::get(&file).is_some() {
        return serve(&file, &headers);
    }
    // The console is never framed, but for its page of one conversation, which pages of
    // the same site may frame (SPEC §6: the operator component in another page).
    let ancestors = if path.starts_with("embed/") {
        "frame-ancestors 'self'"
    } else {
        "frame-ancestors 'none'"
    };
    page("console/index.html", &headers, ancestors)
}

/// A file of the build (relative to `dist/`), if it was built.
pub fn built(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Dist::get(path).map(|file| file.data)
}

/// An app's page with its Content-Security-Policy.
fn page(path: &str, request: &HeaderMap, frame_ancestors: &str) -> Response {
    let mut response = serve(path, request);
    let html = Dist::get(path)
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&page_policy(&html, frame_ancestors)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The policy of a page of ours (SPEC §8.1): this server's own files only; wasm may be
/// compiled; inline scripts and styles only those of the page itself, by their hashes
/// (Trunk writes the app's start-up as one inline module script); no plugins, no
/// `<base>`, forms to ourselves.
pub fn page_policy(html: &str, frame_ancestors: &str) -> String {
    let hashes = |tag: &str| -> String {
        inline_blocks(html, tag)
            .map(|block| {
                use base64::Engine;
                use sha2::Digest;
                let digest = sha2::Sha256::digest(block.as_bytes());
                format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect()
    };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'{}; \
         img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; {frame_ancestors}",
        hashes("script"),
        hashes("style"),
    )
}

/// The contents of a page's inline `<script>` (those without `src`) or `<style>`
/// elements, exactly as the browser hashes them.
fn inline_blocks<'a>(html: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find(&open)?;
        let after = &rest[start + open.len()..];
        let end_of_tag = after.find('>')?;
        let attributes = &after[..end_of_tag];
        let body = &after[end_of_tag + 1..];
        let end = body.find(&close)?;
        rest = &body[end + close.len()..];
        // `<scripts…` or `<styled…` are other elements; an external script has no body.
        let is_tag = attributes.is_empty() || attributes.starts_with(char::is_whitespace);
        if is_tag && !(tag == "script" && attributes.contains("src=")) {
            return Some(&body[..end]);
        }
    })
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
    if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    // Trunk puts a content hash in every file name but the page's: those never change.
    let cache = if path.ends_with(".html") {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_policy_allows_exactly_the_pages_inline_blocks() {
        let html = "<head><script type=\"module\">start()</script><script src=\"/x.js\"></script>\
                    <style>p{}</style></head>";
        let policy = super::page_policy(html, "frame-ancestors 'none'");
        use base64::Engine;
        use sha2::Digest;
        let hash = |s: &str| {
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s.as_bytes()))
        };
        assert_eq!(
            policy,
            format!(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{}'; style-src 'self' 'sha256-{}'; \
                 img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                hash("start()"),
                hash("p{}")
            )
        );
        assert!(super::page_policy("<p>no scripts</p>", "")
            .contains("script-src 'self' 'wasm-unsafe-eval';"));
    }

    #[test]
    fn frame_ancestors_lists_only_well_formed_origins() {
        let origins = vec![
            "https://shop.example".to_owned(),
            "https://x.example; script-src *".to_owned(),
            "javascript:1".to_owned(),
        ];
        assert_eq!(
            super::frame_ancestors(&origins),
            "frame-ancestors 'self' https://shop.example"
        );
        assert_eq!(super::frame_ancestors(&[]), "frame-ancestors 'self'");
    }
}
