// The console calls the API with the operator's bearer key, kept in this
// tab's sessionStorage (never a URL, never localStorage). A 401 asks for the
// key again; a 403 (a key whose role may not call the route) does not: the
// screen says so. What the key may call comes from `GET /internal/whoami`,
// asked once per key and kept in memory.
//
// Reads may be served by a D1 read replica: every answer carries the session's
// bookmark (X-Funnel-Bookmark), kept in this tab's sessionStorage and sent on
// every call, so a read after a write (an override, a quarantine replay)
// sees that write.
import type { components } from "./generated/api";

const KEY = "funnel.key";
const WHOAMI = "/internal/whoami";
const BOOKMARK = "funnel.bookmark";
const BOOKMARK_HEADER = "x-funnel-bookmark";

/** Keeps the newest bookmark seen. D1's start with fixed-width hex counters,
 * so a later one sorts later; answers arriving out of order never go back. */
function keepBookmark(res: Response): void {
  const b = res.headers.get(BOOKMARK_HEADER);
  const kept = sessionStorage.getItem(BOOKMARK);
  if (b && (!kept || b > kept)) sessionStorage.setItem(BOOKMARK, b);
}

function bookmarkHeader(): Record<string, string> {
  const b = sessionStorage.getItem(BOOKMARK);
  return b ? { [BOOKMARK_HEADER]: b } : {};
}

/** A problem+json answer of the API: `code` decides what the operator is told. */
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public param?: string) {
    super(message);
  }
}

/** The request never got an answer (offline, DNS, connection refused). */
export class NetworkError extends Error {}

/** A read got no answer in time, twice. */
export class TimeoutError extends Error {}

/** How long a read waits for its answer before it is asked again (once). A
 * connection that stalls (a proxy, a dev server) would otherwise leave the
 * screen loading forever; the slowest read measured is a few seconds. */
export const READ_TIMEOUT_MS = 25_000;

/** An answer that is not the API's JSON (a proxy's HTML error page, say). */
export class NotJsonError extends Error {
  constructor(public status: number) {
    super(`HTTP ${status}`);
  }
}

/** The operator closed the key dialog without entering a key. */
export class KeyDismissed extends Error {}

let askForKey: (reason: "missing" | "rejected") => Promise<string> = async () => {
  throw new Error("no key prompt installed");
};

export function installKeyPrompt(prompt: typeof askForKey): void {
  askForKey = prompt;
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** Called after the operator entered a (new) key. */
const keyListeners: (() => void)[] = [];
export function onKeyChange(listener: () => void): void {
  keyListeners.push(listener);
}

// One prompt at a time, however many requests are waiting for the key.
let pending: Promise<string> | null = null;

function prompt(reason: "missing" | "rejected"): Promise<string> {
  pending ??= askForKey(reason).then((entered) => {
    sessionStorage.setItem(KEY, entered);
    pending = null;
    for (const l of keyListeners) l();
    return entered;
  }, (e) => {
    pending = null;
    throw e;
  });
  return pending;
}

async function key(): Promise<string> {
  return sessionStorage.getItem(KEY) ?? prompt("missing");
}

/** Forgets the key and asks for another one (the listeners then redraw). */
export function changeKey(): Promise<string> {
  forgetKey();
  return prompt("missing");
}

// The answers of `GET /internal/whoami`, per key: a key is asked once.
const identities = new Map<string, WhoAmI>();

// A refused key asks again, as often as the operator tries: the right key is
// accepted after any number of wrong ones. Closing the dialog (Escape) ends
// the request with a 401 the screen shows, with a way to enter a key.
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  for (;;) {
    let used: string;
    try {
      used = await key();
    } catch {
      throw new ApiError(401, "bad_key", "No key was entered.");
    }
    if (path === WHOAMI && identities.has(used)) return identities.get(used) as T;
    const { res, text } = await send(path, {
      ...init,
      headers: { ...(init.headers ?? {}), ...bookmarkHeader(), authorization: `Bearer ${used}` },
      credentials: "omit",
      cache: "no-store",
    });
    keepBookmark(res);
    if (res.status === 401) {
      forgetKey();
      try {
        await prompt("rejected");
      } catch {
        throw new ApiError(401, "bad_key", "The key was refused.");
      }
      continue;
    }
    let body: Record<string, unknown>;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new NotJsonError(res.status);
    }
    if (!res.ok) {
      if (typeof body.code !== "string") throw new NotJsonError(res.status);
      // A kept bookmark the service refuses would refuse every later call: drop it.
      if (body.code === "invalid_bookmark") sessionStorage.removeItem(BOOKMARK);
      throw new ApiError(res.status, body.code, String(body.detail ?? res.statusText), typeof body.param === "string" ? body.param : undefined);
    }
    if (path === WHOAMI) identities.set(used, body as unknown as WhoAmI);
    return body as T;
  }
}

/**
 * One fetch and its body. A read (GET) whose whole answer has not come after
 * READ_TIMEOUT_MS is aborted and sent once more (it changes nothing); a write
 * is never sent twice.
 */
async function send(path: string, init: RequestInit): Promise<{ res: Response; text: string }> {
  const read = (init.method ?? "GET") === "GET";
  for (let attempt = 1; ; attempt++) {
    // Only the timer aborts: an aborted signal means the answer took too long.
    const abort = new AbortController();
    const timer = read ? window.setTimeout(() => abort.abort(), READ_TIMEOUT_MS) : 0;
    try {
      const res = await fetch(path, { ...init, signal: abort.signal });
      return { res, text: await res.text() };
    } catch (e) {
      if (!abort.signal.aborted) throw new NetworkError(String(e));
      if (attempt === 2) throw new TimeoutError(`no answer in ${READ_TIMEOUT_MS} ms`);
    } finally {
      window.clearTimeout(timer);
    }
  }
}

export const get = <T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> => {
  const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  const s = qs.toString();
  return request<T>(s ? `${path}?${s}` : path);
};

let asking: Promise<WhoAmI> | null = null;

/** The current key's name, role and routes (asked once per key, then from memory). */
export async function whoami(): Promise<WhoAmI> {
  const known = identities.get(await key());
  if (known) return known;
  asking ??= request<WhoAmI>(WHOAMI).finally(() => {
    asking = null;
  });
  return asking;
}

/** Whether the current key may call `route` ("GET /internal/audit", as whoami lists it). */
export function can(route: string): boolean {
  const current = sessionStorage.getItem(KEY);
  return !!current && !!identities.get(current)?.routes.includes(route);
}

// The shapes of the API's answers: the API's own OpenAPI document
// (docs/openapi.json, generated from the Rust response types) turned into
// TypeScript by scripts/gen-console-types.mjs, which the console build runs
// first. Nothing here copies a shape by hand: `Schema<"Summary">` is the
// document's `components.schemas.Summary`.
export type Schemas = components["schemas"];
export type Schema<K extends keyof Schemas> = Schemas[K];
export type WhoAmI = Schema<"WhoAmI">;
