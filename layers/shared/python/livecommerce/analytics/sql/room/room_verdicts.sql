-- after: room_unique_beacons
-- The fake-traffic verdict of each viewer of ONE room (:room_id), computed once per report:
-- the same rules, in the same order, as views/viewer_verdicts.sql (which classifies every room;
-- tests/unit/analytics/test_room_scope.py holds the two equal). Every report query reads the
-- room through room_verdicts / room_beacons / room_events, never the raw tables.
-- :room_id  the room
WITH per_viewer AS (
    SELECT viewer_id, bool_or(playback_token OR realtime) AS ever_valid
    FROM room_unique_beacons
    GROUP BY viewer_id
),
too_fast AS (
    SELECT DISTINCT viewer_id FROM (
        SELECT viewer_id, date_trunc('minute', received_at) AS minute, count(*) AS heartbeats
        FROM room_unique_beacons WHERE kind = 'heartbeat'
        GROUP BY viewer_id, date_trunc('minute', received_at)
    ) m WHERE heartbeats > 4
),
shared_device AS (
    SELECT DISTINCT b.viewer_id
    FROM room_unique_beacons b JOIN (
        SELECT device_id FROM room_unique_beacons WHERE device_id IS NOT NULL
        GROUP BY device_id HAVING count(DISTINCT viewer_id) > 3
    ) d ON d.device_id = b.device_id
),
shared_address AS (
    SELECT DISTINCT b.viewer_id
    FROM room_unique_beacons b JOIN (
        SELECT source_ip FROM room_unique_beacons WHERE source_ip IS NOT NULL
        GROUP BY source_ip HAVING count(DISTINCT viewer_id) > 50
    ) a ON a.source_ip = b.source_ip
)
SELECT v.viewer_id,
       CASE
           WHEN NOT v.ever_valid THEN 'no_playback_token'
           WHEN f.viewer_id IS NOT NULL THEN 'heartbeat_rate'
           WHEN d.viewer_id IS NOT NULL THEN 'shared_device'
           WHEN a.viewer_id IS NOT NULL THEN 'shared_address'
       END AS reason,
       (v.ever_valid AND f.viewer_id IS NULL AND d.viewer_id IS NULL AND a.viewer_id IS NULL) AS accepted
FROM per_viewer v
LEFT JOIN too_fast f ON f.viewer_id = v.viewer_id
LEFT JOIN shared_device d ON d.viewer_id = v.viewer_id
LEFT JOIN shared_address a ON a.viewer_id = v.viewer_id
