-- Refunds (SPEC §8.3): see ../sqlite/0008_refunds.sql.
ALTER TABLE cards DROP CONSTRAINT cards_status_check;
ALTER TABLE cards ADD CONSTRAINT cards_status_check
    CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled', 'declined', 'expired', 'refunded'));
ALTER TABLE cards ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0
    CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor);

CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,
    card_id         TEXT NOT NULL REFERENCES cards(id),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason          TEXT,
    failure_reason  TEXT,
    reference       TEXT,
    requested_by    TEXT REFERENCES accounts(id),
    idempotency_key TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (card_id, idempotency_key)
);
CREATE INDEX refunds_by_card ON refunds (card_id, created_at);
