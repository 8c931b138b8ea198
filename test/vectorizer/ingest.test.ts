import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkDocument } from "../../vectorizer/chunker";
import { runCli } from "../../vectorizer/cli";
import { EmbeddingServer, Fault } from "./helpers/embeddingServer";
import { PgliteServer } from "./helpers/pglite";

// End to end: the real CLI entry point, real pgvector (PGlite) over the PostgreSQL wire protocol
// through `pg`, and an embeddings server speaking the OpenAI wire format.

const API_KEY = "nvapi-test-key-0123456789";
const CHUNKING = ["--chunk-size", "60", "--chunk-overlap", "10"];
const chunkingOptions = { maxChars: 60, overlapChars: 10 };

let pg: PgliteServer;
let work: string;
let tableNumber = 0;

beforeAll(async () => {
  pg = await new PgliteServer().start();
  work = mkdtempSync(join(tmpdir(), "vectorizer-e2e-"));
});

afterAll(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  summary: Record<string, unknown> | null;
}

/** A fresh table, checkpoint and corpus per test, on the shared database. */
function setup(files: Record<string, string | Buffer>) {
  tableNumber += 1;
  const table = `chunks_${tableNumber}`;
  const dir = join(work, `case${tableNumber}`);
  const corpus = join(dir, "corpus");
  mkdirSync(corpus, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeCorpusFile(corpus, name, content);
  const checkpoint = join(dir, "checkpoint.sqlite");
  return { table, corpus, checkpoint };
}

function writeCorpusFile(corpus: string, name: string, content: string | Buffer): void {
  mkdirSync(join(corpus, name, ".."), { recursive: true });
  writeFileSync(join(corpus, name), content);
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    args,
    { VECTORIZER_PG_URL: pg.url, NVIDIA_API_KEY: API_KEY, ...env },
    {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    },
  );
  let summary: Record<string, unknown> | null = null;
  try {
    summary = JSON.parse(stdout);
  } catch {
    summary = null;
  }
  return { code, stdout, stderr, summary };
}

function ingestArgs(
  c: { table: string; corpus: string; checkpoint: string },
  server: EmbeddingServer,
  extra: string[] = [],
): string[] {
  return [
    "ingest",
    c.corpus,
    "--endpoint",
    server.url,
    "--table",
    c.table,
    "--checkpoint",
    c.checkpoint,
    "--progress-interval-ms",
    "0",
    "--retry-base-ms",
    "10",
    ...CHUNKING,
    ...extra,
  ];
}

async function rows(
  table: string,
): Promise<{ source_path: string; chunk_position: number; chunk_text: string; content_hash: string }[]> {
  return pg.query(
    `SELECT source_path, chunk_position, chunk_text, content_hash FROM ${table} ORDER BY source_path, chunk_position`,
  );
}

async function tableExists(table: string): Promise<boolean> {
  const [row] = await pg.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [table]);
  return row.exists;
}

function expectedChunks(source: string, text: string) {
  return [...chunkDocument(source, text, chunkingOptions)].map((c) => ({
    source_path: c.source,
    chunk_position: c.position,
    chunk_text: c.text,
    content_hash: c.contentHash,
  }));
}

const GUIDE =
  "NIM serves models over an OpenAI-compatible API. Embeddings come from nv-embedqa-e5-v5. Vectors are stored in pgvector or IRIS.";
const NOTES = "# Notes\n\nThe A10G has 24 GB of memory.\n\nLlama 3.1 8B needs a reduced context on one A10G.";
const RECORDS = [
  JSON.stringify({ id: "faq-1", text: "How do I resume an interrupted run? Run the same command again." }),
  "{not json",
  JSON.stringify({ id: "faq-2", title: "no text field" }),
  JSON.stringify({ text: "A record without an id is named by its line number." }),
  "",
].join("\n");

function corpusFiles() {
  return {
    "guide.txt": GUIDE,
    "sub/notes.md": NOTES,
    "faq.jsonl": RECORDS,
    "binary.txt": Buffer.from([0xff, 0xfe, 0x00, 0x41]),
    "image.png": "ignored",
  };
}

