-- The room's paid orders with their lines (detail JSON), for the per-product table: the lines
-- are a JSON array, which the two engines unnest differently, so the caller reads them. Room scope.
SELECT order_id, user_id, amount_fen, detail
FROM room_events
WHERE accepted AND type = 'OrderPaid'
ORDER BY order_id
