-- The host shop's own tables, as a shop has them before it wires in
-- TeleCart: named by the shop, without TeleCart's table prefix. TeleCart
-- never touches them; the shop's Catalog reads products and its
-- OrderPlacer writes orders, order_items and the stock inside TeleCart's
-- order transaction. Prices are in minor units (kopecks). The checkout's
-- fields are TEXT: the admin may loosen the checkout form's length limits.
CREATE TABLE products (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    name        VARCHAR(255) NOT NULL,
    description TEXT         NOT NULL,
    price       BIGINT       NOT NULL,
    currency    VARCHAR(8)   NOT NULL DEFAULT 'RUB',
    stock       INT          NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    CONSTRAINT products_stock_non_negative CHECK (stock >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
    id               BIGINT       NOT NULL AUTO_INCREMENT,
    telegram_user_id BIGINT       NOT NULL DEFAULT 0,
    customer_name    TEXT         NOT NULL,
    phone            TEXT         NOT NULL,
    email            TEXT         NOT NULL,
    address          TEXT         NOT NULL,
    comment          TEXT         NOT NULL,
    total            BIGINT       NOT NULL,
    currency         VARCHAR(8)   NOT NULL,
    status           VARCHAR(32)  NOT NULL DEFAULT 'new',
    created_at       DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    KEY orders_telegram_user_id (telegram_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_items (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    order_id   BIGINT       NOT NULL,
    product_id BIGINT       NOT NULL,
    name       VARCHAR(255) NOT NULL,
    quantity   INT          NOT NULL,
    unit_price BIGINT       NOT NULL,
    PRIMARY KEY (id),
    KEY order_items_order_id (order_id),
    CONSTRAINT order_items_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO products (id, name, description, price, currency, stock) VALUES
    (1, 'Dot-Grid Notebook A5', 'Lay-flat binding, 160 pages of 100 g/m2 paper that takes fountain pen ink.', 59000, 'RUB', 40),
    (2, 'Fountain Pen, Fine Nib', 'Steel fine nib, piston filler, resin body in deep green.', 249000, 'RUB', 12),
    (3, 'Blue-Black Ink, 50 ml', 'Water-based ink that darkens as it dries. Glass bottle.', 89000, 'RUB', 30),
    (4, 'Graphite Pencil Set', 'Twelve grades from 6H to 8B in a tin case.', 64900, 'RUB', 25),
    (5, 'Washi Tape, 5 Rolls', 'Paper masking tape in five muted colours, 15 mm wide.', 39900, 'RUB', 0),
    (6, 'Desk Planner 2027', 'A week on two pages, with a year overview and notes.', 119000, 'RUB', 8),
    (7, 'Brass Ruler, 20 cm', 'Solid brass with etched millimetre marks.', 99000, 'RUB', 5),
    (8, 'Kraft Envelopes, 25 pcs', 'C6 envelopes of recycled kraft paper with a peel-off strip.', 29900, 'RUB', 60);
