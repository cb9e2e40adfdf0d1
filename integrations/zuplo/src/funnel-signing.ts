// Signing for requests the gateway forwards to funnel's signed ingest.
// Web Crypto only, so it runs unchanged in Zuplo, Workers, Deno and Node 20+.
//
// The scheme (described in full in the funnel repo's docs/api.md):
//   X-Funnel-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, `${t}.${rawBody}`)>
//   x-trace-id is forwarded only when it passes the trace rule.

// The scheme and the trace rule live in the JS client (clients/js), which the
// event policy (funnel-events.ts) sends through; this module re-exports them.
import { acceptTraceId, SIGNATURE_HEADER, signatureHeader, TRACE_HEADER } from "../../../clients/js/src/index";

export { acceptTraceId, SIGNATURE_HEADER, signatureHeader, TRACE_HEADER };

/**
 * A copy of `request` ready to forward to funnel: the body read once and signed
 * as-is, any client-sent signature or authorization dropped, and `x-trace-id`
 * kept only when valid (trimmed form).
 */
export async function signedForward(
  request: Request,
  upstreamUrl: string,
  secret: string,
  now: () => number = () => Math.floor(Date.now() / 1000),
): Promise<Request> {
  const body = new Uint8Array(await request.arrayBuffer());
  const headers = new Headers();
  headers.set("content-type", request.headers.get("content-type") ?? "application/json");
  const trace = acceptTraceId(request.headers.get(TRACE_HEADER));
  if (trace !== null) headers.set(TRACE_HEADER, trace);
  headers.set(SIGNATURE_HEADER, await signatureHeader(secret, body, now()));
  return new Request(upstreamUrl, { method: "POST", headers, body });
}
