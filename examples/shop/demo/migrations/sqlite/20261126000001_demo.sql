-- The demo host's own tables: what a real shop already has before it wires
-- in TeleCart. TeleCart never reads them; the demo's OrderPlacer writes the
-- orders inside TeleCart's transaction and its CustomerDirectory reads the
-- customers. Times are fixed-width UTC text (see migrator.Dialect.EncodeTime).
CREATE TABLE {prefix}demo_orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    host_customer_id INTEGER NOT NULL DEFAULT 0,
    telegram_user_id INTEGER NOT NULL DEFAULT 0,
    name             TEXT    NOT NULL DEFAULT '',
    phone            TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    address          TEXT    NOT NULL DEFAULT '',
    comment          TEXT    NOT NULL DEFAULT '',
    total            INTEGER NOT NULL,
    currency         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'new',
    created_at       TEXT    NOT NULL
);

CREATE INDEX {prefix}demo_orders_host_customer_id ON {prefix}demo_orders (host_customer_id);

-- One row per order line; id keeps the lines in the order they were given.
CREATE TABLE {prefix}demo_order_items (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL,
    product_id TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    quantity   INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    total      INTEGER NOT NULL
);

CREATE INDEX {prefix}demo_order_items_order_id ON {prefix}demo_order_items (order_id);

-- The shop's registered customers. email is stored lower-case and compared
-- with NOCASE; phone_digits holds the phone's digits (a leading 8 of a
-- Russian number written as 7) so that any spelling of the number finds the
-- customer.
CREATE TABLE {prefix}demo_customers (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL COLLATE NOCASE,
    phone        TEXT NOT NULL DEFAULT '',
    phone_digits TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX {prefix}demo_customers_email ON {prefix}demo_customers (email);
CREATE INDEX {prefix}demo_customers_phone_digits ON {prefix}demo_customers (phone_digits);

INSERT INTO {prefix}demo_customers (id, email, phone, phone_digits, name) VALUES
    (1, 'anna@example.com', '+7 (900) 123-45-67', '79001234567', 'Anna Petrova'),
    (2, 'ivan@example.com', '+7 (912) 765-43-21', '79127654321', 'Ivan Smirnov');
