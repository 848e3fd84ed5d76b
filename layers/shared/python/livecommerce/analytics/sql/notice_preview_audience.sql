-- The new-room preview's audience (notifications.notices, kind new_room_preview): the accepted
-- viewers of the host's earlier sessions (rooms the host started, other than :room_id), one row
-- per viewer and session with the facts the tag rules read (analytics/tags.py ViewerFacts), and
-- the host's followers who never watched one (HostFollowed not undone by a later HostUnfollowed:
-- identity's follow events in the events table; one row each, room_id and started_at NULL, no
-- facts). The notices service applies the host's tag rule over the session rows (a follower without
-- a session carries no tag: sent only when the host has no tag rule) and, at send, keeps the host's
-- followers (identity.follows: a follow newer than the store counts, an unfollow too). Paged by
-- viewer id (:after, '' first), 2,000 rows a page; a viewer's rows are never split across pages
-- by the service (it stops before the last viewer of a full page).
-- :host_id  the host   :room_id  the new room   :after  cursor
-- :room_ids  the host's rooms (rooms.room_ids_of_host: the most recent 200 scheduled before the new
--            one; Athena's room_id projection needs them named). HostFollowed / HostUnfollowed carry
--            no room: they are read under room_id '_none'.
WITH sessions AS (
    SELECT room_id, min(occurred_at) AS started_at
    FROM accepted_events
    WHERE room_id IN (:room_ids) AND type = 'RoomStarted' AND json_extract_scalar(detail, '$.host_id') = :host_id
      AND room_id <> :room_id
    GROUP BY room_id
),
watched AS (
    SELECT b.room_id, b.viewer_id,
           sum(CASE WHEN b.kind = 'heartbeat' THEN 30 ELSE 0 END) AS watch_seconds,
           sum(CASE WHEN b.kind = 'product_click' THEN 1 ELSE 0 END) AS product_clicks
    FROM accepted_beacons b JOIN sessions s ON s.room_id = b.room_id
    WHERE b.viewer_id > :after
    GROUP BY b.room_id, b.viewer_id
),
bought AS (
    SELECT e.room_id, e.user_id AS viewer_id,
           sum(CASE WHEN e.type = 'OrderCreated' THEN 1 ELSE 0 END) AS orders,
           sum(CASE WHEN e.type = 'OrderPaid' THEN 1 ELSE 0 END) AS paid_orders,
           sum(CASE WHEN e.type = 'OrderPaid' AND json_extract_scalar(e.detail, '$.coupon_id') IS NOT NULL
                    THEN 1 ELSE 0 END) AS coupon_orders,
           sum(CASE WHEN e.type = 'LotteryEntered' THEN 1 ELSE 0 END) AS lottery_entries
    FROM accepted_events e JOIN sessions s ON s.room_id = e.room_id
    WHERE e.type IN ('OrderCreated', 'OrderPaid', 'LotteryEntered') AND e.user_id > :after
    GROUP BY e.room_id, e.user_id
),
follow_changes AS (
    SELECT coalesce(json_extract_scalar(detail, '$.viewer_id'), user_id) AS viewer_id, type,
           row_number() OVER (PARTITION BY coalesce(json_extract_scalar(detail, '$.viewer_id'), user_id)
                              ORDER BY occurred_at DESC, event_id DESC) AS latest
    FROM accepted_events
    WHERE room_id = '_none' AND type IN ('HostFollowed', 'HostUnfollowed')
      AND json_extract_scalar(detail, '$.host_id') = :host_id
),
unwatched_followers AS (
    SELECT f.viewer_id
    FROM follow_changes f
    WHERE f.latest = 1 AND f.type = 'HostFollowed' AND f.viewer_id > :after
      AND NOT EXISTS (SELECT 1 FROM watched w WHERE w.viewer_id = f.viewer_id)
),
audience AS (
    SELECT w.viewer_id AS user_id, w.room_id, s.started_at, w.watch_seconds, w.product_clicks,
           coalesce(o.orders, 0) AS orders, coalesce(o.paid_orders, 0) AS paid_orders,
           coalesce(o.coupon_orders, 0) AS coupon_orders, coalesce(o.lottery_entries, 0) AS lottery_entries
    FROM watched w
    JOIN sessions s ON s.room_id = w.room_id
    LEFT JOIN bought o ON o.room_id = w.room_id AND o.viewer_id = w.viewer_id
    UNION ALL
    SELECT viewer_id AS user_id, CAST(NULL AS varchar) AS room_id, CAST(NULL AS timestamp) AS started_at,
           0 AS watch_seconds, 0 AS product_clicks, 0 AS orders, 0 AS paid_orders, 0 AS coupon_orders,
           0 AS lottery_entries
    FROM unwatched_followers
)
SELECT user_id, room_id, started_at, watch_seconds, product_clicks, orders, paid_orders, coupon_orders,
       lottery_entries
FROM audience
ORDER BY user_id, started_at NULLS FIRST, room_id
LIMIT 2000
