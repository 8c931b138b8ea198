/**
 * Vectorizer throughput and memory benchmark (`npm run bench:vectorizer [-- --json]`).
 *
 * A local embeddings server speaking the OpenAI wire format answers each request after a fixed
 * 100 ms, whatever its size, so its capacity is concurrency × batch ÷ latency chunks per second.
 * The vectorizer pipeline runs in a child process (corpus reader, chunker, SQLite checkpoint,
 * embedding client with 1024-dimensional float JSON answers) so its peak RSS is its own. The store
 * is a discarding one: this measures the pipeline against the embedding service; the store's cost
 * depends on the database and is not part of the target; one informational run of the real CLI
 * with the pgvector store (PGlite) shows it (`pgvectorRun`).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Checkpoint } from "../vectorizer/checkpoint";
import { EmbeddingClient } from "../vectorizer/embeddings";
import { runIngest } from "../vectorizer/ingest";
import { Progress } from "../vectorizer/progress";
import { DEFAULT_RETRY_POLICY } from "../vectorizer/retry";
import { SearchHit, Store, StoredChunk } from "../vectorizer/stores/store";
import { EmbeddingServer } from "../test/vectorizer/helpers/embeddingServer";
import { PgliteServer } from "../test/vectorizer/helpers/pglite";

const LATENCY_MS = 100;
const BATCH = 50;
const DIMENSION = 1024;
const RECORDS_PER_FILE = 1000;
const RSS_CHUNKS = 200_000;
/** Each throughput run lasts about this long at full capacity. */
const RUN_SECONDS = 10;

/** Counts rows and forgets them: memory stays flat, the pipeline is what is measured. */
class DiscardStore implements Store {
  readonly identity = "discard:benchmark";
  rows = 0;
  private dimension: number | null = null;
  async existingDimension() {
    return this.dimension;
  }
  async ensureSchema(dimension: number) {
    this.dimension = dimension;
  }
  async upsert(rows: readonly StoredChunk[]) {
    this.rows += rows.length;
  }
  async deleteFromPosition() {
    return 0;
  }
  async count() {
    return 0;
  }
  async search(): Promise<SearchHit[]> {
    return [];
  }
  async close() {}
}

interface ChildReport {
  embedded: number;
  chunksPerSecond: number;
  peakRssMiB: number;
}

/** Child mode: one ingest over `corpus`, then one JSON line on stdout. */
async function child(corpus: string, checkpointPath: string, endpoint: string, concurrency: number): Promise<void> {
  const progress = new Progress();
  const checkpoint = new Checkpoint(checkpointPath);
  const summary = await runIngest(
    {
      corpusDir: corpus,
      batchSize: BATCH,
      concurrency,
      chunking: { maxChars: 200, overlapChars: 0 },
      model: "nvidia/nv-embedqa-e5-v5",
      dimension: DIMENSION,
    },
    {
      store: new DiscardStore(),
      checkpoint,
      progress,
      embedder: new EmbeddingClient({
        endpoint,
        model: "nvidia/nv-embedqa-e5-v5",
        timeoutMs: 30_000,
        retry: DEFAULT_RETRY_POLICY,
      }),
      report: (line) => process.stderr.write(`${line}\n`),
    },
  );
  const finished = Date.now();
  checkpoint.close();
  const writingSeconds = (finished - (progress.snapshot().writingStartedMs ?? finished)) / 1000;
  const report: ChildReport = {
    embedded: summary.embedded,
    chunksPerSecond: summary.embedded / writingSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** jsonl files of one-chunk records (~150 characters each), written in a temporary directory. */
function writeCorpus(dir: string, chunks: number): void {
  mkdirSync(dir, { recursive: true });
  const words = "gpu memory model embedding vector chunk store batch retry cosine index query passage".split(" ");
  for (let file = 0; file * RECORDS_PER_FILE < chunks; file += 1) {
    const lines: string[] = [];
    for (let r = 0; r < RECORDS_PER_FILE && file * RECORDS_PER_FILE + r < chunks; r += 1) {
      const n = file * RECORDS_PER_FILE + r;
      const text = `record ${n}: ${Array.from({ length: 18 }, (_, i) => words[(n * 7 + i * 3) % words.length]).join(" ")}.`;
      lines.push(JSON.stringify({ id: `r${n}`, text }));
    }
    writeFileSync(join(dir, `part-${String(file).padStart(4, "0")}.jsonl`), `${lines.join("\n")}\n`);
  }
}

/**
 * For information, not the target: the real CLI with the pgvector store, PGlite (single-threaded
 * WASM PostgreSQL in this process, HNSW index maintained) over the wire. Shows what a store costs.
 */
async function runPgvector(
  work: string,
  endpoint: string,
): Promise<{ store: string; concurrency: number; chunks: number; chunksPerSecond: number }> {
  const chunks = 3000;
  const concurrency = 4;
  const corpus = join(work, "corpus-pgvector");
  writeCorpus(corpus, chunks);
  const pg = await new PgliteServer().start();
  try {
    const args = [
      "--import",
      "tsx",
      "vectorizer/cli.ts",
      "ingest",
      corpus,
      "--endpoint",
      endpoint,
      "--checkpoint",
      join(work, "pgvector.sqlite"),
    ];
    args.push(
      "--concurrency",
      String(concurrency),
      "--chunk-size",
      "200",
      "--chunk-overlap",
      "0",
      "--progress-interval-ms",
      "0",
    );
    const summary = await new Promise<{ embedded: number; elapsedSeconds: number }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: resolve(__dirname, ".."),
        env: { PATH: process.env.PATH, VECTORIZER_PG_URL: pg.url },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.on("close", (code) =>
        code === 0 ? resolvePromise(JSON.parse(stdout)) : reject(new Error(`pgvector run exited with ${code}`)),
      );
    });
    if (summary.embedded !== chunks) throw new Error(`pgvector run embedded ${summary.embedded} of ${chunks} chunks`);
    return {
      store: "pgvector (PGlite over the pg wire)",
      concurrency,
      chunks,
      chunksPerSecond: Math.round((chunks / summary.elapsedSeconds) * 10) / 10,
    };
  } finally {
    await pg.stop();
  }
}

