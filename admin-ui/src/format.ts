import { currentLang } from "./i18n";

const locale = () => (currentLang() === "ko" ? "ko-KR" : "en-US");

export const num = (n: number | null | undefined): string =>
  n == null ? "–" : new Intl.NumberFormat(locale()).format(n);

/** Money as the API gives it, one sum per currency (won first): "₩4,500 · $25.00". Never added up. */
export const money = (sums: { currency: string; amount: number }[] | null | undefined): string =>
  !sums?.length ? "–" : sums.map((c) => new Intl.NumberFormat(locale(), { style: "currency", currency: c.currency }).format(c.amount)).join(" · ");

/** A count per user (notes per writer): one decimal at most. */
export const perUser = (n: number | null | undefined): string =>
  n == null ? "–" : new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n);

export const pct = (r: number | null | undefined): string =>
  r == null ? "–" : new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(r);

export function dateTime(iso: string | null | undefined, tz: string): string {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(locale(), {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).format(new Date(iso));
}

/** A fingerprint (64 lowercase hex) shortened to its first 8 hex. */
export const shortFingerprint = (fp: string): string => `${fp.slice(0, 8)}…`;

/** Whether a value is an email fingerprint (HMAC-SHA256 as 64 lowercase hex). */
export const isFingerprint = (v: string | null | undefined): v is string => !!v && /^[0-9a-f]{64}$/.test(v);

/** Masked email: the domain and the first 8 hex of the fingerprint, never more. */
export function maskedEmail(fp: string | null | undefined, domain: string | null | undefined): string {
  if (!fp) return "–";
  return `${shortFingerprint(fp)}@${domain ?? "?"}`;
}

/** A DOM element from a tag, attributes and children (text is always set as text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: Event) => void) | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

/** A duration as people say it: `850 ms`, `12 s`, `3 min`, `1 h 2 min`, `2 d 3 h`. */
export function duration(ms: number | null | undefined): string {
  if (ms == null) return "–";
  const ko = currentLang() === "ko";
  const u = ko ? { ms: "ms", s: "초", min: "분", h: "시간", d: "일" } : { ms: "ms", s: "s", min: "min", h: "h", d: "d" };
  if (ms < 1000) return `${Math.round(ms)} ${u.ms}`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} ${u.s}`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} ${u.min}${s % 60 && min < 10 ? ` ${s % 60} ${u.s}` : ""}`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return `${hours} ${u.h}${min % 60 ? ` ${min % 60} ${u.min}` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days} ${u.d}${hours % 24 ? ` ${hours % 24} ${u.h}` : ""}`;
}
