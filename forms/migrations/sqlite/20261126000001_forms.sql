-- Forms: one FormKit schema per alias, such as the checkout form.
--
-- schema is the JSON array as text; times are fixed-width UTC text (see
-- migrator.Dialect.EncodeTime). The column is quoted as in the MySQL file,
-- where schema is a reserved word; SQLite accepts the backquotes.
CREATE TABLE {prefix}forms (
    id         INTEGER PRIMARY KEY,
    alias      TEXT NOT NULL,
    title      TEXT NOT NULL,
    `schema`   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE UNIQUE INDEX {prefix}forms_alias ON {prefix}forms (alias);

-- The default checkout form: exactly the JSON of forms.DefaultCheckout()'s
-- schema (TestMigrations checks that the two agree).
INSERT INTO {prefix}forms (alias, title, `schema`, created_at, updated_at)
VALUES ('checkout', 'Checkout', '[{"$formkit":"text","name":"name","label":"Name","placeholder":"Your name","validation":"required|length:2,64"},{"$formkit":"tel","name":"phone","label":"Phone","placeholder":"+7 900 000-00-00","validation":"required|length:5,20|matches:/^[+0-9 ()-]+$/"},{"$formkit":"email","name":"email","label":"Email","placeholder":"you@example.com","help":"Optional; we send the receipt here.","validation":"email"},{"$formkit":"select","name":"delivery","label":"Delivery","validation":"required","options":[{"label":"Courier","value":"courier"},{"label":"Pickup","value":"pickup"}],"value":"courier"},{"$formkit":"textarea","name":"address","label":"Address","placeholder":"Street, house, apartment","help":"Needed for courier delivery.","validation":"length:0,500"},{"$formkit":"textarea","name":"comment","label":"Comment","validation":"length:0,1000"}]', '2026-11-26 00:00:00.000000', '2026-11-26 00:00:00.000000');
