-- When the room started and ended (its first RoomStarted and last RoomEnded). Room scope.
SELECT min(CASE WHEN type = 'RoomStarted' THEN occurred_at END) AS started_at,
       max(CASE WHEN type = 'RoomEnded' THEN occurred_at END) AS ended_at
FROM room_events
WHERE type IN ('RoomStarted', 'RoomEnded')
