-- Campaigns: the ids events carry, with what the owner knows of them.
CREATE TABLE {prefix}pulse_campaigns (
  id          TEXT    NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL,
  source      TEXT    NOT NULL DEFAULT '',
  medium      TEXT    NOT NULL DEFAULT '',
  content     TEXT    NOT NULL DEFAULT '',
  notes       TEXT    NOT NULL DEFAULT '',
  archived    INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL
);
