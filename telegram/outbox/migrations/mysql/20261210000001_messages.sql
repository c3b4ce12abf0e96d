-- The message outbox: one row per message to Telegram, written first (in the
-- order's own transaction for order notices) and sent in the background at
-- Telegram's pace. See telegram/outbox.
CREATE TABLE {prefix}messages (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- VARBINARY: keys compare byte for byte (order:{id}:owner, broadcast:{id}:{customer}).
  idempotency_key     VARBINARY(128)  NOT NULL,
  kind                VARCHAR(16)     NOT NULL,
  chat_id             BIGINT          NOT NULL,
  thread_id           BIGINT          NOT NULL DEFAULT 0,
  text                TEXT            NOT NULL,
  parse_mode          VARCHAR(16)     NOT NULL DEFAULT '',
  buttons             TEXT            NULL,
  customer_id         BIGINT          NULL,
  broadcast_id        BIGINT          NULL,
  status              VARCHAR(16)     NOT NULL DEFAULT 'pending',
  attempts            INT             NOT NULL DEFAULT 0,
  next_attempt_at     DATETIME(6)     NOT NULL,
  lease_owner         VARCHAR(128)    NULL,
  lease_expires_at    DATETIME(6)     NULL,
  reason              VARCHAR(1000)   NULL,
  error_code          SMALLINT        NULL,
  telegram_message_id BIGINT          NULL,
  created_at          DATETIME(6)     NOT NULL,
  sent_at             DATETIME(6)     NULL,
  PRIMARY KEY (id),
  UNIQUE KEY messages_idempotency_key (idempotency_key),
  KEY messages_claim (status, next_attempt_at, id),
  KEY messages_lease (status, lease_expires_at),
  KEY messages_broadcast (broadcast_id, status),
  KEY messages_created (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per chat the outbox has written to: when the next message to it
-- may go (its pace, or a 429's retry_after), kept across restarts and
-- shared by every replica.
CREATE TABLE {prefix}message_chats (
  chat_id    BIGINT      NOT NULL,
  not_before DATETIME(6) NOT NULL,
  PRIMARY KEY (chat_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: the bot's send slots. Every claim locks it first, so claims run
-- one at a time across replicas and never hand out the same second's budget
-- twice.
CREATE TABLE {prefix}message_pace (
  id         INT         NOT NULL,
  next_slot  DATETIME(6) NOT NULL,
  claimed_at DATETIME(6) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO {prefix}message_pace (id, next_slot) VALUES (1, '1970-01-01 00:00:00.000000');

-- Broadcasts: a text to the customers a filter of the customers list
-- picks, enqueued in chunks (cursor: the last customer id enqueued).
CREATE TABLE {prefix}broadcasts (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  text        TEXT            NOT NULL,
  button_text VARCHAR(64)     NOT NULL DEFAULT '',
  filter      TEXT            NOT NULL,
  status      VARCHAR(16)     NOT NULL DEFAULT 'draft',
  recipients  INT             NOT NULL DEFAULT 0,
  enqueued    INT             NOT NULL DEFAULT 0,
  cursor_id   BIGINT          NOT NULL DEFAULT 0,
  all_queued  TINYINT(1)      NOT NULL DEFAULT 0,
  created_at  DATETIME(6)     NOT NULL,
  started_at  DATETIME(6)     NULL,
  finished_at DATETIME(6)     NULL,
  updated_at  DATETIME(6)     NOT NULL,
  PRIMARY KEY (id),
  KEY broadcasts_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
