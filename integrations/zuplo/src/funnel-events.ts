// Emits the auth/OTP funnel's events from the gateway, at the end of a route,
// through the JS client (clients/js). Following Zuplo's custom-code
// conventions: policies take (request, context, options, policyName) inbound
// and (response, request, context, options, policyName) outbound, and
// background work goes to `context.waitUntil`, so the user's response is never
// delayed by funnel.
//
// What each route emits (the auth/commerce dictionary, docs/events.md):
//   route "login_start"    → m_auth_login_start {email|user_id, method}
//   route "otp_send"       → m_otp_send, then m_otp_send_result {email, success, error_code on failure}
//   route "login_complete" → m_auth_login_success {email, method} when the route answered 2xx,
//                            m_auth_login_fail {email, error_code, method} otherwise
// (An OTP check is the end of an OTP login: its outcome is m_auth_login_success/fail with
// method "otp"; the dictionary has no separate verify event.)
// Every event carries the request's x-trace-id when it passes the trace rule,
// and service "pregoi"; the signed request makes its source "zuplo".
import { acceptTraceId, FunnelClient, TRACE_HEADER, type EventOutcome, type TrackEvent } from "../../../clients/js/src/index";

export type FunnelRoute = "login_start" | "otp_send" | "login_complete";

export interface FunnelEventsOptions {
  /** funnel's base URL. */
  url: string;
  /** `$env(INGEST_HMAC_SECRET)`. */
  secret: string;
  /** What this route is in the login funnel. */
  route: FunnelRoute;
  /** The login method of this route, when it has one. */
  method?: "oauth" | "otp";
  /** The request JSON body's member holding the address. Default `email`. */
  emailField?: string;
}

/** The parts of Zuplo's request and context this module uses (`@zuplo/runtime` types). */
export interface GatewayRequest extends Request {
  user?: { sub?: string } | undefined;
}
type ResponseHook = (response: Response, request: Request, context: GatewayContext) => Response | Promise<Response>;
export interface GatewayContext {
  requestId?: string;
  custom: Record<string, unknown>;
  log: { warn(...args: unknown[]): void; error(...args: unknown[]): void };
  waitUntil(promise: Promise<unknown>): void;
  addResponseSendingHook?(hook: ResponseHook): void;
}

/** Who the route is about, read from the request before the handler consumes it. */
export interface Subject {
  email?: string;
  user_id?: string;
}

const SUBJECT_KEY = "funnelSubject";
/** Set by the inbound policy: its hook emits, so the outbound policy must not emit again. */
const HOOKED_KEY = "funnelEventsHooked";
const MAX_ERROR_BODY = 16 * 1024;
const ERROR_CODE_MAX = 64;

/** The subject of a request: its JSON body's email member, and the authenticated user's sub. */
export async function readSubject(request: GatewayRequest, emailField = "email"): Promise<Subject> {
  const subject: Subject = {};
  if (typeof request.user?.sub === "string" && request.user.sub) subject.user_id = request.user.sub;
  if (!(request.headers.get("content-type") ?? "").includes("json")) return subject;
  try {
    const body = (await request.clone().json()) as Record<string, unknown>;
    const email = body?.[emailField];
    if (typeof email === "string" && email.includes("@")) subject.email = email.trim();
  } catch {
    // not JSON: no address to report
  }
  return subject;
}

/**
 * The route's error code from its failed response: the problem's `code`, else
 * an `error_code` or `error` member, else `http_<status>`.
 */
export async function errorCodeOf(response: Response): Promise<string> {
  const fallback = `http_${response.status}`;
  if (!(response.headers.get("content-type") ?? "").includes("json")) return fallback;
  try {
    const text = await response.clone().text();
    if (text.length > MAX_ERROR_BODY) return fallback;
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const member of ["code", "error_code", "error"]) {
      const value = body?.[member];
      if (typeof value === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(value)) return value.slice(0, ERROR_CODE_MAX);
    }
  } catch {
    // unreadable: the status says enough
  }
  return fallback;
}

