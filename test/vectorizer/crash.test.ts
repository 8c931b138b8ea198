import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkDocument } from "../../vectorizer/chunker";
import { EmbeddingServer, fakeEmbedding } from "./helpers/embeddingServer";
import { PgliteServer } from "./helpers/pglite";

// The real CLI in a child process, killed with SIGKILL at seeded random instants and restarted,
// with documents changed between some restarts. Whatever instant the kill hits (probe, schema,
// mid-batch, between store write and checkpoint, during stale deletes), the store must end with
// exactly one correct vector per distinct chunk of the final corpus.

const REPO = resolve(__dirname, "../..");
const CHUNKING = { maxChars: 120, overlapChars: 20 };
const DIMENSION = 8;
const KILLS_REQUIRED = 20;

/** mulberry32: a small seeded PRNG, so a failure can be replayed exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "gpu memory model embedding vector chunk store batch retry cosine index query passage nim iris pgvector tensor cache latency".split(
    " ",
  );

function documentText(random: () => number, sentences: number): string {
  const parts: string[] = [];
  for (let s = 0; s < sentences; s += 1) {
    const length = 6 + Math.floor(random() * 10);
    const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]);
    parts.push(`${words.join(" ")}.`);
    if (random() < 0.2) parts.push("\n\n");
  }
  return parts.join(" ");
}

let pg: PgliteServer;
let server: EmbeddingServer;
let work: string;

beforeAll(async () => {
  pg = await new PgliteServer().start();
  server = await new EmbeddingServer({ dimension: DIMENSION, latencyMs: 30, record: false }).start();
  work = mkdtempSync(join(tmpdir(), "vectorizer-crash-"));
});

afterAll(async () => {
  await server?.stop();
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface ChildResult {
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

function startVectorizer(corpus: string, checkpoint: string): ChildProcess {
  const args = [
    "--import",
    "tsx",
    "vectorizer/cli.ts",
    "ingest",
    corpus,
    "--endpoint",
    server.url,
    "--table",
    "crash_chunks",
    "--checkpoint",
    checkpoint,
    "--batch-size",
    "5",
    "--concurrency",
    "2",
    "--chunk-size",
    String(CHUNKING.maxChars),
    "--chunk-overlap",
    String(CHUNKING.overlapChars),
    "--retry-base-ms",
    "20",
    "--progress-interval-ms",
    "50",
  ];
  return spawn(process.execPath, args, {
    cwd: REPO,
    env: { PATH: process.env.PATH, VECTORIZER_PG_URL: pg.url, NVIDIA_API_KEY: "crash-test-key" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * When to kill: a time after spawn (lands anywhere, start-up and probe included), or a number of
 * 50 ms progress lines (lands while batches are being written), or never.
 */
type KillPlan = { afterMs: number } | { afterProgressLines: number } | null;

/** Runs the CLI; kills it with SIGKILL as planned unless it ended first. */
function runOnce(corpus: string, checkpoint: string, plan: KillPlan): Promise<ChildResult> {
  return new Promise((resolvePromise) => {
    const child = startVectorizer(corpus, checkpoint);
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout!.on("data", (d) => (stdout += d));
    const kill = () => {
      if (!killed && child.exitCode === null && child.signalCode === null) killed = child.kill("SIGKILL");
    };
    child.stderr!.on("data", (d) => {
      stderr += d;
      if (
        plan !== null &&
        "afterProgressLines" in plan &&
        (stderr.match(/ chunks \(/g)?.length ?? 0) >= plan.afterProgressLines
      )
        kill();
    });
    const timer = plan !== null && "afterMs" in plan ? setTimeout(kill, plan.afterMs) : null;
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ killed, code, stdout, stderr });
    });
  });
}

