// The console reads only the read APIs, with the internal key kept in this
// tab's sessionStorage (never a URL, never localStorage). A 401 asks again.
const KEY = "funnel.key";

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

let askForKey: (reason: "missing" | "rejected") => Promise<string> = async () => {
  throw new Error("no key prompt installed");
};

export function installKeyPrompt(prompt: typeof askForKey): void {
  askForKey = prompt;
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

// One prompt at a time, however many requests are waiting for the key.
let pending: Promise<string> | null = null;

function prompt(reason: "missing" | "rejected"): Promise<string> {
  pending ??= askForKey(reason).then((entered) => {
    sessionStorage.setItem(KEY, entered);
    pending = null;
    return entered;
  });
  return pending;
}

async function key(): Promise<string> {
  return sessionStorage.getItem(KEY) ?? prompt("missing");
}

export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await fetch(path, {
      ...init,
      headers: { ...(init.headers ?? {}), authorization: `Bearer ${await key()}` },
      credentials: "omit",
      cache: "no-store",
    });
    if (res.status === 401) {
      forgetKey();
      await prompt("rejected");
      continue;
    }
    const text = await res.text();
    const body = text ? JSON.parse(text) : {};
    if (!res.ok) throw new ApiError(res.status, body.code ?? "error", body.detail ?? res.statusText);
    return body as T;
  }
  throw new ApiError(401, "bad_key", "The key was refused.");
}

export const get = <T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> => {
  const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  const s = qs.toString();
  return request<T>(s ? `${path}?${s}` : path);
};

// Shapes of the API answers the console reads.
export type Text = { ko: string; en: string };
export type Kpi = { value: number | string | null; unit: "count" | "krw" | "ratio" | "text"; lens: string; service: string | null; label: Text; estimate: boolean };
export type Summary = { from: string; to: string; tz: string; kpis: Record<string, Kpi>; totals: Record<string, number>; estimated: string[]; daily: { date: string; counts: Record<string, number> }[] };
export type Event = {
  id: number; ts: string; event_type: string; service: string; source: string; event_id: string; trace_id: string | null;
  tenant_id: string | null; user_id: string | null; email_fingerprint: string | null; email_domain: string | null;
  success: boolean | null; error_code: string | null; error_message: string | null; properties: Record<string, unknown>; weight: number;
};
export type EventPage = { events: Event[]; next_cursor: string | null };
export type Timeline = {
  trace_id: string; started_at: string | null; ended_at: string | null; duration_ms: number; services: string[]; sources: string[];
  failures: { id: number; event_type: string; error_code: string | null }[]; events: (Event & { elapsed_ms: number; since_start_ms: number })[]; truncated: boolean;
};
export type FunnelDef = { name: string; label: Text; description: Text; steps: { event: string; label: Text }[] };
export type FunnelResult = { funnel: { name: string; label: Text; subjects: number; overall_conversion: number | null; steps: { index: number; event: string; label: Text; count: number; conversion_from_previous: number | null; conversion_from_start: number | null; dropped: number; drop_off_by_error: { error_code: string; count: number }[] }[] } };
export type Overview = {
  tz: string; totals: { events: number; users: number; sessions: number; today: number }; revenue_krw: number;
  services: { service: string; health: "live" | "quiet" | "silent"; last_seen: string | null; events: number; users: number; sessions: number; today: number; revenue_krw: number; top_events: { event_type: string; count: number }[] }[];
  timeline: { date: string; counts: Record<string, number> }[]; recent: Event[];
};
export type CatalogEvent = { name: string; service: string; description: Text; first_seen: string | null; last_seen: string | null; count: number; estimated: boolean; received: number; sampled_out: number; rejected: number; rejection_rate: number | null; sample_rate: number };
export type Catalog = { events: CatalogEvent[]; unknown_rejections: { event_type: string; count: number }[] };
export type Quarantined = { id: number; received_at: string; source: string; event_type: string | null; event_id: string; status: string; errors: { code: string; field: string; message: string }[] };
export type UsageLine = { action: string; used: number; limit: number; remaining: number; quota_exceeded: boolean };
