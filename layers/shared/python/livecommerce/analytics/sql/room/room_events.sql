-- after: room_verdicts, room_unique_events
-- The domain events of ONE room (:room_id) with their verdict (the rule of
-- views/event_verdicts.sql): likes and danmaku of accounts that never watched the room count as
-- 'never_watched', those of excluded viewers take the viewer's reason; every other event counts.
-- :room_id  the room
SELECT e.event_id, e.type, e.occurred_at, e.user_id, e.amount_fen, e.product_id, e.order_id, e.detail,
       CASE
           WHEN e.type NOT IN ('LikesAdded', 'DanmakuSent') THEN NULL
           WHEN v.viewer_id IS NULL THEN 'never_watched'
           WHEN NOT v.accepted THEN v.reason
       END AS reason,
       (e.type NOT IN ('LikesAdded', 'DanmakuSent') OR coalesce(v.accepted, false)) AS accepted
FROM room_unique_events e
LEFT JOIN room_verdicts v ON v.viewer_id = e.user_id
