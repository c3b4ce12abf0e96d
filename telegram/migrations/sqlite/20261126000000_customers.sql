-- Telegram customers: one row per Telegram user who opened the Mini App.
--
-- first_name_lc, last_name_lc and search_text are lower-cased copies the
-- store writes (Go's strings.ToLower): SQLite's LIKE and NOCASE fold ASCII
-- only, and "Žofie" must match "žofie". Name sorts use the _lc columns, so
-- they are case-insensitive too. Times are fixed-width UTC text (see
-- migrator.Dialect.EncodeTime), so they compare and sort as text.
CREATE TABLE {prefix}customers (
    id                   INTEGER PRIMARY KEY,
    telegram_user_id     INTEGER NOT NULL,
    tracking_id          TEXT    NOT NULL,
    first_name           TEXT    NOT NULL DEFAULT '',
    last_name            TEXT    NOT NULL DEFAULT '',
    username             TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
    language_code        TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
    is_premium           INTEGER NOT NULL DEFAULT 0,
    allows_write_to_pm   INTEGER NOT NULL DEFAULT 0,
    photo_url            TEXT    NOT NULL DEFAULT '',
    host_customer_id     INTEGER NOT NULL DEFAULT 0,
    orders_count         INTEGER NOT NULL DEFAULT 0,
    privacy_consented_at TEXT    NULL,
    last_seen_at         TEXT    NOT NULL,
    first_campaign_id    TEXT    NOT NULL DEFAULT '',
    first_campaign_at    TEXT    NULL,
    last_campaign_id     TEXT    NOT NULL DEFAULT '',
    last_campaign_at     TEXT    NULL,
    bot_blocked          INTEGER NOT NULL DEFAULT 0,
    bot_blocked_at       TEXT    NULL,
    first_name_lc        TEXT    NOT NULL DEFAULT '',
    last_name_lc         TEXT    NOT NULL DEFAULT '',
    search_text          TEXT    NOT NULL DEFAULT '',
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);

CREATE UNIQUE INDEX {prefix}customers_telegram_user_id ON {prefix}customers (telegram_user_id);
CREATE UNIQUE INDEX {prefix}customers_tracking_id ON {prefix}customers (tracking_id);

-- Sorts of the admin list; every SQLite index ends with the rowid (id), so
-- each one also serves the "then by id" tie-break.
CREATE INDEX {prefix}customers_first_name_lc ON {prefix}customers (first_name_lc);
CREATE INDEX {prefix}customers_last_name_lc ON {prefix}customers (last_name_lc);
CREATE INDEX {prefix}customers_username ON {prefix}customers (username);
CREATE INDEX {prefix}customers_created_at ON {prefix}customers (created_at);
CREATE INDEX {prefix}customers_updated_at ON {prefix}customers (updated_at);
CREATE INDEX {prefix}customers_last_seen_at ON {prefix}customers (last_seen_at);
CREATE INDEX {prefix}customers_privacy_consented_at ON {prefix}customers (privacy_consented_at);
CREATE INDEX {prefix}customers_orders_count ON {prefix}customers (orders_count);
CREATE INDEX {prefix}customers_host_customer_id ON {prefix}customers (host_customer_id);
