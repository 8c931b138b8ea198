/**
 * The README's "Try it offline" block, run as written (ports and the checkpoint path moved to free
 * ones so parallel test runs do not meet): PGlite's wire server, the stand-in embeddings server, then
 * ingest, search and a resuming ingest through `npm run vectorizer`.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { AddressInfo, createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bagOfWordsEmbedding } from "../../vectorizer/standInEmbeddings";

const ROOT = join(__dirname, "..", "..");
const block = readFileSync(join(ROOT, "vectorizer", "README.md"), "utf8")
  .split("## Try it offline")[1]
  .split("```sh\n")[1]
  .split("```")[0];
const work = mkdtempSync(join(tmpdir(), "vectorizer-recipe-"));
const servers: ChildProcess[] = [];
afterAll(() => {
  // Each server was started in its own process group (npx → node): end the group.
  for (const s of servers) if (s.pid) process.kill(-s.pid, "SIGTERM");
  rmSync(work, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => (socket.end(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Splits a README command line into argv (the block quotes only with plain double quotes). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

describe("vectorizer README: try it offline", () => {
  it("the stand-in's vectors are unit length and rank shared words higher", () => {
    const q = bagOfWordsEmbedding("GPU memory of Llama", 64);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    expect(dot(q, q)).toBeCloseTo(1, 12);
    expect(dot(q, bagOfWordsEmbedding("llama needs gpu memory", 64))).toBeGreaterThan(
      dot(q, bagOfWordsEmbedding("checkpoint resumes batches", 64)),
    );
    expect(bagOfWordsEmbedding("", 4)).toEqual([1, 0, 0, 0]);
  });

  it("runs as written", async () => {
    const [pgPort, embeddingsPort] = [await freePort(), await freePort()];
    const checkpoint = join(work, "checkpoint.sqlite");
    const lines = block
      .trim()
      .split("\n")
      .map((l) =>
        l
          .replaceAll("5433", String(pgPort))
          .replaceAll("8001", String(embeddingsPort))
          .replaceAll("/tmp/vectorizer-demo.sqlite", checkpoint),
      );
    expect(lines).toHaveLength(6);
    const env: Record<string, string> = { PATH: process.env.PATH!, HOME: process.env.HOME ?? work };
    for (const line of lines.slice(0, 2)) {
      const [command, ...args] = words(line);
      servers.push(spawn(command, args, { cwd: ROOT, env, detached: true, stdio: "ignore" }));
    }
    const exported = /^export (\w+)=(\S+)$/.exec(lines[2])!;
    env[exported[1]] = exported[2];
    await Promise.all([waitForPort(pgPort, 60_000), waitForPort(embeddingsPort, 60_000)]);

    const run = (line: string) => {
      const [command, ...args] = words(line);
      const r = spawnSync(command, args, { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const first = JSON.parse(run(lines[3]).trim().split("\n").pop()!);
    expect(first).toMatchObject({ documents: 5, chunks: 5, embedded: 5, alreadyDone: 0, dimension: 1024 });
    expect(run(lines[4])).toMatch(/^1\. [0-9.]+ gpu-memory\.md#0\n/m);
    const second = JSON.parse(run(lines[5]).trim().split("\n").pop()!);
    expect(second).toMatchObject({ documents: 5, chunks: 5, embedded: 0, alreadyDone: 5 });
  }, 180_000);
});
