-- Reports (SPEC §8.6) read the cards shared in a range of days.
CREATE INDEX cards_by_creation ON cards (created_at);
