import { parseArgs } from "node:util";
import { ChunkingOptions, DEFAULT_CHUNKING, validateChunkingOptions } from "./chunker";
import { DEFAULT_EMBEDDING_OPTIONS } from "./embeddings";
import { UsageError } from "./errors";
import { DEFAULT_RETRY_POLICY, RetryPolicy } from "./retry";
import { DEFAULT_TABLE, validateTableName } from "./stores/store";
import { Bounded, VECTORIZER_LIMITS } from "./limits";

export type StoreKind = "pgvector" | "iris";

export interface CommonOptions {
  store: StoreKind;
  table: string;
  endpoint: string;
  model: string;
  /** Name of the environment variable holding the API key (the key itself never passes argv). */
  apiKeyEnv: string;
  timeoutMs: number;
  retry: RetryPolicy;
  truncate?: "NONE" | "START" | "END";
}

export interface IngestCommand extends CommonOptions {
  command: "ingest";
  corpusDir: string;
  checkpointPath: string;
  batchSize: number;
  concurrency: number;
  chunking: ChunkingOptions;
  dimension: number | null;
  metricsPort: number | null;
  metricsHost: string;
  progressIntervalMs: number;
}

export interface SearchCommand extends CommonOptions {
  command: "search";
  question: string;
  topK: number;
  json: boolean;
}

export interface SchemaCommand extends CommonOptions {
  command: "schema" | "init";
  dimension: number;
}

export interface HelpCommand {
  command: "help";
}

export type Command = IngestCommand | SearchCommand | SchemaCommand | HelpCommand;

export const DEFAULTS = {
  store: "pgvector" as StoreKind,
  table: DEFAULT_TABLE,
  checkpointPath: ".vectorizer/checkpoint.sqlite",
  batchSize: VECTORIZER_LIMITS.batchSize.default,
  concurrency: VECTORIZER_LIMITS.concurrency.default,
  apiKeyEnv: "NVIDIA_API_KEY",
  metricsHost: "127.0.0.1",
  progressIntervalMs: 1000,
  topK: 5,
};

export const USAGE = `usage:
  vectorizer ingest <dir> [options]          embed .txt/.md/.jsonl documents under <dir> into the store
  vectorizer search "<question>" [--top-k N] [--json] [options]
  vectorizer schema --dimension N [--store S] [--table T]   print the schema SQL
  vectorizer init --dimension N [--store S] [--table T]     create the schema in the store

options:
  --store pgvector|iris        (default pgvector)   --table NAME (default ${DEFAULT_TABLE})
  --endpoint URL               OpenAI-compatible API base (default ${DEFAULT_EMBEDDING_OPTIONS.endpoint})
  --model NAME                 (default ${DEFAULT_EMBEDDING_OPTIONS.model})
  --api-key-env VAR            variable holding the API key (default ${DEFAULTS.apiKeyEnv}); keys never go on the command line
  --timeout-ms N (30000)  --max-retries N (6)  --retry-base-ms N (500)  --truncate NONE|START|END
ingest:
  --checkpoint PATH (${DEFAULTS.checkpointPath})  --batch-size N (50)  --concurrency N (4)
  --chunk-size N (1000)  --chunk-overlap N (100)  --dimension N (checked against the service)
  --metrics-port N  --metrics-host H (127.0.0.1)  --progress-interval-ms N (1000, 0 = only at the end)
environment:
  NVIDIA_API_KEY (or --api-key-env)  VECTORIZER_PG_URL or PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE
  IRIS_HOST IRIS_PORT IRIS_NAMESPACE IRIS_USERNAME IRIS_PASSWORD
`;

/** Flags that would put a secret into argv (visible in ps, shell history, Pulumi state). */
const SECRET_FLAGS = ["--api-key", "--password", "--pg-url", "--token"];

function bounded(name: string, value: string | undefined, limits: Bounded): number {
  return integer(name, value, limits.default, limits.min, limits.max);
}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function optionalInteger(name: string, value: string | undefined, min: number, max?: number): number | null {
  return value === undefined ? null : integer(name, value, 0, min, max);
}

