-- A room's beacons per kind, raw and accepted (views are 'enter' beacons). Room scope.
SELECT kind, count(*) AS raw_count, sum(CASE WHEN accepted THEN 1 ELSE 0 END) AS accepted_count
FROM room_beacons
GROUP BY kind
