-- Entrants of each lottery of a room (LotteryClosed.entrants; entrants are pseudonyms).
-- :room_id  the room
SELECT event_id, TRY_CAST(json_extract_scalar(detail, '$.entrants') AS BIGINT) AS entrants
FROM accepted_events
WHERE room_id = :room_id AND type = 'LotteryClosed'
