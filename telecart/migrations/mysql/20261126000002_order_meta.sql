-- One row per order placed through the Mini App: who placed it, with which
-- campaign, and the checkout fields the host's order tables have no place
-- for. (telegram_user_id, order_key) makes a double tap create one order.
CREATE TABLE {prefix}order_meta (
    id               BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_key        VARCHAR(64)  NOT NULL,
    host_order_id    VARCHAR(64)  NOT NULL DEFAULT '',
    telegram_user_id BIGINT       NOT NULL,
    customer_id      BIGINT       NOT NULL,
    host_customer_id BIGINT       NOT NULL DEFAULT 0,
    tracking_id      VARCHAR(64)  NOT NULL,
    campaign_id      VARCHAR(32)  NOT NULL DEFAULT '',
    fields           MEDIUMTEXT   NOT NULL,
    total            BIGINT       NOT NULL,
    currency         CHAR(3)      NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    UNIQUE KEY {prefix}order_meta_key_uq (telegram_user_id, order_key),
    KEY {prefix}order_meta_customer_idx (customer_id, created_at),
    KEY {prefix}order_meta_created_idx (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
