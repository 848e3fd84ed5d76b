-- How far the store has caught up with a room that ended (post_live.wait_for_store): whether its
-- RoomEnded row has landed (the events stream delivers a room's partition in order of its buffer:
-- the RoomEnded row lands with or after every event of the room put before it), and the newest
-- beacon of the room (players send a leave when the room ends; one received after the end means
-- the beacons stream has delivered past the end).
-- :room_id  the room
SELECT (SELECT count(*) FROM events WHERE room_id = :room_id AND type = 'RoomEnded') AS room_ended_rows,
       (SELECT max(received_at) FROM beacons WHERE room_id = :room_id) AS last_beacon_at
