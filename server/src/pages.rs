//! Pages the server writes itself: the demo website and the embed loader.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};

/// The embed loader. Hand-written and tiny: it runs on every page of a customer's site.
/// Sent minified when the release build of the widget made that copy
/// (`scripts/minify-widget.mjs`), else as written.
pub const LOADER_JS: &str = include_str!("../assets/widget.js");
const DEMO_HTML: &str = include_str!("../assets/demo.html");

/// `GET /widget.js`. Short caching: a new release reaches sites within minutes, while a
/// busy site does not fetch it on every page view.
pub async fn loader() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            // The loader is fetched cross-origin by customers' sites.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        crate::assets::built("loader.min.js").unwrap_or(LOADER_JS.as_bytes().into()),
    )
}

/// `GET /demo`: a website of brand `acme` that embeds the widget with the one-line tag,
/// under the same strict policy as our apps' pages: the loader must work on sites that
/// allow no inline styles or scripts of others.
pub async fn demo() -> impl IntoResponse {
    static POLICY: LazyLock<String> =
        LazyLock::new(|| crate::assets::page_policy(DEMO_HTML, "frame-ancestors 'none'"));
    (
        [(header::CONTENT_SECURITY_POLICY, POLICY.as_str())],
        Html(DEMO_HTML),
    )
}
