//! Pages the server writes itself: the demo website and the embed loader.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};

/// The embed loader. Hand-written and tiny: it runs on every page of a customer's site.
/// Sent minified when the release build of the widget made that copy from this very
/// source (`scripts/minify-widget.mjs`), else as written.
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
        loader_body(
            crate::assets::built("loader.min.js"),
            LOADER_JS,
            &LOADER_MARK,
        ),
    )
}

/// What the minified copy of [`LOADER_JS`] must name to be sent: worked out once.
static LOADER_MARK: LazyLock<String> = LazyLock::new(|| source_mark(LOADER_JS));

fn source_mark(source: &str) -> String {
    use sha2::Digest;
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(source.as_bytes()))
    )
}

/// The minified copy when its first line names `mark`, the SHA-256 of `source` (it was
/// made from it), else `source`: a loader edited since the last release build of the
/// widget is never shadowed by the older copy.
fn loader_body(
    minified: Option<Cow<'static, [u8]>>,
    source: &'static str,
    mark: &str,
) -> Cow<'static, [u8]> {
    match minified {
        Some(copy)
            if copy
                .split(|b| *b == b'\n')
                .next()
                .is_some_and(|first| String::from_utf8_lossy(first).contains(mark)) =>
        {
            copy
        }
        _ => Cow::Borrowed(source.as_bytes()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minified_loader_is_sent_only_when_made_from_this_source() {
        use sha2::Digest;
        let source = "(function(){ /* the loader */ })();";
        let hash = hex::encode(sha2::Sha256::digest(source.as_bytes()));
        let made_here =
            format!("/*! paycard embed loader, from x sha256:{hash} */\n!function(){{}}();");
        let made_before = "/*! paycard embed loader, from x sha256:00ff */\n!function(){}();";
        let mark = source_mark(source);
        assert_eq!(
            loader_body(Some(made_here.clone().into_bytes().into()), source, &mark),
            made_here.as_bytes()
        );
        assert_eq!(
            loader_body(Some(made_before.as_bytes().into()), source, &mark),
            source.as_bytes()
        );
        assert_eq!(loader_body(None, source, &mark), source.as_bytes());
    }
}
