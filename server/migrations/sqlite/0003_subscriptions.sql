-- A paid recurring card starts a subscription: what to charge, how often, and when next.
CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    card_id        TEXT NOT NULL UNIQUE REFERENCES cards(id),
    amount_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    interval       TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
    count          INTEGER NOT NULL CHECK (count BETWEEN 1 AND 365),
    started_on     TEXT NOT NULL,               -- YYYY-MM-DD, the first charge
    next_charge_on TEXT NOT NULL,               -- YYYY-MM-DD, by paycard-core's rules
    created_at     TEXT NOT NULL
);
