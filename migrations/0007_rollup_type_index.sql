-- Migration number: 0007 	 KPI reads name their event types: seek the rollup by type, then hour.
CREATE INDEX idx_event_rollup_type_hour ON event_rollup (event_type, hour);
CREATE INDEX idx_property_rollup_type_hour ON property_rollup (event_type, property, hour);
