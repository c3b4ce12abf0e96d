-- Shop settings, one row per key; value is the key's JSON. The products feed
-- block ships here so that a fresh shop shows products at once.
CREATE TABLE {prefix}settings (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- updated_at in the fixed-width UTC layout of migrator.EncodeTime.
INSERT INTO {prefix}settings (name, value, updated_at)
VALUES ('blocks', '[{"type":"products_feed","title":"Products","aspect_ratio":"1:1","per_page":20}]', strftime('%Y-%m-%d %H:%M:%f000', 'now'));
