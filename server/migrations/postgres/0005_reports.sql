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

-- Who the visitor is, for the operator's context panel: the email typed on a checkout
-- (or set by an operator), the widget's language, the page the chat started on (no
-- query or fragment) and the visitor's time zone, as their browser says.
ALTER TABLE conversations ADD COLUMN visitor_email TEXT;
ALTER TABLE conversations ADD COLUMN visitor_locale TEXT;
ALTER TABLE conversations ADD COLUMN start_page TEXT;
ALTER TABLE conversations ADD COLUMN visitor_time_zone TEXT;