function allExpectedChunks() {
  return [
    ...expectedChunks("faq.jsonl#L4", "A record without an id is named by its line number."),
    ...expectedChunks("faq.jsonl#faq-1", "How do I resume an interrupted run? Run the same command again."),
    ...expectedChunks("guide.txt", GUIDE),
    ...expectedChunks("sub/notes.md", NOTES),
  ];
}

describe("vectorizer ingest (pgvector through pg, PGlite)", () => {
  it("keeps a document with a NUL byte (in .txt and in a jsonl text), without it, and counts it as cleaned", async () => {
    const server = await new EmbeddingServer({ dimension: 16, apiKey: API_KEY }).start();
    try {
      const c = setup({
        "nul.txt": Buffer.from("abc\0def", "utf8"),
        "records.jsonl": '{"id":"r1","text":"ghi\\u0000jkl"}\n',
        "plain.txt": "no control characters here",
      });
      const run = await cli(ingestArgs(c, server));
      expect(run.code).toBe(0);
      expect(await rows(c.table)).toEqual([
        ...expectedChunks("nul.txt", "abcdef"),
        ...expectedChunks("plain.txt", "no control characters here"),
        ...expectedChunks("records.jsonl#r1", "ghijkl"),
      ]);
      expect(run.summary).toMatchObject({ documents: 3, malformed: 0, cleaned: 2, embedded: 3 });
      expect(run.stderr.split("\n").filter((l) => l.includes("cleaned"))).toEqual([
        "vectorizer: cleaned nul.txt: removed 1 control character(s) such as NUL",
        "vectorizer: cleaned records.jsonl#r1: removed 1 control character(s) such as NUL",
      ]);
    } finally {
      await server.stop();
    }
  });

  it("embeds .txt, .md and .jsonl documents, reports malformed input and goes on", async () => {
    const server = await new EmbeddingServer({ dimension: 16, apiKey: API_KEY }).start();
    try {
      const c = setup(corpusFiles());
      const run = await cli(ingestArgs(c, server, ["--batch-size", "3", "--concurrency", "2"]));
      expect(run.code).toBe(0);
      const expected = allExpectedChunks();
      expect(await rows(c.table)).toEqual(expected);
      expect(run.summary).toMatchObject({
        documents: 4,
        chunks: expected.length,
        embedded: expected.length,
        alreadyDone: 0,
        staleChunksDeleted: 0,
        documentsRemoved: 0,
        malformed: 3,
        retries: 0,
        dimension: 16,
        store: `pgvector:127.0.0.1:${pg.port}/postgres/${c.table}`,
      });
      expect(run.stderr.split("\n").filter((l) => l.includes("skipped"))).toEqual([
        "vectorizer: skipped binary.txt: not valid UTF-8 text",
        "vectorizer: skipped faq.jsonl:2: invalid JSON",
        'vectorizer: skipped faq.jsonl:3: no "text" string field',
      ]);
      expect(run.stderr).toContain(`vectorizer: ${expected.length}/${expected.length} chunks (100.0%)`);
      // Wire format: probe first, then batches of at most 3 passages, all with the key as bearer token.
      expect(server.requests[0].body).toEqual({
        model: "nvidia/nv-embedqa-e5-v5",
        input: ["dimension probe"],
        input_type: "passage",
        encoding_format: "float",
      });
      const batches = server.requests.slice(1).map((r) => r.body.input.length);
      expect(batches.reduce((a, b) => a + b, 0)).toBe(expected.length);
      expect(Math.max(...batches)).toBe(3);
      expect(
        server.requests.every((r) => r.authorization === `Bearer ${API_KEY}` && r.body.input_type === "passage"),
      ).toBe(true);
      expect(run.stderr + run.stdout).not.toContain(API_KEY);
    } finally {
      await server.stop();
    }
  });

  it("keeps secrets out of the checkpoint files and the output", async () => {
    const server = await new EmbeddingServer({ dimension: 16, apiKey: API_KEY }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const withPassword = pg.url.replace("postgres@", "postgres:pg-secret-hunter2@");
      const run = await cli(ingestArgs(c, server), { VECTORIZER_PG_URL: withPassword });
      expect(run.code).toBe(0);
      expect(run.summary?.store).toBe(`pgvector:127.0.0.1:${pg.port}/postgres/${c.table}`);
      const { readdirSync, readFileSync } = await import("node:fs");
      const dir = join(c.checkpoint, "..");
      const files = readdirSync(dir).filter((f) => f.startsWith("checkpoint.sqlite"));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const bytes = readFileSync(join(dir, file)).toString("latin1");
        expect(bytes).not.toContain("pg-secret-hunter2");
        expect(bytes).not.toContain(API_KEY);
      }
      expect(run.stdout + run.stderr).not.toMatch(/pg-secret-hunter2|nvapi-test-key/);
    } finally {
      await server.stop();
    }
  });

  it("treats an unchanged corpus as a no-op: no request, no write", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup(corpusFiles());
      expect((await cli(ingestArgs(c, server))).code).toBe(0);
      const before = await pg.query<{ updated_at: Date }>(`SELECT max(updated_at) AS updated_at FROM ${c.table}`);
      const requestsAfterFirst = server.requestCount;
      const again = await cli(ingestArgs(c, server));
      expect(again.code).toBe(0);
      expect(server.requestCount).toBe(requestsAfterFirst);
      expect(again.summary).toMatchObject({
        documents: 4,
        chunks: allExpectedChunks().length,
        embedded: 0,
        alreadyDone: allExpectedChunks().length,
        staleChunksDeleted: 0,
      });
      expect(await pg.query(`SELECT max(updated_at) AS updated_at FROM ${c.table}`)).toEqual(before);
    } finally {
      await server.stop();
    }
  });

  it("replaces the stale chunks of a changed document and drops removed documents", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup(corpusFiles());
      expect((await cli(ingestArgs(c, server))).code).toBe(0);
      const oldGuideChunks = expectedChunks("guide.txt", GUIDE).length;
      const shorter = "NIM serves models over an OpenAI-compatible API. Nothing else.";
      writeCorpusFile(c.corpus, "guide.txt", shorter);
      rmSync(join(c.corpus, "sub/notes.md"));
      const run = await cli(ingestArgs(c, server));
      expect(run.code).toBe(0);
      const newGuide = expectedChunks("guide.txt", shorter);
      expect(await rows(c.table)).toEqual([
        ...expectedChunks("faq.jsonl#L4", "A record without an id is named by its line number."),
        ...expectedChunks("faq.jsonl#faq-1", "How do I resume an interrupted run? Run the same command again."),
        ...newGuide,
      ]);
      // The unchanged first chunk is not embedded again; the changed ones are; the rest are deleted.
      expect(run.summary).toMatchObject({
        documents: 3,
        embedded: newGuide.length - 1,
        staleChunksDeleted: oldGuideChunks - newGuide.length + expectedChunks("sub/notes.md", NOTES).length,
        documentsRemoved: 1,
      });
    } finally {
      await server.stop();
    }
  });

  it("embeds everything again when the model changes, and when the store lost its rows", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup({ "guide.txt": GUIDE, "sub/notes.md": NOTES });
      const total = expectedChunks("guide.txt", GUIDE).length + expectedChunks("sub/notes.md", NOTES).length;
      expect((await cli(ingestArgs(c, server))).summary).toMatchObject({ embedded: total });
      const otherModel = await cli(ingestArgs(c, server, ["--model", "test-model"]));
      expect(otherModel.stderr.split("\n")[0]).toBe(
        "vectorizer: model, store or chunking changed since the last run; every chunk will be embedded again",
      );
      expect(otherModel.summary).toMatchObject({ embedded: total, alreadyDone: 0 });
      expect(server.requests.at(-1)?.body.model).toBe("test-model");
      expect(await rows(c.table)).toHaveLength(total);

      await pg.query(`DROP TABLE ${c.table}`);
      const afterDrop = await cli(ingestArgs(c, server, ["--model", "test-model"]));
      expect(afterDrop.stderr.split("\n")[0]).toBe(
        `vectorizer: the store holds 0 vectors but the checkpoint recorded ${total}; starting over`,
      );
      expect(afterDrop.summary).toMatchObject({ embedded: total, alreadyDone: 0 });
      expect(await rows(c.table)).toEqual([
        ...expectedChunks("guide.txt", GUIDE),
        ...expectedChunks("sub/notes.md", NOTES),
      ]);
    } finally {
      await server.stop();
    }
  });

  it("finds the nearest chunks with a query embedding", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup(corpusFiles());
      expect((await cli(ingestArgs(c, server))).code).toBe(0);
      const target = expectedChunks(
        "faq.jsonl#faq-1",
        "How do I resume an interrupted run? Run the same command again.",
      )[0];
      const run = await cli([
        "search",
        target.chunk_text,
        "--top-k",
        "3",
        "--json",
        "--table",
        c.table,
        "--endpoint",
        server.url,
      ]);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as {
        question: string;
        hits: { source: string; position: number; text: string; score: number }[];
      };
      expect(result.hits).toHaveLength(3);
      expect(result.hits[0]).toEqual({
        source: "faq.jsonl#faq-1",
        position: 0,
        text: target.chunk_text,
        score: expect.closeTo(1, 5),
      });
      expect(result.hits[1].score).toBeLessThan(result.hits[0].score);
      expect(server.requests.at(-1)?.body).toEqual({
        model: "nvidia/nv-embedqa-e5-v5",
        input: [target.chunk_text],
        input_type: "query",
        encoding_format: "float",
      });
      const text = await cli([
        "search",
        target.chunk_text,
        "--top-k",
        "1",
        "--table",
        c.table,
        "--endpoint",
        server.url,
      ]);
      expect(text.stdout).toBe(`1. 1.0000 faq.jsonl#faq-1#0\n   ${target.chunk_text}\n`);
    } finally {
      await server.stop();
    }
  });

  it("handles an empty corpus without a request or a table", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup({});
      const run = await cli(ingestArgs(c, server));
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({ documents: 0, chunks: 0, embedded: 0, malformed: 0, dimension: null });
      expect(server.requestCount).toBe(0);
      expect(await tableExists(c.table)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("retries 429 (honouring Retry-After), 500 and timeouts, then succeeds", async () => {
    const faults: Record<number, Fault> = {
      1: { kind: "status", status: 429, retryAfter: "1", body: { error: { message: "rate limit exceeded" } } },
      2: { kind: "status", status: 500 },
      3: { kind: "hang" },
      5: { kind: "status", status: 503 },
    };
    const server = await new EmbeddingServer({ dimension: 16, faultFor: (n) => faults[n] ?? null }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const started = Date.now();
      const run = await cli(ingestArgs(c, server, ["--timeout-ms", "300", "--concurrency", "1", "--batch-size", "1"]));
      expect(run.code).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000 + 300);
      expect(await rows(c.table)).toEqual(expectedChunks("guide.txt", GUIDE));
      expect(run.summary).toMatchObject({ retries: 4, embedded: expectedChunks("guide.txt", GUIDE).length });
      const retries = run.stderr.split("\n").filter((l) => l.includes("retry"));
      expect(retries[0]).toBe("vectorizer: retry 1 in 1000 ms after HTTP 429 (rate limit exceeded)");
      expect(retries[1]).toMatch(/^vectorizer: retry 2 in \d+ ms after HTTP 500 \(injected 500\)$/);
      expect(retries[2]).toMatch(/^vectorizer: retry 3 in \d+ ms after no answer within 300 ms$/);
      expect(retries[3]).toMatch(/^vectorizer: retry 1 in \d+ ms after HTTP 503 \(injected 503\)$/);
    } finally {
      await server.stop();
    }
  });

  it("stops with a clear message when retries run out", async () => {
    const server = await new EmbeddingServer({
      dimension: 16,
      faultFor: (n) => (n >= 1 ? { kind: "status", status: 503 } : null),
    }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const run = await cli(ingestArgs(c, server, ["--max-retries", "2"]));
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n").at(-1)).toBe(
        "vectorizer: error: embedding request failed after 3 attempts: HTTP 503 (injected 503)",
      );
      expect(await rows(c.table)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("stops on 401 without writing and without printing the key", async () => {
    const server = await new EmbeddingServer({ dimension: 16, apiKey: "the-right-key" }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const run = await cli(ingestArgs(c, server));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `vectorizer: error: embedding service rejected the credentials (HTTP 401 from ${server.url}/embeddings); check the API key in $NVIDIA_API_KEY: Authentication failed\n`,
      );
      expect(run.stderr).not.toContain(API_KEY);
      expect(server.requestCount).toBe(1);
      expect(await tableExists(c.table)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("stops on an unknown model (404)", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const run = await cli(ingestArgs(c, server, ["--model", "nvidia/no-such-model"]));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `vectorizer: error: embedding service does not know model "nvidia/no-such-model" or the endpoint is wrong (HTTP 404 from ${server.url}/embeddings): The model \`nvidia/no-such-model\` does not exist.\n`,
      );
      expect(await tableExists(c.table)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("rejects a dimension mismatch with the store before any write", async () => {
    const first = await new EmbeddingServer({ dimension: 16 }).start();
    const c = setup({ "guide.txt": GUIDE });
    try {
      expect((await cli(ingestArgs(c, first))).code).toBe(0);
    } finally {
      await first.stop();
    }
    const before = await pg.query(`SELECT chunk_key, updated_at FROM ${c.table} ORDER BY chunk_key`);
    writeCorpusFile(c.corpus, "new.md", "A new document that would be written if the check came too late.");
    const wider = await new EmbeddingServer({ dimension: 32 }).start();
    try {
      const run = await cli(ingestArgs(c, wider));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `vectorizer: error: dimension mismatch: model "nvidia/nv-embedqa-e5-v5" returns 32-dimensional vectors but pgvector:127.0.0.1:${pg.port}/postgres/${c.table} holds 16-dimensional vectors; nothing was written\n`,
      );
      expect(wider.requests.map((r) => r.body.input)).toEqual([["dimension probe"]]);
      expect(await pg.query(`SELECT chunk_key, updated_at FROM ${c.table} ORDER BY chunk_key`)).toEqual(before);
    } finally {
      await wider.stop();
    }
  });

  it("rejects a service whose vectors differ from --dimension before creating the table", async () => {
    const server = await new EmbeddingServer({ dimension: 16 }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const run = await cli(ingestArgs(c, server, ["--dimension", "1024"]));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'vectorizer: error: dimension mismatch: model "nvidia/nv-embedqa-e5-v5" returns 16-dimensional vectors but --dimension is 1024; nothing was written\n',
      );
      expect(await tableExists(c.table)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("stops when a later answer changes dimension, keeping what was confirmed", async () => {
    const server = await new EmbeddingServer({
      dimension: 16,
      faultFor: (n) => (n === 2 ? { kind: "dimension", dimension: 8 } : null),
    }).start();
    try {
      const c = setup({ "guide.txt": GUIDE });
      const run = await cli(ingestArgs(c, server, ["--batch-size", "1", "--concurrency", "1"]));
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n").at(-1)).toBe(
        "vectorizer: error: dimension mismatch: the embedding service returned a 8-dimensional vector, expected 16",
      );
      expect(await rows(c.table)).toEqual(expectedChunks("guide.txt", GUIDE).slice(0, 1));
    } finally {
      await server.stop();
    }
  });
});

describe("vectorizer metrics endpoint", () => {
  it("serves progress as Prometheus metrics while ingesting", async () => {
    const server = await new EmbeddingServer({ dimension: 16, latencyMs: 150 }).start();
    try {
      const c = setup(corpusFiles());
      const total = allExpectedChunks().length;
      let stderr = "";
      let scraped: string | null = null;
      const done = runCli(
        ingestArgs(c, server, ["--metrics-port", "0", "--batch-size", "2", "--concurrency", "1"]),
        { VECTORIZER_PG_URL: pg.url },
        {
          stdout: () => undefined,
          stderr: (t) => {
            stderr += t;
          },
        },
      );
      // Scrape once the first batch is written: the run is still going (more batches at 150 ms each).
      const port = await waitFor(() => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)?.[1]);
      await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^gpu_fleet_vectorizer_chunks_embedded_total [1-9]/m.test(text) ? (scraped = text) : undefined;
      });
      expect(await done).toBe(0);
      expect(scraped).toContain(`gpu_fleet_vectorizer_chunks_total ${total}\n`);
      expect(scraped).toContain("gpu_fleet_vectorizer_running 1\n");
      expect(scraped).toContain('gpu_fleet_vectorizer_errors_total{kind="malformed"} ');
      const done_ = Number(/^gpu_fleet_vectorizer_chunks_done_total (\d+)$/m.exec(scraped!)?.[1]);
      expect(done_).toBeGreaterThan(0);
      expect(done_).toBeLessThan(total);
    } finally {
      await server.stop();
    }
  });
});

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("IRIS through the official Native API client", () => {
  it("loads the shipped client on this platform and reports a refused connection without the password", async () => {
    const net = await import("node:net");
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as import("node:net").AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = await cli(["search", "q", "--store", "iris", "--timeout-ms", "2000"], {
      IRIS_HOST: "127.0.0.1",
      IRIS_PORT: String(port),
      IRIS_USERNAME: "_SYSTEM",
      IRIS_PASSWORD: "iris-secret-pw",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^vectorizer: error: <COMMUNICATION LINK ERROR> Failed to connect to server/);
    expect(run.stderr).not.toContain("iris-secret-pw");
    expect(run.stdout).toBe("");
  });
});

describe("vectorizer command line", () => {
  it("refuses secrets on the command line", async () => {
    const run = await cli(["ingest", work, "--api-key=nvapi-secret"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "vectorizer: error: --api-key is not accepted: secrets are read from the environment only (see --api-key-env, VECTORIZER_PG_URL, IRIS_PASSWORD)\n",
    );
  });

  it("reports invalid values with the flag and what is allowed", async () => {
    expect((await cli(["ingest", work, "--batch-size", "0"])).stderr).toBe(
      'vectorizer: error: --batch-size must be an integer from 1 to 1000, got "0"\n',
    );
    expect((await cli(["ingest", join(work, "missing")])).stderr).toBe(
      `vectorizer: error: corpus directory "${join(work, "missing")}" does not exist or is not a directory\n`,
    );
    expect((await cli(["search", "q", "--store", "mongo"])).stderr).toBe(
      'vectorizer: error: --store must be pgvector or iris, got "mongo"\n',
    );
    expect((await cli(["search", "q", "--store", "iris"], { IRIS_USERNAME: "" })).stderr).toBe(
      "vectorizer: error: the iris store needs IRIS_USERNAME and IRIS_PASSWORD in the environment\n",
    );
  });

  it("prints the IRIS schema for a dimension", async () => {
    const run = await cli(["schema", "--store", "iris", "--dimension", "1024"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("embedding VECTOR(DOUBLE, 1024) NOT NULL,");
    expect(run.stdout).toContain(
      `CREATE INDEX "vectorizer_chunks_hnsw" ON TABLE "SQLUser"."vectorizer_chunks" (embedding) AS HNSW(Distance='Cosine');`,
    );
  });

  it("init creates the pgvector schema once and refuses another dimension", async () => {
    tableNumber += 1;
    const table = `chunks_${tableNumber}`;
    expect((await cli(["init", "--dimension", "1024", "--table", table])).stdout).toBe(
      `{"store":"pgvector:127.0.0.1:${pg.port}/postgres/${table}","dimension":1024,"created":true}\n`,
    );
    expect((await cli(["init", "--dimension", "1024", "--table", table])).stdout).toContain('"created":false');
    const wrong = await cli(["init", "--dimension", "768", "--table", table]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `vectorizer: error: pgvector:127.0.0.1:${pg.port}/postgres/${table} already holds 1024-dimensional vectors, not 768\n`,
    );
  });
});
