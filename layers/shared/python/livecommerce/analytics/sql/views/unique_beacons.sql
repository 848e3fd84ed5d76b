-- Every beacon once. Delivery into the store is at least once (Firehose re-sends a batch whose
-- delivery it could not confirm, API Gateway's PutRecordBatch answer may be lost after the write),
-- so one beacon may be stored more than once; its key is the server-stamped (request_id, seq):
-- the API Gateway request id of its batch and its position in it. A client that posts the same
-- beacons again makes a new request (a new key): that is traffic, judged by the rate rules.
-- The window is partitioned by room_id too (a beacon's room never differs between its copies) so
-- Athena pushes a query's room filter below it (partition projection injects room_id).
-- Every view and query reads beacons through this view (or sql/room/room_unique_beacons.sql).
SELECT request_id, seq, received_at, client_at, viewer_id, kind, product_id, play_id, device_id,
       source_ip, playback_token, realtime, position_s, dt, room_id
FROM (
    SELECT b.*, row_number() OVER (PARTITION BY b.room_id, b.request_id, b.seq ORDER BY b.received_at) AS copy
    FROM beacons b
) numbered
WHERE copy = 1
