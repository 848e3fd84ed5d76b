-- after: event_verdicts
-- The domain events every report counts (see event_verdicts).
SELECT * FROM event_verdicts WHERE accepted
