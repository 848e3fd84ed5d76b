-- Raw and accepted counts of the room side by side, with the count of each exclusion reason
-- (sql/traffic_summary.sql over the report's room scope). One row per measure and reason
-- (reason NULL: the accepted ones); the report sums them for the totals.
SELECT 'viewers' AS measure, reason, count(*) AS n
FROM room_verdicts
GROUP BY reason
UNION ALL
SELECT 'beacons' AS measure, reason, count(*) AS n
FROM room_beacons
GROUP BY reason
UNION ALL
SELECT 'interactions' AS measure, reason, count(*) AS n
FROM room_events
WHERE type IN ('LikesAdded', 'DanmakuSent')
GROUP BY reason
ORDER BY measure, reason
