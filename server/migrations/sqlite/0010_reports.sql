-- Reports (SPEC §8.6) read the cards shared in a range of days; messages take an
-- Idempotency-Key (issue 15: offline-safe sending).
CREATE INDEX cards_by_creation ON cards (created_at);

-- A message sent again with the same Idempotency-Key (a client retrying after the
-- connection dropped) is the same message, once: per conversation and side.
ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX messages_by_key ON messages (conversation_id, author, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
