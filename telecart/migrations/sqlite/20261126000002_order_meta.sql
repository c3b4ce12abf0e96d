-- One row per order placed through the Mini App: who placed it, with which
-- campaign, and the checkout fields the host's order tables have no place
-- for. (telegram_user_id, order_key) makes a double tap create one order.
CREATE TABLE {prefix}order_meta (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_key        TEXT    NOT NULL,
    host_order_id    TEXT    NOT NULL DEFAULT '',
    telegram_user_id INTEGER NOT NULL,
    customer_id      INTEGER NOT NULL,
    host_customer_id INTEGER NOT NULL DEFAULT 0,
    tracking_id      TEXT    NOT NULL,
    campaign_id      TEXT    NOT NULL DEFAULT '',
    fields           TEXT    NOT NULL,
    total            INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    created_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX {prefix}order_meta_key_uq ON {prefix}order_meta (telegram_user_id, order_key);
CREATE INDEX {prefix}order_meta_customer_idx ON {prefix}order_meta (customer_id, created_at);
CREATE INDEX {prefix}order_meta_created_idx ON {prefix}order_meta (created_at);
