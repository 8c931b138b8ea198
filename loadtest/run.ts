/**
 * Closed-loop streaming load generator for an OpenAI-compatible chat-completions endpoint: `concurrency`
 * workers each send one request, read its stream to the end, and send the next, until `durationS` has
 * passed; requests still in flight then are aborted and counted as cancelled (no latency recorded), so the
 * run stops on time whatever the server does.
 *
 * Measured per completed request (the genai-perf definitions): time to first token = send → first chunk
 * with content; inter-token latency = gaps between successive content chunks (NIM and vLLM send one token
 * per chunk); request latency = send → `[DONE]`. Output tokens come from the final `usage` chunk
 * (`stream_options.include_usage`), or the count of content chunks when the server sends no usage.
 */
import { LatencyRecorder, LoadReport, perSecond } from "./stats";
import { SseParser, parseChatEvent } from "./sse";

export interface LoadOptions {
  readonly endpoint: string;
  readonly model: string;
  readonly concurrency: number;
  readonly durationS: number;
  readonly maxTokens: number;
  readonly prompt: string;
  /** Bearer token; the CLI takes it from NVIDIA_API_KEY only. */
  readonly apiKey?: string;
}

export interface Progress {
  readonly elapsedS: number;
  readonly completed: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly outputTokens: number;
}

class RequestError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

interface Sample {
  ttftMs: number;
  gapsMs: number[];
  latencyMs: number;
  outputTokens: number;
}

async function oneRequest(url: string, body: string, headers: Record<string, string>, signal: AbortSignal) {
  const start = performance.now();
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers, body, signal });
  } catch (e) {
    if (signal.aborted) throw e;
    const code = (e as { cause?: { code?: string } }).cause?.code;
    throw new RequestError(`connect${code ? ` ${code}` : ""}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new RequestError(`http ${res.status}`);
  }
  const parser = new SseParser();
  // stream: true keeps a multi-byte character split across chunks whole.
  const decoder = new TextDecoder();
  let first: number | undefined;
  let last = 0;
  const gapsMs: number[] = [];
  let chunks = 0;
  let usageTokens: number | undefined;
  let done = false;
  const handle = (data: string) => {
    const ev = parseChatEvent(data);
    if (ev.kind === "done") done = true;
    else if (ev.kind === "error") throw new RequestError("stream error");
    else {
      if (ev.completionTokens !== undefined) usageTokens = ev.completionTokens;
      if (ev.content.length > 0) {
        const now = performance.now();
        if (first === undefined) first = now;
        else gapsMs.push(now - last);
        last = now;
        chunks++;
      }
    }
  };
  try {
    for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (const data of parser.push(decoder.decode(bytes, { stream: true }))) handle(data);
      if (done) break;
    }
    if (!done) for (const data of parser.push(decoder.decode()).concat(parser.end())) handle(data);
  } catch (e) {
    if (e instanceof RequestError || signal.aborted) throw e;
    throw new RequestError("stream interrupted");
  }
  if (!done) throw new RequestError("stream ended without [DONE]");
  if (first === undefined) throw new RequestError("no tokens");
  const end = performance.now();
  return { ttftMs: first - start, gapsMs, latencyMs: end - start, outputTokens: usageTokens ?? chunks } as Sample;
}

export async function runLoad(
  options: LoadOptions,
  onProgress?: (p: Progress) => void,
  progressEveryMs = 2000,
): Promise<LoadReport> {
  const url = `${options.endpoint.replace(/\/+$/, "")}/v1/chat/completions`;
  const body = JSON.stringify({
    model: options.model,
    messages: [{ role: "user", content: options.prompt }],
    max_tokens: options.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const ttft = new LatencyRecorder();
  const itl = new LatencyRecorder();
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let completed = 0;
  let failed = 0;
  let cancelled = 0;
  let inFlight = 0;
  let outputTokens = 0;

  const stop = new AbortController();
  const start = performance.now();
  const timer = setTimeout(() => stop.abort(), options.durationS * 1000);
  const progress = onProgress
    ? setInterval(
        () => onProgress({ elapsedS: (performance.now() - start) / 1000, completed, failed, inFlight, outputTokens }),
        progressEveryMs,
      )
    : undefined;

  const worker = async () => {
    // The clock is checked too: a server that refuses at once can keep a worker busy in callbacks that
    // never let the abort timer run.
    const deadline = start + options.durationS * 1000;
    while (!stop.signal.aborted && performance.now() < deadline) {
      inFlight++;
      try {
        // One signal per request, unlinked when it ends: a failed fetch leaves its listener on the signal it got,
        // so sharing the run's signal would pile up listeners (Node warns past 1500).
        const request = new AbortController();
        const onStop = () => request.abort();
        stop.signal.addEventListener("abort", onStop, { once: true });
        let s: Awaited<ReturnType<typeof oneRequest>>;
        try {
          s = await oneRequest(url, body, headers, request.signal);
        } finally {
          stop.signal.removeEventListener("abort", onStop);
        }
        completed++;
        outputTokens += s.outputTokens;
        ttft.recordMs(s.ttftMs);
        latency.recordMs(s.latencyMs);
        for (const g of s.gapsMs) itl.recordMs(g);
      } catch (e) {
        if (stop.signal.aborted && !(e instanceof RequestError)) cancelled++;
        else {
          failed++;
          const kind = e instanceof RequestError ? e.kind : "other";
          errors[kind] = (errors[kind] ?? 0) + 1;
          // Give timers and I/O a turn before retrying a request that failed at once.
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        inFlight--;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearTimeout(timer);
    if (progress) clearInterval(progress);
  }
  const elapsedS = (performance.now() - start) / 1000;
  return {
    endpoint: options.endpoint,
    model: options.model,
    concurrency: options.concurrency,
    durationS: options.durationS,
    elapsedS,
    requests: { completed, failed, cancelled },
    errors,
    outputTokens,
    outputTokensPerS: perSecond(outputTokens, elapsedS),
    requestsPerS: perSecond(completed, elapsedS),
    timeToFirstTokenMs: ttft.summary(),
    interTokenLatencyMs: itl.summary(),
    requestLatencyMs: latency.summary(),
  };
}
