-- after: room_verdicts, room_unique_beacons
-- The beacons of ONE room (:room_id) with their viewer's verdict, the columns the report reads.
-- :room_id  the room
SELECT b.viewer_id, b.kind, b.product_id, b.received_at, v.accepted, v.reason
FROM room_unique_beacons b
JOIN room_verdicts v ON v.viewer_id = b.viewer_id
