-- Search that ignores case and accents in every language ("jose" finds "José", "ÁLVARO"
-- finds "Álvaro"): SQL's lower() cannot (SQLite's folds ASCII only; neither removes
-- accents), so each searchable text has a key the server writes beside it, folded by
-- `store::search::key`. Rows written before this are given theirs at start.
ALTER TABLE conversations ADD COLUMN visitor_name_key TEXT;
ALTER TABLE conversations ADD COLUMN visitor_email_key TEXT;
ALTER TABLE messages ADD COLUMN text_key TEXT;
ALTER TABLE payments ADD COLUMN title_key TEXT;
ALTER TABLE payments ADD COLUMN description_key TEXT;
