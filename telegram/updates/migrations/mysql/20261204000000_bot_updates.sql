-- Telegram updates received by the webhook or long polling: a row per
-- (bot, update_id), so that an update Telegram sends twice, or that two
-- replicas receive, is handled once. The row is written before the update
-- is handled (the webhook answers as soon as it is stored) and marked done
-- in the transaction of the handling.
CREATE TABLE {prefix}bot_updates (
    bot_id          BIGINT        NOT NULL,
    update_id       BIGINT        NOT NULL,
    body            MEDIUMTEXT    NOT NULL,
    status          VARCHAR(16)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'pending',
    attempts        INT           NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)   NOT NULL,
    last_error      VARCHAR(1024) NOT NULL DEFAULT '',
    received_at     DATETIME(6)   NOT NULL,
    processed_at    DATETIME(6)   NULL,
    PRIMARY KEY (bot_id, update_id),
    KEY {prefix}bot_updates_due (status, next_attempt_at),
    KEY {prefix}bot_updates_received_at (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
