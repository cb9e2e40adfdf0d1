// Alerts against the real worker: the every-minute cron (triggered through
// wrangler dev's --test-scheduled endpoint) posts one signed Slack-compatible
// message to the local receiver (tests/e2e/receiver.mjs) per incident, never
// again while it stays open, and one resolve message when it clears;
// GET /internal/alerts lists the same incidents.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { BASE, call, ingestSigned, SECRETS, uid } from "./client.mjs";
import { d1File } from "./worker.mjs";

const AUTH = { authorization: `Bearer ${SECRETS.READ_KEY}` };

/** Every post the receiver got so far, its signature checked as a receiver must. */
function received() {
  return readFileSync(process.env.FUNNEL_ALERT_LOG, "utf8").split("\n").filter(Boolean).map((line) => {
    const post = JSON.parse(line);
    assert.equal(post.method, "POST");
    assert.equal(post.headers["content-type"], "application/json");
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(post.headers["x-funnel-signature"] ?? "") ?? [];
    assert.ok(t, `signature header: ${post.headers["x-funnel-signature"]}`);
    const expected = createHmac("sha256", SECRETS.ALERT_WEBHOOK_SECRET).update(`${t}.${post.body}`).digest("hex");
    assert.equal(v1, expected, "the post is signed with ALERT_WEBHOOK_SECRET over t.body");
    assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 300, "signed now");
    const message = JSON.parse(post.body);
    assert.equal(typeof message.text, "string", "Slack-compatible: a text field");
    return message;
  });
}

/** The messages about one rule (and scope) since `before` posts were counted. */
const about = (before, rule, scope = "") =>
  received().slice(before).filter((m) => m.incident.rule === rule && m.incident.scope === scope);

async function cron() {
  const res = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  assert.equal(res.status, 200, await res.text());
}

async function alerts() {
  const res = await call("/internal/alerts", { headers: AUTH });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

const otp = (id, success) => ({ event_type: "m_otp_send_result", event_id: id, email: "alerts@example.com", success });

test("a failure rate above its limit is posted once, signed, and resolved once when it clears", async () => {
  await cron();
  const before = received().length;
  assert.ok(!(await alerts()).open.some((i) => i.rule === "otp_send_failure_rate"), "no OTP incident yet");
  const tag = uid("otp");
  const fails = Array.from({ length: 10 }, (_, i) => otp(`${tag}_f${i}`, false));
  assert.equal((await ingestSigned({ events: fails })).status, 200);
  await cron();
  const firing = about(before, "otp_send_failure_rate");
  assert.equal(firing.length, 1, JSON.stringify(firing));
  assert.equal(firing[0].status, "firing");
  assert.match(firing[0].text, /otp_send_failure_rate/);
  const open = (await alerts()).open.find((i) => i.rule === "otp_send_failure_rate");
  assert.equal(open.id, firing[0].incident.id);
  assert.ok(open.notified_at, "recorded as delivered");

  // Still firing: the next runs post nothing more about it.
  await cron();
  await cron();
  assert.equal(about(before, "otp_send_failure_rate").length, 1);

  // Enough successes to bring it to 10 of 60: cleared, one resolve message.
  const oks = Array.from({ length: 50 }, (_, i) => otp(`${tag}_ok${i}`, true));
  assert.equal((await ingestSigned({ events: oks })).status, 200);
  await cron();
  const messages = about(before, "otp_send_failure_rate");
  assert.deepEqual(messages.map((m) => m.status), ["firing", "resolved"]);
  assert.equal(messages[1].incident.id, open.id);
  const list = await alerts();
  assert.ok(!list.open.some((i) => i.id === open.id));
  const resolved = list.recent.find((i) => i.id === open.id);
  assert.ok(resolved.resolved_at && resolved.resolve_notified_at, JSON.stringify(resolved));
  await cron();
  assert.equal(about(before, "otp_send_failure_rate").length, 2, "nothing after the resolve message");
});

/** Runs a Python script over the local D1 file; its stdout parsed as JSON. */
function sqlite(script, ...args) {
  const r = spawnSync("python3", ["-c", script, d1File(process.env.FUNNEL_D1_DIR), ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("a service silent for an hour is posted once, and resolved when it sends again", async () => {
  const before = received().length;
  assert.equal((await ingestSigned({ events: [{ event_type: "weekly_report_generated", event_id: uid("silent") }] })).status, 200);
  // pluid silent for 61 minutes: every pluid event of the last 61 minutes (this one, and any other
  // test's) moved 61 minutes back, as the demo moves events (the rollups follow); put back below.
  const moved = sqlite(`
import json, sqlite3, sys
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1], timeout=30)
fmt = lambda t: t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)
cut = fmt(datetime.now(timezone.utc) - timedelta(minutes=61))
rows = db.execute("SELECT id, ts FROM funnel_events WHERE service = 'pluid' AND ts >= ?", (cut,)).fetchall()
back = lambda ts: fmt(datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') - timedelta(minutes=61))
db.executemany("UPDATE funnel_events SET ts = ? WHERE id = ?", [(back(ts), i) for i, ts in rows])
db.commit()
print(json.dumps(rows))`);
  assert.ok(moved.length >= 1, "at least this test's event moved");
  try {
    await cron();
    await cron();
  } finally {
    sqlite(`
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.executemany("UPDATE funnel_events SET ts = ? WHERE id = ?", [(ts, i) for i, ts in json.loads(sys.argv[2])])
db.commit()
print(json.dumps(len(json.loads(sys.argv[2]))))`, JSON.stringify(moved));
  }
  const firing = about(before, "service_silent", "pluid");
  assert.deepEqual(firing.map((m) => m.status), ["firing"]);
  assert.match(firing[0].incident.summary, /pluid sent no event for 6\d minutes/);
  assert.ok((await alerts()).open.some((i) => i.rule === "service_silent" && i.scope === "pluid"));

  assert.equal((await ingestSigned({ events: [{ event_type: "app_open", event_id: uid("back") }] })).status, 200);
  await cron();
  assert.deepEqual(about(before, "service_silent", "pluid").map((m) => m.status), ["firing", "resolved"]);
  assert.ok(!(await alerts()).open.some((i) => i.rule === "service_silent" && i.scope === "pluid"));
});
