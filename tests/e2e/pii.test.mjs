// Every kind of PII, in every free-text field, through the real worker: none
// of it reaches the local D1 files (and run.mjs checks the worker's log for
// the same values after the suite).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { d1Bytes, ingestSigned, uid } from "./client.mjs";

// [text as a sender writes it, the part that must never be stored]
const PII = [
  ["OTP check failed for park.jiwoo@example.co.kr", "park.jiwoo@"],
  ["card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"],
  ["card 5555555555554444 declined", "5555555555554444"],
  ["call 010-1234-5678 or +82 10 9876 5432", "9876 5432"],
  ["rrn 900101-1234568 given", "900101-1234568"],
  ["Authorization: Bearer abcdEFGH1234ijklMNOP", "abcdEFGH1234ijklMNOP"],
  ["jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
   "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
  ["stripe key sk_live_51HxYzABCdef0123456789 leaked", "sk_live_51HxYzABCdef0123456789"],
  ["-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecretkeymaterial0123\n-----END EC PRIVATE KEY-----", "MHcCAQEEIsecretkeymaterial0123"],
  ["db https://bob:hunter2secretpw@db.example.com/x", "hunter2secretpw"],
];
const SECRET_PROPERTY = "correct-horse-battery-staple";
const ADDRESS_AS_ID = "kim.minji.e2e@corp.kr";

test("every kind of PII in every field is replaced: none of it is in the D1 files", async () => {
  const events = PII.map(([text], i) => ({
    event_type: "app_open", event_id: uid(`pii${i}`), user_id: i === 0 ? ADDRESS_AS_ID : undefined,
    error_message: text,
    properties: { note: text, deep: { items: ["fine", { text }] }, api_key: SECRET_PROPERTY, cardnum: 4012888888881881 },
  }));
  // Rejected (unknown type): its quarantined copy must be clean too.
  events.push({ event_type: "not_a_type_pii", event_id: uid("piiq"), error_message: PII[0][0], properties: { memo: PII[1][0] } });
  const res = await ingestSigned({ events });
  assert.equal(res.status, 200, res.text);
  for (const r of res.body.results.slice(0, PII.length)) {
    assert.equal(r.status, "accepted", JSON.stringify(r));
    const fields = r.warnings.filter((w) => w.code === "pii_redacted").map((w) => w.field);
    for (const f of ["error_message", "properties.note", "properties.deep.items[1].text", "properties.api_key", "properties.cardnum"]) {
      assert.ok(fields.includes(f), `${f} not reported: ${fields}`);
    }
  }
  for (const [, needle] of PII) assert.ok(!res.text.includes(needle), `the answer echoes ${needle}`);
  const stored = d1Bytes().toString("utf8").toLowerCase();
  for (const needle of [...PII.map(([, n]) => n), SECRET_PROPERTY, ADDRESS_AS_ID, "4012888888881881"]) {
    assert.ok(!stored.includes(needle.toLowerCase()), `${needle} is in the D1 files`);
  }
  // run.mjs scans the worker's log for these after the suite.
  writeFileSync(join(process.env.FUNNEL_D1_DIR, "..", "pii-needles.json"),
    JSON.stringify([...PII.map(([, n]) => n), SECRET_PROPERTY, ADDRESS_AS_ID]));
});
