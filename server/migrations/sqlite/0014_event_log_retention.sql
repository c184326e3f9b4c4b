-- The live event log keeps a week (the housekeeping job deletes older events, always
-- keeping the newest): a stream resumes from it after a dropped connection, and a
-- client gone longer reloads its snapshot instead (SPEC §4, `closed` with `stale`).
CREATE INDEX events_by_created ON events (created_at);