/** Parses argv (without node and script) into a validated command. Throws UsageError. Pure. */
export function parseCommand(argv: readonly string[]): Command {
  if (argv.length > 0 && (argv[0] === "help" || argv.includes("--help") || argv.includes("-h")))
    return { command: "help" };
  for (const arg of argv) {
    const flag = arg.split("=")[0];
    if (SECRET_FLAGS.includes(flag)) {
      throw new UsageError(
        `${flag} is not accepted: secrets are read from the environment only (see --api-key-env, VECTORIZER_PG_URL, IRIS_PASSWORD)`,
      );
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        store: { type: "string" },
        table: { type: "string" },
        endpoint: { type: "string" },
        model: { type: "string" },
        "api-key-env": { type: "string" },
        "timeout-ms": { type: "string" },
        "max-retries": { type: "string" },
        "retry-base-ms": { type: "string" },
        truncate: { type: "string" },
        checkpoint: { type: "string" },
        "batch-size": { type: "string" },
        concurrency: { type: "string" },
        "chunk-size": { type: "string" },
        "chunk-overlap": { type: "string" },
        dimension: { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "progress-interval-ms": { type: "string" },
        "top-k": { type: "string" },
        json: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;

  const store = (values.store ?? DEFAULTS.store) as StoreKind;
  if (store !== "pgvector" && store !== "iris")
    throw new UsageError(`--store must be pgvector or iris, got "${values.store}"`);
  const table = values.table ?? DEFAULTS.table;
  const tableProblem = validateTableName(table);
  if (tableProblem) throw new UsageError(`--table: ${tableProblem}`);
  const apiKeyEnv = values["api-key-env"] ?? DEFAULTS.apiKeyEnv;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
    throw new UsageError(`--api-key-env must name an environment variable, got "${apiKeyEnv}"`);
  const truncate = values.truncate;
  if (truncate !== undefined && truncate !== "NONE" && truncate !== "START" && truncate !== "END") {
    throw new UsageError(`--truncate must be NONE, START or END, got "${truncate}"`);
  }
  const common: CommonOptions = {
    store,
    table,
    endpoint: values.endpoint ?? DEFAULT_EMBEDDING_OPTIONS.endpoint,
    model: values.model ?? DEFAULT_EMBEDDING_OPTIONS.model,
    apiKeyEnv,
    timeoutMs: integer("timeout-ms", values["timeout-ms"], DEFAULT_EMBEDDING_OPTIONS.timeoutMs, 1),
    retry: {
      ...DEFAULT_RETRY_POLICY,
      maxRetries: integer("max-retries", values["max-retries"], DEFAULT_RETRY_POLICY.maxRetries, 0, 100),
      baseDelayMs: integer("retry-base-ms", values["retry-base-ms"], DEFAULT_RETRY_POLICY.baseDelayMs, 0),
    },
    ...(truncate ? { truncate } : {}),
  };

  if (command === "ingest") {
    if (rest.length !== 1) throw new UsageError(`ingest takes one directory, got ${rest.length} arguments\n${USAGE}`);
    const chunking = {
      maxChars: integer("chunk-size", values["chunk-size"], DEFAULT_CHUNKING.maxChars, 1),
      overlapChars: integer("chunk-overlap", values["chunk-overlap"], DEFAULT_CHUNKING.overlapChars, 0),
    };
    const chunkingProblem = validateChunkingOptions(chunking);
    if (chunkingProblem) throw new UsageError(chunkingProblem);
    return {
      ...common,
      command,
      corpusDir: rest[0],
      checkpointPath: values.checkpoint ?? DEFAULTS.checkpointPath,
      batchSize: bounded("batch-size", values["batch-size"], VECTORIZER_LIMITS.batchSize),
      concurrency: bounded("concurrency", values.concurrency, VECTORIZER_LIMITS.concurrency),
      chunking,
      dimension: optionalInteger("dimension", values.dimension, 1, 65536),
      metricsPort: optionalInteger("metrics-port", values["metrics-port"], 0, 65535),
      metricsHost: values["metrics-host"] ?? DEFAULTS.metricsHost,
      progressIntervalMs: integer(
        "progress-interval-ms",
        values["progress-interval-ms"],
        DEFAULTS.progressIntervalMs,
        0,
      ),
    };
  }
  if (command === "search") {
    if (rest.length !== 1 || rest[0].trim().length === 0)
      throw new UsageError(`search takes one non-empty question in quotes\n${USAGE}`);
    return {
      ...common,
      command,
      question: rest[0],
      topK: integer("top-k", values["top-k"], DEFAULTS.topK, 1, 1000),
      json: values.json ?? false,
    };
  }
  if (command === "schema" || command === "init") {
    if (rest.length !== 0) throw new UsageError(`${command} takes no positional arguments\n${USAGE}`);
    if (values.dimension === undefined)
      throw new UsageError(`${command} needs --dimension N (1024 for nvidia/nv-embedqa-e5-v5)`);
    return { ...common, command, dimension: integer("dimension", values.dimension, 0, 1, 65536) };
  }
  throw new UsageError(command === undefined ? USAGE : `unknown command "${command}"\n${USAGE}`);
}
