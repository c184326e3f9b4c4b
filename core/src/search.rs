//! What a search matches: text in any case, with or without accents ("jose" finds
//! "José", "STRASSE" finds "Straße"). The server compares stored keys with it; the
//! console filters what it already holds with it, so both find the same things.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The text as searches compare it: decomposed (NFKD: "é" is "e" and a combining
/// accent, "ﬁ" is "fi"), without the combining marks, case-folded (Unicode's full
/// folding: "ß" is "ss", a final "ς" is "σ").
pub fn key(text: &str) -> String {
    let bare: String = text.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    caseless::default_case_fold_str(&bare)
}

/// Whether `text` contains `query`, as a search says it (both by [`key`]).
pub fn matches(text: &str, query: &str) -> bool {
    key(text).contains(&key(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_accents_in_any_script() {
        assert_eq!(key("José Álvaro"), "jose alvaro");
        assert_eq!(key("ÁNGEL Muñoz"), "angel munoz");
        assert_eq!(key("Ärger über Öl"), "arger uber ol");
        assert_eq!(key("Straße"), key("STRASSE"));
        assert_eq!(key("ΟΔΟΣ"), key("οδος"), "a final sigma is a sigma");
        assert_eq!(key("ﬁnal ①"), "final 1");
        assert_eq!(key("plain ascii 42"), "plain ascii 42");
    }

    #[test]
    fn matches_as_a_search_box_would() {
        assert!(matches("Café de Colombia", "cafe"));
        assert!(matches("Café de Colombia", "DE COL"));
        assert!(!matches("Café de Colombia", "té"));
        assert!(matches("anything", ""));
    }
}