/** The events a route's outcome stands for (empty when the subject needed is unknown). */
export async function routeEvents(
  options: Pick<FunnelEventsOptions, "route" | "method">,
  response: Response,
  subject: Subject,
  traceId: string | null,
): Promise<TrackEvent[]> {
  const common = { service: "pregoi", ...(traceId ? { trace_id: traceId } : {}) };
  const method = options.method ? { properties: { method: options.method } } : {};
  const { email, user_id } = subject;
  switch (options.route) {
    case "login_start":
      if (email) return [{ event_type: "m_auth_login_start", ...common, email, ...(user_id ? { user_id } : {}), ...method }];
      if (user_id) return [{ event_type: "m_auth_login_start", ...common, user_id, ...method }];
      return [];
    case "otp_send": {
      const send: TrackEvent = { event_type: "m_otp_send", ...common, ...(email ? { email } : {}) };
      if (!email) return [send];
      const result: TrackEvent = response.ok
        ? { event_type: "m_otp_send_result", ...common, email, success: true }
        : { event_type: "m_otp_send_result", ...common, email, success: false, error_code: await errorCodeOf(response) };
      return [send, result];
    }
    case "login_complete":
      if (!email) return [];
      return response.ok
        ? [{ event_type: "m_auth_login_success", ...common, email, ...(user_id ? { user_id } : {}), ...method }]
        : [{ event_type: "m_auth_login_fail", ...common, email, success: false, error_code: await errorCodeOf(response), ...method }];
  }
}

/**
 * The handler helper: sends the route's events in the background
 * (`context.waitUntil`) and returns at once. Returns the background promise
 * (its outcomes) for callers that want it; it never rejects.
 */
export function emitRouteEvents(
  response: Response,
  request: GatewayRequest,
  context: GatewayContext,
  options: FunnelEventsOptions,
  subject: Subject,
): Promise<EventOutcome[]> {
  const work = (async () => {
    try {
      const events = await routeEvents(options, response, subject, acceptTraceId(request.headers.get(TRACE_HEADER)));
      if (events.length === 0) {
        context.log.warn(`funnel-events: ${options.route} route without an address: no event sent`);
        return [];
      }
      // One client per request: no timer outlives the request; close() sends at once.
      const client = new FunnelClient({
        url: options.url, secret: options.secret, flushIntervalMs: 0, maxRetries: 3, retryMaxMs: 2000,
        logger: { warn: (m) => context.log.warn(m) },
      });
      const outcomes = client.trackBatch(events);
      await client.close();
      return await outcomes;
    } catch (e) {
      context.log.error(`funnel-events: ${(e as Error)?.name ?? "error"}`);
      return [];
    }
  })();
  context.waitUntil(work);
  return work;
}

function checkOptions(options: FunnelEventsOptions, policyName: string) {
  if (!options?.url) throw new Error(`${policyName}: options.url is not set`);
  if (!options.secret) throw new Error(`${policyName}: options.secret is not set`);
  if (!["login_start", "otp_send", "login_complete"].includes(options.route)) {
    throw new Error(`${policyName}: options.route must be login_start, otp_send or login_complete`);
  }
}

/**
 * Inbound policy (recommended): reads the subject before the handler consumes
 * the body, and hooks the response about to be sent, whatever its status
 * (Zuplo runs outbound policies only for 2xx answers, and a failed login is
 * exactly what the funnel must see).
 */
export async function funnelEventsInbound(
  request: GatewayRequest,
  context: GatewayContext,
  options: FunnelEventsOptions,
  policyName: string,
): Promise<GatewayRequest> {
  checkOptions(options, policyName);
  const subject = await readSubject(request, options.emailField);
  context.custom[SUBJECT_KEY] = subject;
  if (!context.addResponseSendingHook) return request;
  context.custom[HOOKED_KEY] = true;
  context.addResponseSendingHook((response, latest) => {
    void emitRouteEvents(response, latest as GatewayRequest, context, options, subject);
    return response;
  });
  return request;
}

/**
 * Outbound policy: the same events from the route's (2xx) response; the
 * subject comes from the inbound policy when it ran, else from the request.
 * Returns the response untouched. With the inbound policy on the same route
 * it does nothing (the inbound policy's hook already emits).
 */
export default async function funnelEventsOutbound(
  response: Response,
  request: GatewayRequest,
  context: GatewayContext,
  options: FunnelEventsOptions,
  policyName: string,
): Promise<Response> {
  checkOptions(options, policyName);
  if (context.custom[HOOKED_KEY]) return response;
  const subject = (context.custom[SUBJECT_KEY] as Subject | undefined) ?? (await readSubject(request, options.emailField).catch(() => ({})));
  void emitRouteEvents(response, request, context, options, subject);
  return response;
}
