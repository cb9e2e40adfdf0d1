"""Bulk-loads synthetic funnel_events rows straight into a local D1 SQLite file.

    python3 bench/load_rows.py <sqlite file> <fingerprint key> <start index> <count>
    python3 bench/load_rows.py <sqlite file> <fingerprint key> <start index> <count> --shape day|year

Without --shape (the read levels): rows like ingest's (same columns,
fingerprints with the same key) over the last 90 days, 10 types, 3,000
users; prints the table's row count.

With --shape, user journeys as the four services send them (see
docs/benchmarks.md, "Read shapes"), each journey one trace, one session and
one user:
  day   all events within the last 24 hours (a busy day);
  year  events spread evenly over the last 400 days (the retention window).
It also fills the quarantine (0.5 % of events) and the access log, and prints
one JSON object: rows, load seconds, and subjects of the newest journeys to
probe (a trace, an address, a user, a session).

Loading is one transaction per chunk of rows with executemany, on a file
set to journal_mode=OFF and synchronous=OFF (the worker is not running yet;
wrangler opens the file afterwards). Rows are inserted in time order, with
the table's indexes dropped and re-created from their own statements after. The
rollup triggers of the schema, while they exist, fire as for any insert;
bench/run.mjs runs the native rebuild of derived tables afterwards when the
tree has one (examples/rebuild_derived.rs).
"""
import hashlib
import hmac
import json
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

COLUMNS = ("ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id, job_id, user_id, session_id,"
           " anonymous_id, email_fingerprint, email_domain, success, error_code, error_message, payload_json, sample_rate")
INSERT = f"INSERT INTO funnel_events ({COLUMNS}) VALUES ({','.join('?' * 19)})"
CHUNK = 50_000

args = [a for a in sys.argv[1:] if not a.startswith("--")]
shape = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--shape=")), None)
if "--shape" in sys.argv:
    shape = sys.argv[sys.argv.index("--shape") + 1]
    args.remove(shape)
path, key, start, count = args[0], args[1].encode(), int(args[2]), int(args[3])
rng = random.Random(start)
now = datetime.now(timezone.utc)

_fingerprints = {}


def fp(email):
    f = _fingerprints.get(email)
    if f is None:
        f = _fingerprints[email] = hmac.new(key, email.lower().encode(), hashlib.sha256).hexdigest()
    return f


