-- The whole schema on PostgreSQL, as the SQLite migrations 0001–0006 leave it (see
-- ../sqlite for why each part is there). The same columns, names and rules, so that one
-- set of queries runs on both: timestamps are RFC 3339 UTC text (they sort as text),
-- integers are BIGINT (read as i64), money is integer minor units.

-- SQLite's COLLATE NOCASE: emails and portal names are unique whatever their case.
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE brands (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL
);

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    brand_id            TEXT NOT NULL REFERENCES brands(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3),
    recurrence_interval TEXT CHECK (recurrence_interval IN ('day', 'week', 'month', 'year')),
    recurrence_count    BIGINT CHECK (recurrence_count BETWEEN 1 AND 365),
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT,
    CHECK ((recurrence_interval IS NULL) = (recurrence_count IS NULL))
);
CREATE INDEX payments_by_brand ON payments (brand_id, active);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT COLLATE nocase NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE account_brands (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    brand_id   TEXT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, brand_id)
);

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    brand_id           TEXT NOT NULL REFERENCES brands(id),
    visitor_name       TEXT NOT NULL,
    visitor_token_hash TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX conversations_by_brand ON conversations (brand_id, updated_at);
CREATE INDEX conversations_by_activity ON conversations (updated_at, id);

CREATE TABLE cards (
    id                  TEXT PRIMARY KEY,
    conversation_id     TEXT NOT NULL REFERENCES conversations(id),
    payment_id          TEXT NOT NULL REFERENCES payments(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL,
    recurrence_interval TEXT CHECK (recurrence_interval IN ('day', 'week', 'month', 'year')),
    recurrence_count    BIGINT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled', 'declined', 'expired')),
    failure_reason      TEXT,
    version             BIGINT NOT NULL,
    shared_by           TEXT NOT NULL REFERENCES accounts(id),
    idempotency_key     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    UNIQUE (shared_by, idempotency_key)
);
CREATE INDEX cards_by_conversation ON cards (conversation_id);
CREATE INDEX cards_by_expiry ON cards (status, expires_at);

CREATE TABLE checkout_tokens (
    token_hash TEXT PRIMARY KEY,
    card_id    TEXT NOT NULL REFERENCES cards(id),
    created_at TEXT NOT NULL
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL CHECK (author IN ('visitor', 'operator')),
    author_name     TEXT NOT NULL,
    text            TEXT,
    card_id         TEXT REFERENCES cards(id),
    created_at      TEXT NOT NULL,
    CHECK ((text IS NULL) <> (card_id IS NULL))
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- `seq` comes from a sequence, which hands numbers out in the order transactions ask,
-- not the order they commit; every write transaction takes one advisory lock first
-- (server/src/store/mod.rs, Store::write), so on this database too they are the same.
CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand_id        TEXT NOT NULL,
    conversation_id TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('message', 'card', 'conversation', 'payment')),
    data            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((kind = 'payment') = (conversation_id IS NULL))
);
CREATE INDEX events_by_conversation ON events (conversation_id, seq);
CREATE INDEX events_by_brand ON events (brand_id, seq);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE stream_tickets (
    ticket_hash     TEXT PRIMARY KEY,
    account_id      TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id TEXT REFERENCES conversations(id),
    expires_at      TEXT NOT NULL,
    credential_hash TEXT NOT NULL DEFAULT '',
    CHECK ((account_id IS NULL) <> (conversation_id IS NULL))
);

CREATE TABLE attempts (
    id             TEXT PRIMARY KEY,
    card_id        TEXT NOT NULL REFERENCES cards(id),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount_minor   BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    gateway        TEXT NOT NULL,
    card_last4     TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    failure_reason TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX attempts_by_card ON attempts (card_id, id);
CREATE INDEX attempts_pending ON attempts (status, created_at) WHERE status = 'pending';
CREATE UNIQUE INDEX attempts_one_success_per_card ON attempts (card_id) WHERE status = 'succeeded';

CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    card_id        TEXT NOT NULL UNIQUE REFERENCES cards(id),
    amount_minor   BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    interval       TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
    count          BIGINT NOT NULL CHECK (count BETWEEN 1 AND 365),
    started_on     TEXT NOT NULL,
    next_charge_on TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE sandbox_charges (
    idempotency_key TEXT PRIMARY KEY,
    outcome         TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    failure_reason  TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE portals (
    id         TEXT PRIMARY KEY,
    name       TEXT COLLATE nocase NOT NULL UNIQUE,
    country    TEXT NOT NULL CHECK (length(country) = 2),
    currency   TEXT NOT NULL CHECK (length(currency) = 3),
    time_zone  TEXT NOT NULL,
    edition    TEXT NOT NULL CHECK (edition IN ('free', 'standard', 'professional')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE portal_connection (
    singleton    BIGINT PRIMARY KEY CHECK (singleton = 1),
    portal_id    TEXT NOT NULL REFERENCES portals(id),
    connected_by TEXT NOT NULL REFERENCES accounts(id),
    connected_at TEXT NOT NULL
);

CREATE TABLE gateways (
    id          TEXT PRIMARY KEY,
    portal_id   TEXT NOT NULL REFERENCES portals(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    credentials TEXT NOT NULL,
    masked      TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (portal_id, kind)
);

CREATE TABLE gateway_sessions (
    attempt_id  TEXT PRIMARY KEY,
    card_id     TEXT NOT NULL REFERENCES cards(id),
    gateway_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    reference   TEXT UNIQUE,
    url         TEXT,
    status      TEXT NOT NULL CHECK (status IN ('creating', 'open', 'complete', 'expired', 'failed')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX gateway_sessions_by_card ON gateway_sessions (card_id, status);
CREATE INDEX gateway_sessions_by_gateway ON gateway_sessions (gateway_id, status);

CREATE TABLE gateway_events (
    gateway_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (gateway_id, event_id)
);
