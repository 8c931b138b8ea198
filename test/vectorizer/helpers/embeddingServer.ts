import { createHash } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

/** What the fake service does with one request, decided before it answers. */
export type Fault =
  | { kind: "status"; status: number; body?: unknown; retryAfter?: string }
  | { kind: "hang" }
  | { kind: "dimension"; dimension: number };

export interface RecordedRequest {
  authorization: string | undefined;
  body: { model: string; input: string[]; input_type: string; encoding_format: string; truncate?: string };
}

export interface EmbeddingServerOptions {
  dimension: number;
  /** Fixed wait before every answer, to model the model's compute time. */
  latencyMs?: number;
  /** Required bearer token; requests without it get 401 like NVIDIA's API. */
  apiKey?: string;
  /** Models the service knows; anything else gets 404 (default: nvidia/nv-embedqa-e5-v5 and test-model). */
  models?: string[];
  /** Consulted per request (0-based request number); null = answer normally. */
  faultFor?: (requestNumber: number, body: RecordedRequest["body"]) => Fault | null;
  /** Keep request bodies (off for benchmarks: they would hold every chunk). */
  record?: boolean;
  /**
   * Benchmarks: answer every request of n inputs with one prepared body of n vectors, so the
   * server's own CPU does not compete with the client being measured on a 2-core machine.
   */
  preparedResponses?: boolean;
}

/**
 * Deterministic unit vector for a text: a xorshift stream seeded by sha256(text). The same text
 * always gets the same vector, whatever the input_type, so a question equal to a chunk scores 1.
 */
export function fakeEmbedding(text: string, dimension: number): number[] {
  const seed = createHash("sha256").update(text).digest();
  let state = seed.readUInt32LE(0) || 1;
  const vector = new Array<number>(dimension);
  let norm = 0;
  for (let i = 0; i < dimension; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const value = state / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  return vector.map((v) => Math.round(v * scale * 1e6) / 1e6);
}

export class EmbeddingServer {
  readonly requests: RecordedRequest[] = [];
  requestCount = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<import("node:net").Socket>();
  port = 0;

  constructor(private readonly options: EmbeddingServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private readonly prepared = new Map<number, string>();
  /** Total texts embedded successfully (probe included). */
  embeddedTexts = 0;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/embeddings") {
      return this.send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    }
    let body: RecordedRequest["body"];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return this.send(res, 400, { error: { message: "body is not JSON" } });
    }
    const number = this.requestCount++;
    if (this.options.record !== false) this.requests.push({ authorization: req.headers.authorization, body });
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));

    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return this.send(res, 401, { error: { message: "Authentication failed", type: "invalid_request_error" } });
    }
    const models = this.options.models ?? ["nvidia/nv-embedqa-e5-v5", "test-model"];
    if (!models.includes(body.model)) {
      return this.send(res, 404, {
        error: {
          message: `The model \`${body.model}\` does not exist.`,
          type: "invalid_request_error",
          code: "model_not_found",
        },
      });
    }
    if (!Array.isArray(body.input) || body.input_type === undefined || body.encoding_format !== "float") {
      return this.send(res, 400, {
        error: { message: "input must be an array, input_type and encoding_format=float are required" },
      });
    }
    const fault = this.options.faultFor?.(number, body) ?? null;
    let dimension = this.options.dimension;
    if (fault?.kind === "status") {
      if (fault.retryAfter !== undefined) res.setHeader("retry-after", fault.retryAfter);
      return this.send(res, fault.status, fault.body ?? { error: { message: `injected ${fault.status}` } });
    }
    if (fault?.kind === "hang") return; // never answers; the client must time out
    if (fault?.kind === "dimension") dimension = fault.dimension;

    this.embeddedTexts += body.input.length;
    if (this.options.preparedResponses && fault === null) {
      let prepared = this.prepared.get(body.input.length);
      if (prepared === undefined) {
        const vector = fakeEmbedding("benchmark", dimension);
        prepared = JSON.stringify({
          object: "list",
          model: body.model,
          data: body.input.map((_, index) => ({ object: "embedding", index, embedding: vector })),
          usage: { prompt_tokens: body.input.length, total_tokens: body.input.length },
        });
        this.prepared.set(body.input.length, prepared);
      }
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(prepared) });
      res.end(prepared);
      return;
    }
    this.send(res, 200, {
      object: "list",
      model: body.model,
      data: body.input.map((text, index) => ({
        object: "embedding",
        index,
        embedding: fakeEmbedding(text, dimension),
      })),
      usage: { prompt_tokens: body.input.length, total_tokens: body.input.length },
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }
}
