-- Every domain event once. EventBridge -> Firehose, the outbox's flush and sweep, and the
-- interaction stream's retries are all at least once, so one event may be stored more than once
-- under its event_id (the outbox's id; likes and danmaku: ids derived from what they count).
-- The window is partitioned by room_id too (an event's room comes from its detail, the same in
-- every copy; its time may differ: the envelope's) so Athena pushes a room filter below it.
-- A redelivered OrderPaid must not count twice in GMV: every view and query reads events
-- through this view (or sql/room/room_unique_events.sql).
SELECT event_id, type, source, occurred_at, user_id, amount_fen, product_id, order_id, detail, dt, room_id
FROM (
    SELECT e.*, row_number() OVER (PARTITION BY e.room_id, e.event_id ORDER BY e.occurred_at) AS copy
    FROM events e
) numbered
WHERE copy = 1
