import { statSync } from "node:fs";
import { Checkpoint } from "./checkpoint";
import { EmbeddingClient } from "./embeddings";
import { VectorizerError, UsageError, redactSecret } from "./errors";
import { runIngest } from "./ingest";
import { Command, CommonOptions, IngestCommand, SchemaCommand, SearchCommand, USAGE, parseCommand } from "./options";
import { Progress, formatProgressLine, startMetricsServer } from "./progress";
import { IrisStore, connectIris } from "./stores/iris";
import { irisSchemaStatements, irisTableName } from "./stores/irisSql";
import { pgSchemaSql } from "./stores/pgSql";
import { PgVectorStore } from "./stores/pgvector";
import { SearchHit, Store } from "./stores/store";

type Env = Record<string, string | undefined>;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Opens the store named on the command line with connection settings from the environment. */
export function openStore(options: CommonOptions, env: Env, connections: number): Store {
  if (options.store === "pgvector") {
    const config = env.VECTORIZER_PG_URL ? { connectionString: env.VECTORIZER_PG_URL } : {};
    return new PgVectorStore(options.table, config, connections);
  }
  const host = env.IRIS_HOST ?? "127.0.0.1";
  const port = Number(env.IRIS_PORT ?? "1972");
  const namespace = env.IRIS_NAMESPACE ?? "USER";
  const user = env.IRIS_USERNAME;
  const password = env.IRIS_PASSWORD;
  if (!user || !password)
    throw new UsageError("the iris store needs IRIS_USERNAME and IRIS_PASSWORD in the environment");
  const sql = connectIris({ host, port, namespace, user, password, timeoutMs: options.timeoutMs });
  return new IrisStore(sql, options.table, `${host}:${port}/${namespace}`);
}

function embeddingClient(options: CommonOptions, env: Env, progress: Progress, io: CliIo): EmbeddingClient {
  return new EmbeddingClient(
    {
      endpoint: options.endpoint,
      model: options.model,
      apiKey: env[options.apiKeyEnv] || undefined,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      truncate: options.truncate,
      onRetry: (event) => {
        progress.error("retry");
        io.stderr(`vectorizer: retry ${event.attempt} in ${event.delayMs} ms after ${event.reason}\n`);
      },
    },
    options.apiKeyEnv,
  );
}

async function ingest(command: IngestCommand, env: Env, io: CliIo): Promise<number> {
  let isDirectory = false;
  try {
    isDirectory = statSync(command.corpusDir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory)
    throw new UsageError(`corpus directory "${command.corpusDir}" does not exist or is not a directory`);

  const progress = new Progress();
  const metrics =
    command.metricsPort === null ? null : await startMetricsServer(progress, command.metricsHost, command.metricsPort);
  if (metrics) io.stderr(`vectorizer: metrics on http://${command.metricsHost}:${metrics.port}/metrics\n`);
  const ticker =
    command.progressIntervalMs > 0
      ? setInterval(
          () => io.stderr(`${formatProgressLine(progress.snapshot(), Date.now())}\n`),
          command.progressIntervalMs,
        )
      : null;
  ticker?.unref();

  const store = openStore(command, env, command.concurrency + 1);
  const checkpoint = new Checkpoint(command.checkpointPath);
  try {
    const summary = await runIngest(
      {
        corpusDir: command.corpusDir,
        batchSize: command.batchSize,
        concurrency: command.concurrency,
        chunking: command.chunking,
        model: command.model,
        dimension: command.dimension,
      },
      {
        store,
        checkpoint,
        progress,
        embedder: embeddingClient(command, env, progress, io),
        report: (line) => io.stderr(`${line}\n`),
      },
    );
    io.stderr(`${formatProgressLine(progress.snapshot(), Date.now())}\n`);
    const peakRssMiB = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
    io.stdout(`${JSON.stringify({ ...summary, peakRssMiB })}\n`);
    return 0;
  } catch (error) {
    progress.error("fatal");
    throw error;
  } finally {
    progress.finish();
    if (ticker) clearInterval(ticker);
    checkpoint.close();
    await store.close().catch(() => undefined);
    metrics?.server.close();
  }
}

/** Plain text for people: rank, score, where, and the chunk on one line. */
export function formatSearchHits(hits: readonly SearchHit[]): string {
  if (hits.length === 0) return "no chunks in the store\n";
  return hits
    .map(
      (hit, i) =>
        `${i + 1}. ${hit.score.toFixed(4)} ${hit.source}#${hit.position}\n   ${hit.text.replace(/\s+/g, " ").slice(0, 200)}\n`,
    )
    .join("");
}

async function search(command: SearchCommand, env: Env, io: CliIo): Promise<number> {
  const store = openStore(command, env, 1);
  try {
    const storeDimension = await store.existingDimension();
    if (storeDimension === null)
      throw new VectorizerError(`the store has no table ${command.table} yet: run ingest first`);
    const embedder = embeddingClient(command, env, new Progress(), io);
    embedder.dimension = storeDimension;
    const [vector] = await embedder.embed([command.question], "query");
    const hits = await store.search(vector, command.topK);
    io.stdout(command.json ? `${JSON.stringify({ question: command.question, hits })}\n` : formatSearchHits(hits));
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}

function schemaText(command: SchemaCommand): string {
  if (command.store === "pgvector") return `${pgSchemaSql(command.table, command.dimension).join(";\n")};\n`;
  const { tables, indexes } = irisSchemaStatements(irisTableName(command.table), command.dimension, true);
  const lines = [
    ...tables.map((sql) => `${sql};`),
    ...indexes.map(
      (index) => `-- only when ${index.name} does not exist yet; the HNSW index needs IRIS 2024.1+\n${index.sql};`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

async function init(command: SchemaCommand, env: Env, io: CliIo): Promise<number> {
  const store = openStore(command, env, 1);
  try {
    const existing = await store.existingDimension();
    if (existing !== null && existing !== command.dimension) {
      throw new VectorizerError(
        `${store.identity} already holds ${existing}-dimensional vectors, not ${command.dimension}`,
      );
    }
    await store.ensureSchema(command.dimension);
    io.stdout(
      `${JSON.stringify({ store: store.identity, dimension: command.dimension, created: existing === null })}\n`,
    );
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}

async function execute(command: Command, env: Env, io: CliIo): Promise<number> {
  switch (command.command) {
    case "ingest":
      return ingest(command, env, io);
    case "search":
      return search(command, env, io);
    case "schema":
      io.stdout(schemaText(command));
      return 0;
    case "init":
      return init(command, env, io);
    case "help":
      io.stdout(USAGE);
      return 0;
  }
}

/** The whole CLI as a function: argv in, exit code out. Never lets a secret reach the output. */
export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  let apiKey: string | undefined;
  try {
    const command = parseCommand(argv);
    if (command.command !== "help") apiKey = env[command.apiKeyEnv] || undefined;
    return await execute(command, env, io);
  } catch (error) {
    const secretFree = (text: string) => redactSecret(redactSecret(text, apiKey), env.IRIS_PASSWORD || undefined);
    if (error instanceof VectorizerError) {
      io.stderr(`vectorizer: error: ${secretFree(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr(`vectorizer: error: ${secretFree((error as Error).message ?? String(error))}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`vectorizer: error: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
