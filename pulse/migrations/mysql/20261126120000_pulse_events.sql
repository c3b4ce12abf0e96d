-- The Pulse outbox: one row per tracked event, written in the host's
-- transaction and delivered by the sender. See pulse/outbox.go.
CREATE TABLE {prefix}pulse_events (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- VARBINARY: the key is compared byte for byte, as the receiver does
  -- (a case-insensitive collation would merge distinct keys).
  idempotency_key  VARBINARY(128)  NOT NULL,
  event            VARCHAR(64)     NOT NULL,
  campaign_id      VARCHAR(32)     NOT NULL,
  tracking_id      VARCHAR(64)     NOT NULL,
  payload          LONGTEXT        NOT NULL,
  status           VARCHAR(16)     NOT NULL DEFAULT 'pending',
  attempts         INT             NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6)     NOT NULL,
  lease_owner      VARCHAR(128)    NULL,
  lease_expires_at DATETIME(6)     NULL,
  batch_id         CHAR(36)        NULL,
  last_error       VARCHAR(1000)   NULL,
  last_http_status SMALLINT        NULL,
  occurred_at      DATETIME(6)     NOT NULL,
  created_at       DATETIME(6)     NOT NULL,
  sent_at          DATETIME(6)     NULL,
  PRIMARY KEY (id),
  UNIQUE KEY pulse_events_idempotency_key (idempotency_key),
  -- Claims read due rows in order from here (status, next_attempt_at, id).
  KEY pulse_events_claim (status, next_attempt_at, id),
  -- Expired leases are reclaimed from here.
  KEY pulse_events_lease (status, lease_expires_at),
  -- Counts by status, the oldest pending event, and retention.
  KEY pulse_events_created (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
