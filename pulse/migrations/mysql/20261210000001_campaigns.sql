-- Campaigns: the ids events carry, with what the owner knows of them.
-- ascii_bin: an id is compared byte for byte, as events carry it.
CREATE TABLE {prefix}pulse_campaigns (
  id          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name        VARCHAR(255) NOT NULL,
  source      VARCHAR(32)  NOT NULL DEFAULT '',
  medium      VARCHAR(32)  NOT NULL DEFAULT '',
  content     VARCHAR(255) NOT NULL DEFAULT '',
  notes       TEXT         NOT NULL,
  archived    TINYINT      NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
