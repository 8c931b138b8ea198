import { describe, expect, it } from "vitest";
import {
  embeddingRequestBody,
  embeddingsUrl,
  parseEmbeddingResponse,
  serverErrorMessage,
  terminalStatusMessage,
} from "../../vectorizer/embeddings";
import { redactSecret } from "../../vectorizer/errors";
import { parseCommand } from "../../vectorizer/options";

describe("embedding wire format", () => {
  it("builds the body NIM and NVIDIA's hosted API accept", () => {
    expect(embeddingRequestBody("nvidia/nv-embedqa-e5-v5", ["a", "b"], "passage")).toBe(
      '{"model":"nvidia/nv-embedqa-e5-v5","input":["a","b"],"input_type":"passage","encoding_format":"float"}',
    );
    expect(embeddingRequestBody("m", ["q"], "query", "END")).toBe(
      '{"model":"m","input":["q"],"input_type":"query","encoding_format":"float","truncate":"END"}',
    );
  });

  it("accepts a base URL or the full embeddings URL", () => {
    expect(embeddingsUrl("https://integrate.api.nvidia.com/v1")).toBe("https://integrate.api.nvidia.com/v1/embeddings");
    expect(embeddingsUrl("http://127.0.0.1:8000/v1/")).toBe("http://127.0.0.1:8000/v1/embeddings");
    expect(embeddingsUrl("http://nim:8000/v1/embeddings")).toBe("http://nim:8000/v1/embeddings");
  });

  it("orders vectors by index", () => {
    const body = JSON.stringify({
      data: [
        { index: 1, embedding: [0, 1] },
        { index: 0, embedding: [1, 0] },
      ],
    });
    expect(parseEmbeddingResponse(body, 2, null)).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it("rejects malformed answers with the reason", () => {
    expect(() => parseEmbeddingResponse("<html>", 1, null)).toThrow("embedding response is not JSON");
    expect(() => parseEmbeddingResponse("{}", 1, null)).toThrow('embedding response has no "data" array');
    expect(() => parseEmbeddingResponse('{"data":[]}', 1, null)).toThrow(
      "embedding response has 0 vectors for 1 inputs",
    );
    expect(() => parseEmbeddingResponse('{"data":[{"index":0,"embedding":"AAAA"}]}', 1, null)).toThrow(
      'embedding response item 0 is not an array of finite numbers (was encoding_format "float" ignored?)',
    );
    expect(() =>
      parseEmbeddingResponse('{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}', 2, null),
    ).toThrow("embedding response has an invalid or repeated index 0");
    expect(() => parseEmbeddingResponse('{"data":[{"index":0,"embedding":[1,2,3]}]}', 1, 4)).toThrow(
      "dimension mismatch: the embedding service returned a 3-dimensional vector, expected 4",
    );
  });

  it("extracts the server's message from OpenAI, NIM and plain bodies", () => {
    expect(serverErrorMessage('{"error":{"message":"bad key"}}')).toBe("bad key");
    expect(serverErrorMessage('{"detail":"Not Found"}')).toBe("Not Found");
    expect(serverErrorMessage('{"error":"overloaded"}')).toBe("overloaded");
    expect(serverErrorMessage("upstream   timed out\n")).toBe("upstream timed out");
    expect(serverErrorMessage("x".repeat(400))).toBe(`${"x".repeat(300)}…`);
  });

  it("words terminal statuses for the operator", () => {
    expect(terminalStatusMessage(403, "u", "m", "", "NGC_API_KEY")).toBe(
      "embedding service rejected the credentials (HTTP 403 from u); check the API key in $NGC_API_KEY",
    );
    expect(terminalStatusMessage(422, "u", "m", "input too long", "K")).toBe(
      "embedding request rejected (HTTP 422 from u): input too long",
    );
  });

  it("redacts secrets", () => {
    expect(redactSecret("key abc in abc", "abc")).toBe("key *** in ***");
    expect(redactSecret("nothing", undefined)).toBe("nothing");
  });
});

describe("command line parsing", () => {
  it("has the documented defaults", () => {
    expect(parseCommand(["ingest", "docs"])).toEqual({
      command: "ingest",
      corpusDir: "docs",
      store: "pgvector",
      table: "vectorizer_chunks",
      endpoint: "http://127.0.0.1:8000/v1",
      model: "nvidia/nv-embedqa-e5-v5",
      apiKeyEnv: "NVIDIA_API_KEY",
      timeoutMs: 30000,
      retry: { maxRetries: 6, baseDelayMs: 500, maxDelayMs: 60000 },
      checkpointPath: ".vectorizer/checkpoint.sqlite",
      batchSize: 50,
      concurrency: 4,
      chunking: { maxChars: 1000, overlapChars: 100 },
      dimension: null,
      metricsPort: null,
      metricsHost: "127.0.0.1",
      progressIntervalMs: 1000,
    });
  });

  it("parses search and rejects bad input with the reason", () => {
    expect(parseCommand(["search", "what fits on an A10G?", "--top-k", "3"])).toMatchObject({
      command: "search",
      question: "what fits on an A10G?",
      topK: 3,
      json: false,
    });
    expect(() => parseCommand(["search", "q", "--top-k", "0"])).toThrow(
      '--top-k must be an integer from 1 to 1000, got "0"',
    );
    expect(() => parseCommand(["ingest", "d", "--password", "x"])).toThrow("--password is not accepted");
    expect(() => parseCommand(["ingest", "d", "--api-key-env", "NOT-A-VAR"])).toThrow(
      '--api-key-env must name an environment variable, got "NOT-A-VAR"',
    );
    expect(() => parseCommand(["ingest", "d", "--table", "x;drop"])).toThrow(
      "--table: table name must be an identifier",
    );
    expect(() => parseCommand(["schema"])).toThrow("schema needs --dimension N (1024 for nvidia/nv-embedqa-e5-v5)");
    expect(() => parseCommand(["frobnicate"])).toThrow('unknown command "frobnicate"');
    expect(parseCommand(["ingest", "--help"])).toEqual({ command: "help" });
    expect(parseCommand(["help"])).toEqual({ command: "help" });
  });
});
