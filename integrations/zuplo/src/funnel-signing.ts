// Signing for requests the gateway forwards to funnel's signed ingest.
// Web Crypto only, so it runs unchanged in Zuplo, Workers, Deno and Node 20+.
//
// The scheme (described in full in the funnel repo's docs/api.md):
//   X-Funnel-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, `${t}.${rawBody}`)>
//   x-trace-id is forwarded only when it passes the trace rule.

export const SIGNATURE_HEADER = "x-funnel-signature";
export const TRACE_HEADER = "x-trace-id";
const TRACE_PREFIX = "trace_";
const TRACE_MAX_LEN = 128;

const encoder = new TextEncoder();

/** The trace rule: trimmed of ASCII white space, `trace_` prefix, ≤ 128 chars, visible ASCII only. */
export function acceptTraceId(raw: string | null | undefined): string | null {
  if (typeof raw !== "string") return null;
  const candidate = raw.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "");
  if (!candidate.startsWith(TRACE_PREFIX) || candidate.length > TRACE_MAX_LEN) return null;
  for (let i = 0; i < candidate.length; i++) {
    const code = candidate.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return null;
  }
  return candidate;
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The `X-Funnel-Signature` value for `body` (the exact bytes that will be sent). */
export async function signatureHeader(
  secret: string,
  body: string | Uint8Array,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  if (!Number.isInteger(timestamp) || timestamp < 0) throw new RangeError("timestamp must be unix seconds");
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const signed = concat(encoder.encode(`${timestamp}.`), bytes);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), signed);
  return `t=${timestamp},v1=${toHex(mac)}`;
}

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
