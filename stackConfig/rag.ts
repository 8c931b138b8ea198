/**
 * `gpu-fleet:rag`: IRIS as vector store and a vectorizer job fed by an embedding service. The table
 * name's rule and the batch/concurrency bounds are the vectorizer's (vectorizer/stores/store.ts,
 * vectorizer/limits.ts), the same ones IrisVectorDb, VectorizerJob and the vectorizer's CLI check.
 */
import { HostConfig, ServiceConfig } from "../fleet/config";
import { findModel } from "../fleet/catalog/models";
import { Problems, isObject, positiveInt, show, unknownKeys } from "../fleet/problems";
import { VECTORIZER_LIMITS } from "../vectorizer/limits";
import { DEFAULT_TABLE, validateTableName } from "../vectorizer/stores/store";

export interface RagConfig {
  /** The service (an embedding model) the vectorizer embeds through. */
  readonly embeddingService: string;
  /** Host that runs IRIS and the vectorizer; the embedding service's host when unset. */
  readonly host: string;
  /** Local directory of documents, relative to the project. */
  readonly corpusDir: string;
  readonly table: string;
  readonly batchSize: number;
  readonly concurrency: number;
}

const RAG_KEYS = ["embeddingService", "host", "corpusDir", "table", "batchSize", "concurrency"];
const CORPUS_DIR = /^[A-Za-z0-9._/-]+$/;
const basenameOf = (path: string) => path.replace(/\/+$/, "").split("/").pop() ?? "";

/** Adds every problem of the section to `p` under `path`; returns the section, or undefined when unset or not an object. */
export function validateRagConfig(
  p: Problems,
  path: string,
  raw: unknown,
  hosts: readonly HostConfig[],
  services: readonly ServiceConfig[],
): RagConfig | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    p.add(
      path,
      `${show(raw)} is not allowed; expected { embeddingService, corpusDir, host?, table?, batchSize?, concurrency? }`,
    );
    return undefined;
  }
  unknownKeys(p, path, raw, RAG_KEYS);
  const service = services.find((s) => s.name === raw.embeddingService);
  const embedders = services.filter((s) => findModel(s.model)?.embeddingDim !== undefined).map((s) => s.name);
  if (!service) {
    p.add(
      `${path}.embeddingService`,
      `unknown service ${show(raw.embeddingService)}; embedding services: ${embedders.join(", ") || "none"}`,
    );
  } else if (findModel(service.model)?.embeddingDim === undefined) {
    p.add(
      `${path}.embeddingService`,
      `service "${service.name}" runs ${service.model}, not an embedding model; embedding services: ${embedders.join(", ") || "none"}`,
    );
  }
  const host = raw.host ?? service?.host;
  if (typeof host !== "string" || !hosts.some((h) => h.name === host)) {
    p.add(
      `${path}.host`,
      `unknown host ${show(host)}; defined hosts: ${hosts.map((h) => h.name).join(", ") || "none"}`,
    );
  }
  if (typeof raw.corpusDir !== "string" || raw.corpusDir.length === 0) {
    p.add(
      `${path}.corpusDir`,
      `${show(raw.corpusDir)} is not allowed; expected the path of a local directory of .txt, .md and .jsonl documents`,
    );
  } else if (!CORPUS_DIR.test(raw.corpusDir) || [".", "..", ""].includes(basenameOf(raw.corpusDir))) {
    // Its last segment names the corpus's directory on the host, in paths the host scripts use.
    p.add(
      `${path}.corpusDir`,
      `${show(raw.corpusDir)} is not allowed; expected a path of letters, digits and . _ - / whose last segment names the directory (not . or ..)`,
    );
  }
  const table = raw.table ?? DEFAULT_TABLE;
  const tableProblem =
    typeof table === "string"
      ? validateTableName(table)
      : `${show(table)} is not allowed; expected a table name such as ${DEFAULT_TABLE}`;
  if (tableProblem) p.add(`${path}.table`, tableProblem);
  const [batchSize, concurrency] = (["batchSize", "concurrency"] as const).map((k) => {
    const { default: fallback, min, max } = VECTORIZER_LIMITS[k];
    return positiveInt(p, `${path}.${k}`, raw[k], fallback, min, max);
  });
  return {
    embeddingService: String(raw.embeddingService),
    host: String(host),
    corpusDir: String(raw.corpusDir),
    table: String(table),
    batchSize,
    concurrency,
  };
}
