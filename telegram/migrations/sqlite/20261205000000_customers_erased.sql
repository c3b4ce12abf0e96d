-- Erasure of a customer's personal data (CustomerStore.Erase): the time the
-- row was erased, NULL for a customer who was not. An erased row keeps its
-- ids, counts and times; its Telegram id is replaced by the row's own id,
-- negated, so that the unique index holds and the same Telegram user opening
-- the Mini App again becomes a new customer.
ALTER TABLE {prefix}customers ADD COLUMN erased_at TEXT NULL;
