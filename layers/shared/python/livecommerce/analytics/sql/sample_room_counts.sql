-- The sample query both engines run in the tests: accepted beacons of a room per kind and
-- minute on one day, and how many distinct viewers sent them.
-- :room_id  the room   :day  its UTC date (YYYY-MM-DD, the dt partition)
SELECT kind,
       date_trunc('minute', received_at) AS minute,
       count(*) AS beacons,
       count(DISTINCT viewer_id) AS viewers
FROM accepted_beacons
WHERE room_id = :room_id AND dt = :day
GROUP BY kind, date_trunc('minute', received_at)
ORDER BY minute, kind
