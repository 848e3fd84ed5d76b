-- Raw and accepted counts of a room side by side, with the count of each exclusion reason.
-- One row per reason (reason NULL: the accepted ones); the report sums them for the totals.
-- :room_id  the room
SELECT 'viewers' AS measure, reason, count(*) AS n
FROM viewer_verdicts
WHERE room_id = :room_id
GROUP BY reason
UNION ALL
SELECT 'beacons' AS measure, v.reason, count(*) AS n
FROM unique_beacons b
JOIN viewer_verdicts v ON v.room_id = b.room_id AND v.viewer_id = b.viewer_id
WHERE b.room_id = :room_id
GROUP BY v.reason
UNION ALL
SELECT 'interactions' AS measure, reason, count(*) AS n
FROM event_verdicts
WHERE room_id = :room_id AND type IN ('LikesAdded', 'DanmakuSent')
GROUP BY reason
ORDER BY measure, reason
