// When to try a batch again: exponential backoff with jitter, never earlier
// than the server's Retry-After.

export interface BackoffOptions {
  /** First delay before jitter, in ms. */
  baseMs: number;
  /** The longest backoff of our own. */
  maxMs: number;
  /** The longest Retry-After obeyed (a longer one is cut to this). */
  retryAfterMaxMs: number;
}

/** Whether an answer with this status is worth sending again (same event_ids make it safe). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Retry-After in ms: delta seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * The wait before attempt `retry` (1 = the first retry): base·2^(retry−1),
 * capped, with "equal jitter" (between half and all of it, so clients that
 * failed together do not come back together). A Retry-After is obeyed in full
 * (up to `retryAfterMaxMs`) and jittered too, up to a quarter later: senders
 * told the same time must not all return at the same instant (nor in step
 * with a fault that recurs at that period).
 */
export function backoffMs(retry: number, retryAfter: number | null, options: BackoffOptions, random: () => number): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  if (retryAfter === null) return jittered;
  const after = Math.min(retryAfter, options.retryAfterMaxMs);
  return Math.max(jittered, after + random() * (after / 4));
}
