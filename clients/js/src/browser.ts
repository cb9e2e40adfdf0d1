// funnel's browser sender: a web page's events to `POST /collect` with the
// site's publishable key (`pk_…`, public; the page's origin must be listed
// with it). Queues `track` calls and sends them when the page is hidden or
// left (`visibilitychange` → hidden, `pagehide`), every `flushIntervalMs`, or
// on `flush()`, through `navigator.sendBeacon` (a text/plain string: no
// preflight, survives the page's unload), falling back to
// `fetch(..., {keepalive: true})`. Each beacon stays within 64 KiB.
//
//   import { init } from "@funnel/client/browser";
//   const funnel = init({ url: "https://funnel.example.com", key: "pk_…" });
//   funnel.track("page_view", { properties: { page_name: "pricing" } });
import { BROWSER_EVENT_TYPES, type BrowserEventType } from "./generated/catalog";
import type { TrackFields } from "./types";

export { BROWSER_EVENT_TYPES, type BrowserEventType } from "./generated/catalog";

export const COLLECT_PATH = "/collect";
/** What a browser queues for one beacon (and one keepalive fetch): 64 KiB. */
export const MAX_BEACON_BYTES = 65_536;
/** The service's batch cap. */
export const MAX_BEACON_EVENTS = 500;

/** The fields of a browser event: the client fills `anonymous_id`; `source` is the site's. */
export type BrowserFields<T extends BrowserEventType> = Omit<TrackFields<T>, "anonymous_id" | "session_id" | "source"> & {
  anonymous_id?: string;
  session_id?: string;
};

/** The pieces of the page the sender uses; tests pass their own. */
export interface BrowserEnvironment {
  sendBeacon?: (url: string, body: string) => boolean;
  fetch?: (url: string, init: RequestInit) => Promise<unknown>;
  /** Where `pagehide` is heard (the window). */
  window?: Pick<EventTarget, "addEventListener" | "removeEventListener">;
  /** Where `visibilitychange` is heard, and whether the page is hidden. */
  document?: Pick<EventTarget, "addEventListener" | "removeEventListener"> & { visibilityState: string };
  storage?: Pick<Storage, "getItem" | "setItem">;
  now?: () => Date;
  randomBytes?: (n: number) => Uint8Array;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
  warn?: (message: string) => void;
  /** The page's origin (`location.origin`): `"null"` for a sandboxed iframe or a file:// page. */
  origin?: string;
}

export interface BrowserOptions extends BrowserEnvironment {
  /** The funnel service's base URL, e.g. `https://funnel.example.com`. */
  url: string;
  /** The site's publishable key (`pk_…`). */
  key: string;
  /** Also send every this many ms while the page is open (default 5000; 0: only when hidden or on flush). */
  flushIntervalMs?: number;
  /** Events kept while waiting to be sent; past it the oldest are dropped (default 1000). */
  maxQueue?: number;
}

const ANONYMOUS_ID_KEY = "funnel_anonymous_id";
const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ENVELOPE = '{"events":[]}';

/** Said once when the page's origin is opaque: the service refuses `Origin: null`. */
export const OPAQUE_ORIGIN_WARNING =
  'funnel: this page\'s origin is "null" (a sandboxed iframe or a file:// page): /collect refuses it ' +
  "(403 origin_not_allowed, an opaque origin names no site), so its events are not sent";

/** Groups serialized events into bodies of at most `maxBytes` and `maxEvents`; an event too large alone is returned in `tooLarge`. */
export function packBeacons(events: string[], maxBytes = MAX_BEACON_BYTES, maxEvents = MAX_BEACON_EVENTS) {
  const bodies: string[] = [];
  const tooLarge: string[] = [];
  let current: string[] = [];
  let size = bytes(ENVELOPE);
  const close = () => {
    if (current.length) bodies.push(`{"events":[${current.join(",")}]}`);
    current = [];
    size = bytes(ENVELOPE);
  };
  for (const e of events) {
    const n = bytes(e) + (current.length ? 1 : 0);
    if (bytes(ENVELOPE) + bytes(e) > maxBytes) {
      tooLarge.push(e);
      continue;
    }
    if (size + n > maxBytes || current.length >= maxEvents) close();
    size += bytes(e) + (current.length ? 1 : 0);
    current.push(e);
  }
  close();
  return { bodies, tooLarge };
}

export class FunnelBrowser {
  readonly endpoint: string;
  readonly anonymousId: string;
  private queue: string[] = [];
  private readonly env: Required<Pick<BrowserEnvironment, "now" | "randomBytes" | "warn">> & BrowserEnvironment;
  private readonly maxQueue: number;
  private timer: unknown = null;
  /** The page has an opaque origin: nothing it sends could be accepted. */
  readonly opaqueOrigin: boolean;
  private readonly onHidden = () => {
    if (this.env.document?.visibilityState === "hidden") this.flush();
  };
  private readonly onPageHide = () => this.flush();

