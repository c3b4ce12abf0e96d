-- The message outbox: one row per message to Telegram, written first (in the
-- order's own transaction for order notices) and sent in the background at
-- Telegram's pace. See telegram/outbox. Times are fixed-width UTC text.
CREATE TABLE {prefix}messages (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key     TEXT    NOT NULL,
  kind                TEXT    NOT NULL,
  chat_id             INTEGER NOT NULL,
  thread_id           INTEGER NOT NULL DEFAULT 0,
  text                TEXT    NOT NULL,
  parse_mode          TEXT    NOT NULL DEFAULT '',
  buttons             TEXT    NULL,
  customer_id         INTEGER NULL,
  broadcast_id        INTEGER NULL,
  status              TEXT    NOT NULL DEFAULT 'pending',
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     TEXT    NOT NULL,
  lease_owner         TEXT    NULL,
  lease_expires_at    TEXT    NULL,
  reason              TEXT    NULL,
  error_code          INTEGER NULL,
  telegram_message_id INTEGER NULL,
  created_at          TEXT    NOT NULL,
  sent_at             TEXT    NULL
);

CREATE UNIQUE INDEX {prefix}messages_idempotency_key ON {prefix}messages (idempotency_key);

CREATE INDEX {prefix}messages_claim ON {prefix}messages (status, next_attempt_at, id);

CREATE INDEX {prefix}messages_lease ON {prefix}messages (status, lease_expires_at);

CREATE INDEX {prefix}messages_broadcast ON {prefix}messages (broadcast_id, status);

CREATE INDEX {prefix}messages_created ON {prefix}messages (status, created_at);

-- One row per chat the outbox has written to: when the next message to it
-- may go (its pace, or a 429's retry_after), kept across restarts.
CREATE TABLE {prefix}message_chats (
  chat_id    INTEGER PRIMARY KEY,
  not_before TEXT    NOT NULL
);

-- One row: the bot's send slots. Every claim writes it first, so claims run
-- one at a time and never hand out the same second's budget twice.
CREATE TABLE {prefix}message_pace (
  id         INTEGER PRIMARY KEY,
  next_slot  TEXT    NOT NULL,
  claimed_at TEXT    NULL
);

INSERT INTO {prefix}message_pace (id, next_slot) VALUES (1, '1970-01-01 00:00:00.000000');

-- Broadcasts: a text to the customers a filter of the customers list
-- picks, enqueued in chunks (cursor_id: the last customer id enqueued).
CREATE TABLE {prefix}broadcasts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  text        TEXT    NOT NULL,
  button_text TEXT    NOT NULL DEFAULT '',
  filter      TEXT    NOT NULL,
  status      TEXT    NOT NULL DEFAULT 'draft',
  recipients  INTEGER NOT NULL DEFAULT 0,
  enqueued    INTEGER NOT NULL DEFAULT 0,
  cursor_id   INTEGER NOT NULL DEFAULT 0,
  all_queued  INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT    NOT NULL,
  started_at  TEXT    NULL,
  finished_at TEXT    NULL,
  updated_at  TEXT    NOT NULL
);

CREATE INDEX {prefix}broadcasts_status ON {prefix}broadcasts (status);
