-- Per product of a room: accepted card impressions and product clicks. Room scope.
SELECT product_id,
       sum(CASE WHEN kind = 'card_impression' THEN 1 ELSE 0 END) AS impressions,
       sum(CASE WHEN kind = 'product_click' THEN 1 ELSE 0 END) AS clicks
FROM room_beacons
WHERE accepted AND product_id IS NOT NULL AND kind IN ('card_impression', 'product_click')
GROUP BY product_id
ORDER BY product_id
