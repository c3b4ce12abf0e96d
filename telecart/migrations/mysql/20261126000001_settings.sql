-- Shop settings, one row per key; value is the key's JSON. The products feed
-- block ships here so that a fresh shop shows products at once.
CREATE TABLE {prefix}settings (
    name       VARCHAR(64) NOT NULL,
    value      TEXT        NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO {prefix}settings (name, value, updated_at)
VALUES ('blocks', '[{"type":"products_feed","title":"Products","aspect_ratio":"1:1","per_page":20}]', UTC_TIMESTAMP(6));
