-- The live chat: conversations, their messages and payment cards, the event log that
-- live updates replay from, and the tokens of the people taking part.

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    brand_id           TEXT NOT NULL REFERENCES brands(id),
    visitor_name       TEXT NOT NULL,
    visitor_token_hash TEXT NOT NULL UNIQUE,   -- SHA-256 of the visitor's bearer token
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX conversations_by_brand ON conversations (brand_id, updated_at);

-- A card keeps a snapshot of the payment as shared (title … recurrence).
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
    status              TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled', 'declined', 'expired')),
    failure_reason      TEXT,
    version             INTEGER NOT NULL,
    shared_by           TEXT NOT NULL REFERENCES accounts(id),
    idempotency_key     TEXT,                  -- the Share request's Idempotency-Key, per operator
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    UNIQUE (shared_by, idempotency_key)
);
CREATE INDEX cards_by_conversation ON cards (conversation_id);
CREATE INDEX cards_by_expiry ON cards (status, expires_at);

-- Links to the hosted checkout page. Only hashes are stored; a card may have several
-- (one per Pay Now), all dead once the card cannot be paid.
CREATE TABLE checkout_tokens (
    token_hash TEXT PRIMARY KEY,
    card_id    TEXT NOT NULL REFERENCES cards(id),
    created_at TEXT NOT NULL
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,           -- UUIDv7: ordering by id is ordering by time
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL CHECK (author IN ('visitor', 'operator')),
    author_name     TEXT NOT NULL,
    text            TEXT,
    card_id         TEXT REFERENCES cards(id),
    created_at      TEXT NOT NULL,
    CHECK ((text IS NULL) <> (card_id IS NULL))
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- Every change that live clients must see, written in the same transaction as the
-- change. `seq` orders them; SQLite has one writer, so commit order is seq order.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id        TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('message', 'card', 'conversation')),
    data            TEXT NOT NULL,              -- the SSE data: JSON
    created_at      TEXT NOT NULL
);
CREATE INDEX events_by_conversation ON events (conversation_id, seq);
CREATE INDEX events_by_brand ON events (brand_id, seq);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Single-use, short-lived tickets that let an EventSource (no Authorization header)
-- open a stream with the access of whoever asked for the ticket.
CREATE TABLE stream_tickets (
    ticket_hash     TEXT PRIMARY KEY,
    account_id      TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id TEXT REFERENCES conversations(id),
    expires_at      TEXT NOT NULL,
    CHECK ((account_id IS NULL) <> (conversation_id IS NULL))
);

-- Payment attempts (the hosted checkout writes them). Never a full card number.
CREATE TABLE attempts (
    id             TEXT PRIMARY KEY,
    card_id        TEXT NOT NULL REFERENCES cards(id),
    status         TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    amount_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    gateway        TEXT NOT NULL,
    card_last4     TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    failure_reason TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX attempts_by_card ON attempts (card_id, id);
