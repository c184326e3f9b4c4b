-- Reports (SPEC §8.6): see ../sqlite/0010_reports.sql.
CREATE INDEX cards_by_creation ON cards (created_at);
