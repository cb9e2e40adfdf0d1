// The client's public types: what `track` accepts (from the generated
// catalog types) and what it answers per event.
import type { EventHasRequiredProperties, EventProperties, EventRequirements, EventType } from "./generated/catalog";

export type { EventType } from "./generated/catalog";

/** The top-level fields every event may carry (docs/api.md, "Request body"). */
export interface CommonFields {
  /** Idempotency key; the client makes one when absent. */
  event_id?: string;
  /** RFC 3339; the client sets the time of `track` when absent. */
  occurred_at?: string;
  /** Kept only when it passes the trace rule (`trace_…`, ≤ 128 visible ASCII). */
  trace_id?: string | null;
  service?: string;
  source?: string;
  tenant_id?: string;
  job_id?: string;
  user_id?: string;
  session_id?: string;
  anonymous_id?: string;
  /** Raw address: the service fingerprints it and never stores it. */
  email?: string;
  success?: boolean;
  error_code?: string;
  error_message?: string;
}

type PropertiesField<T extends EventType> = EventHasRequiredProperties[T] extends true
  ? { properties: EventProperties[T] }
  : { properties?: EventProperties[T] };

/** The fields of one event of type `T`: common fields, its required identifiers, its properties. */
export type TrackFields<T extends EventType> = CommonFields & EventRequirements[T] & PropertiesField<T>;

/** `track(type)` may omit the fields when the type requires none. */
export type TrackArgs<T extends EventType> = {} extends TrackFields<T> ? [fields?: TrackFields<T>] : [fields: TrackFields<T>];

/** One event of any type, as `trackBatch` takes it. */
export type TrackEvent = { [T in EventType]: { event_type: T } & TrackFields<T> }[EventType];

/** One finding about one event (the service's `Issue`, or the client's own). */
export interface Issue {
  code: string;
  field: string;
  message: string;
}

/**
 * The service's per-event statuses, plus `failed`: the client gave up on the
 * event (a 4xx for the whole request, retries exhausted, the client closed,
 * its buffer full, an event it could not serialize).
 */
export type Status =
  | "accepted"
  | "duplicate"
  | "queued"
  | "sampled_out"
  | "suppressed"
  | "rejected"
  | "quota_limited"
  | "failed";

export interface EventOutcome {
  event_id: string;
  event_type: string;
  status: Status;
  errors?: Issue[];
  warnings?: Issue[];
  /** HTTP status of the last answer, when there was one. */
  http_status?: number;
  /** Requests that carried this event (0 when it never left the client). */
  attempts: number;
}

/** Statuses after which the service holds (or deliberately dropped) the event: nothing to resend. */
export const SETTLED_BY_SERVICE: readonly Status[] = ["accepted", "duplicate", "queued", "sampled_out", "suppressed"];

export function delivered(outcome: EventOutcome): boolean {
  return SETTLED_BY_SERVICE.includes(outcome.status);
}

export interface Logger {
  warn(message: string): void;
}

export interface FunnelClientOptions {
  /** The worker's base URL, e.g. `https://funnel.example.com`. */
  url: string;
  /** `INGEST_HMAC_SECRET`: requests are signed (default source `zuplo`). */
  secret?: string;
  /** A bearer key of the `ingest` role (default source `cp`). Used when no `secret`. */
  apiKey?: string;
  /** Default `/internal/funnel-events/ingest`. */
  path?: string;
  /** Fields added to every event unless it sets them (e.g. `{ source: "cp" }`). */
  defaults?: CommonFields;
  /** Events per request, at most 500 (the service's limit). Default 500. */
  maxBatchEvents?: number;
  /** Serialized bytes per request, at most 1 MiB (the service's limit). Default 1 MiB. */
  maxBatchBytes?: number;
  /** A partial batch is sent this long after its first event; 0 sends only on size or `flush`. Default 1000. */
  flushIntervalMs?: number;
  /** Retries of one batch after 5xx, 429 or a network error. Default 6. */
  maxRetries?: number;
  /** First backoff, ms. Default 250. */
  retryBaseMs?: number;
  /** Longest backoff of the client's own, ms. Default 30000. */
  retryMaxMs?: number;
  /** Longest Retry-After obeyed, ms (a server's Retry-After is otherwise always waited out). Default 60000. */
  retryAfterMaxMs?: number;
  /** Per request, ms. Default 15000. */
  timeoutMs?: number;
  /** Requests in flight at once. Default 1. */
  concurrency?: number;
  /** Events held (buffered or in flight) before `track` answers `failed`/`buffer_full`. Default 20000. */
  maxBufferedEvents?: number;
  /** Called with every batch's outcomes. */
  onResult?: (outcomes: EventOutcome[]) => void;
  /** Where events that were not delivered are reported (types and codes only, never contents). Default console; null for silence. */
  logger?: Logger | null;
  /** Seams for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}
