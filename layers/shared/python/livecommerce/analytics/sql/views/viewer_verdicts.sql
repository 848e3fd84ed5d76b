-- after: unique_beacons
-- Fake traffic: which viewers of a room count, and why the others do not.
-- One row per (room_id, viewer_id) that sent any beacon; `accepted` and the first `reason`
-- that applies, in this order:
--   no_playback_token   no beacon of the viewer carried a valid playback token or a live
--                       realtime connection (a real player has fetched /playback for the room)
--   heartbeat_rate      more than 4 heartbeats in one minute of server time (the player sends
--                       one every 30 s: 2 a minute, 4 leaves room for a reconnect)
--   shared_device       the viewer's device sent beacons for more than 3 accounts in the room
--   shared_address      the viewer's address sent beacons for more than 50 accounts in the room
--                       (offices and campuses share one NAT address, so the bound is loose)
-- Every report query reads beacons through accepted_beacons / beacon_verdicts, never raw.
WITH per_viewer AS (
    SELECT room_id, viewer_id,
           bool_or(playback_token OR realtime) AS ever_valid
    FROM unique_beacons
    GROUP BY room_id, viewer_id
),
heartbeat_minutes AS (
    SELECT room_id, viewer_id, date_trunc('minute', received_at) AS minute, count(*) AS heartbeats
    FROM unique_beacons
    WHERE kind = 'heartbeat'
    GROUP BY room_id, viewer_id, date_trunc('minute', received_at)
),
too_fast AS (
    SELECT DISTINCT room_id, viewer_id FROM heartbeat_minutes WHERE heartbeats > 4
),
device_accounts AS (
    SELECT room_id, device_id, count(DISTINCT viewer_id) AS accounts
    FROM unique_beacons WHERE device_id IS NOT NULL
    GROUP BY room_id, device_id
),
shared_device AS (
    SELECT DISTINCT b.room_id, b.viewer_id
    FROM unique_beacons b JOIN device_accounts d ON d.room_id = b.room_id AND d.device_id = b.device_id
    WHERE d.accounts > 3
),
address_accounts AS (
    SELECT room_id, source_ip, count(DISTINCT viewer_id) AS accounts
    FROM unique_beacons WHERE source_ip IS NOT NULL
    GROUP BY room_id, source_ip
),
shared_address AS (
    SELECT DISTINCT b.room_id, b.viewer_id
    FROM unique_beacons b JOIN address_accounts a ON a.room_id = b.room_id AND a.source_ip = b.source_ip
    WHERE a.accounts > 50
)
SELECT v.room_id, v.viewer_id,
       CASE
           WHEN NOT v.ever_valid THEN 'no_playback_token'
           WHEN f.viewer_id IS NOT NULL THEN 'heartbeat_rate'
           WHEN d.viewer_id IS NOT NULL THEN 'shared_device'
           WHEN a.viewer_id IS NOT NULL THEN 'shared_address'
       END AS reason,
       (v.ever_valid AND f.viewer_id IS NULL AND d.viewer_id IS NULL AND a.viewer_id IS NULL) AS accepted
FROM per_viewer v
LEFT JOIN too_fast f ON f.room_id = v.room_id AND f.viewer_id = v.viewer_id
LEFT JOIN shared_device d ON d.room_id = v.room_id AND d.viewer_id = v.viewer_id
LEFT JOIN shared_address a ON a.room_id = v.room_id AND a.viewer_id = v.viewer_id
