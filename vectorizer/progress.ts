import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";

export type ErrorKind = "retry" | "malformed" | "fatal";

/** Everything the progress line and the /metrics page show, at one instant. */
export interface ProgressSnapshot {
  /** Chunks in the corpus, found by the scan. */
  chunksTotal: number;
  /** Chunks of the corpus whose vectors are in the store: already there at start, plus written since. */
  chunksDone: number;
  /** Chunks embedded and written by this process. */
  chunksEmbedded: number;
  errors: Record<ErrorKind, number>;
  /** Unix seconds of the start of the run or of the last batch written. */
  lastProgressSeconds: number;
  running: boolean;
  /** Unix milliseconds at which this process started writing (after scan and probe). */
  writingStartedMs: number | null;
}

export class Progress {
  private snapshotState: ProgressSnapshot;

  constructor(private readonly now: () => number = Date.now) {
    this.snapshotState = {
      chunksTotal: 0,
      chunksDone: 0,
      chunksEmbedded: 0,
      errors: { retry: 0, malformed: 0, fatal: 0 },
      lastProgressSeconds: now() / 1000,
      running: true,
      writingStartedMs: null,
    };
  }

  snapshot(): ProgressSnapshot {
    const s = this.snapshotState;
    return { ...s, errors: { ...s.errors } };
  }

  scanned(chunks: number, alreadyDone: number): void {
    this.snapshotState.chunksTotal += chunks;
    this.snapshotState.chunksDone += alreadyDone;
  }

  startWriting(): void {
    this.snapshotState.writingStartedMs = this.now();
    this.touch();
  }

  written(chunks: number): void {
    this.snapshotState.chunksDone += chunks;
    this.snapshotState.chunksEmbedded += chunks;
    this.touch();
  }

  error(kind: ErrorKind): void {
    this.snapshotState.errors[kind] += 1;
  }

  finish(): void {
    this.snapshotState.running = false;
  }

  private touch(): void {
    this.snapshotState.lastProgressSeconds = this.now() / 1000;
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "vectorizer: 1200/5000 chunks (24.0%), 350.2 chunks/s, ETA 11s". Pure. */
export function formatProgressLine(s: ProgressSnapshot, nowMs: number): string {
  const percent = s.chunksTotal === 0 ? 100 : (100 * s.chunksDone) / s.chunksTotal;
  const elapsed = s.writingStartedMs === null ? 0 : (nowMs - s.writingStartedMs) / 1000;
  const rate = elapsed > 0 ? s.chunksEmbedded / elapsed : 0;
  const remaining = s.chunksTotal - s.chunksDone;
  const eta = remaining === 0 ? "0s" : rate > 0 ? formatDuration(remaining / rate) : "?";
  return `vectorizer: ${s.chunksDone}/${s.chunksTotal} chunks (${percent.toFixed(1)}%), ${rate.toFixed(1)} chunks/s, ETA ${eta}`;
}

/** Metric names are a contract: the "vectorizer stalled" alert is written against them. */
export const METRIC_NAMES = {
  chunksTotal: "gpu_fleet_vectorizer_chunks_total",
  chunksDone: "gpu_fleet_vectorizer_chunks_done_total",
  chunksEmbedded: "gpu_fleet_vectorizer_chunks_embedded_total",
  errors: "gpu_fleet_vectorizer_errors_total",
  lastProgress: "gpu_fleet_vectorizer_last_progress_timestamp_seconds",
  running: "gpu_fleet_vectorizer_running",
} as const;

/** Prometheus text exposition format 0.0.4. Pure. */
export function renderMetrics(s: ProgressSnapshot): string {
  const m = METRIC_NAMES;
  const lines = [
    `# HELP ${m.chunksTotal} Chunks found in the corpus by this run's scan.`,
    `# TYPE ${m.chunksTotal} counter`,
    `${m.chunksTotal} ${s.chunksTotal}`,
    `# HELP ${m.chunksDone} Chunks of the corpus whose vectors are in the store (present at start plus written by this run).`,
    `# TYPE ${m.chunksDone} counter`,
    `${m.chunksDone} ${s.chunksDone}`,
    `# HELP ${m.chunksEmbedded} Chunks embedded and written to the store by this process.`,
    `# TYPE ${m.chunksEmbedded} counter`,
    `${m.chunksEmbedded} ${s.chunksEmbedded}`,
    `# HELP ${m.errors} Errors by kind: retry (an embedding request was retried), malformed (input skipped), fatal (the run stopped).`,
    `# TYPE ${m.errors} counter`,
    ...(["fatal", "malformed", "retry"] as const).map((kind) => `${m.errors}{kind="${kind}"} ${s.errors[kind]}`),
    `# HELP ${m.lastProgress} Unix time of the run's start or of the last batch written to the store.`,
    `# TYPE ${m.lastProgress} gauge`,
    `${m.lastProgress} ${s.lastProgressSeconds.toFixed(3)}`,
    `# HELP ${m.running} 1 while the run is ingesting, 0 once it finished or stopped.`,
    `# TYPE ${m.running} gauge`,
    `${m.running} ${s.running ? 1 : 0}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** Serves GET /metrics; everything else is 404. Returns the server and the port it listens on. */
export async function startMetricsServer(
  progress: Progress,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.method === "GET" && (request.url === "/metrics" || request.url?.startsWith("/metrics?"))) {
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      response.end(renderMetrics(progress.snapshot()));
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  // Never keep the process alive just for the metrics page.
  server.unref();
  return { server, port: (server.address() as AddressInfo).port };
}
