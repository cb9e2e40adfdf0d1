-- Migration number: 0011 	 numbers outside their declared range, stored before ingest checked ranges.
-- Ingest now refuses a number outside its parameter's range (value_out_of_range;
-- docs/events.md lists every range) and any number beyond 2^53. Rows stored
-- before that could hold, say, amount = 1e308: two of them made the hourly
-- rollup's sum infinite, and every summary over that hour failed. Such events
-- move to the quarantine (replayable once corrected), leave funnel_events (the
-- delete triggers keep counts exact), and the rollup sums of the hours they
-- touched are recounted from the rows that stay.

CREATE TABLE migration_0011_out_of_range (id INTEGER PRIMARY KEY, hour TEXT, event_type TEXT, outcome INTEGER);

INSERT INTO migration_0011_out_of_range (id, hour, event_type, outcome)
SELECT e.id, substr(e.ts, 1, 13), e.event_type, COALESCE(e.success, -1)
FROM funnel_events AS e
WHERE e.payload_json IS NOT NULL AND EXISTS (
  SELECT 1 FROM json_each(e.payload_json) AS p
  WHERE p.type IN ('integer', 'real') AND (
    abs(p.value) > 9007199254740992
    OR ((e.event_type, p.key) IN (VALUES ('m_stripe_webhook_checkout_complete', 'amount'),
          ('purchase_completed', 'amount'), ('subscription', 'amount'), ('conversion', 'value'))
        AND (p.value < 0 OR p.value > 1e12))
    OR ((e.event_type, p.key) IN (VALUES ('article_generated', 'word_count'), ('note_upserted', 'length'),
          ('weekly_report_generated', 'note_count'), ('compile_prompt', 'prompt_length'),
          ('start_workflow', 'step_count'), ('complete_step', 'step_number'), ('search', 'result_count'))
        AND (p.value < 0 OR p.value > 1e9 OR p.value <> CAST(p.value AS INTEGER)))
    OR ((e.event_type, p.key) IN (VALUES ('ai_organize_completed', 'duration_ms'),
          ('ai_organize_failed', 'duration_ms'), ('compile_prompt', 'processing_time'),
          ('start_workflow', 'estimated_duration'), ('complete_step', 'time_spent'),
          ('tool_interaction', 'interaction_duration'), ('search', 'search_duration'),
          ('page_view', 'load_time'), ('engagement', 'engagement_time'))
        AND (p.value < 0 OR p.value > 2592000000))
    OR (e.event_type = 'engagement' AND p.key = 'scroll_depth' AND (p.value < 0 OR p.value > 100))
  )
);

-- The quarantine's copy: the event as ingest would have kept it (the address
-- already a fingerprint and domain), so a replay re-validates it faithfully.
INSERT INTO event_quarantine (received_at, source, event_type, event_id, header_trace_id, clock_skew_ms,
  errors_json, event_json)
SELECT e.ts, e.source, e.event_type, e.event_id, NULL, 0,
  json_array(json_object('code', 'value_out_of_range', 'field', 'properties',
    'message', 'A number is outside its declared range (docs/events.md); moved here by migration 0011')),
  json_patch('{}', json_object('event_type', e.event_type, 'event_id', e.event_id, 'source', e.source,
    'occurred_at', e.occurred_at, 'trace_id', e.trace_id, 'tenant_id', e.tenant_id, 'job_id', e.job_id,
    'user_id', e.user_id, 'session_id', e.session_id, 'anonymous_id', e.anonymous_id,
    'email_fingerprint', e.email_fingerprint, 'email_domain', e.email_domain,
    'success', CASE e.success WHEN 1 THEN json('true') WHEN 0 THEN json('false') END,
    'error_code', e.error_code, 'error_message', e.error_message, 'properties', json(e.payload_json)))
FROM funnel_events AS e JOIN migration_0011_out_of_range AS o ON o.id = e.id
WHERE true
ON CONFLICT (source, event_id) DO NOTHING;

DELETE FROM funnel_events WHERE id IN (SELECT id FROM migration_0011_out_of_range);

-- A huge value's subtraction cannot bring back the smaller ones it swallowed:
-- recount those hours' sums from the rows.
UPDATE event_rollup SET amount = (
  SELECT TOTAL(COALESCE(json_extract(e.payload_json, '$.amount'), 0) / e.sample_rate) FROM funnel_events AS e
  WHERE e.ts >= event_rollup.hour AND e.ts < event_rollup.hour || ';'
    AND e.event_type = event_rollup.event_type AND COALESCE(e.success, -1) = event_rollup.outcome)
WHERE (hour, event_type, outcome) IN (SELECT hour, event_type, outcome FROM migration_0011_out_of_range);

DROP TABLE migration_0011_out_of_range;
