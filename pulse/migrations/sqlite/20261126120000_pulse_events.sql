-- The Pulse outbox: one row per tracked event, written in the host's
-- transaction and delivered by the sender. See pulse/outbox.go.
-- Times are fixed-width UTC text (migrator.Dialect.EncodeTime).
CREATE TABLE {prefix}pulse_events (
  -- AUTOINCREMENT: ids are never reused after a purge.
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key  TEXT    NOT NULL,
  event            TEXT    NOT NULL,
  campaign_id      TEXT    NOT NULL,
  tracking_id      TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'pending',
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT    NOT NULL,
  lease_owner      TEXT    NULL,
  lease_expires_at TEXT    NULL,
  batch_id         TEXT    NULL,
  last_error       TEXT    NULL,
  last_http_status INTEGER NULL,
  occurred_at      TEXT    NOT NULL,
  created_at       TEXT    NOT NULL,
  sent_at          TEXT    NULL
);

CREATE UNIQUE INDEX {prefix}pulse_events_idempotency_key ON {prefix}pulse_events (idempotency_key);

-- Claims read due rows in order from here (status, next_attempt_at, id).
CREATE INDEX {prefix}pulse_events_claim ON {prefix}pulse_events (status, next_attempt_at, id);

-- Expired leases are reclaimed from here.
CREATE INDEX {prefix}pulse_events_lease ON {prefix}pulse_events (status, lease_expires_at);

-- Counts by status, the oldest pending event, and retention.
CREATE INDEX {prefix}pulse_events_created ON {prefix}pulse_events (status, created_at);
