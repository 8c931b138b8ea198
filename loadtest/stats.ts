/**
 * Latency summaries for the load test. Values are recorded in whole microseconds into an HDR histogram
 * (3 significant digits: a reported percentile is within 0.1 % of the true value; values below 2048 µs
 * are exact) and reported in milliseconds. Pure apart from the histogram's own memory.
 */
import { build, Histogram } from "hdr-histogram-js";

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class LatencyRecorder {
  // The pure-JS build: the WebAssembly one needs an async init and gains nothing at these counts.
  private readonly histogram: Histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 };
    const ms = (us: number) => us / 1000;
    return {
      count: h.totalCount,
      meanMs: ms(h.mean),
      p50Ms: ms(h.getValueAtPercentile(50)),
      p90Ms: ms(h.getValueAtPercentile(90)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      maxMs: ms(h.maxValue),
    };
  }
}

export interface LoadReport {
  readonly endpoint: string;
  readonly model: string;
  readonly concurrency: number;
  readonly durationS: number;
  readonly elapsedS: number;
  readonly requests: {
    readonly completed: number;
    readonly failed: number;
    /** In flight when the duration ended: aborted, counted in no latency. */
    readonly cancelled: number;
  };
  readonly errors: Readonly<Record<string, number>>;
  readonly outputTokens: number;
  readonly outputTokensPerS: number;
  readonly requestsPerS: number;
  readonly timeToFirstTokenMs: LatencySummary;
  readonly interTokenLatencyMs: LatencySummary;
  readonly requestLatencyMs: LatencySummary;
}

/** Throughputs over the wall time the run took; 0 when nothing was measured. */
export function perSecond(count: number, elapsedS: number): number {
  return elapsedS > 0 ? count / elapsedS : 0;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

function line(name: string, s: LatencySummary): string {
  const f = (n: number) => round(n, 1).toFixed(1).padStart(9);
  return `${name.padEnd(22)}${f(s.p50Ms)}${f(s.p90Ms)}${f(s.p99Ms)}${f(s.maxMs)}${String(s.count).padStart(9)}`;
}

export function formatReport(r: LoadReport): string {
  const errors = Object.entries(r.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `  ${k}: ${n}`);
  return [
    `${r.endpoint} model ${r.model}, ${r.concurrency} workers, ${round(r.elapsedS, 2)} s`,
    `requests: ${r.requests.completed} completed, ${r.requests.failed} failed, ${r.requests.cancelled} cancelled at the end`,
    `requests/s: ${round(r.requestsPerS, 2)}   output tokens: ${r.outputTokens}   output tokens/s: ${round(r.outputTokensPerS, 1)}`,
    `${"latency (ms)".padEnd(22)}${"p50".padStart(9)}${"p90".padStart(9)}${"p99".padStart(9)}${"max".padStart(9)}${"count".padStart(9)}`,
    line("time to first token", r.timeToFirstTokenMs),
    line("inter-token latency", r.interTokenLatencyMs),
    line("request latency", r.requestLatencyMs),
    ...(errors.length > 0 ? ["errors:", ...errors] : []),
    "",
  ].join("\n");
}
