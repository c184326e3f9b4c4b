-- API keys for bots and the merchant's systems: see ../sqlite/0007_api_keys.sql.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL UNIQUE REFERENCES accounts(id),
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES accounts(id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
