// The sender: buffers events, cuts batches by count, bytes and time, signs or
// uses a bearer key, retries what is worth retrying and settles every event
// with an outcome. Nothing in `track` throws: a bad event settles as
// `failed` with a code instead.
import type { EventType } from "./generated/catalog";
import { backoffMs, isRetryableStatus, retryAfterMs } from "./retry";
import { importSigningKey, SIGNATURE_HEADER, signatureHeader } from "./signing";
import {
  delivered,
  type EventOutcome,
  type FunnelClientOptions,
  type Issue,
  type Logger,
  type Status,
  type TrackArgs,
  type TrackEvent,
} from "./types";

/** The service's limits (docs/api.md): a request holds at most 500 events and 1 MiB. */
export const MAX_BATCH_EVENTS = 500;
export const MAX_BATCH_BYTES = 1024 * 1024;
export const DEFAULT_PATH = "/internal/funnel-events/ingest";

const encoder = new TextEncoder();
/** `{"events":[` + `],"sent_at":"<24-char ISO>"}` with room to spare. */
const ENVELOPE_BYTES = 64;
const SERVICE_STATUSES: ReadonlySet<string> = new Set([
  "accepted", "duplicate", "queued", "sampled_out", "suppressed", "rejected", "quota_limited",
]);

/** One event waiting for its outcome. */
interface Pending {
  json: string;
  bytes: number;
  event_id: string;
  event_type: string;
  attempts: number;
  settle: (outcome: EventOutcome) => void;
  done: Promise<EventOutcome>;
}

type Answer =
  | { kind: "network"; error: string }
  | { kind: "http"; status: number; retryAfter: number | null; body: unknown };

const issue = (code: string, message: string, field = ""): Issue => ({ code, field, message });

function randomId(): string {
  return `evt_${crypto.randomUUID().replaceAll("-", "")}`;
}

export class FunnelClient {
  readonly #endpoint: string;
  readonly #options: Required<Pick<FunnelClientOptions,
    "maxBatchEvents" | "maxBatchBytes" | "flushIntervalMs" | "maxRetries" | "retryBaseMs" | "retryMaxMs" | "retryAfterMaxMs" |
    "timeoutMs" | "concurrency" | "maxBufferedEvents">>;
  readonly #opts: FunnelClientOptions;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #logger: Logger | null;
  #key: Promise<CryptoKey> | null = null;

  /** The batch being filled. */
  #buffer: Pending[] = [];
  #bufferBytes = ENVELOPE_BYTES;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Cut batches waiting for a free slot, then the ones being sent. */
  #queue: Pending[][] = [];
  #sending = 0;
  /** Every event not yet settled (buffered, queued or in flight). */
  #unsettled = new Set<Pending>();
  #closed = false;
  /** Outcomes by status since the client started. */
  readonly counts: Record<Status, number> = {
    accepted: 0, duplicate: 0, queued: 0, sampled_out: 0, suppressed: 0, rejected: 0, quota_limited: 0, failed: 0,
  };

