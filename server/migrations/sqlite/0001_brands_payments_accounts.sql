-- Brands, the payments (products and services) defined for them, and the accounts of
-- the people who run the console. Timestamps are RFC 3339 UTC text; money is integer
-- minor units with the currency's ISO 4217 code beside it.

CREATE TABLE brands (
    id              TEXT PRIMARY KEY,           -- a slug chosen by the admin, used in the embed tag
    name            TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '[]', -- JSON array of origins allowed to embed the widget
    created_at      TEXT NOT NULL
);

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    brand_id            TEXT NOT NULL REFERENCES brands(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3),
    -- Both NULL for a one-time payment; both set for a recurring one.
    recurrence_interval TEXT CHECK (recurrence_interval IN ('day', 'week', 'month', 'year')),
    recurrence_count    INTEGER CHECK (recurrence_count BETWEEN 1 AND 365),
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK ((recurrence_interval IS NULL) = (recurrence_count IS NULL))
);
CREATE INDEX payments_by_brand ON payments (brand_id, active);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
    password_hash TEXT NOT NULL,                -- argon2id PHC string, never the password
    created_at    TEXT NOT NULL
);

-- Which brands an account works for. Operators see only these brands' conversations.
CREATE TABLE account_brands (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    brand_id   TEXT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, brand_id)
);
