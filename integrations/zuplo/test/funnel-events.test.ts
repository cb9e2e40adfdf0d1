import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, test } from "node:test";

import { acceptAll, fakeServer, type Received, type Reply, type Script } from "../../../clients/js/test/fake-server";
import funnelEventsOutbound, {
  errorCodeOf, funnelEventsInbound, type FunnelEventsOptions, type GatewayContext, type GatewayRequest,
} from "../src/funnel-events";

const SECRET = "gateway-test-secret";
const servers: Array<{ close: () => Promise<void> }> = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** A fake ingest that answers after `delayMs` (the script decides what). */
async function ingest(script: Script = acceptAll, delayMs = 0) {
  const answered: number[] = [];
  const server = await fakeServer((r, n) => {
    const reply = script(r, n);
    answered.push(Date.now() + delayMs);
    return reply;
  });
  servers.push(server);
  return { ...server, answered, delayMs };
}

/** Zuplo's context as its documentation gives it: custom, log, waitUntil, addResponseSendingHook. */
function zuploContext() {
  const background: Promise<unknown>[] = [];
  const hooks: Array<(res: Response, req: Request, ctx: GatewayContext) => Response | Promise<Response>> = [];
  const logs: string[] = [];
  const context: GatewayContext = {
    requestId: "req-1",
    custom: {},
    log: { warn: (...a) => logs.push(a.join(" ")), error: (...a) => logs.push(a.join(" ")) },
    waitUntil: (p) => void background.push(p),
    addResponseSendingHook: (hook) => void hooks.push(hook),
  };
  return { context, background, hooks, logs, settle: () => Promise.all(background) };
}

function loginRequest(body: unknown, headers: Record<string, string> = {}): GatewayRequest {
  return new Request("https://gw.example/auth/otp/verify", {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  });
}

const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ type: "about:blank", title: "x", status, code }), { status, headers: { "content-type": "application/problem+json" } });

const events = (server: { received: Received[] }) => server.received.flatMap((r) => r.body.events);

function assertSigned(r: Received) {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers["x-funnel-signature"])) ?? [];
  assert.equal(v1, createHmac("sha256", SECRET).update(`${t}.${r.raw}`).digest("hex"));
}

async function runInbound(options: Partial<FunnelEventsOptions>, request: GatewayRequest, response: Response, server: { url: string }) {
  const z = zuploContext();
  const opts = { url: server.url, secret: SECRET, route: "login_complete", ...options } as FunnelEventsOptions;
  const forwarded = await funnelEventsInbound(request, z.context, opts, "funnel-events");
  assert.equal(forwarded.bodyUsed, false, "the handler can still read the body");
  assert.equal(z.hooks.length, 1);
  const sent = await z.hooks[0](response, forwarded, z.context);
  return { ...z, sent };
}

test("a failed login emits m_auth_login_fail with the route's error code and the trace id, in the background", async () => {
  const server = await ingest(acceptAll);
  const res = problem(401, "otp_invalid");
  const z = await runInbound({ method: "otp" }, loginRequest({ email: "Kim@Example.com", code: "123456" }, { "x-trace-id": "  trace_abc  " }), res, server);
  assert.equal(z.sent, res, "the user's response is passed on untouched");
  assert.equal(server.received.length, 0, "nothing was sent before the response left");
  const [outcomes] = (await z.settle()) as [Array<{ status: string }>];
  assert.deepEqual(outcomes.map((o) => o.status), ["accepted"]);
  assert.deepEqual(events(server).map(({ event_id, occurred_at, ...e }) => e), [
    { event_type: "m_auth_login_fail", service: "pregoi", trace_id: "trace_abc", email: "Kim@Example.com", success: false,
      error_code: "otp_invalid", properties: { method: "otp" } },
  ]);
  assertSigned(server.received[0]);
});

test("a successful login emits m_auth_login_success with the authenticated user's sub", async () => {
  const server = await ingest();
  const req = loginRequest({ email: "a@example.com" });
  req.user = { sub: "sub_42" };
  const z = await runInbound({ method: "oauth" }, req, new Response("{}", { status: 200 }), server);
  await z.settle();
  const [e] = events(server);
  assert.equal(e.event_type, "m_auth_login_success");
  assert.equal(e.user_id, "sub_42");
  assert.deepEqual(e.properties, { method: "oauth" });
  assert.equal(e.trace_id, undefined, "no trace header, no trace id");
});

