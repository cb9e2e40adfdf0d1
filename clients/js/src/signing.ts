// Signed ingest and the trace rule, with Web Crypto only (Workers, Deno, Node 20+, Zuplo).
//
//   X-Funnel-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, `${t}.${rawBody}`)>
//
// The worker checks the same vectors (tests/vectors/gateway.json).

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

/** An HMAC-SHA256 signing key for `secret`, imported once per sender. */
export function importSigningKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `X-Funnel-Signature` value for `body` (the exact bytes that will be sent). */
export async function signatureHeader(
  secret: string | CryptoKey,
  body: string | Uint8Array,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  if (!Number.isInteger(timestamp) || timestamp < 0) throw new RangeError("timestamp must be unix seconds");
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${timestamp}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix, 0);
  signed.set(bytes, prefix.length);
  const key = typeof secret === "string" ? await importSigningKey(secret) : secret;
  return `t=${timestamp},v1=${toHex(await crypto.subtle.sign("HMAC", key, signed))}`;
}
