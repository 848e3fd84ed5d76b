-- The room's paid orders with their lines (detail JSON), for the per-product table: the lines
-- are a JSON array, which the two engines unnest differently, so the caller reads them.
-- :room_id  the room
SELECT order_id, user_id, amount_fen, detail
FROM accepted_events
WHERE room_id = :room_id AND type = 'OrderPaid'
ORDER BY order_id
