-- after: viewer_verdicts, unique_beacons
-- The beacons every report counts: those of accepted viewers (see viewer_verdicts).
SELECT b.*
FROM unique_beacons b
JOIN viewer_verdicts v ON v.room_id = b.room_id AND v.viewer_id = b.viewer_id
WHERE v.accepted
