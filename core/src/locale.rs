//! The languages the product speaks: English and Spanish.

use serde::{Deserialize, Serialize};

/// A user-interface language. English is the fallback for anything we do not speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    /// Every supported locale, in the order a language menu shows them.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    /// Reads a BCP 47 language tag (`es`, `es-MX`, `en_GB`, `ES`) and returns the locale
    /// we speak for it, or `None` when we speak none of it.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Locale::En),
            "es" => Some(Locale::Es),
            _ => None,
        }
    }

    /// The first supported language of a preference list (such as `navigator.languages`
    /// or the tags of an `Accept-Language` header, best first), or English.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Locale {
        preferred
            .into_iter()
            .find_map(Locale::from_tag)
            .unwrap_or_default()
    }

    /// The locale for an HTTP `Accept-Language` header (`es-ES,es;q=0.9,en;q=0.8`),
    /// taking its languages in the order written.
    pub fn from_accept_language(header: &str) -> Locale {
        Locale::negotiate(
            header
                .split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim()),
        )
    }

    /// The tag for `<html lang>` and `?lang=`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_with_regions_and_any_case() {
        assert_eq!(Locale::from_tag("es-MX"), Some(Locale::Es));
        assert_eq!(Locale::from_tag("ES"), Some(Locale::Es));
        assert_eq!(Locale::from_tag("en_GB"), Some(Locale::En));
        assert_eq!(Locale::from_tag("fr-FR"), None);
        assert_eq!(Locale::from_tag(""), None);
    }

    #[test]
    fn reads_accept_language_headers() {
        assert_eq!(
            Locale::from_accept_language("es-ES,es;q=0.9,en;q=0.8"),
            Locale::Es
        );
        assert_eq!(
            Locale::from_accept_language("fr-FR, en-GB;q=0.7"),
            Locale::En
        );
        assert_eq!(Locale::from_accept_language("de, es ;q=0.5"), Locale::Es);
        assert_eq!(Locale::from_accept_language(""), Locale::En);
    }

    #[test]
    fn negotiation_takes_the_first_supported_language() {
        assert_eq!(Locale::negotiate(["fr", "es-AR", "en"]), Locale::Es);
        assert_eq!(Locale::negotiate(["de", "fr"]), Locale::En);
        assert_eq!(Locale::negotiate([]), Locale::En);
    }
}
