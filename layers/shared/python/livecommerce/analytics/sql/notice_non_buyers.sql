-- The non-buyer notice's audience (notifications.notices, kind non_buyer): accepted viewers of
-- the room who watched at least :min_watch_seconds (the high_intent_non_buyer tag's rule,
-- analytics/tags.py: 30 s per accepted heartbeat) and clicked a product, and paid no order here.
-- Fake traffic never reaches it (accepted_beacons). Paged by viewer id: :after is the last viewer
-- of the previous page ('' for the first), 1,000 a page (the page size is notices.AUDIENCE_PAGE).
-- :room_id  the room   :min_watch_seconds  tags.HIGH_INTENT_WATCH_SECONDS   :after  cursor
WITH watched AS (
    SELECT viewer_id,
           sum(CASE WHEN kind = 'heartbeat' THEN 30 ELSE 0 END) AS watch_seconds,
           sum(CASE WHEN kind = 'product_click' THEN 1 ELSE 0 END) AS product_clicks
    FROM accepted_beacons
    WHERE room_id = :room_id
    GROUP BY viewer_id
),
paid AS (
    SELECT DISTINCT user_id
    FROM accepted_events
    WHERE room_id = :room_id AND type = 'OrderPaid' AND user_id IS NOT NULL
)
SELECT w.viewer_id AS user_id, w.watch_seconds, w.product_clicks
FROM watched w
LEFT JOIN paid p ON p.user_id = w.viewer_id
WHERE p.user_id IS NULL
  AND w.watch_seconds >= :min_watch_seconds
  AND w.product_clicks > 0
  AND w.viewer_id > :after
ORDER BY w.viewer_id
LIMIT 1000
