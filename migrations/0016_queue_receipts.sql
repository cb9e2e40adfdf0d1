-- Migration number: 0016 	 queue receipts: a queued message's volume counters are added once.
-- Messages of the ingest queue may be delivered more than once. Their rows need no guard
-- ((source, event_id) stores each event once), but their volume counters do: the consumer
-- adds them only while the message's id is absent here, and writes the id in the same
-- transaction. Receipts older than the queue's longest retention are pruned by the consumer.
CREATE TABLE queue_receipts (
  message_id  TEXT PRIMARY KEY,              -- <batch id>.<part>, made by ingest
  received_at TEXT NOT NULL                  -- stored-form UTC time the consumer counted it
) WITHOUT ROWID;
CREATE INDEX idx_queue_receipts_received ON queue_receipts (received_at);