  constructor(options: FunnelClientOptions) {
    if (!options?.url) throw new TypeError("FunnelClient: options.url is required");
    if (!options.secret && !options.apiKey) throw new TypeError("FunnelClient: options.secret or options.apiKey is required");
    this.#opts = options;
    this.#endpoint = options.url.replace(/\/+$/, "") + (options.path ?? DEFAULT_PATH);
    const clamp = (v: number | undefined, dflt: number, min: number, max: number) =>
      Math.min(max, Math.max(min, Number.isFinite(v) ? Math.floor(v as number) : dflt));
    this.#options = {
      maxBatchEvents: clamp(options.maxBatchEvents, MAX_BATCH_EVENTS, 1, MAX_BATCH_EVENTS),
      maxBatchBytes: clamp(options.maxBatchBytes, MAX_BATCH_BYTES, ENVELOPE_BYTES + 2, MAX_BATCH_BYTES),
      flushIntervalMs: clamp(options.flushIntervalMs, 1000, 0, 3_600_000),
      maxRetries: clamp(options.maxRetries, 6, 0, 100),
      retryBaseMs: clamp(options.retryBaseMs, 250, 0, 60_000),
      retryMaxMs: clamp(options.retryMaxMs, 30_000, 0, 3_600_000),
      retryAfterMaxMs: clamp(options.retryAfterMaxMs, 60_000, 0, 3_600_000),
      timeoutMs: clamp(options.timeoutMs, 15_000, 1, 3_600_000),
      concurrency: clamp(options.concurrency, 1, 1, 64),
      maxBufferedEvents: clamp(options.maxBufferedEvents, 20_000, 1, 10_000_000),
    };
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger === undefined ? console : options.logger;
  }

  /** Queues one event; the promise settles with its outcome and never rejects. */
  track<T extends EventType>(type: T, ...args: TrackArgs<T>): Promise<EventOutcome> {
    return this.#enqueue({ ...(args[0] ?? {}), event_type: type });
  }

  /** Queues several events (each `{event_type, ...fields}`); outcomes in the same order. */
  trackBatch(events: readonly TrackEvent[]): Promise<EventOutcome[]> {
    if (!Array.isArray(events)) return Promise.resolve([]);
    return Promise.all(events.map((e) => this.#enqueue(e)));
  }

  /** Sends everything buffered now; settles when every event queued so far has its outcome. */
  flush(): Promise<EventOutcome[]> {
    const waiting = [...this.#unsettled].map((p) => p.done);
    this.#cut();
    return Promise.all(waiting);
  }

  /** Flushes, then refuses new events (they settle `failed` with `client_closed`). */
  close(): Promise<EventOutcome[]> {
    this.#closed = true;
    return this.flush();
  }

  #enqueue(input: unknown): Promise<EventOutcome> {
    let eventType = "";
    let eventId = "";
    try {
      const event = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
      eventType = typeof event.event_type === "string" ? event.event_type : "";
      eventId = typeof event.event_id === "string" && event.event_id ? event.event_id : randomId();
      if (this.#closed) return this.#local(eventType, eventId, "client_closed", "the client was closed");
      // A type this build's catalog lacks is still sent: the service decides (and quarantines it).
      if (!eventType) return this.#local(eventType, eventId, "missing_required_field", "event_type must be a non-empty string", "event_type");
      if (this.#unsettled.size >= this.#options.maxBufferedEvents) {
        return this.#local(eventType, eventId, "buffer_full", `more than ${this.#options.maxBufferedEvents} events waiting`);
      }
      const occurred = typeof event.occurred_at === "string" ? event.occurred_at : new Date(this.#now()).toISOString();
      const json = JSON.stringify({ ...this.#opts.defaults, ...event, event_id: eventId, occurred_at: occurred });
      const bytes = encoder.encode(json).length;
      if (ENVELOPE_BYTES + bytes > this.#options.maxBatchBytes) {
        return this.#local(eventType, eventId, "event_too_large", `the event alone is over ${this.#options.maxBatchBytes} bytes`);
      }
      let settle!: (o: EventOutcome) => void;
      const done = new Promise<EventOutcome>((resolve) => (settle = resolve));
      const pending: Pending = { json, bytes, event_id: eventId, event_type: eventType, attempts: 0, settle, done };
      this.#add(pending);
      return done;
    } catch (e) {
      // JSON.stringify on a BigInt or a cycle, a getter that throws...
      return this.#local(eventType, eventId || randomId(), "invalid_event", `the event cannot be serialized: ${(e as Error)?.name ?? "error"}`);
    }
  }

  #local(event_type: string, event_id: string, code: string, message: string, field = ""): Promise<EventOutcome> {
    const outcome: EventOutcome = { event_id, event_type, status: "failed", errors: [issue(code, message, field)], attempts: 0 };
    this.#report([outcome]);
    return Promise.resolve(outcome);
  }

  #add(pending: Pending) {
    // A batch is cut before the event that would overflow it, and as soon as it is full.
    if (this.#buffer.length > 0 && this.#bufferBytes + pending.bytes + 1 > this.#options.maxBatchBytes) this.#cut();
    this.#unsettled.add(pending);
    this.#buffer.push(pending);
    this.#bufferBytes += pending.bytes + 1;
    if (this.#buffer.length >= this.#options.maxBatchEvents) {
      this.#cut();
    } else if (this.#timer === null && this.#options.flushIntervalMs > 0) {
      this.#timer = setTimeout(() => this.#cut(), this.#options.flushIntervalMs);
      // A pending flush must not keep a Node process alive by itself.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Moves the buffer to the send queue and starts senders. */
  #cut() {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#buffer.length > 0) {
      this.#queue.push(this.#buffer);
      this.#buffer = [];
      this.#bufferBytes = ENVELOPE_BYTES;
    }
    while (this.#sending < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#queue.shift()!;
      this.#sending++;
      this.#deliver(batch)
        .catch((e) => this.#settle(batch, batch.map((p) => this.#failed(p, "client_error", String(e)))))
        .finally(() => {
          this.#sending--;
          this.#cut();
        });
    }
  }

  /** Sends one batch until every event in it has an outcome. */
  async #deliver(batch: Pending[]): Promise<void> {
    for (let retry = 0; ; retry++) {
      const answer = await this.#post(batch);
      const results = answer.kind === "http" ? resultsOf(answer.body) : null;
      if (answer.kind === "http" && results !== null && answer.status < 500 && answer.status !== 429) {
        this.#settle(batch, batch.map((p, i) => outcomeFrom(p, results.get(i), answer.status)));
        return;
      }
      if (answer.kind === "http" && answer.status === 413) {
        if (batch.length > 1) {
          // Too big for the service whatever our own accounting said: halve it.
          const half = Math.ceil(batch.length / 2);
          await Promise.all([this.#deliver(batch.slice(0, half)), this.#deliver(batch.slice(half))]);
        } else {
          this.#settle(batch, [this.#failed(batch[0], problemCode(answer.body, "payload_too_large"), "the service refused the event as too large", 413, "rejected")]);
        }
        return;
      }
      const retryable = answer.kind === "network" || isRetryableStatus(answer.status) || answer.status < 300;
      if (!retryable) {
        // A 4xx for the whole request (credentials, content type, JSON): sending it again changes nothing.
        const code = problemCode(answer.body, `http_${answer.status}`);
        this.#settle(batch, batch.map((p) => this.#failed(p, code, problemDetail(answer.body), answer.status)));
        return;
      }
      if (retry >= this.#options.maxRetries) {
        const why = answer.kind === "network" ? `network error: ${answer.error}` : `HTTP ${answer.status}`;
        const status = answer.kind === "http" ? answer.status : undefined;
        this.#settle(batch, batch.map((p) => this.#failed(p, "retries_exhausted", `gave up after ${retry + 1} attempts; last: ${why}`, status)));
        return;
      }
      const after = answer.kind === "http" ? answer.retryAfter : null;
      await this.#sleep(backoffMs(retry + 1, after, { baseMs: this.#options.retryBaseMs, maxMs: this.#options.retryMaxMs, retryAfterMaxMs: this.#options.retryAfterMaxMs }, this.#random));
    }
  }

  async #post(batch: Pending[]): Promise<Answer> {
    for (const p of batch) p.attempts++;
    try {
      const body = `{"events":[${batch.map((p) => p.json).join(",")}],"sent_at":"${new Date(this.#now()).toISOString()}"}`;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.#opts.secret) {
        this.#key ??= importSigningKey(this.#opts.secret);
        headers[SIGNATURE_HEADER] = await signatureHeader(await this.#key, body, Math.floor(this.#now() / 1000));
      } else {
        headers.authorization = `Bearer ${this.#opts.apiKey}`;
      }
      const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(this.#options.timeoutMs) : undefined;
      const res = await this.#fetch(this.#endpoint, { method: "POST", headers, body, signal });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: handled as an answer without results
      }
      return { kind: "http", status: res.status, retryAfter: retryAfterMs(res.headers.get("retry-after"), this.#now()), body: parsed };
    } catch (e) {
      return { kind: "network", error: (e as Error)?.name ?? "error" };
    }
  }

  #failed(p: Pending, code: string, message: string, http_status?: number, status: Status = "failed"): EventOutcome {
    return { event_id: p.event_id, event_type: p.event_type, status, errors: [issue(code, message)], http_status, attempts: p.attempts };
  }

  /** `outcomes[i]` is `batch[i]`'s. */
  #settle(batch: Pending[], outcomes: EventOutcome[]) {
    batch.forEach((p, i) => {
      this.#unsettled.delete(p);
      p.settle(outcomes[i]);
    });
    this.#report(outcomes);
  }

  #report(outcomes: EventOutcome[]) {
    for (const o of outcomes) this.counts[o.status]++;
    try {
      this.#opts.onResult?.(outcomes);
    } catch {
      // a caller's callback must not break delivery
    }
    const undelivered = outcomes.filter((o) => !delivered(o));
    if (undelivered.length === 0 || !this.#logger) return;
    // Types, ids and codes only: an event's contents may hold PII.
    const sample = undelivered.slice(0, 5).map((o) =>
      `${o.event_type || "?"} ${o.event_id}: ${o.status} ${(o.errors ?? []).map((e) => e.field ? `${e.code}(${e.field})` : e.code).join(",")}`);
    this.#logger.warn(`funnel: ${undelivered.length} of ${outcomes.length} events not delivered: ${sample.join("; ")}${undelivered.length > 5 ? "; …" : ""}`);
  }
}

/** The per-event results of an ingest answer by index, or null when the body has none. */
function resultsOf(body: unknown): Map<number, Record<string, unknown>> | null {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return null;
  const byIndex = new Map<number, Record<string, unknown>>();
  for (const r of results) {
    if (r && typeof r === "object" && typeof (r as { index?: unknown }).index === "number") byIndex.set((r as { index: number }).index, r);
  }
  return byIndex;
}

function outcomeFrom(p: Pending, result: Record<string, unknown> | undefined, http_status: number): EventOutcome {
  const base = { event_id: p.event_id, event_type: p.event_type, http_status, attempts: p.attempts };
  if (!result || typeof result.status !== "string" || !SERVICE_STATUSES.has(result.status)) {
    return { ...base, status: "failed", errors: [issue("no_result", "the answer has no result for this event")] };
  }
  const outcome: EventOutcome = { ...base, status: result.status as Status };
  if (Array.isArray(result.errors) && result.errors.length) outcome.errors = result.errors as Issue[];
  if (Array.isArray(result.warnings) && result.warnings.length) outcome.warnings = result.warnings as Issue[];
  return outcome;
}

function problemCode(body: unknown, fallback: string): string {
  const code = (body as { code?: unknown } | null)?.code;
  return typeof code === "string" && code ? code : fallback;
}

function problemDetail(body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  return typeof detail === "string" ? detail : "the service refused the request";
}
