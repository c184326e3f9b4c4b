-- Admin settings (SPEC §2.1–2.2): payment portals, the one connected, and the
-- gateways configured in each portal with their credentials encrypted.

CREATE TABLE portals (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    country    TEXT NOT NULL CHECK (length(country) = 2),   -- ISO 3166-1 alpha-2
    currency   TEXT NOT NULL CHECK (length(currency) = 3),  -- ISO 4217
    time_zone  TEXT NOT NULL,                                -- IANA
    edition    TEXT NOT NULL CHECK (edition IN ('free', 'standard', 'professional')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- At most one portal is connected: the single row of this table.
CREATE TABLE portal_connection (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    portal_id    TEXT NOT NULL REFERENCES portals(id),
    connected_by TEXT NOT NULL REFERENCES accounts(id),
    connected_at TEXT NOT NULL
);

-- A gateway configured in a portal. `credentials` is XChaCha20-Poly1305 ciphertext
-- (base64 of nonce || ciphertext, the gateway id as associated data) under a key kept
-- outside the database; `masked` is what may be shown of it.
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

-- Payment events (a payment added, changed, moved or withdrawn) belong to a brand, not
-- to a conversation: the event log learns a fourth kind, with no conversation. SQLite
-- cannot alter a CHECK, so the table is rebuilt with its sequence numbers kept.
CREATE TABLE events_new (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id        TEXT NOT NULL,
    conversation_id TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('message', 'card', 'conversation', 'payment')),
    data            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((kind = 'payment') = (conversation_id IS NULL))
);
INSERT INTO events_new (seq, brand_id, conversation_id, kind, data, created_at)
    SELECT seq, brand_id, conversation_id, kind, data, created_at FROM events;
-- Keep the sequence where it was, so no event id is ever handed out twice.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events_new');
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'events')
    WHERE name = 'events_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_conversation ON events (conversation_id, seq);
CREATE INDEX events_by_brand ON events (brand_id, seq);
