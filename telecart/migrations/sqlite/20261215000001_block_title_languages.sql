-- The products feed block the first migration installed gains its Russian
-- title (telecart.DefaultProductsFeed()), unless the shop has changed the
-- blocks since.
UPDATE {prefix}settings
SET value = '[{"type":"products_feed","title":"Products","titles":{"ru":"Товары"},"aspect_ratio":"1:1","per_page":20}]'
WHERE name = 'blocks'
  AND value = '[{"type":"products_feed","title":"Products","aspect_ratio":"1:1","per_page":20}]';
