-- Entrants of each lottery of a room (LotteryClosed.entrants; entrants are pseudonyms). Room scope.
SELECT event_id, TRY_CAST(json_extract_scalar(detail, '$.entrants') AS BIGINT) AS entrants
FROM room_events
WHERE accepted AND type = 'LotteryClosed'
