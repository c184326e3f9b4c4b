-- Refunds (SPEC §8.3): a card learns its refunded total and a last status, `refunded`;
-- each refund is a row. SQLite cannot alter a CHECK, so `cards` is rebuilt. Other
-- tables refer to it, and migrations run inside a transaction, where foreign keys cannot
-- be switched off; so their checks wait for the commit (`defer_foreign_keys`): the rows
-- are copied aside, the table made anew and filled again with the same ids, and by the
-- commit every reference points at a card once more (or the migration fails whole).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE cards_before_refunds AS SELECT * FROM cards;
DROP TABLE cards;
CREATE TABLE cards (
    id                  TEXT PRIMARY KEY,
    conversation_id     TEXT NOT NULL REFERENCES conversations(id),
    payment_id          TEXT NOT NULL REFERENCES payments(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL,
    recurrence_interval TEXT CHECK (recurrence_interval IN ('day', 'week', 'month', 'year')),
    recurrence_count    INTEGER,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled', 'declined', 'expired', 'refunded')),
    failure_reason      TEXT,
    version             INTEGER NOT NULL,
    shared_by           TEXT NOT NULL REFERENCES accounts(id),
    idempotency_key     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    refunded_minor      INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    UNIQUE (shared_by, idempotency_key)
);
INSERT INTO cards (id, conversation_id, payment_id, title, description, amount_minor, currency,
        recurrence_interval, recurrence_count, status, failure_reason, version, shared_by, idempotency_key,
        created_at, updated_at, expires_at)
    SELECT id, conversation_id, payment_id, title, description, amount_minor, currency,
        recurrence_interval, recurrence_count, status, failure_reason, version, shared_by, idempotency_key,
        created_at, updated_at, expires_at FROM cards_before_refunds;
DROP TABLE cards_before_refunds;
CREATE INDEX cards_by_conversation ON cards (conversation_id);
CREATE INDEX cards_by_expiry ON cards (status, expires_at);

CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,
    card_id         TEXT NOT NULL REFERENCES cards(id),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason          TEXT,
    failure_reason  TEXT,
    -- The refund's id at the gateway, once it has one.
    reference       TEXT,
    requested_by    TEXT REFERENCES accounts(id),
    idempotency_key TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (card_id, idempotency_key)
);
CREATE INDEX refunds_by_card ON refunds (card_id, created_at);