function runChild(corpus: string, checkpoint: string, endpoint: string, concurrency: number): Promise<ChildReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", __filename, "--child", corpus, checkpoint, endpoint, String(concurrency)],
      {
        cwd: resolve(__dirname, ".."),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("close", (code) =>
      code === 0
        ? resolvePromise(JSON.parse(stdout) as ChildReport)
        : reject(new Error(`benchmark child exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const work = mkdtempSync(join(tmpdir(), "vectorizer-bench-"));
  const server = await new EmbeddingServer({
    dimension: DIMENSION,
    latencyMs: LATENCY_MS,
    record: false,
    preparedResponses: true,
  }).start();
  try {
    const runs: { concurrency: number; chunksPerSecond: number; capacityFraction: number }[] = [];
    for (const concurrency of [1, 4, 8]) {
      const capacity = (concurrency * BATCH) / (LATENCY_MS / 1000);
      const chunks = Math.round(capacity * RUN_SECONDS);
      const corpus = join(work, `corpus-c${concurrency}`);
      writeCorpus(corpus, chunks);
      const report = await runChild(corpus, join(work, `c${concurrency}.sqlite`), server.url, concurrency);
      if (report.embedded !== chunks)
        throw new Error(`run at concurrency ${concurrency} embedded ${report.embedded} of ${chunks} chunks`);
      runs.push({
        concurrency,
        chunksPerSecond: Math.round(report.chunksPerSecond * 10) / 10,
        capacityFraction: Math.round((report.chunksPerSecond / capacity) * 1000) / 1000,
      });
      if (!json) {
        process.stderr.write(
          `concurrency ${concurrency}: ${report.chunksPerSecond.toFixed(1)} chunks/s = ${((100 * report.chunksPerSecond) / capacity).toFixed(1)}% of ${capacity} chunks/s\n`,
        );
      }
    }
    const bigCorpus = join(work, "corpus-rss");
    writeCorpus(bigCorpus, RSS_CHUNKS);
    const big = await runChild(bigCorpus, join(work, "rss.sqlite"), server.url, 8);
    if (big.embedded !== RSS_CHUNKS) throw new Error(`memory run embedded ${big.embedded} of ${RSS_CHUNKS} chunks`);
    const pgvectorRun = await runPgvector(work, server.url);
    const result = { runs, peakRssMiB: Math.round(big.peakRssMiB * 10) / 10, chunks: RSS_CHUNKS, pgvectorRun };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        `${runs.map((r) => `concurrency ${r.concurrency}: ${r.chunksPerSecond} chunks/s (${(r.capacityFraction * 100).toFixed(1)}% of capacity)`).join("\n")}\n` +
          `peak RSS ${result.peakRssMiB} MiB for ${RSS_CHUNKS} chunks (concurrency 8, ${big.chunksPerSecond.toFixed(0)} chunks/s)\n` +
          `for information, real CLI with ${pgvectorRun.store}, concurrency ${pgvectorRun.concurrency}: ${pgvectorRun.chunksPerSecond} chunks/s (store-bound; whole run incl. scan)\n`,
      );
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  const [corpus, checkpoint, endpoint, concurrency] = process.argv.slice(3);
  child(corpus, checkpoint, endpoint, Number(concurrency)).catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    process.stderr.write(`bench:vectorizer: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
