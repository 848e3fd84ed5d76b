-- The order-summary notice's audience (notifications.notices, kind order_summary): every user
-- who paid an order in the room, with how many orders and how much (fen). Paged by user id:
-- :after is the last user of the previous page ('' for the first), 1,000 a page.
-- :room_id  the room   :after  cursor
SELECT user_id, count(DISTINCT order_id) AS orders, sum(amount_fen) AS amount
FROM accepted_events
WHERE room_id = :room_id AND type = 'OrderPaid' AND user_id IS NOT NULL AND user_id > :after
GROUP BY user_id
ORDER BY user_id
LIMIT 1000
