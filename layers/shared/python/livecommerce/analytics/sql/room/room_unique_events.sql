-- The domain events of ONE room (:room_id), each once by its event_id: the rule of
-- views/unique_events.sql, on the room's partitions only.
-- :room_id  the room
SELECT event_id, type, source, occurred_at, user_id, amount_fen, product_id, order_id, detail
FROM (
    SELECT e.*, row_number() OVER (PARTITION BY e.event_id ORDER BY e.occurred_at) AS copy
    FROM events e
    WHERE e.room_id = :room_id
) numbered
WHERE copy = 1
