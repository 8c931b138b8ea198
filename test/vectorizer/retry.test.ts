import { describe, expect, it } from "vitest";
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs, retryDelayMs } from "../../vectorizer/retry";

const policy = { maxRetries: 6, baseDelayMs: 500, maxDelayMs: 60_000 };

describe("backoff", () => {
  it("doubles the window each attempt and draws in its upper half", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, policy, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, policy, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(1500);
  });

  it("never exceeds the cap", () => {
    expect(backoffDelayMs(20, policy, () => 1)).toBe(60_000);
  });

  it("prefers Retry-After, bounded by the cap", () => {
    expect(retryDelayMs(0, 3000, policy, () => 0)).toBe(3000);
    expect(retryDelayMs(0, 3_600_000, policy, () => 0)).toBe(60_000);
    expect(retryDelayMs(1, null, policy, () => 0)).toBe(500);
  });
});

describe("parseRetryAfterMs", () => {
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfterMs("2")).toBe(2000);
    expect(parseRetryAfterMs(" 0 ")).toBe(0);
    expect(parseRetryAfterMs("1.5")).toBe(1500);
    const now = Date.parse("Wed, 25 Nov 2026 09:00:00 GMT");
    expect(parseRetryAfterMs("Wed, 25 Nov 2026 09:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfterMs("Wed, 25 Nov 2026 08:00:00 GMT", now)).toBe(0);
  });

  it("ignores absent or unusable values", () => {
    expect(parseRetryAfterMs(null)).toBeNull();
    expect(parseRetryAfterMs(undefined)).toBeNull();
    expect(parseRetryAfterMs("soon")).toBeNull();
  });
});

describe("isRetryableStatus", () => {
  it("retries rate limits and server errors only", () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 422, 501].some(isRetryableStatus)).toBe(false);
  });
});