  constructor(options: BrowserOptions) {
    const g = globalThis as typeof globalThis & { navigator?: Navigator; window?: Window; document?: Document };
    this.env = {
      sendBeacon: typeof g.navigator?.sendBeacon === "function" ? (u, b) => g.navigator!.sendBeacon(u, b) : undefined,
      fetch: typeof g.fetch === "function" ? (u, i) => g.fetch(u, i) : undefined,
      window: g.window,
      document: g.document,
      storage: safeStorage(),
      now: () => new Date(),
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
      warn: (m) => console.warn(m),
      origin: (g as { location?: { origin?: string } }).location?.origin,
      ...options,
    };
    this.opaqueOrigin = this.env.origin === "null";
    if (this.opaqueOrigin) this.env.warn(OPAQUE_ORIGIN_WARNING);
    this.endpoint = `${options.url.replace(/\/+$/, "")}${COLLECT_PATH}?key=${encodeURIComponent(options.key)}`;
    this.maxQueue = options.maxQueue ?? 1000;
    this.anonymousId = this.loadAnonymousId();
    this.env.document?.addEventListener("visibilitychange", this.onHidden);
    this.env.window?.addEventListener("pagehide", this.onPageHide);
    const interval = options.flushIntervalMs ?? 5000;
    if (interval > 0 && this.env.setInterval) this.timer = this.env.setInterval(() => this.flush(), interval);
  }

  /** Queues one event. Never throws: a type a page may not send, or an event that cannot be serialized, is dropped with a warning. */
  track<T extends BrowserEventType>(type: T, fields?: BrowserFields<T>): void {
    try {
      // Said once at init; every request would be refused (403), so none is made.
      if (this.opaqueOrigin) return;
      if (!(BROWSER_EVENT_TYPES as readonly string[]).includes(type)) {
        this.env.warn(`funnel: ${String(type)} cannot be sent from a browser; dropped`);
        return;
      }
      const event = {
        ...(fields ?? {}),
        event_type: type,
        event_id: (fields as { event_id?: string } | undefined)?.event_id ?? `evt_${hex(this.env.randomBytes(16))}`,
        occurred_at: (fields as { occurred_at?: string } | undefined)?.occurred_at ?? this.env.now().toISOString(),
        anonymous_id: fields?.anonymous_id ?? this.anonymousId,
      };
      this.queue.push(JSON.stringify(event));
      if (this.queue.length > this.maxQueue) {
        this.queue.splice(0, this.queue.length - this.maxQueue);
        this.env.warn(`funnel: more than ${this.maxQueue} events waiting; the oldest were dropped`);
      }
      if (this.queue.length >= MAX_BEACON_EVENTS) this.flush();
    } catch (e) {
      this.env.warn(`funnel: event not queued: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Sends everything queued now; returns how many requests it made. */
  flush(): number {
    if (!this.queue.length) return 0;
    const { bodies, tooLarge } = packBeacons(this.queue);
    this.queue = [];
    if (tooLarge.length) this.env.warn(`funnel: ${tooLarge.length} event(s) over ${MAX_BEACON_BYTES} bytes dropped`);
    for (const body of bodies) this.send(body);
    return bodies.length;
  }

  /** Sends what is queued and stops listening. */
  close(): void {
    this.flush();
    this.env.document?.removeEventListener("visibilitychange", this.onHidden);
    this.env.window?.removeEventListener("pagehide", this.onPageHide);
    if (this.timer !== null) this.env.clearInterval?.(this.timer);
    this.timer = null;
  }

  private send(body: string): void {
    // sendBeacon refuses (false) when the browser's beacon queue is full: then a keepalive fetch.
    if (this.env.sendBeacon?.(this.endpoint, body)) return;
    const sent = this.env.fetch?.(this.endpoint, {
      method: "POST",
      body,
      keepalive: true,
      mode: "cors",
      credentials: "omit",
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    if (!sent) {
      this.env.warn("funnel: neither sendBeacon nor fetch is available; events dropped");
      return;
    }
    sent.catch((e: unknown) => this.env.warn(`funnel: events not sent: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** One id per browser (kept in localStorage when the page may), so a visitor's views stay together. */
  private loadAnonymousId(): string {
    try {
      const kept = this.env.storage?.getItem(ANONYMOUS_ID_KEY);
      if (kept) return kept;
    } catch {
      // storage refused (privacy mode): an id for this page only
    }
    const id = `anon_${hex(this.env.randomBytes(16))}`;
    try {
      this.env.storage?.setItem(ANONYMOUS_ID_KEY, id);
    } catch {
      // as above
    }
    return id;
  }
}

function safeStorage(): Pick<Storage, "getItem" | "setItem"> | undefined {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    return undefined;
  }
}

/** The page's sender: `init({url, key})`, then `track(type, fields)`. */
export function init(options: BrowserOptions): FunnelBrowser {
  return new FunnelBrowser(options);
}
