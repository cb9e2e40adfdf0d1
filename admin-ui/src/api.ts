// The console reads only the read APIs, with the internal key kept in this
// tab's sessionStorage (never a URL, never localStorage). A 401 asks again.
import type { components } from "./generated/api";

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

// The shapes of the API's answers: the API's own OpenAPI document
// (docs/openapi.json, generated from the Rust response types) turned into
// TypeScript by scripts/gen-console-types.mjs, which the console build runs
// first. Nothing here copies a shape by hand: `Schema<"Summary">` is the
// document's `components.schemas.Summary`.
export type Schemas = components["schemas"];
export type Schema<K extends keyof Schemas> = Schemas[K];
