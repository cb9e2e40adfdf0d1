// The period and time zone every screen reads, kept in the URL hash's query
// next to the screen's own filters (never the key): #summary?range=14d&tz=Asia/Seoul
// A reload, a shared link or Back gives the same screen over the same period.
export type Period = { range: "today" | "7d" | "14d" | "30d" | "custom"; from?: string; to?: string; tz: string };
export type Range = { from: string; to: string; tz: string };

const browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const RANGES: Period["range"][] = ["today", "7d", "14d", "30d", "custom"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The API's longest range (docs/api.md). */
export const MAX_RANGE_DAYS = 400;
/** The hash parameters that carry the period. */
export const PERIOD_KEYS = ["range", "from", "to", "tz"] as const;

export const period: Period = { range: "14d", tz: browserTz };

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Reads the period from the hash's parameters (defaults for anything missing or broken). */
export function readPeriod(params: URLSearchParams): void {
  const range = params.get("range") as Period["range"] | null;
  period.range = range && RANGES.includes(range) ? range : "14d";
  const tz = params.get("tz");
  period.tz = tz && validZone(tz) ? tz : browserTz;
  const from = params.get("from");
  const to = params.get("to");
  period.from = from && DATE.test(from) ? from : undefined;
  period.to = to && DATE.test(to) ? to : undefined;
  if (period.range === "custom" && (!period.from || !period.to)) period.range = "14d";
}

/** The period as hash parameters. */
export function periodParams(p: Period = period): [string, string][] {
  const out: [string, string][] = [["range", p.range], ["tz", p.tz]];
  if (p.range === "custom" && p.from && p.to) out.push(["from", p.from], ["to", p.to]);
  return out;
}

/** Whether a custom range is one the API takes; the reason's i18n key when not. */
export function customRangeProblem(from: string, to: string): "dateMissing" | "dateOrder" | "dateTooLong" | null {
  if (!DATE.test(from) || !DATE.test(to)) return "dateMissing";
  if (to < from) return "dateOrder";
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1 > MAX_RANGE_DAYS) return "dateTooLong";
  return null;
}

export function localDate(d: Date, tz: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The zone's offset from UTC at `at`, in ms (positive east of Greenwich). */
function offsetMs(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((x) => x.type === type)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant (ms) of midnight starting `date` in `tz` (DST-safe to the hour). */
export function midnight(date: string, tz: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`);
  const first = guess - offsetMs(guess, tz);
  return guess - offsetMs(first, tz);
}

/** `from`/`to` as dates in the zone (the API reads dates as local midnights). */
export function rangeParams(p: Period = period): Range {
  if (p.range === "custom" && p.from && p.to) return { from: p.from, to: addDays(p.to, 1), tz: p.tz };
  const today = localDate(new Date(), p.tz);
  const days = { today: 1, "7d": 7, "14d": 14, "30d": 30, custom: 14 }[p.range];
  return { from: addDays(today, 1 - days), to: addDays(today, 1), tz: p.tz };
}

/** Whether the period is still running (its end is in the future). */
export function isRunning(p: Period = period, now = Date.now()): boolean {
  return midnight(rangeParams(p).to, p.tz) > now;
}

/**
 * The period of the same length just before. For a running period, only the
 * same elapsed time of it: `Today` at 10:00 compares with yesterday 00:00–10:00.
 */
export function previousRange(p: Period = period, now = Date.now()): Range {
  const cur = rangeParams(p);
  const len = Math.round((Date.parse(cur.to) - Date.parse(cur.from)) / 86_400_000);
  const prevFrom = addDays(cur.from, -len);
  if (!isRunning(p, now)) return { from: prevFrom, to: cur.from, tz: cur.tz };
  const elapsed = now - midnight(cur.from, p.tz);
  const start = midnight(prevFrom, p.tz);
  return { from: new Date(start).toISOString(), to: new Date(start + Math.max(elapsed, 1000)).toISOString(), tz: cur.tz };
}

export function dayCount(p: Period = period): number {
  const r = rangeParams(p);
  return Math.round((Date.parse(r.to) - Date.parse(r.from)) / 86_400_000);
}

/** A screen's address: its own parameters plus the period (unless it names its own). */
export function link(hash: string): string {
  const [name, qs] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(qs ?? "");
  for (const [k, v] of periodParams()) if (!params.has(k)) params.set(k, v);
  return `#${name}?${params}`;
}
