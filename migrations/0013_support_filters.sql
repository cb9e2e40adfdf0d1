-- Migration number: 0013 	 support filters: the event list by user, job or session.
-- A support agent answering "I couldn't log in" searches by the person's user
-- id, session or provisioning job. The user is already served by
-- idx_funnel_events_user_type_ts (its prefix); jobs and sessions get partial
-- indexes, written only for rows that carry the id.
CREATE INDEX idx_funnel_events_job_ts ON funnel_events (job_id, ts) WHERE job_id IS NOT NULL;
CREATE INDEX idx_funnel_events_session_ts ON funnel_events (session_id, ts) WHERE session_id IS NOT NULL;
