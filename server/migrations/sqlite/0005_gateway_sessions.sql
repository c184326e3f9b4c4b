-- Payments that continue on a gateway's own page (Stripe Checkout): one row per
-- attempt, from before the gateway is called until its session settles. At most one
-- session per card is open at a time, so a card cannot be paid twice in two tabs.
CREATE TABLE gateway_sessions (
    attempt_id  TEXT PRIMARY KEY,              -- ours; also the Idempotency-Key sent
    card_id     TEXT NOT NULL REFERENCES cards(id),
    gateway_id  TEXT NOT NULL,                 -- the configured gateway (credentials)
    kind        TEXT NOT NULL,
    reference   TEXT UNIQUE,                   -- the gateway's session id, once created
    url         TEXT,
    status      TEXT NOT NULL CHECK (status IN ('creating', 'open', 'complete', 'expired', 'failed')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX gateway_sessions_by_card ON gateway_sessions (card_id, status);

-- Gateway notifications already processed: each event id takes effect once.
CREATE TABLE gateway_events (
    gateway_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (gateway_id, event_id)
);
