import { spawn } from "node:child_process";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LoadtestUsageError, parseLoadtestArgs } from "../../cli/loadtest";
import { runLoad } from "../../loadtest/run";
import { parseChatEvent, SseParser } from "../../loadtest/sse";
import { LatencyRecorder } from "../../loadtest/stats";

describe("SseParser", () => {
  const stream =
    'data: {"choices":[{"delta":{"content":"Hé"}}]}\r\n\r\n' +
    ": keep-alive\n\n" +
    'event: message\ndata: {"choices":[{"delta":{"content":" there"}}]}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}\n\n' +
    "data: [DONE]\n\n";
  const expected = [
    '{"choices":[{"delta":{"content":"Hé"}}]}',
    '{"choices":[{"delta":{"content":" there"}}]}',
    '{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}',
    "[DONE]",
  ];

  it("gives the same events for every way of splitting the stream in two or three chunks", () => {
    for (let i = 0; i <= stream.length; i++)
      for (const j of [i, Math.min(stream.length, i + 1), Math.min(stream.length, i + 7)]) {
        const p = new SseParser();
        const got = [
          ...p.push(stream.slice(0, i)),
          ...p.push(stream.slice(i, j)),
          ...p.push(stream.slice(j)),
          ...p.end(),
        ];
        expect(got, `split at ${i} and ${j}`).toEqual(expected);
      }
  });

  it("joins multi-line data and drops an event that never got its blank line", () => {
    const p = new SseParser();
    expect(p.push("data: a\ndata:b\n\ndata: c")).toEqual(["a\nb"]);
    expect(p.end()).toEqual([]);
  });

  it("reads content, usage, [DONE] and errors from the payloads", () => {
    expect(expected.map(parseChatEvent)).toEqual([
      { kind: "chunk", content: "Hé", completionTokens: undefined },
      { kind: "chunk", content: " there", completionTokens: undefined },
      { kind: "chunk", content: "", completionTokens: 2 },
      { kind: "done" },
    ]);
    expect(parseChatEvent('{"error":{"message":"model overloaded"}}')).toEqual({
      kind: "error",
      message: "model overloaded",
    });
    expect(parseChatEvent("{oops")).toEqual({ kind: "error", message: "not JSON: {oops" });
  });
});

describe("LatencyRecorder", () => {
  it("reports exact percentiles of 1..1000 µs", () => {
    const r = new LatencyRecorder();
    for (let us = 1; us <= 1000; us++) r.recordMs(us / 1000);
    expect(r.summary()).toEqual({ count: 1000, meanMs: 0.5005, p50Ms: 0.5, p90Ms: 0.9, p99Ms: 0.99, maxMs: 1 });
  });

  it("reports zeros when nothing was recorded", () => {
    expect(new LatencyRecorder().summary()).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});

describe("parseLoadtestArgs", () => {
  const ok = ["--endpoint", "http://127.0.0.1:8000", "--model", "m", "--concurrency", "4", "--duration", "10"];

  it("takes the API key from NVIDIA_API_KEY and applies the defaults", () => {
    const { options, json } = parseLoadtestArgs([...ok, "--json", "--max-tokens", "32"], { NVIDIA_API_KEY: "k" });
    expect(json).toBe(true);
    expect(options).toEqual({
      endpoint: "http://127.0.0.1:8000",
      model: "m",
      concurrency: 4,
      durationS: 10,
      maxTokens: 32,
      prompt: "Explain in a few paragraphs how a GPU schedules work across its streaming multiprocessors.",
      apiKey: "k",
    });
    expect(parseLoadtestArgs(ok, {}).options.apiKey).toBeUndefined();
  });

  it.each([
    [["--endpoint", "ftp://x"], "--endpoint ftp://x: expected an http:// or https:// URL"],
    [["--endpoint", "localhost:8000"], "--endpoint localhost:8000: expected an http:// or https:// URL"],
    [["--concurrency", "0"], "--concurrency 0: expected a positive whole number"],
    [["--duration", "1.5"], "--duration 1.5: expected a positive whole number"],
    [["--max-tokens", "-3"], "--max-tokens -3: expected a positive whole number"],
    [
      ["--api-key", "secret"],
      "unknown argument --api-key; allowed: --endpoint, --model, --concurrency, --duration, --max-tokens, --prompt, --json",
    ],
  ])("refuses %j", (extra, message) => {
    const argv = [...ok];
    const at = argv.indexOf(extra[0]);
    if (at >= 0) argv[at + 1] = extra[1];
    else argv.push(...extra);
    expect(() => parseLoadtestArgs(argv, {})).toThrow(new LoadtestUsageError(message));
  });

  it("names a missing option", () => {
    expect(() => parseLoadtestArgs(ok.slice(2), {})).toThrow(new LoadtestUsageError("--endpoint is required"));
  });
});

/** Stand-in for a NIM: 50 ms to the first token, then 4 more 20 ms apart, then usage and [DONE]. */
function streamingServer(status: number) {
  const seen = { requests: 0, bodies: [] as unknown[], authorization: [] as (string | undefined)[] };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.requests++;
    seen.authorization.push(req.headers.authorization);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.bodies.push(JSON.parse(body));
      if (status !== 200) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end('{"error":"boom"}');
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const tokens = ["a", "b", "c", "d", "e"];
      let i = 0;
      const send = () => {
        if (res.destroyed) return;
        if (i < tokens.length) {
          res.write(`data: {"choices":[{"index":0,"delta":{"content":"${tokens[i++]}"}}]}\n\n`);
          setTimeout(send, 20);
        } else {
          res.write('data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5}}\n\ndata: [DONE]\n\n');
          res.end();
        }
      };
      setTimeout(send, 50);
    });
  });
  return new Promise<{ server: Server; url: string; seen: typeof seen }>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

