#!/usr/bin/env python3
"""Counts the archive's events per type and UTC day with DuckDB, as an analyst would.

    python3 scripts/archive_counts.py DIR

DIR holds the archive's objects under their keys (events/YYYY/MM/DD/HH.ndjson.gz), as
`wrangler r2 object get` or GET /internal/archive/hours/{hour} fetch them (docs/api.md,
"Archive"). Prints JSON: {"rows": N, "counts": {"<type>": {"<YYYY-MM-DD>": n}}}, where n is
Σ 1/sample_rate like the summary's daily counts. Needs the `duckdb` Python package
(tests/e2e/archive.test.mjs installs it into .tools/duckdb-venv).
"""
import json
import sys

import duckdb

pattern = sys.argv[1].rstrip("/") + "/events/*/*/*/*.ndjson.gz"
con = duckdb.connect()
# Every line is one event in the API's form; only the columns counted are read.
rows = con.execute(
    """
    SELECT event_type, substr(ts, 1, 10) AS day, COUNT(*) AS lines,
           CAST(ROUND(SUM(1.0 / sample_rate)) AS BIGINT) AS n
    FROM read_json(?, format = 'newline_delimited', compression = 'gzip',
                   columns = {ts: 'VARCHAR', event_type: 'VARCHAR', sample_rate: 'DOUBLE'})
    GROUP BY ALL ORDER BY ALL
    """,
    [pattern],
).fetchall()
counts = {}
for event_type, day, _, n in rows:
    counts.setdefault(event_type, {})[day] = n
print(json.dumps({"rows": sum(r[2] for r in rows), "counts": counts}))
