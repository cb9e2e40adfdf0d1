-- Migration number: 0014 	 money per currency: hourly sums of properties.amount by currency.
-- Revenue in won, dollars, euros and yen cannot be added up as one number, so
-- the revenue KPIs answer one sum per currency. This rollup keeps those sums
-- exact the way event_rollup keeps its counts (same triggers, same paths).
-- An amount sent without properties.currency is in won (the dictionaries'
-- default currency, 'KRW'; storage::sql::DEFAULT_CURRENCY says the same).
CREATE TABLE currency_rollup (
  hour       TEXT    NOT NULL,               -- 'YYYY-MM-DDTHH', UTC
  event_type TEXT    NOT NULL,
  currency   TEXT    NOT NULL,               -- properties.currency, 'KRW' when not given
  amount     REAL    NOT NULL DEFAULT 0,     -- Σ properties.amount / sample_rate
  sampled    INTEGER NOT NULL DEFAULT 0,     -- rows kept at a rate below 1 (the sum is an estimate)
  PRIMARY KEY (event_type, hour, currency)
) WITHOUT ROWID;

CREATE TRIGGER trg_currency_rollup_insert AFTER INSERT ON funnel_events
WHEN json_extract(NEW.payload_json, '$.amount') IS NOT NULL BEGIN
  INSERT INTO currency_rollup (hour, event_type, currency, amount, sampled)
  VALUES (substr(NEW.ts, 1, 13), NEW.event_type, COALESCE(json_extract(NEW.payload_json, '$.currency'), 'KRW'),
          json_extract(NEW.payload_json, '$.amount') / NEW.sample_rate, NEW.sample_rate < 1)
  ON CONFLICT (event_type, hour, currency) DO UPDATE SET
    amount = amount + excluded.amount, sampled = sampled + excluded.sampled;
END;

CREATE TRIGGER trg_currency_rollup_delete AFTER DELETE ON funnel_events
WHEN json_extract(OLD.payload_json, '$.amount') IS NOT NULL BEGIN
  UPDATE currency_rollup SET
    amount = amount - json_extract(OLD.payload_json, '$.amount') / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1)
  WHERE event_type = OLD.event_type AND hour = substr(OLD.ts, 1, 13)
    AND currency = COALESCE(json_extract(OLD.payload_json, '$.currency'), 'KRW');
END;

-- An update (the PII sweep rewrites payloads) moves the row's amount: out of the old key, into the new.
CREATE TRIGGER trg_currency_rollup_update_old AFTER UPDATE OF ts, event_type, sample_rate, payload_json ON funnel_events
WHEN json_extract(OLD.payload_json, '$.amount') IS NOT NULL BEGIN
  UPDATE currency_rollup SET
    amount = amount - json_extract(OLD.payload_json, '$.amount') / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1)
  WHERE event_type = OLD.event_type AND hour = substr(OLD.ts, 1, 13)
    AND currency = COALESCE(json_extract(OLD.payload_json, '$.currency'), 'KRW');
END;

CREATE TRIGGER trg_currency_rollup_update_new AFTER UPDATE OF ts, event_type, sample_rate, payload_json ON funnel_events
WHEN json_extract(NEW.payload_json, '$.amount') IS NOT NULL BEGIN
  INSERT INTO currency_rollup (hour, event_type, currency, amount, sampled)
  VALUES (substr(NEW.ts, 1, 13), NEW.event_type, COALESCE(json_extract(NEW.payload_json, '$.currency'), 'KRW'),
          json_extract(NEW.payload_json, '$.amount') / NEW.sample_rate, NEW.sample_rate < 1)
  ON CONFLICT (event_type, hour, currency) DO UPDATE SET
    amount = amount + excluded.amount, sampled = sampled + excluded.sampled;
END;

-- Rows stored before this migration.
INSERT INTO currency_rollup (hour, event_type, currency, amount, sampled)
SELECT substr(ts, 1, 13), event_type, COALESCE(json_extract(payload_json, '$.currency'), 'KRW'),
       TOTAL(json_extract(payload_json, '$.amount') / sample_rate), SUM(sample_rate < 1)
FROM funnel_events WHERE json_extract(payload_json, '$.amount') IS NOT NULL GROUP BY 1, 2, 3;
