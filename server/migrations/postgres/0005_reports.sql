-- Reports and idempotent messages: see ../sqlite/0010_reports.sql.
CREATE INDEX cards_by_creation ON cards (created_at);

ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX messages_by_key ON messages (conversation_id, author, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
