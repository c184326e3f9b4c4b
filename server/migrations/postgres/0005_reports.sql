-- Reports and idempotent messages: see ../sqlite/0010_reports.sql.
CREATE INDEX cards_by_creation ON cards (created_at);

ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX messages_by_key ON messages (conversation_id, author, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- What each operator has read of each conversation: the newest message id seen (ids
-- sort as time). Unread = the visitor's messages after it. No foreign key on the
-- reader: API keys read as operators too.
CREATE TABLE conversation_reads (
    account_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    read_until      TEXT NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);
