-- The orders view lists each order's lines as they were priced; orders
-- placed before this column existed have none (NULL).
ALTER TABLE {prefix}order_meta ADD COLUMN items TEXT NULL;
-- The orders view filters by campaign, newest first.
CREATE INDEX {prefix}order_meta_campaign_idx ON {prefix}order_meta (campaign_id, created_at);
