-- The room per minute, for the charts: distinct accepted viewers active (an entry or a
-- heartbeat) in the minute, danmaku, orders paid and fen paid. One row per minute that had any.
-- Reads the room scope (sql/room/: room_beacons, room_events).
WITH online AS (
    SELECT date_trunc('minute', received_at) AS minute, count(DISTINCT viewer_id) AS online
    FROM room_beacons
    WHERE accepted AND kind IN ('enter', 'heartbeat')
    GROUP BY date_trunc('minute', received_at)
),
happened AS (
    SELECT date_trunc('minute', occurred_at) AS minute,
           sum(CASE WHEN type = 'OrderPaid' THEN 1 ELSE 0 END) AS orders,
           sum(CASE WHEN type = 'OrderPaid' THEN amount_fen ELSE 0 END) AS gmv,
           sum(CASE WHEN type = 'DanmakuSent' THEN 1 ELSE 0 END) AS danmaku
    FROM room_events
    WHERE accepted AND type IN ('OrderPaid', 'DanmakuSent')
    GROUP BY date_trunc('minute', occurred_at)
)
SELECT coalesce(o.minute, h.minute) AS minute, coalesce(o.online, 0) AS online,
       coalesce(h.orders, 0) AS orders, coalesce(h.gmv, 0) AS gmv, coalesce(h.danmaku, 0) AS danmaku
FROM online o
FULL OUTER JOIN happened h ON h.minute = o.minute
ORDER BY 1
