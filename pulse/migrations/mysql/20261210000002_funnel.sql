-- The campaign funnel's rollups, folded from the outbox before retention
-- purges it (pulse/funnel.go). day is YYYY-MM-DD in the shop's time zone.
-- Keyed by day first: the funnel reads a range of days of every campaign,
-- which is then one range of the clustered key; a campaign's own page
-- reads through the (campaign_id, day) key.
CREATE TABLE {prefix}pulse_funnel_days (
  campaign_id             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day                     CHAR(10)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  open_events             BIGINT      NOT NULL DEFAULT 0,
  open_customers          BIGINT      NOT NULL DEFAULT 0,
  product_view_events     BIGINT      NOT NULL DEFAULT 0,
  product_view_customers  BIGINT      NOT NULL DEFAULT 0,
  add_to_cart_events      BIGINT      NOT NULL DEFAULT 0,
  add_to_cart_customers   BIGINT      NOT NULL DEFAULT 0,
  checkout_start_events   BIGINT      NOT NULL DEFAULT 0,
  checkout_start_customers BIGINT     NOT NULL DEFAULT 0,
  order_events            BIGINT      NOT NULL DEFAULT 0,
  order_customers         BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (day, campaign_id),
  UNIQUE KEY pulse_funnel_days_campaign (campaign_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Revenue of ORDER_CREATED events per campaign, day and currency, in minor units.
CREATE TABLE {prefix}pulse_funnel_revenue (
  campaign_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         CHAR(10)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  currency    VARCHAR(8)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  orders      BIGINT      NOT NULL DEFAULT 0,
  revenue     BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (day, campaign_id, currency),
  UNIQUE KEY pulse_funnel_revenue_campaign (campaign_id, day, currency)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- The same sums per calendar month (YYYY-MM): a range reads whole months
-- here and only its ragged ends from the day tables.
CREATE TABLE {prefix}pulse_funnel_months (
  month                   CHAR(7)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  campaign_id             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  open_events             BIGINT      NOT NULL DEFAULT 0,
  open_customers          BIGINT      NOT NULL DEFAULT 0,
  product_view_events     BIGINT      NOT NULL DEFAULT 0,
  product_view_customers  BIGINT      NOT NULL DEFAULT 0,
  add_to_cart_events      BIGINT      NOT NULL DEFAULT 0,
  add_to_cart_customers   BIGINT      NOT NULL DEFAULT 0,
  checkout_start_events   BIGINT      NOT NULL DEFAULT 0,
  checkout_start_customers BIGINT     NOT NULL DEFAULT 0,
  order_events            BIGINT      NOT NULL DEFAULT 0,
  order_customers         BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (month, campaign_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

CREATE TABLE {prefix}pulse_funnel_revenue_months (
  month       CHAR(7)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  campaign_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  currency    VARCHAR(8)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  orders      BIGINT      NOT NULL DEFAULT 0,
  revenue     BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (month, campaign_id, currency)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- The day each customer first reached each step of each campaign: counts
-- unique customers exactly, after the events themselves are purged.
CREATE TABLE {prefix}pulse_funnel_seen (
  campaign_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  step        VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  tracking_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  day         CHAR(10)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (campaign_id, step, tracking_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- One row: the fold's lock (every fold updates it first) and its progress.
CREATE TABLE {prefix}pulse_funnel_state (
  name          VARCHAR(16) NOT NULL,
  folded_events BIGINT      NOT NULL DEFAULT 0,
  folded_at     DATETIME(6) NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

INSERT INTO {prefix}pulse_funnel_state (name, folded_events) VALUES ('funnel', 0);

-- 1 once the event is in the rollups; retention purges only folded events.
-- A flag rather than an id watermark: transactions commit out of id order.
ALTER TABLE {prefix}pulse_events ADD COLUMN folded TINYINT NOT NULL DEFAULT 0;

CREATE INDEX pulse_events_unfolded ON {prefix}pulse_events (folded, id);
