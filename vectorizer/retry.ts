/** How the embedding client retries transient failures. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  maxRetries: number;
  /** First backoff; doubles each retry. */
  baseDelayMs: number;
  /** Upper bound of one wait, Retry-After included, so a hostile header cannot park the run for hours. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 6, baseDelayMs: 500, maxDelayMs: 60_000 };

/**
 * Wait before retry number `attempt` (0-based): "full jitter" exponential backoff, a uniform draw in
 * [cap/2, cap] where cap = base × 2^attempt. Half the window is kept so that retries of many workers
 * spread out without ever retrying immediately.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds to
 * wait, or null when the header is absent or unusable.
 */
export function parseRetryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  if (header === null || header === undefined) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/** The server's own wait wins when it gives one (it knows its rate limit), bounded by maxDelayMs. */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | null,
  policy: RetryPolicy,
  random?: () => number,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, policy.maxDelayMs);
  return backoffDelayMs(attempt, policy, random);
}

/** HTTP statuses worth retrying: rate limiting, and server-side failures that are usually transient. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}