describe("vectorizer crash safety", () => {
  it(`ends with exactly one correct vector per chunk after ${KILLS_REQUIRED}+ kill -9 and restarts`, async () => {
    const random = seededRandom(20261125);
    const corpus = join(work, "corpus");
    mkdirSync(corpus, { recursive: true });
    const documents = new Map<string, string>();
    for (let i = 0; i < 60; i += 1) {
      const name = `doc${String(i).padStart(3, "0")}.${i % 3 === 0 ? "md" : "txt"}`;
      documents.set(name, documentText(random, 30 + Math.floor(random() * 30)));
    }
    const writeAll = () => {
      for (const [name, text] of documents) writeFileSync(join(corpus, name), text);
    };
    writeAll();
    const checkpoint = join(work, "checkpoint.sqlite");

    let killsMidRun = 0;
    let completedRuns = 0;
    for (let attempt = 0; attempt < 60 && killsMidRun < KILLS_REQUIRED; attempt += 1) {
      // Every fourth restart, the corpus changes: shorter, longer and rewritten documents.
      if (attempt % 4 === 3) {
        const names = [...documents.keys()];
        for (let k = 0; k < 3; k += 1) {
          const name = names[Math.floor(random() * names.length)];
          documents.set(name, documentText(random, 5 + Math.floor(random() * 60)));
        }
        writeAll();
      }
      const plan: KillPlan =
        random() < 0.4
          ? { afterMs: 100 + Math.floor(random() * 1400) }
          : { afterProgressLines: 1 + Math.floor(random() * 8) };
      const result = await runOnce(corpus, checkpoint, plan);
      if (result.killed) killsMidRun += 1;
      else {
        expect(result.stderr).not.toContain("error");
        expect(result.code).toBe(0);
        completedRuns += 1;
      }
    }
    expect(killsMidRun).toBeGreaterThanOrEqual(KILLS_REQUIRED);

    // The kills interrupted real work: some vectors were written, some were left to do.
    const [{ n: storedBeforeFinal }] = await pg.query<{ n: string }>("SELECT COUNT(*) AS n FROM crash_chunks");
    expect(Number(storedBeforeFinal)).toBeGreaterThan(0);

    const final = await runOnce(corpus, checkpoint, null);
    expect(final.stderr).not.toContain("error");
    expect(final.code).toBe(0);

    const expected = [...documents.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([name, text]) => [...chunkDocument(name, text, CHUNKING)]);
    const stored = await pg.query<{
      chunk_key: string;
      source_path: string;
      chunk_position: number;
      content_hash: string;
      chunk_text: string;
      embedding: string;
    }>(
      "SELECT chunk_key, source_path, chunk_position, content_hash, chunk_text, embedding::text AS embedding FROM crash_chunks ORDER BY source_path, chunk_position",
    );
    // Exactly one row per distinct chunk, nothing stale, nothing missing.
    expect(stored.map((r) => [r.chunk_key, r.source_path, r.chunk_position, r.content_hash, r.chunk_text])).toEqual(
      expected.map((c) => [c.chunkKey, c.source, c.position, c.contentHash, c.text]),
    );
    // And each vector is the one for its own text (float4 precision in pgvector).
    for (const row of stored) {
      const vector = JSON.parse(row.embedding) as number[];
      const want = fakeEmbedding(row.chunk_text, DIMENSION);
      expect(vector.map((v, i) => Math.abs(v - want[i]) < 1e-5).every(Boolean)).toBe(true);
    }
    // The checkpoint agrees with the store.
    const sqlite = new Database(checkpoint, { readonly: true });
    const recorded = sqlite.prepare("SELECT COUNT(*) AS n FROM chunks").get() as { n: number };
    sqlite.close();
    expect(recorded.n).toBe(expected.length);
    // A last run over the same corpus does nothing.
    const summary = JSON.parse(final.stdout) as { chunks: number };
    expect(summary.chunks).toBe(expected.length);
    const noop = await runOnce(corpus, checkpoint, null);
    expect(JSON.parse(noop.stdout)).toMatchObject({ embedded: 0, alreadyDone: expected.length, staleChunksDeleted: 0 });
    console.log(
      `crash test: ${killsMidRun} kills mid-run, ${completedRuns} runs completed between kills, ${storedBeforeFinal} rows before the last run, ${expected.length} chunks`,
    );
  }, 110_000);
});
