import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Progress, formatProgressLine, renderMetrics, startMetricsServer } from "../../vectorizer/progress";

function clock(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("progress", () => {
  it("shows done/total, rate and ETA", () => {
    const c = clock(1_700_000_000_000);
    const p = new Progress(c.now);
    p.scanned(1000, 200);
    p.startWriting();
    c.advance(4000);
    p.written(400);
    expect(formatProgressLine(p.snapshot(), c.now())).toBe(
      "vectorizer: 600/1000 chunks (60.0%), 100.0 chunks/s, ETA 4s",
    );
    c.advance(1000);
    p.written(400);
    expect(formatProgressLine(p.snapshot(), c.now())).toBe(
      "vectorizer: 1000/1000 chunks (100.0%), 160.0 chunks/s, ETA 0s",
    );
  });

  it("says ETA ? before the first batch and formats long durations", () => {
    const c = clock(0);
    const p = new Progress(c.now);
    p.scanned(500_000, 0);
    p.startWriting();
    expect(formatProgressLine(p.snapshot(), c.now())).toBe("vectorizer: 0/500000 chunks (0.0%), 0.0 chunks/s, ETA ?");
    c.advance(10_000);
    p.written(1000);
    expect(formatProgressLine(p.snapshot(), c.now())).toBe(
      "vectorizer: 1000/500000 chunks (0.2%), 100.0 chunks/s, ETA 1h23m",
    );
  });
});

describe("Prometheus metrics", () => {
  const c = clock(1_764_061_200_000);
  const p = new Progress(c.now);
  p.scanned(120, 20);
  p.startWriting();
  c.advance(2500);
  p.written(50);
  p.error("retry");
  p.error("retry");
  p.error("malformed");
  const text = renderMetrics(p.snapshot());

  it("renders the exact names the stalled-vectorizer alert uses", () => {
    expect(text).toBe(`# HELP gpu_fleet_vectorizer_chunks_total Chunks found in the corpus by this run's scan.
# TYPE gpu_fleet_vectorizer_chunks_total counter
gpu_fleet_vectorizer_chunks_total 120
# HELP gpu_fleet_vectorizer_chunks_done_total Chunks of the corpus whose vectors are in the store (present at start plus written by this run).
# TYPE gpu_fleet_vectorizer_chunks_done_total counter
gpu_fleet_vectorizer_chunks_done_total 70
# HELP gpu_fleet_vectorizer_chunks_embedded_total Chunks embedded and written to the store by this process.
# TYPE gpu_fleet_vectorizer_chunks_embedded_total counter
gpu_fleet_vectorizer_chunks_embedded_total 50
# HELP gpu_fleet_vectorizer_errors_total Errors by kind: retry (an embedding request was retried), malformed (input skipped), fatal (the run stopped).
# TYPE gpu_fleet_vectorizer_errors_total counter
gpu_fleet_vectorizer_errors_total{kind="fatal"} 0
gpu_fleet_vectorizer_errors_total{kind="malformed"} 1
gpu_fleet_vectorizer_errors_total{kind="retry"} 2
# HELP gpu_fleet_vectorizer_last_progress_timestamp_seconds Unix time of the run's start or of the last batch written to the store.
# TYPE gpu_fleet_vectorizer_last_progress_timestamp_seconds gauge
gpu_fleet_vectorizer_last_progress_timestamp_seconds 1764061202.500
# HELP gpu_fleet_vectorizer_running 1 while the run is ingesting, 0 once it finished or stopped.
# TYPE gpu_fleet_vectorizer_running gauge
gpu_fleet_vectorizer_running 1
`);
  });

  const promtool = spawnSync("promtool", ["--version"]).status === 0;
  it.skipIf(!promtool)("passes promtool check metrics", () => {
    expect(execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })).toBe("");
  });

  it("is served on /metrics, and nothing else", async () => {
    const { server, port } = await startMetricsServer(p, "127.0.0.1", 0);
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(await ok.text()).toBe(text);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
