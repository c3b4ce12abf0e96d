-- Telegram customers: one row per Telegram user who opened the Mini App.
--
-- The table collation is utf8mb4_unicode_520_ci (supported by MySQL 8 and
-- MariaDB 10.6+) rather than utf8mb4_unicode_ci, which weighs every emoji the
-- same and would sort and compare '🚀' equal to '🎉'.
--
-- first_name_lc, last_name_lc and search_text are lower-cased copies the
-- store writes (Go's strings.ToLower) so that "contains" filters and the
-- global search are case-insensitive for every script on both dialects, with
-- the same answers: SQLite's LIKE folds ASCII only. They are utf8mb4_bin,
-- which also makes LIKE '%…%' cheaper than a collation-aware comparison.
CREATE TABLE {prefix}customers (
    id                   BIGINT        NOT NULL AUTO_INCREMENT,
    telegram_user_id     BIGINT        NOT NULL,
    tracking_id          CHAR(36)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    first_name           VARCHAR(255)  NOT NULL DEFAULT '',
    last_name            VARCHAR(255)  NOT NULL DEFAULT '',
    username             VARCHAR(64)   NOT NULL DEFAULT '',
    language_code        VARCHAR(35)   NOT NULL DEFAULT '',
    is_premium           TINYINT(1)    NOT NULL DEFAULT 0,
    allows_write_to_pm   TINYINT(1)    NOT NULL DEFAULT 0,
    photo_url            VARCHAR(1024) NOT NULL DEFAULT '',
    host_customer_id     BIGINT        NOT NULL DEFAULT 0,
    orders_count         INT           NOT NULL DEFAULT 0,
    privacy_consented_at DATETIME(6)   NULL,
    last_seen_at         DATETIME(6)   NOT NULL,
    first_campaign_id    VARCHAR(64)   NOT NULL DEFAULT '',
    first_campaign_at    DATETIME(6)   NULL,
    last_campaign_id     VARCHAR(64)   NOT NULL DEFAULT '',
    last_campaign_at     DATETIME(6)   NULL,
    bot_blocked          TINYINT(1)    NOT NULL DEFAULT 0,
    bot_blocked_at       DATETIME(6)   NULL,
    first_name_lc        VARCHAR(600)  COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    last_name_lc         VARCHAR(600)  COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    search_text          VARCHAR(1300) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    created_at           DATETIME(6)   NOT NULL,
    updated_at           DATETIME(6)   NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY {prefix}customers_telegram_user_id (telegram_user_id),
    UNIQUE KEY {prefix}customers_tracking_id (tracking_id),
    -- Sorts of the admin list; InnoDB appends the primary key to every
    -- secondary index, so each one also serves the "then by id" tie-break.
    KEY {prefix}customers_first_name (first_name),
    KEY {prefix}customers_last_name (last_name),
    KEY {prefix}customers_username (username),
    KEY {prefix}customers_created_at (created_at),
    KEY {prefix}customers_updated_at (updated_at),
    KEY {prefix}customers_last_seen_at (last_seen_at),
    KEY {prefix}customers_privacy_consented_at (privacy_consented_at),
    KEY {prefix}customers_orders_count (orders_count),
    KEY {prefix}customers_host_customer_id (host_customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
