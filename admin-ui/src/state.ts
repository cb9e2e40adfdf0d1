// The period and time zone every screen reads, kept in the URL hash's query
// (never the key): #summary?range=14d&tz=Asia/Seoul
export type Period = { range: "today" | "7d" | "14d" | "30d" | "custom"; from?: string; to?: string; tz: string };

const browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export const period: Period = { range: "14d", tz: browserTz };

function localDate(d: Date, tz: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** `from`/`to` as dates in the zone (the API reads dates as local midnights). */
export function rangeParams(p: Period = period): { from: string; to: string; tz: string } {
  if (p.range === "custom" && p.from && p.to) return { from: p.from, to: addDays(p.to, 1), tz: p.tz };
  const today = localDate(new Date(), p.tz);
  const days = { today: 1, "7d": 7, "14d": 14, "30d": 30, custom: 14 }[p.range];
  return { from: addDays(today, 1 - days), to: addDays(today, 1), tz: p.tz };
}

/** The period of the same length just before. */
export function previousRange(p: Period = period): { from: string; to: string; tz: string } {
  const cur = rangeParams(p);
  const len = Math.round((Date.parse(cur.to) - Date.parse(cur.from)) / 86_400_000);
  return { from: addDays(cur.from, -len), to: cur.from, tz: cur.tz };
}

export function dayCount(p: Period = period): number {
  const r = rangeParams(p);
  return Math.round((Date.parse(r.to) - Date.parse(r.from)) / 86_400_000);
}
