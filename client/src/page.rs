//! What an app reads from the page it runs in: its query and its visitor's languages.

pub use paycard_core::Locale;

/// A query parameter of this page (`?brand=…`, `?lang=…`), decoded; `None` if absent
/// or empty.
pub fn query_param(name: &str) -> Option<String> {
    let search = leptos::prelude::window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name).filter(|v| !v.is_empty())
}

/// The locale for this page: `?lang=en|es` if given, else the browser's languages.
pub fn detect_locale() -> Locale {
    let from_query = query_param("lang").and_then(|tag| Locale::from_tag(&tag));
    from_query.unwrap_or_else(|| {
        let languages: Vec<String> = leptos::prelude::window()
            .navigator()
            .languages()
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        Locale::negotiate(languages.iter().map(String::as_str))
    })
}
