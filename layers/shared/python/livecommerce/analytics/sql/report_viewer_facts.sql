-- Per accepted viewer of a room: what they did here and in the host's earlier sessions (the
-- facts the tag rules read, livecommerce.analytics.tags). Accepted traffic only. Reads the room
-- through the report's room scope (sql/room/: room_beacons, room_events).
-- watch_seconds: 30 s per accepted heartbeat (the player sends one every 30 s while playing).
-- :room_id  the room   :host_id  its host (earlier sessions: the host's rooms started before it)
-- :room_ids  the host's rooms to look at for earlier sessions (rooms.room_ids_of_host: the most
--            recent 200 by scheduled start; Athena's room_id projection needs them named)
WITH here AS (
    SELECT viewer_id,
           sum(CASE WHEN kind = 'heartbeat' THEN 30 ELSE 0 END) AS watch_seconds,
           sum(CASE WHEN kind = 'enter' THEN 1 ELSE 0 END) AS views,
           sum(CASE WHEN kind = 'product_click' THEN 1 ELSE 0 END) AS product_clicks,
           sum(CASE WHEN kind = 'share_click' THEN 1 ELSE 0 END) AS shares
    FROM room_beacons
    WHERE accepted
    GROUP BY viewer_id
),
started AS (
    SELECT min(occurred_at) AS at FROM room_events WHERE type = 'RoomStarted'
),
earlier_rooms AS (
    SELECT DISTINCT e.room_id
    FROM unique_events e CROSS JOIN started s
    WHERE e.room_id IN (:room_ids) AND e.type = 'RoomStarted' AND json_extract_scalar(e.detail, '$.host_id') = :host_id
      AND e.room_id <> :room_id AND e.occurred_at < s.at
),
earlier_watch AS (
    SELECT b.viewer_id, count(DISTINCT b.room_id) AS sessions
    FROM accepted_beacons b JOIN earlier_rooms r ON r.room_id = b.room_id
    GROUP BY b.viewer_id
),
earlier_paid AS (
    SELECT e.user_id AS viewer_id, count(*) AS paid
    FROM accepted_events e JOIN earlier_rooms r ON r.room_id = e.room_id
    WHERE e.type = 'OrderPaid'
    GROUP BY e.user_id
),
orders_here AS (
    SELECT user_id AS viewer_id,
           sum(CASE WHEN type = 'OrderCreated' THEN 1 ELSE 0 END) AS orders,
           sum(CASE WHEN type = 'OrderPaid' THEN 1 ELSE 0 END) AS paid_orders,
           sum(CASE WHEN type = 'OrderPaid' THEN amount_fen ELSE 0 END) AS amount,
           sum(CASE WHEN type = 'OrderPaid' AND json_extract_scalar(detail, '$.coupon_id') IS NOT NULL
                    THEN 1 ELSE 0 END) AS coupon_orders,
           sum(CASE WHEN type = 'LotteryEntered' THEN 1 ELSE 0 END) AS lottery_entries
    FROM room_events
    WHERE accepted AND type IN ('OrderCreated', 'OrderPaid', 'LotteryEntered')
    GROUP BY user_id
)
SELECT h.viewer_id, h.watch_seconds, h.views, h.product_clicks, h.shares,
       coalesce(o.orders, 0) AS orders, coalesce(o.paid_orders, 0) AS paid_orders,
       coalesce(o.amount, 0) AS amount, coalesce(o.coupon_orders, 0) AS coupon_orders,
       coalesce(o.lottery_entries, 0) AS lottery_entries,
       coalesce(w.sessions, 0) AS earlier_sessions_watched, coalesce(p.paid, 0) AS earlier_paid_orders
FROM here h
LEFT JOIN orders_here o ON o.viewer_id = h.viewer_id
LEFT JOIN earlier_watch w ON w.viewer_id = h.viewer_id
LEFT JOIN earlier_paid p ON p.viewer_id = h.viewer_id
ORDER BY h.viewer_id
