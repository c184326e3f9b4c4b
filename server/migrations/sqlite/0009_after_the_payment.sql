-- After the payment (SPEC §8.3–§8.5): what a gateway's refunds need, the payer's address
-- for receipts, and the two outboxes (mail, the merchant's webhooks) the background
-- worker drains.

-- The payment at the gateway that a refund gives back (Stripe's payment intent).
ALTER TABLE attempts ADD COLUMN payment_reference TEXT;

-- Who paid, as typed on the checkout: where the receipt goes, and in which language.
ALTER TABLE cards ADD COLUMN payer_email TEXT;
ALTER TABLE cards ADD COLUMN payer_locale TEXT;

-- A refund is sent to its gateway from its row: which gateway, which payment, and how
-- often it was tried. `automatic` refunds give back a payment that reached a card
-- already closed (or paid twice); they do not count against the card's paid amount.
ALTER TABLE refunds ADD COLUMN kind TEXT NOT NULL DEFAULT 'requested' CHECK (kind IN ('requested', 'automatic'));
ALTER TABLE refunds ADD COLUMN attempt_id TEXT;
ALTER TABLE refunds ADD COLUMN gateway TEXT NOT NULL DEFAULT 'sandbox';
ALTER TABLE refunds ADD COLUMN gateway_id TEXT;
ALTER TABLE refunds ADD COLUMN payment_reference TEXT;
ALTER TABLE refunds ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN next_try_at TEXT;
CREATE INDEX refunds_to_send ON refunds (status, next_try_at);

-- Mail waiting to go (receipts), one row per message; rendered when it is queued.
CREATE TABLE mail_outbox (
    id          TEXT PRIMARY KEY,
    -- What it is about (an attempt for a receipt, a refund): one mail each.
    about       TEXT NOT NULL UNIQUE,
    to_address  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text_body   TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    tries       INTEGER NOT NULL DEFAULT 0,
    next_try_at TEXT NOT NULL,
    last_error  TEXT,
    last_try_at TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_try_at);

-- The merchant's webhook endpoints; the signing secret is sealed like gateway keys.
CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    -- JSON arrays; empty means every brand / every event type.
    brand_ids     TEXT NOT NULL,
    events        TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    type             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error       TEXT,
    next_attempt_at  TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);