def stamp(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def open_db():
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB: the indexes' pages stay in memory
    return db


def insert_chunks(db, sql, rows):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            db.execute("BEGIN")
            db.executemany(sql, chunk)
            db.execute("COMMIT")
            chunk.clear()
    if chunk:
        db.execute("BEGIN")
        db.executemany(sql, chunk)
        db.execute("COMMIT")


# ---- The read levels: the original uniform rows over 90 days. ----

TYPES = [
    ("m_auth_login_start", "pregoi", None), ("m_auth_login_success", "pregoi", None),
    ("m_auth_login_fail", "pregoi", "otp_expired"), ("m_checkout_click", "pregoi", None),
    ("purchase_completed", "presstuner", None), ("command_executed", "presstuner", None),
    ("app_open", "pluid", None), ("note_upserted", "pluid", None),
    ("select_template", "easypick", None), ("page_view", "easypick", None),
]


def level_rows():
    for i in range(start, start + count):
        event_type, service, error = TYPES[i % len(TYPES)]
        ts = now - timedelta(seconds=rng.randrange(90 * 86400))
        s = stamp(ts)
        email = f"user{i % 5000}@bench.example"
        payload = None
        if event_type == "purchase_completed":
            payload = json.dumps({"amount": 39000, "currency": "KRW"})
        elif event_type == "command_executed":
            payload = json.dumps({"scope": rng.choice(["seo", "image"]), "action": "generate"})
        rate = 0.1 if event_type == "page_view" else 1.0
        yield (s, s, event_type, service, "bench", f"b{i}", f"trace_b{i % (count // 5 + 1) + start}",
               f"tenant_{i % 20}", None, f"u{i % 3000}", f"s{i % 8000}", None, fp(email), "bench.example",
               0 if error else 1, error, None, payload, rate)


# ---- The shapes: journeys. ----

DOMAINS = ["gmail.com"] * 6 + ["naver.com"] * 5 + ["daum.net"] * 2 + ["kakao.com"] * 2 + ["outlook.com", "icloud.com", "pregoi.com", "samsung.com"]
LOGIN_ERRORS = ["otp_expired"] * 5 + ["invalid_otp"] * 4 + ["rate_limited", "account_locked"]
PLANS = ["starter", "pro", "pro", "team"]


class Journey:
    """Collects one journey's rows: one trace, one session, one user."""

    def __init__(self, seq, t0, user, service, source):
        self.seq, self.t, self.user, self.service, self.source = seq, t0, user, service, source
        self.trace = f"trace_{seq:x}{rng.getrandbits(32):08x}"
        self.session = f"s_{seq:x}"
        self.rows = []

    def add(self, event_type, *, rate=1.0, email=False, user=True, success=None, error=None, tenant=None, job=None,
            anonymous=None, props=None, source=None, message=None):
        self.t += timedelta(seconds=rng.uniform(1, 90))
        s = stamp(min(self.t, now))
        address = f"user{self.user}@{DOMAINS[self.user % len(DOMAINS)]}" if email else None
        n = len(self.rows)
        self.rows.append((
            s, s, event_type, self.service, source or self.source, f"{self.seq:x}-{n}", self.trace, tenant, job,
            f"u{self.user}" if user else None, self.session, anonymous, fp(address) if address else None,
            address.rsplit("@", 1)[1] if address else None, success, error, message,
            json.dumps(props, separators=(",", ":")) if props else None, rate))


def pregoi(j):
    anon = f"a_{j.seq:x}"
    for _ in range(rng.randint(1, 3)):
        j.add("m_page_view", user=False, anonymous=anon, source="admin-web", props={"page_url": "https://m.pregoi.com/"})
    j.add("m_auth_login_start", email=True, props={"method": rng.choice(["otp", "otp", "google"])})
    j.add("m_otp_send", user=False)
    if rng.random() < 0.03:
        j.add("m_otp_send_result", email=True, success=0, error="smtp_timeout", message="mail gateway timed out")
    else:
        j.add("m_otp_send_result", email=True, success=1)
    if rng.random() < 0.15:
        j.add("m_auth_login_fail", email=True, success=0, error=rng.choice(LOGIN_ERRORS))
        return
    j.add("m_auth_login_success", email=True, success=1)
    j.add("m_auth_user_upserted", email=True, source="cp")
    j.add("m_auth_session_created", email=True, source="cp")
    j.add("m_auth_get_user", source="cp")
    if rng.random() > 0.25:
        return
    plan = rng.choice(PLANS)
    j.add("m_checkout_click", props={"plan_tier": plan})
    if rng.random() > 0.9:
        return
    j.add("m_checkout_session_created", source="cp", props={"stripe_session_id": f"cs_live_{j.seq:x}", "plan_tier": plan})
    if rng.random() > 0.75:
        return
    krw = rng.random() < 0.8
    j.add("m_stripe_webhook_checkout_complete", source="stripe_webhook",
          props={"stripe_event_id": f"evt_{j.seq:x}", "amount": 39000 if krw else 29, "currency": "KRW" if krw else "USD"})
    tenant, job = f"tenant_{j.user}", f"job_{j.seq:x}"
    taken = rng.random() < 0.05
    j.add("m_onboarding_subdomain_check", source="cp", success=0 if taken else 1, error="subdomain_taken" if taken else None,
          props={"slug": f"shop{j.user}"})
    j.add("m_provision_job_created", source="cp", tenant=tenant, job=job)
    if rng.random() < 0.05:
        j.add("m_provision_failed", source="cp", tenant=tenant, job=job, success=0, error="provision_timeout",
              props={"failure_stage": rng.choice(["dns", "database", "deploy"])})
    else:
        j.add("m_auth_user_tenant_linked", source="cp", tenant=tenant)


def presstuner(j):
    if rng.random() < 0.1:
        j.add("signup_completed", email=True, props={"channel": rng.choice(["organic", "ads", "referral"])})
    if rng.random() < 0.02:
        j.add("workspace_registered", props={"workspace_id": f"ws_{j.user}"})
    for _ in range(rng.randint(1, 4)):
        j.add("command_executed", props={"scope": rng.choice(["seo", "seo", "image", "content", "analytics"]),
                                         "action": rng.choice(["generate", "generate", "rewrite", "optimize", "summarize"])})
    if rng.random() < 0.5:
        j.add("article_generated", props={"article_id": f"art_{j.seq:x}", "word_count": rng.randint(300, 3000)})
    if rng.random() < 0.08:
        c = rng.random()
        amount, currency = (39000, "KRW") if c < 0.75 else (29, "USD") if c < 0.95 else (4900, "JPY")
        j.add("purchase_completed", props={"amount": amount, "currency": currency, "plan_id": rng.choice(PLANS)})


def pluid(j):
    j.add("app_open", props={"platform": rng.choice(["ios", "android", "web"])})
    for _ in range(rng.randint(1, 5)):
        j.add("note_upserted", props={"note_id": f"n_{rng.getrandbits(40):x}", "length": rng.randint(20, 4000)})
    if rng.random() < 0.1:
        j.add("weekly_report_generated", props={"report_id": f"r_{j.seq:x}", "note_count": rng.randint(1, 40)})
    r = rng.random()
    if r < 0.2:
        j.add("ai_organize_completed", success=1, props={"duration_ms": rng.randint(800, 9000)})
    elif r < 0.23:
        j.add("ai_organize_failed", success=0, error="llm_timeout", props={"duration_ms": 30000})


def easypick(j):
    if rng.random() < 0.3:  # page_view is kept at 10 %: the rows stored, each standing for 10
        j.add("page_view", rate=0.1, props={"page_url": "https://easypick.ai/templates"})
    if rng.random() < 0.2:
        j.add("search", rate=0.2, props={"search_term": rng.choice(["blog", "seo", "resume", "email"]), "search_type": "templates"})
    tid = f"tpl_{rng.randint(1, 400)}"
    j.add("select_template", props={"template_id": tid, "template_type": rng.choice(["prompt", "workflow", "ai_tool"])})
    j.add("compile_prompt", props={"prompt_id": f"p_{j.seq:x}", "model_type": rng.choice(["gpt-4", "claude", "gpt-3.5"]), "template_id": tid})
    if rng.random() < 0.6:
        wf = f"wf_{rng.randint(1, 200)}"
        j.add("start_workflow", props={"workflow_id": wf, "workflow_type": "content", "run_id": f"run_{j.seq:x}"})
        for step in range(rng.randint(1, 4)):
            j.add("complete_step", props={"workflow_id": wf, "step_number": step + 1, "run_id": f"run_{j.seq:x}"})
    if rng.random() < 0.5:
        j.add("tool_interaction", rate=0.5, props={"tool_id": f"tool_{rng.randint(1, 60)}", "action_type": rng.choice(["view", "click", "use", "use"])})
    if rng.random() < 0.1:
        j.add("engagement", rate=0.05, props={"engagement_type": "scroll", "scroll_depth": rng.randint(10, 100)})
    if rng.random() < 0.03:
        j.add("subscription", props={"action": rng.choice(["start", "complete", "complete", "cancel", "upgrade"]),
                                     "plan_type": rng.choice(["pro", "team"]), "amount": 19.99, "currency": "USD"})
    if rng.random() < 0.02:
        j.add("conversion", props={"conversion_name": "first_workflow", "value": 1})
    if rng.random() < 0.02:
        j.add("error", success=0, error="E_RENDER", props={"error_type": "render_failed", "error_message": "template render failed"})


# service, source, share of journeys, journey builder
SERVICES = [("pregoi", "zuplo", 0.40, pregoi), ("presstuner", "presstuner-api", 0.20, presstuner),
            ("pluid", "pluid-app", 0.15, pluid), ("easypick", "easypick-web", 0.25, easypick)]


def shape_rows(span, users, probes):
    """`count` rows of journeys whose starts are spread evenly over the `span` ending now."""
    t0 = now - span
    made, seq = 0, start
    while made < count:
        r, acc = rng.random(), 0.0
        for service, source, share, build in SERVICES:
            acc += share
            if r < acc:
                break
        # Starts follow the rows made so far, so the span fills evenly whatever the journeys' lengths.
        start_at = t0 + (span - timedelta(minutes=15)) * (made / count)
        j = Journey(seq, start_at, rng.randrange(users), service, source)
        build(j)
        seq += 1
        rows = j.rows[: count - made]
        made += len(rows)
        if service == "pregoi" and len(rows) > 6:
            probes.update(trace_id=j.trace, email=f"user{j.user}@{DOMAINS[j.user % len(DOMAINS)]}",
                          user_id=f"u{j.user}", session_id=j.session)
        yield from rows


def quarantine_rows(n, span):
    for i in range(n):
        at = stamp(now - span * (1 - (i + rng.random()) / n))
        bad = rng.random() < 0.5
        event = {"event_type": "m_checkout_click" if bad else "m_checkout_clik", "trace_id": f"trace_q{i:x}", "user_id": f"u{i % 5000}"}
        errors = [{"code": "missing_required_property", "field": "properties.plan_tier", "message": "properties.plan_tier is required"}] if bad \
            else [{"code": "unknown_event_type", "field": "event_type", "message": "unknown event type m_checkout_clik"}]
        yield (at, "zuplo", event["event_type"], f"q{start}-{i}", None, 0, json.dumps(errors), json.dumps(event), None)


def audit_rows(n, span):
    for i in range(n):
        at = stamp(now - span * (1 - (i + rng.random()) / n))
        kind, subject = rng.choice([("email_fingerprint", fp(f"user{i}@gmail.com")), ("trace", f"trace_{i:x}"), ("user_id", f"u{i}")])
        yield (at, "admin", "GET /internal/funnel-events", kind, subject, rng.randint(0, 50))


db = open_db()
began = time.monotonic()
if shape is None:
    insert_chunks(db, INSERT, level_rows())
    print(db.execute("SELECT COUNT(*) FROM funnel_events").fetchone()[0])
    sys.exit(0)

def indexes_dropped(db):
    """Drops funnel_events' indexes and returns the statements that re-create them: building
    an index once over sorted keys is several times faster than keeping it while rows arrive."""
    found = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'funnel_events'"
                       " AND sql IS NOT NULL").fetchall()
    for name, _ in found:
        db.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


span, users = {"day": (timedelta(hours=24), 150_000), "year": (timedelta(days=400), 250_000)}[shape]
probes = {}
recreate = indexes_dropped(db)
insert_chunks(db, INSERT, shape_rows(span, users, probes))
for sql in recreate:
    db.execute(sql)
insert_chunks(db, "INSERT INTO event_quarantine (received_at, source, event_type, event_id, header_trace_id, clock_skew_ms,"
                  " errors_json, event_json, replayed_at) VALUES (?,?,?,?,?,?,?,?,?)", quarantine_rows(count // 200, span))
insert_chunks(db, "INSERT INTO audit_log (at, key_name, route, kind, subject, rows) VALUES (?,?,?,?,?,?)",
              audit_rows(min(count // 100, 20_000), span))
seconds = time.monotonic() - began
rows = db.execute("SELECT COUNT(*) FROM funnel_events").fetchone()[0]
db.execute("PRAGMA journal_mode=WAL")  # as wrangler left it
db.close()
print(json.dumps({"rows": rows, "seconds": round(seconds, 1), "probes": probes}))
