-- The demo host's own tables: what a real shop already has before it wires
-- in TeleCart. TeleCart never reads them; the demo's OrderPlacer writes the
-- orders inside TeleCart's transaction and its CustomerDirectory reads the
-- customers.
CREATE TABLE {prefix}demo_orders (
    id               BIGINT       NOT NULL AUTO_INCREMENT,
    host_customer_id BIGINT       NOT NULL DEFAULT 0,
    telegram_user_id BIGINT       NOT NULL DEFAULT 0,
    name             VARCHAR(255) NOT NULL DEFAULT '',
    phone            VARCHAR(255) NOT NULL DEFAULT '',
    email            VARCHAR(255) NOT NULL DEFAULT '',
    address          TEXT         NOT NULL,
    comment          TEXT         NOT NULL,
    total            BIGINT       NOT NULL,
    currency         VARCHAR(8)   NOT NULL DEFAULT '',
    status           VARCHAR(32)  NOT NULL DEFAULT 'new',
    created_at       DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    KEY {prefix}demo_orders_host_customer_id (host_customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per order line; id keeps the lines in the order they were given.
CREATE TABLE {prefix}demo_order_items (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    order_id   BIGINT       NOT NULL,
    product_id VARCHAR(128) NOT NULL,
    name       VARCHAR(255) NOT NULL DEFAULT '',
    quantity   INT          NOT NULL,
    unit_price BIGINT       NOT NULL,
    total      BIGINT       NOT NULL,
    PRIMARY KEY (id),
    KEY {prefix}demo_order_items_order_id (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The shop's registered customers. email is stored lower-case and compared
-- by the case-insensitive collation; phone_digits holds the phone's digits
-- (a leading 8 of a Russian number written as 7) so that any spelling of the
-- number finds the customer.
CREATE TABLE {prefix}demo_customers (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    email        VARCHAR(255) NOT NULL,
    phone        VARCHAR(64)  NOT NULL DEFAULT '',
    phone_digits VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    name         VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    UNIQUE KEY {prefix}demo_customers_email (email),
    KEY {prefix}demo_customers_phone_digits (phone_digits)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO {prefix}demo_customers (id, email, phone, phone_digits, name) VALUES
    (1, 'anna@example.com', '+7 (900) 123-45-67', '79001234567', 'Anna Petrova'),
    (2, 'ivan@example.com', '+7 (912) 765-43-21', '79127654321', 'Ivan Smirnov');
