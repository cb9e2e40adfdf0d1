// funnel's sender: `new FunnelClient({url, secret})`, then `track`, `trackBatch`, `flush`, `close`.
export { DEFAULT_PATH, FunnelClient, MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from "./client";
export { backoffMs, isRetryableStatus, retryAfterMs } from "./retry";
export { acceptTraceId, importSigningKey, SIGNATURE_HEADER, signatureHeader, TRACE_HEADER } from "./signing";
export { EVENT_SERVICES, EVENT_TYPES } from "./generated/catalog";
export { delivered, SETTLED_BY_SERVICE } from "./types";
export type {
  CommonFields, EventOutcome, EventType, FunnelClientOptions, Issue, Logger, Status, TrackArgs, TrackEvent, TrackFields,
} from "./types";