test("an OTP route emits m_otp_send and its result, with the mail gateway's error on failure", async () => {
  const server = await ingest();
  const ok = await runInbound({ route: "otp_send" }, loginRequest({ email: "a@example.com" }), new Response(null, { status: 204 }), server);
  await ok.settle();
  const failed = await runInbound({ route: "otp_send" }, loginRequest({ email: "b@example.com" }),
    new Response(JSON.stringify({ error: "mail_gateway_timeout" }), { status: 502, headers: { "content-type": "application/json" } }), server);
  await failed.settle();
  assert.deepEqual(events(server).map((e) => [e.event_type, e.success, e.error_code]), [
    ["m_otp_send", undefined, undefined], ["m_otp_send_result", true, undefined],
    ["m_otp_send", undefined, undefined], ["m_otp_send_result", false, "mail_gateway_timeout"],
  ]);
});

test("a login start names the user by address or, without one, by sub; an invalid trace id is dropped", async () => {
  const server = await ingest();
  const byEmail = await runInbound({ route: "login_start", method: "otp" }, loginRequest({ email: "a@example.com" }, { "x-trace-id": "not-a-trace" }), new Response("{}"), server);
  await byEmail.settle();
  const req = new Request("https://gw.example/auth/oauth/start", { method: "GET" }) as GatewayRequest;
  req.user = { sub: "sub_7" };
  const bySub = await runInbound({ route: "login_start" }, req, new Response("{}"), server);
  await bySub.settle();
  const [a, b] = events(server);
  assert.equal(a.event_type, "m_auth_login_start");
  assert.equal(a.email, "a@example.com");
  assert.equal(a.trace_id, undefined);
  assert.equal(b.user_id, "sub_7");
  assert.equal(b.email, undefined);
});

test("a route without an address sends nothing and says so, without the request's contents", async () => {
  const server = await ingest();
  const z = await runInbound({}, loginRequest({ code: "123456" }), problem(400, "bad_request"), server);
  await z.settle();
  assert.equal(server.received.length, 0);
  assert.match(z.logs.join("\n"), /login_complete route without an address/);
});

test("funnel being slow or down never delays or breaks the gateway's answer", async () => {
  const slow = await ingest(acceptAll, 300);
  const started = Date.now();
  const z = await runInbound({}, loginRequest({ email: "a@example.com" }), problem(401, "otp_expired"), slow);
  assert.ok(Date.now() - started < 250, "the hook returned before funnel answered");
  await z.settle();

  const down = await ingest((): Reply => ({ status: 503, headers: { "retry-after": "0", "content-type": "application/problem+json" }, body: { code: "storage_unavailable" } }));
  const d = await runInbound({}, loginRequest({ email: "secret.user@example.com" }), problem(401, "otp_expired"), down);
  const [outcomes] = (await d.settle()) as [Array<{ status: string; errors: Array<{ code: string }> }>];
  assert.equal(outcomes[0].status, "failed");
  assert.equal(outcomes[0].errors[0].code, "retries_exhausted");
  assert.equal(down.received.length, 4, "three retries, then it gives up");
  assert.ok(!d.logs.join("\n").includes("secret.user"), "the log holds no address");
});

test("the outbound policy passes the response through and emits from it; with the inbound policy it does not emit twice", async () => {
  const server = await ingest();
  const z = zuploContext();
  const opts: FunnelEventsOptions = { url: server.url, secret: SECRET, route: "login_complete" };
  const res = new Response("{}", { status: 200 });
  assert.equal(await funnelEventsOutbound(res, loginRequest({ email: "a@example.com" }), z.context, opts, "p"), res);
  await z.settle();
  assert.deepEqual(events(server).map((e) => e.event_type), ["m_auth_login_success"]);

  const both = await runInbound({}, loginRequest({ email: "b@example.com" }), res, server);
  assert.equal(await funnelEventsOutbound(res, loginRequest({ email: "b@example.com" }), both.context, opts, "p"), res);
  await both.settle();
  assert.equal(events(server).length, 2, "one event for the second request, not two");
});

test("the policies refuse to run without their options", async () => {
  const z = zuploContext();
  await assert.rejects(funnelEventsInbound(loginRequest({}), z.context, { url: "https://f", secret: "", route: "login_start" }, "p"), /secret/);
  await assert.rejects(funnelEventsInbound(loginRequest({}), z.context, { url: "https://f", secret: "s", route: "nope" as never }, "p"), /route/);
});

test("the error code is the problem's code, error_code or error, else http_<status>", async () => {
  assert.equal(await errorCodeOf(problem(401, "otp_invalid")), "otp_invalid");
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 400, headers: { "content-type": "application/json" } });
  assert.equal(await errorCodeOf(json({ error_code: "rate_limited" })), "rate_limited");
  assert.equal(await errorCodeOf(json({ error: "has spaces in it" })), "http_400");
  assert.equal(await errorCodeOf(new Response("oops", { status: 500 })), "http_500");
});
