/**
 * A STAND-IN for an embedding NIM, to try the vectorizer offline (see README, "Try it offline"): an
 * OpenAI-compatible `POST /v1/embeddings` and `GET /v1/models` on 127.0.0.1 whose vectors are hashed
 * bags of words (each lower-cased word adds ±1 to one of `--dimension` coordinates, then the vector is
 * scaled to length 1). Texts sharing words score higher, so searches return plausible chunks; it is not
 * a language model and its scores mean nothing beyond word overlap.
 *
 *   npx tsx vectorizer/standInEmbeddings.ts [--port 8001] [--host 127.0.0.1] [--dimension 1024] [--model M]
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

export function bagOfWordsEmbedding(text: string, dimension: number): number[] {
  const vector = new Array<number>(dimension).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const digest = createHash("sha256").update(word).digest();
    vector[digest.readUInt32LE(0) % dimension] += digest[4] & 1 ? 1 : -1;
  }
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  // A text without words still needs a unit vector: cosine similarity is undefined for zero.
  if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((v) => v / norm);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8001" },
      host: { type: "string", default: "127.0.0.1" },
      dimension: { type: "string", default: "1024" },
      model: { type: "string", default: "nvidia/nv-embedqa-e5-v5" },
    },
  });
  const dimension = Number(values.dimension);
  const port = Number(values.port);
  if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`--dimension must be a positive integer`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number`);
  const model = values.model;

  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/v1/models") {
      send(200, { object: "list", data: [{ id: model, object: "model", owned_by: "stand-in" }] });
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/embeddings") {
      send(404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      let body: { model?: unknown; input?: unknown };
      try {
        body = JSON.parse(raw);
      } catch {
        send(400, { error: { message: "request body is not JSON" } });
        return;
      }
      if (body.model !== model) {
        send(404, { error: { message: `model "${String(body.model)}" not found; this stand-in serves "${model}"` } });
        return;
      }
      const inputs = typeof body.input === "string" ? [body.input] : body.input;
      if (!Array.isArray(inputs) || !inputs.every((i) => typeof i === "string")) {
        send(400, { error: { message: '"input" must be a string or a list of strings' } });
        return;
      }
      const tokens = inputs.reduce((n, text) => n + (text.match(/\S+/g)?.length ?? 0), 0);
      send(200, {
        object: "list",
        model,
        data: inputs.map((text, index) => ({
          object: "embedding",
          index,
          embedding: bagOfWordsEmbedding(text, dimension),
        })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    });
  });
  server.listen(port, values.host, () => {
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    process.stdout.write(
      `stand-in embeddings (${model}, ${dimension} dimensions) at http://${values.host}:${bound}/v1\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) main();
