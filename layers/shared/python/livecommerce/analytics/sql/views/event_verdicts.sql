-- after: viewer_verdicts, unique_events
-- Fake traffic among domain events: likes and danmaku from accounts that never watched the
-- room (no accepted viewer row) are excluded with reason 'never_watched'; an account excluded
-- as a viewer takes its likes and danmaku with it (its own reason). Orders, payments and every
-- other event count as they are: money is real whoever sends it.
SELECT e.*,
       CASE
           WHEN e.type NOT IN ('LikesAdded', 'DanmakuSent') THEN NULL
           WHEN v.viewer_id IS NULL THEN 'never_watched'
           WHEN NOT v.accepted THEN v.reason
       END AS reason,
       (e.type NOT IN ('LikesAdded', 'DanmakuSent') OR coalesce(v.accepted, false)) AS accepted
FROM unique_events e
LEFT JOIN viewer_verdicts v ON v.room_id = e.room_id AND v.viewer_id = e.user_id
