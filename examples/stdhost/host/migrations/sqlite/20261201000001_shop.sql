-- The host shop's own tables, as a shop has them before it wires in
-- TeleCart: named by the shop, without TeleCart's table prefix. TeleCart
-- never touches them; the shop's Catalog reads products and its
-- OrderPlacer writes orders, order_items and the stock inside TeleCart's
-- order transaction. Times are fixed-width UTC text
-- (migrator.Dialect.EncodeTime). Prices are in minor units (kopecks).
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    price       INTEGER NOT NULL,
    currency    TEXT    NOT NULL DEFAULT 'RUB',
    stock       INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0)
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id INTEGER NOT NULL DEFAULT 0,
    customer_name    TEXT    NOT NULL DEFAULT '',
    phone            TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    address          TEXT    NOT NULL DEFAULT '',
    comment          TEXT    NOT NULL DEFAULT '',
    total            INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'new',
    created_at       TEXT    NOT NULL
);

CREATE INDEX orders_telegram_user_id ON orders (telegram_user_id);

CREATE TABLE order_items (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    quantity   INTEGER NOT NULL,
    unit_price INTEGER NOT NULL
);

CREATE INDEX order_items_order_id ON order_items (order_id);

INSERT INTO products (id, name, description, price, currency, stock) VALUES
    (1, 'Dot-Grid Notebook A5', 'Lay-flat binding, 160 pages of 100 g/m2 paper that takes fountain pen ink.', 59000, 'RUB', 40),
    (2, 'Fountain Pen, Fine Nib', 'Steel fine nib, piston filler, resin body in deep green.', 249000, 'RUB', 12),
    (3, 'Blue-Black Ink, 50 ml', 'Water-based ink that darkens as it dries. Glass bottle.', 89000, 'RUB', 30),
    (4, 'Graphite Pencil Set', 'Twelve grades from 6H to 8B in a tin case.', 64900, 'RUB', 25),
    (5, 'Washi Tape, 5 Rolls', 'Paper masking tape in five muted colours, 15 mm wide.', 39900, 'RUB', 0),
    (6, 'Desk Planner 2027', 'A week on two pages, with a year overview and notes.', 119000, 'RUB', 8),
    (7, 'Brass Ruler, 20 cm', 'Solid brass with etched millimetre marks.', 99000, 'RUB', 5),
    (8, 'Kraft Envelopes, 25 pcs', 'C6 envelopes of recycled kraft paper with a peel-off strip.', 29900, 'RUB', 60);
