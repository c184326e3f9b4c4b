//! Search that ignores case and accents: "jose" finds "José", "ÁLVARO" finds "álvaro".
//!
//! SQL's `lower()` cannot do this on either backend (SQLite's folds ASCII only; neither
//! removes accents), so each searchable text is stored with a key ([`key`]) beside it,
//! written with it, and searches compare keys ([`contains_pattern`]). Rows written
//! before the keys existed get theirs when the server starts ([`fill_missing`]).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::{Db, Error};

/// The text as searches compare it: decomposed (NFKD, so "é" is "e" and a combining
/// accent, and "ﬁ" is "fi"), without the combining marks, in lower case.
pub fn key(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A LIKE pattern (with `ESCAPE '\'`) for keys that contain `text`'s key: its
/// wildcards `%` and `_` made literal.
pub fn contains_pattern(text: &str) -> String {
    let escaped = key(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Each searchable column and its key's: (table, text column, key column).
const KEYED: [(&str, &str, &str); 5] = [
    ("conversations", "visitor_name", "visitor_name_key"),
    ("conversations", "visitor_email", "visitor_email_key"),
    ("messages", "text", "text_key"),
    ("payments", "title", "title_key"),
    ("payments", "description", "description_key"),
];

/// Gives every text without its key one, a batch at a time. Returns how many.
pub async fn fill_missing(db: &mut impl Db) -> Result<u64, Error> {
    let mut filled = 0;
    for (table, column, key_column) in KEYED {
        loop {
            let select = format!(
                "SELECT id, {column} FROM {table} WHERE {key_column} IS NULL AND {column} IS NOT NULL LIMIT 500"
            );
            let rows: Vec<(String, String)> =
                on!(db, |c| sqlx::query_as(&select).fetch_all(c).await)?;
            if rows.is_empty() {
                break;
            }
            let update = format!("UPDATE {table} SET {key_column} = $1 WHERE id = $2");
            for (id, text) in rows {
                filled += exec!(db, |c| sqlx::query(&update)
                    .bind(key(&text))
                    .bind(&id)
                    .execute(c)
                    .await)?;
            }
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_accents_in_any_script() {
        assert_eq!(key("José Álvaro"), "jose alvaro");
        assert_eq!(key("ÁNGEL Muñoz"), "angel munoz");
        assert_eq!(key("Ärger über Öl"), "arger uber ol");
        assert_eq!(key("Ελληνικά"), "ελληνικα");
        assert_eq!(key("ﬁnal ①"), "final 1");
        assert_eq!(key("plain ascii 42"), "plain ascii 42");
    }

    #[test]
    fn patterns_are_keys_with_wildcards_made_literal() {
        assert_eq!(contains_pattern("Café"), "%cafe%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
