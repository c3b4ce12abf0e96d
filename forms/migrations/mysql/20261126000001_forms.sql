-- Forms: one FormKit schema per alias, such as the checkout form.
--
-- alias is ASCII and binary-collated: aliases match [a-z0-9_-]{1,64}, and a
-- case-insensitive collation would make the unique key disagree with the
-- store. schema is the JSON array as text (MEDIUMTEXT, not the JSON type,
-- which MySQL 8 reformats: the text must round-trip unchanged, and a full
-- schema can outgrow TEXT's 64 KiB). `schema` is a reserved word in MySQL,
-- hence the backquotes.
CREATE TABLE {prefix}forms (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    alias      VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    title      VARCHAR(200) NOT NULL,
    `schema`   MEDIUMTEXT   NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY {prefix}forms_alias (alias)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The default checkout form: exactly the JSON of forms.DefaultCheckout()'s
-- schema (TestMigrations checks that the two agree).
INSERT INTO {prefix}forms (alias, title, `schema`, created_at, updated_at)
VALUES ('checkout', 'Checkout', '[{"$formkit":"text","name":"name","label":"Name","placeholder":"Your name","validation":"required|length:2,64"},{"$formkit":"tel","name":"phone","label":"Phone","placeholder":"+7 900 000-00-00","validation":"required|length:5,20|matches:/^[+0-9 ()-]+$/"},{"$formkit":"email","name":"email","label":"Email","placeholder":"you@example.com","help":"Optional; we send the receipt here.","validation":"email"},{"$formkit":"select","name":"delivery","label":"Delivery","validation":"required","options":[{"label":"Courier","value":"courier"},{"label":"Pickup","value":"pickup"}],"value":"courier"},{"$formkit":"textarea","name":"address","label":"Address","placeholder":"Street, house, apartment","help":"Needed for courier delivery.","validation":"length:0,500"},{"$formkit":"textarea","name":"comment","label":"Comment","validation":"length:0,1000"}]', '2026-11-26 00:00:00.000000', '2026-11-26 00:00:00.000000');
