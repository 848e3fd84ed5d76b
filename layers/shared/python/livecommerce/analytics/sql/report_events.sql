-- The room's domain events by type, raw and accepted: how many, from how many users, the
-- fen they carry, and the units they carry (likes: detail.count). Also the host's new
-- followers while the room was live (HostFollowed carries no room: it is stored under room_id
-- '_none', named below as Athena's injected projection requires; its follower is detail.viewer_id),
-- as type 'NewFollower'.
-- Room scope (sql/room/).   :host_id  the room's host
WITH typed AS (
    SELECT type, user_id, amount_fen, accepted,
           coalesce(TRY_CAST(json_extract_scalar(detail, '$.count') AS BIGINT), 1) AS units
    FROM room_events
),
span AS (
    SELECT min(CASE WHEN type = 'RoomStarted' THEN occurred_at END) AS started_at,
           max(CASE WHEN type = 'RoomEnded' THEN occurred_at END) AS ended_at
    FROM room_events WHERE type IN ('RoomStarted', 'RoomEnded')
)
SELECT type,
       count(*) AS raw_count,
       sum(CASE WHEN accepted THEN 1 ELSE 0 END) AS accepted_count,
       count(DISTINCT CASE WHEN accepted THEN user_id END) AS accepted_users,
       sum(CASE WHEN accepted THEN coalesce(amount_fen, 0) ELSE 0 END) AS accepted_fen,
       sum(units) AS raw_units,
       sum(CASE WHEN accepted THEN units ELSE 0 END) AS accepted_units
FROM typed
GROUP BY type
UNION ALL
SELECT 'NewFollower' AS type, count(*) AS raw_count, count(*) AS accepted_count,
       count(DISTINCT coalesce(e.user_id, json_extract_scalar(e.detail, '$.viewer_id'))) AS accepted_users, 0 AS accepted_fen, count(*) AS raw_units,
       count(*) AS accepted_units
FROM unique_events e CROSS JOIN span s
WHERE e.room_id = '_none' AND e.type = 'HostFollowed' AND json_extract_scalar(e.detail, '$.host_id') = :host_id
  AND e.occurred_at >= s.started_at AND (s.ended_at IS NULL OR e.occurred_at <= s.ended_at)
