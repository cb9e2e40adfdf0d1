// D1 sessions (read replicas): every answer but ingest's carries the
// session's bookmark in X-Funnel-Bookmark, and a read sent with it reads its
// own write. Locally there is one SQLite file, so what is tested here is the
// round trip: the header's presence, shape, order and validation.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, ingestSigned, SECRETS, uid } from "./client.mjs";

const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };
const BOOKMARK = "x-funnel-bookmark";
// What D1 answers (hex counters and a hash, dash-separated); checked loosely.
const SHAPE = /^[0-9A-Za-z-]{1,128}$/;

function bookmarkOf(res) {
  const b = res.headers.get(BOOKMARK);
  assert.ok(b, `no ${BOOKMARK} header on ${res.status}: ${res.text}`);
  assert.match(b, SHAPE);
  return b;
}

test("a write answers a bookmark, and a read sent with it sees the write and answers a bookmark not older", async () => {
  const user = uid("u");
  const set = await call("/internal/quotas/overrides", {
    method: "PUT",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ subject_kind: "user", subject_id: user, action: "compile", monthly_limit: 7 }),
  });
  assert.equal(set.status, 200, set.text);
  const written = bookmarkOf(set);

  const read = await call("/internal/quotas", { headers: { ...AUTH, [BOOKMARK]: written } });
  assert.equal(read.status, 200, read.text);
  assert.ok(read.body.overrides.some((o) => o.subject_id === user && o.monthly_limit === 7), "the read misses its own write");
  const after = bookmarkOf(read);
  // D1's bookmarks are fixed-width hex counters first: later ones sort later.
  assert.ok(after >= written, `bookmark went back: ${after} < ${written}`);

  const del = await call(`/internal/quotas/overrides?subject_kind=user&subject_id=${user}&action=compile`, {
    method: "DELETE",
    headers: { ...AUTH, [BOOKMARK]: after },
  });
  assert.equal(del.status, 200, del.text);
  assert.ok(bookmarkOf(del) > written, "a second write did not advance the bookmark");
});

test("a read without a bookmark still answers one; an answer that ran no query carries none", async () => {
  const res = await call("/internal/quotas", { headers: AUTH });
  assert.equal(res.status, 200, res.text);
  console.log(`a local bookmark: ${bookmarkOf(res)}`);
  // The declared funnels come from the catalog in the code, not from D1.
  const funnels = await call("/internal/funnels", { headers: AUTH });
  assert.equal(funnels.status, 200, funnels.text);
  assert.equal(funnels.headers.get(BOOKMARK), null);
});

test("a malformed bookmark is a 400 invalid_bookmark on reads and writes, before anything runs", async () => {
  for (const bad of ["not a bookmark", "x".repeat(129), "a;b", "../etc"]) {
    const res = await call("/internal/quotas", { headers: { ...AUTH, [BOOKMARK]: bad } });
    assertProblem(assert, res, 400, "invalid_bookmark");
    assert.equal(res.body.param, "X-Funnel-Bookmark");
  }
  const user = uid("u");
  const write = await call("/internal/quotas/overrides", {
    method: "PUT",
    headers: { ...AUTH, "content-type": "application/json", [BOOKMARK]: "bad bookmark" },
    body: JSON.stringify({ subject_kind: "user", subject_id: user, action: "compile", monthly_limit: 3 }),
  });
  assertProblem(assert, write, 400, "invalid_bookmark");
  const quotas = await call("/internal/quotas", { headers: AUTH });
  assert.ok(!quotas.body.overrides.some((o) => o.subject_id === user), "a refused write was stored");
});

test("ingest writes to the primary without a session: it ignores the header, even a malformed one, and answers none", async () => {
  for (const sent of [undefined, "not a bookmark"]) {
    const res = await ingestSigned({ events: [{ event_type: "app_open", event_id: uid() }] }, { headers: sent ? { [BOOKMARK]: sent } : {} });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.results[0].status, "accepted", res.text);
    assert.equal(res.headers.get(BOOKMARK), null);
  }
});
