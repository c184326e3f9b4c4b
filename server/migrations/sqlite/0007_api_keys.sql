-- API keys for bots and the merchant's systems (SPEC §8.5). Each key acts through an
-- account of its own (role operator, no password that can match): what it writes has the
-- key's name as author and its cards have a sharer, as a person's do, and the brands it
-- works for are that account's. Only the key's hash is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL UNIQUE REFERENCES accounts(id),
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES accounts(id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
