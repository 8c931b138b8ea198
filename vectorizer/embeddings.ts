import { setTimeout as sleep } from "node:timers/promises";
import { DimensionMismatchError, TerminalEmbeddingError, redactSecret } from "./errors";
import { DEFAULT_RETRY_POLICY, RetryPolicy, isRetryableStatus, parseRetryAfterMs, retryDelayMs } from "./retry";

/** nv-embedqa models embed questions and passages differently; OpenAI's API ignores the field. */
export type InputType = "passage" | "query";

export interface EmbeddingClientOptions {
  /** Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 or https://integrate.api.nvidia.com/v1. */
  endpoint: string;
  model: string;
  /** Sent as a bearer token; comes from the environment, never from the command line. */
  apiKey?: string;
  /** Per-request limit; a request that takes longer is abandoned and retried. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** NIM-only field: what the server does with input longer than the model's window. Omitted when unset. */
  truncate?: "NONE" | "START" | "END";
  /** Told about every retry, for logs and metrics. */
  onRetry?: (event: RetryEvent) => void;
  random?: () => number;
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
}

/** The exact request body the NIM and NVIDIA's hosted API accept. Pure, exported for tests. */
export function embeddingRequestBody(
  model: string,
  input: readonly string[],
  inputType: InputType,
  truncate?: string,
): string {
  const body: Record<string, unknown> = { model, input, input_type: inputType, encoding_format: "float" };
  if (truncate) body.truncate = truncate;
  return JSON.stringify(body);
}

/** `…/v1` and `…/v1/embeddings` both work, with or without a trailing slash. */
export function embeddingsUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, "");
  return trimmed.endsWith("/embeddings") ? trimmed : `${trimmed}/embeddings`;
}

/** The server's own error text, from OpenAI's `{error:{message}}`, NIM's `{detail}` or `{message}`, shortened. */
export function serverErrorMessage(bodyText: string): string {
  let message = bodyText;
  try {
    const parsed = JSON.parse(bodyText) as Record<string, unknown>;
    const error = parsed.error as Record<string, unknown> | string | undefined;
    if (typeof error === "object" && error !== null && typeof error.message === "string") message = error.message;
    else if (typeof error === "string") message = error;
    else if (typeof parsed.detail === "string") message = parsed.detail;
    else if (typeof parsed.message === "string") message = parsed.message;
  } catch {
    // Not JSON: keep the text as it came.
  }
  message = message.replace(/\s+/g, " ").trim();
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** A plain loop: this runs over 50 × 1024 numbers per batch, on the thread that parses answers. */
function isFiniteNumberArray(value: unknown): value is number[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let i = 0; i < value.length; i += 1) {
    const x = value[i];
    if (typeof x !== "number" || !Number.isFinite(x)) return false;
  }
  return true;
}

/**
 * Checks the response shape and returns the vectors in input order. Any surprise here is terminal:
 * a server that answers with the wrong shape will answer the same way to a retry.
 */
export function parseEmbeddingResponse(
  bodyText: string,
  expectedCount: number,
  expectedDimension: number | null,
): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    throw new TerminalEmbeddingError("embedding response is not JSON");
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new TerminalEmbeddingError('embedding response has no "data" array');
  if (data.length !== expectedCount) {
    throw new TerminalEmbeddingError(`embedding response has ${data.length} vectors for ${expectedCount} inputs`);
  }
  const vectors: number[][] = new Array(expectedCount);
  for (let i = 0; i < data.length; i += 1) {
    const item = data[i] as { index?: unknown; embedding?: unknown };
    const index = typeof item.index === "number" ? item.index : i;
    const embedding = item.embedding;
    if (!isFiniteNumberArray(embedding)) {
      throw new TerminalEmbeddingError(
        `embedding response item ${index} is not an array of finite numbers (was encoding_format "float" ignored?)`,
      );
    }
    if (index < 0 || index >= expectedCount || vectors[index] !== undefined) {
      throw new TerminalEmbeddingError(`embedding response has an invalid or repeated index ${index}`);
    }
    vectors[index] = embedding as number[];
  }
  const dimension = expectedDimension ?? vectors[0].length;
  for (const vector of vectors) {
    if (vector.length !== dimension) {
      throw new DimensionMismatchError(
        `dimension mismatch: the embedding service returned a ${vector.length}-dimensional vector, expected ${dimension}`,
      );
    }
  }
  return vectors;
}

