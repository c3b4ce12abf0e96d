-- The campaign funnel's rollups, folded from the outbox before retention
-- purges it (pulse/funnel.go). day is YYYY-MM-DD in the shop's time zone.
-- Keyed by day first, without a rowid: the funnel reads a range of days of
-- every campaign, which is then one range of the table itself; a
-- campaign's own page reads through the (campaign_id, day) index.
CREATE TABLE {prefix}pulse_funnel_days (
  campaign_id              TEXT    NOT NULL,
  day                      TEXT    NOT NULL,
  open_events              INTEGER NOT NULL DEFAULT 0,
  open_customers           INTEGER NOT NULL DEFAULT 0,
  product_view_events      INTEGER NOT NULL DEFAULT 0,
  product_view_customers   INTEGER NOT NULL DEFAULT 0,
  add_to_cart_events       INTEGER NOT NULL DEFAULT 0,
  add_to_cart_customers    INTEGER NOT NULL DEFAULT 0,
  checkout_start_events    INTEGER NOT NULL DEFAULT 0,
  checkout_start_customers INTEGER NOT NULL DEFAULT 0,
  order_events             INTEGER NOT NULL DEFAULT 0,
  order_customers          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, campaign_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX {prefix}pulse_funnel_days_campaign ON {prefix}pulse_funnel_days (campaign_id, day);

-- Revenue of ORDER_CREATED events per campaign, day and currency, in minor units.
CREATE TABLE {prefix}pulse_funnel_revenue (
  campaign_id TEXT    NOT NULL,
  day         TEXT    NOT NULL,
  currency    TEXT    NOT NULL,
  orders      INTEGER NOT NULL DEFAULT 0,
  revenue     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, campaign_id, currency)
) WITHOUT ROWID;

CREATE UNIQUE INDEX {prefix}pulse_funnel_revenue_campaign ON {prefix}pulse_funnel_revenue (campaign_id, day, currency);

-- The same sums per calendar month (YYYY-MM): a range reads whole months
-- here and only its ragged ends from the day tables.
CREATE TABLE {prefix}pulse_funnel_months (
  month                    TEXT    NOT NULL,
  campaign_id              TEXT    NOT NULL,
  open_events              INTEGER NOT NULL DEFAULT 0,
  open_customers           INTEGER NOT NULL DEFAULT 0,
  product_view_events      INTEGER NOT NULL DEFAULT 0,
  product_view_customers   INTEGER NOT NULL DEFAULT 0,
  add_to_cart_events       INTEGER NOT NULL DEFAULT 0,
  add_to_cart_customers    INTEGER NOT NULL DEFAULT 0,
  checkout_start_events    INTEGER NOT NULL DEFAULT 0,
  checkout_start_customers INTEGER NOT NULL DEFAULT 0,
  order_events             INTEGER NOT NULL DEFAULT 0,
  order_customers          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (month, campaign_id)
) WITHOUT ROWID;

CREATE TABLE {prefix}pulse_funnel_revenue_months (
  month       TEXT    NOT NULL,
  campaign_id TEXT    NOT NULL,
  currency    TEXT    NOT NULL,
  orders      INTEGER NOT NULL DEFAULT 0,
  revenue     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (month, campaign_id, currency)
) WITHOUT ROWID;

-- The day each customer first reached each step of each campaign: counts
-- unique customers exactly, after the events themselves are purged.
CREATE TABLE {prefix}pulse_funnel_seen (
  campaign_id TEXT NOT NULL,
  step        TEXT NOT NULL,
  tracking_id TEXT NOT NULL,
  day         TEXT NOT NULL,
  PRIMARY KEY (campaign_id, step, tracking_id)
) WITHOUT ROWID;

-- One row: the fold's lock (every fold updates it first) and its progress.
CREATE TABLE {prefix}pulse_funnel_state (
  name          TEXT    NOT NULL PRIMARY KEY,
  folded_events INTEGER NOT NULL DEFAULT 0,
  folded_at     TEXT    NULL
);

INSERT INTO {prefix}pulse_funnel_state (name, folded_events) VALUES ('funnel', 0);

-- 1 once the event is in the rollups; retention purges only folded events.
-- A flag rather than an id watermark: transactions commit out of id order.
ALTER TABLE {prefix}pulse_events ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;

CREATE INDEX {prefix}pulse_events_unfolded ON {prefix}pulse_events (folded, id);
