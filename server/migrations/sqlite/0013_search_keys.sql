-- Search that ignores case and accents in every language ("jose" finds "José", "ÁLVARO"
-- finds "Álvaro"): SQL's lower() cannot (SQLite's folds ASCII only; neither removes
-- accents), so each searchable text has a key the server writes beside it, folded by
-- `paycard_core::search::key`. Rows written before this (or by an older instance during
-- an upgrade) are given theirs by the housekeeping job, which finds them by the partial
-- indexes below.
ALTER TABLE conversations ADD COLUMN visitor_name_key TEXT;
ALTER TABLE conversations ADD COLUMN visitor_email_key TEXT;
ALTER TABLE messages ADD COLUMN text_key TEXT;
ALTER TABLE payments ADD COLUMN title_key TEXT;
ALTER TABLE payments ADD COLUMN description_key TEXT;
CREATE INDEX conversations_name_unkeyed ON conversations (id)
    WHERE visitor_name_key IS NULL AND visitor_name IS NOT NULL;
CREATE INDEX conversations_email_unkeyed ON conversations (id)
    WHERE visitor_email_key IS NULL AND visitor_email IS NOT NULL;
CREATE INDEX messages_text_unkeyed ON messages (id)
    WHERE text_key IS NULL AND text IS NOT NULL;
CREATE INDEX payments_title_unkeyed ON payments (id)
    WHERE title_key IS NULL AND title IS NOT NULL;
CREATE INDEX payments_description_unkeyed ON payments (id)
    WHERE description_key IS NULL AND description IS NOT NULL;
