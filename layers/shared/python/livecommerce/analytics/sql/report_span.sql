-- When the room started and ended (its first RoomStarted and last RoomEnded).
-- :room_id  the room
SELECT min(CASE WHEN type = 'RoomStarted' THEN occurred_at END) AS started_at,
       max(CASE WHEN type = 'RoomEnded' THEN occurred_at END) AS ended_at
FROM events
WHERE room_id = :room_id AND type IN ('RoomStarted', 'RoomEnded')
