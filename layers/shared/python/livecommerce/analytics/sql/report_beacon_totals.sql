-- A room's beacons per kind, raw and accepted (views are 'enter' beacons).
-- :room_id  the room
SELECT b.kind, count(*) AS raw_count, sum(CASE WHEN v.accepted THEN 1 ELSE 0 END) AS accepted_count
FROM beacons b
JOIN viewer_verdicts v ON v.room_id = b.room_id AND v.viewer_id = b.viewer_id
WHERE b.room_id = :room_id
GROUP BY b.kind
