-- An operator closes a conversation once it is dealt with (issue 15): the list shows
-- open ones by default. A visitor's new message opens it again. `closed_by` is the
-- account (or API key's account) that closed it.
ALTER TABLE conversations ADD COLUMN closed_at TEXT;
ALTER TABLE conversations ADD COLUMN closed_by TEXT;
