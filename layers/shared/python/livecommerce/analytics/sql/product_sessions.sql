-- One product across sessions: accepted impressions and clicks per room (source 'beacons'),
-- and the paid orders whose lines may hold it (source 'orders': the caller reads the lines,
-- strpos only narrows the scan), with each room's start.
-- :product_id  the product   :room_ids  the rooms to look in (the caller's: rooms.room_ids_of_host,
-- the most recent 200; Athena's room_id projection needs them named)
WITH starts AS (
    SELECT room_id, min(occurred_at) AS started_at FROM unique_events
    WHERE room_id IN (:room_ids) AND type = 'RoomStarted' GROUP BY room_id
),
shown AS (
    SELECT room_id,
           sum(CASE WHEN kind = 'card_impression' THEN 1 ELSE 0 END) AS impressions,
           sum(CASE WHEN kind = 'product_click' THEN 1 ELSE 0 END) AS clicks
    FROM accepted_beacons
    WHERE room_id IN (:room_ids) AND product_id = :product_id AND kind IN ('card_impression', 'product_click')
    GROUP BY room_id
),
sold AS (
    SELECT room_id, detail FROM accepted_events
    WHERE room_id IN (:room_ids) AND type = 'OrderPaid' AND strpos(detail, :product_id) > 0
)
SELECT 'beacons' AS source, s.room_id, st.started_at, s.impressions, s.clicks, CAST(NULL AS VARCHAR) AS detail
FROM shown s LEFT JOIN starts st ON st.room_id = s.room_id
UNION ALL
SELECT 'orders' AS source, o.room_id, st.started_at, 0 AS impressions, 0 AS clicks, o.detail
FROM sold o LEFT JOIN starts st ON st.room_id = o.room_id
