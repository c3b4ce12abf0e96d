-- Telegram updates received by the webhook or long polling: a row per
-- (bot, update_id), so that an update Telegram sends twice, or that two
-- replicas receive, is handled once. The row is written before the update
-- is handled (the webhook answers as soon as it is stored) and marked done
-- in the transaction of the handling. Times are fixed-width UTC text.
CREATE TABLE {prefix}bot_updates (
    bot_id          INTEGER NOT NULL,
    update_id       INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    received_at     TEXT    NOT NULL,
    processed_at    TEXT    NULL,
    PRIMARY KEY (bot_id, update_id)
);

CREATE INDEX {prefix}bot_updates_due ON {prefix}bot_updates (status, next_attempt_at);
CREATE INDEX {prefix}bot_updates_received_at ON {prefix}bot_updates (received_at);