describe("load test against a local streaming server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it("counts every request and token and measures TTFT of at least 50 ms", async () => {
    const s = await streamingServer(200);
    server = s.server;
    const progress: number[] = [];
    const r = await runLoad(
      {
        endpoint: s.url,
        model: "meta/llama3-8b-instruct",
        concurrency: 3,
        durationS: 1,
        maxTokens: 5,
        prompt: "hi",
        apiKey: "k-test",
      },
      (p) => progress.push(p.completed),
      300,
    );
    expect(r.elapsedS).toBeGreaterThanOrEqual(1);
    expect(r.elapsedS).toBeLessThan(3);
    expect(r.requests.failed).toBe(0);
    expect(r.errors).toEqual({});
    // ≈ 130 ms each: up to 7 per worker in 1 s; at least one each even on a loaded machine.
    expect(r.requests.completed).toBeGreaterThanOrEqual(3);
    // At most one request per worker is cut off at the end, and it may be aborted before the server sees it.
    expect(r.requests.cancelled).toBeLessThanOrEqual(3);
    expect(s.seen.requests).toBeGreaterThanOrEqual(r.requests.completed);
    expect(s.seen.requests).toBeLessThanOrEqual(r.requests.completed + r.requests.cancelled);
    expect(r.outputTokens).toBe(5 * r.requests.completed);
    expect(r.timeToFirstTokenMs.count).toBe(r.requests.completed);
    expect(r.requestLatencyMs.count).toBe(r.requests.completed);
    expect(r.interTokenLatencyMs.count).toBe(4 * r.requests.completed);
    expect(r.timeToFirstTokenMs.p50Ms).toBeGreaterThanOrEqual(50);
    expect(r.interTokenLatencyMs.p50Ms).toBeGreaterThanOrEqual(19);
    expect(r.requestLatencyMs.p50Ms).toBeGreaterThanOrEqual(130);
    expect(r.outputTokensPerS).toBeCloseTo(r.outputTokens / r.elapsedS, 6);
    expect(r.requestsPerS).toBeCloseTo(r.requests.completed / r.elapsedS, 6);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(s.seen.bodies[0]).toEqual({
      model: "meta/llama3-8b-instruct",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(new Set(s.seen.authorization)).toEqual(new Set(["Bearer k-test"]));
  });

  it("exits 1 with the errors counted when every request gets HTTP 500 (the CLI end to end)", async () => {
    const s = await streamingServer(500);
    server = s.server;
    const child = spawn(
      "npx",
      [
        "tsx",
        "cli/loadtest.ts",
        "--endpoint",
        s.url,
        "--model",
        "m",
        "--concurrency",
        "2",
        "--duration",
        "1",
        "--json",
      ],
      { env: { ...process.env, NVIDIA_API_KEY: "nvapi-secret-for-test" } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    const r = JSON.parse(stdout);
    expect(r.requests.completed).toBe(0);
    expect(r.requests.failed).toBeGreaterThan(0);
    expect(r.errors).toEqual({ "http 500": r.requests.failed });
    expect(r.requests.cancelled).toBeLessThanOrEqual(2);
    expect(s.seen.requests).toBeGreaterThanOrEqual(r.requests.failed);
    expect(s.seen.requests).toBeLessThanOrEqual(r.requests.failed + r.requests.cancelled);
    expect(r.timeToFirstTokenMs).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
    expect(stdout + stderr).not.toContain("nvapi-secret-for-test");
  });
});
