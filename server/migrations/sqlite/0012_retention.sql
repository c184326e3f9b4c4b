-- Sent receipts and finished webhook deliveries are kept 30 days, then deleted by the
-- housekeeping job (they carry customers' addresses and card details): these indexes
-- find the old ones without reading the whole outbox.
CREATE INDEX mail_outbox_by_created ON mail_outbox (created_at);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_at);
