-- Fit for the open internet (SPEC §8.1).

-- A stream ticket remembers the credential (session or visitor token, hashed) that asked
-- for it: the stream it opens is held by that credential, counted against its limit and
-- ended when it is revoked. Tickets live a minute; those issued before this are dropped.
DELETE FROM stream_tickets;
ALTER TABLE stream_tickets ADD COLUMN credential_hash TEXT NOT NULL DEFAULT '';

-- An attempt is on record before its gateway is called (`pending`), so a payment whose
-- request dies is settled later by asking the gateway. At most one attempt per card
-- succeeds: a database rule too. SQLite cannot alter a CHECK, so the table is rebuilt.
CREATE TABLE attempts_new (
    id             TEXT PRIMARY KEY,
    card_id        TEXT NOT NULL REFERENCES cards(id),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    gateway        TEXT NOT NULL,
    card_last4     TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    failure_reason TEXT,
    created_at     TEXT NOT NULL
);
INSERT INTO attempts_new (id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at)
    SELECT id, card_id, status, amount_minor, currency, gateway, card_last4, failure_reason, created_at FROM attempts;
-- A second success recorded before this rule (a payment that arrived for a card already
-- paid) is kept as what it is: a payment to refund.
UPDATE attempts_new SET status = 'failed', failure_reason = 'duplicate_payment'
    WHERE status = 'succeeded'
      AND id <> (SELECT MIN(first.id) FROM attempts_new first
                 WHERE first.card_id = attempts_new.card_id AND first.status = 'succeeded');
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_by_card ON attempts (card_id, id);
CREATE INDEX attempts_pending ON attempts (status, created_at) WHERE status = 'pending';
CREATE UNIQUE INDEX attempts_one_success_per_card ON attempts (card_id) WHERE status = 'succeeded';

-- The sandbox gateway's own ledger, as a real gateway keeps one: each charge's outcome
-- by idempotency key (our attempt id), so a charge whose answer was lost can be asked
-- about, and a key it never saw can be voided for good.
CREATE TABLE sandbox_charges (
    idempotency_key TEXT PRIMARY KEY,
    outcome         TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    failure_reason  TEXT,
    created_at      TEXT NOT NULL
);

-- Gateway sessions by gateway, for "is this gateway in use" (409 gateway_in_use).
CREATE INDEX gateway_sessions_by_gateway ON gateway_sessions (gateway_id, status);

-- The operator's conversation list pages by (updated_at, id).
CREATE INDEX conversations_by_activity ON conversations (updated_at, id);

-- A payment with shared cards that an admin deletes is kept for its cards, inactive and
-- hidden from every list: to the API it is gone (404).
ALTER TABLE payments ADD COLUMN deleted_at TEXT;
