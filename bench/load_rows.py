"""Bulk-loads synthetic funnel_events rows straight into a local D1 SQLite file.

    python3 bench/load_rows.py <sqlite file> <fingerprint key> <start index> <count>

Rows look like ingest's (same columns, fingerprints with the same key) and
spread over the last 90 days, so list and summary queries see realistic
data. Triggers in the schema (rollups) fire as for any insert.
"""
import hashlib
import hmac
import json
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

path, key, start, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(start)
now = datetime.now(timezone.utc)
TYPES = [
    ("m_auth_login_start", "pregoi", None), ("m_auth_login_success", "pregoi", None),
    ("m_auth_login_fail", "pregoi", "otp_expired"), ("m_checkout_click", "pregoi", None),
    ("purchase_completed", "presstuner", None), ("command_executed", "presstuner", None),
    ("app_open", "pluid", None), ("note_upserted", "pluid", None),
    ("select_template", "easypick", None), ("page_view", "easypick", None),
]


def fp(email):
    return hmac.new(key, email.lower().encode(), hashlib.sha256).hexdigest()


def rows():
    for i in range(start, start + count):
        event_type, service, error = TYPES[i % len(TYPES)]
        ts = now - timedelta(seconds=rng.randrange(90 * 86400))
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
        email = f"user{i % 5000}@bench.example"
        payload = None
        if event_type == "purchase_completed":
            payload = json.dumps({"amount": 39000, "currency": "KRW"})
        elif event_type == "command_executed":
            payload = json.dumps({"scope": rng.choice(["seo", "image"]), "action": "generate"})
        rate = 0.1 if event_type == "page_view" else 1.0
        yield (stamp, stamp, event_type, service, "bench", f"b{i}", f"trace_b{i % (count // 5 + 1) + start}",
               f"tenant_{i % 20}", None, f"u{i % 3000}", f"s{i % 8000}", None, fp(email), "bench.example",
               0 if error else 1, error, None, payload, rate)


db = sqlite3.connect(path, timeout=60)
db.executemany(
    "INSERT INTO funnel_events (ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id, job_id,"
    " user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code, error_message,"
    " payload_json, sample_rate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    rows(),
)
db.commit()
print(db.execute("SELECT COUNT(*) FROM funnel_events").fetchone()[0])
