-- Sent receipts and finished webhook deliveries are kept 30 days after they finished,
-- then deleted by the housekeeping job (they carry customers' addresses and card
-- details). A receipt finished when it was sent or given up on (`sent_at`,
-- `last_try_at`); a delivery when it was delivered or given up on (`finished_at`, which
-- "Send again" clears). The indexes find the old ones without reading the whole outbox
-- (a row finishes after it was queued, so an old finish means an old `created_at`).
ALTER TABLE webhook_deliveries ADD COLUMN finished_at TEXT;
UPDATE webhook_deliveries SET finished_at = created_at WHERE status <> 'pending';
CREATE INDEX mail_outbox_by_created ON mail_outbox (created_at);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_at);