/** Maps a non-retryable HTTP status to the message the operator needs. */
export function terminalStatusMessage(
  status: number,
  url: string,
  model: string,
  serverMessage: string,
  apiKeyEnv: string,
): string {
  const detail = serverMessage ? `: ${serverMessage}` : "";
  if (status === 401 || status === 403) {
    return `embedding service rejected the credentials (HTTP ${status} from ${url}); check the API key in $${apiKeyEnv}${detail}`;
  }
  if (status === 404) {
    return `embedding service does not know model "${model}" or the endpoint is wrong (HTTP 404 from ${url})${detail}`;
  }
  return `embedding request rejected (HTTP ${status} from ${url})${detail}`;
}

type AttemptOutcome =
  { ok: true; vectors: number[][] } | { ok: false; retryable: true; reason: string; retryAfterMs: number | null };

export class EmbeddingClient {
  private readonly url: string;
  /** Learnt from the first answer or set from the store; every later vector must match it. */
  dimension: number | null = null;

  constructor(
    private readonly options: EmbeddingClientOptions,
    /** Only for error messages: names the variable the key came from, never the key. */
    private readonly apiKeyEnv: string = "NVIDIA_API_KEY",
  ) {
    this.url = embeddingsUrl(options.endpoint);
  }

  /** Embeds `inputs` in one request, retrying transient failures; throws a VectorizerError on terminal ones. */
  async embed(inputs: readonly string[], inputType: InputType): Promise<number[][]> {
    const { retry } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.attempt(inputs, inputType);
      if (outcome.ok) return outcome.vectors;
      if (attempt >= retry.maxRetries) {
        throw new TerminalEmbeddingError(`embedding request failed after ${attempt + 1} attempts: ${outcome.reason}`);
      }
      const delayMs = retryDelayMs(attempt, outcome.retryAfterMs, retry, this.options.random);
      this.options.onRetry?.({ attempt: attempt + 1, delayMs, reason: outcome.reason });
      await sleep(delayMs);
    }
  }

  private async attempt(inputs: readonly string[], inputType: InputType): Promise<AttemptOutcome> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    let bodyText: string;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers,
        body: embeddingRequestBody(this.options.model, inputs, inputType, this.options.truncate),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      bodyText = await response.text();
    } catch (error) {
      return { ok: false, retryable: true, reason: this.describeNetworkError(error), retryAfterMs: null };
    }
    if (response.ok) return { ok: true, vectors: parseEmbeddingResponse(bodyText, inputs.length, this.dimension) };
    const serverMessage = redactSecret(serverErrorMessage(bodyText), this.options.apiKey);
    if (isRetryableStatus(response.status)) {
      return {
        ok: false,
        retryable: true,
        reason: `HTTP ${response.status}${serverMessage ? ` (${serverMessage})` : ""}`,
        retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after")),
      };
    }
    throw new TerminalEmbeddingError(
      terminalStatusMessage(response.status, this.url, this.options.model, serverMessage, this.apiKeyEnv),
    );
  }

  private describeNetworkError(error: unknown): string {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError" || err.name === "AbortError")
      return `no answer within ${this.options.timeoutMs} ms`;
    const cause = err.cause?.code ?? err.cause?.message ?? err.message;
    return redactSecret(`network error (${cause})`, this.options.apiKey);
  }
}

export const DEFAULT_EMBEDDING_OPTIONS = {
  endpoint: "http://127.0.0.1:8000/v1",
  model: "nvidia/nv-embedqa-e5-v5",
  timeoutMs: 30_000,
  retry: DEFAULT_RETRY_POLICY,
} as const;
