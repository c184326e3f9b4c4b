//! Search that ignores case and accents (`paycard_core::search`): "jose" finds "José".
//!
//! SQL's `lower()` cannot do this on either backend (SQLite's folds ASCII only; neither
//! removes accents), so each searchable text is stored with its key beside it, written
//! with it, and searches compare keys ([`contains_pattern`]). A text without a key yet
//! (written before keys existed, or by an older instance during a rolling upgrade) is
//! compared by `lower()` meanwhile, and the housekeeping job gives it one
//! ([`fill_missing`]).

use paycard_core::search::key;

use super::{Error, Store};

/// A LIKE pattern (with `ESCAPE '\'`) for keys that contain `text`'s key: its
/// wildcards `%` and `_` made literal.
pub fn contains_pattern(text: &str) -> String {
    let escaped = key(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Each searchable column and its key's: (table, text column, key column). Each has a
/// partial index of the rows still without a key, so looking for them costs nothing
/// once there are none.
const KEYED: [(&str, &str, &str); 5] = [
    ("conversations", "visitor_name", "visitor_name_key"),
    ("conversations", "visitor_email", "visitor_email_key"),
    ("messages", "text", "text_key"),
    ("payments", "title", "title_key"),
    ("payments", "description", "description_key"),
];

/// Texts given their key per write transaction: short, so writers never wait long.
const BATCH: i64 = 200;

/// Gives texts without a key theirs, up to `at_most` of them, a committed batch at a
/// time. Returns how many.
pub async fn fill_missing(store: &Store, at_most: u64) -> Result<u64, Error> {
    let mut filled = 0;
    for (table, column, key_column) in KEYED {
        let select = format!(
            "SELECT id, {column} FROM {table} WHERE {key_column} IS NULL AND {column} IS NOT NULL
             ORDER BY id LIMIT $1"
        );
        // Only while it has none: a text changed meanwhile was written with its key.
        let update =
            format!("UPDATE {table} SET {key_column} = $1 WHERE id = $2 AND {key_column} IS NULL");
        while filled < at_most {
            let rows: Vec<(String, String)> = {
                let mut db = store.read().await?;
                on!(&mut db, |c| sqlx::query_as(&select)
                    .bind(BATCH)
                    .fetch_all(c)
                    .await)?
            };
            if rows.is_empty() {
                break;
            }
            let mut tx = store.write().await?;
            for (id, text) in &rows {
                exec!(&mut tx, |c| sqlx::query(&update)
                    .bind(key(text))
                    .bind(id)
                    .execute(c)
                    .await)?;
            }
            tx.commit().await?;
            filled += rows.len() as u64;
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_keys_with_wildcards_made_literal() {
        assert_eq!(contains_pattern("Café"), "%cafe%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
