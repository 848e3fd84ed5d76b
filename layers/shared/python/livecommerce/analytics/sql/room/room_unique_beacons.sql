-- The beacons of ONE room (:room_id), each once by its key (request_id, seq): the rule of
-- views/unique_beacons.sql, on the room's partitions only. Every room relation reads this.
-- :room_id  the room
SELECT request_id, seq, received_at, client_at, viewer_id, kind, product_id, play_id, device_id,
       source_ip, playback_token, realtime, position_s
FROM (
    SELECT b.*, row_number() OVER (PARTITION BY b.request_id, b.seq ORDER BY b.received_at) AS copy
    FROM beacons b
    WHERE b.room_id = :room_id
) numbered
WHERE copy = 1
