/**
 * VectorizerJob: runs the vectorizer (vectorizer/ in this repository) on a GpuHost once the
 * embedding service and the vector store are ready. The corpus is copied from a local directory;
 * the checkpoint lives on the host's data volume, so new documents or new settings resume the work,
 * never restart it, and `pulumi up` with the same inputs re-runs nothing. Its output is what the run
 * ingested, as the CLI reports it.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MODELS, findModel } from "../fleet";
import { specHash } from "../renderers/shell";
import { secretFileCommand } from "./secretFile";
import {
  VECTORIZER_NODE_IMAGE,
  renderVectorizerInstallScript,
  renderVectorizerRunScript,
  vectorizerPackageJson,
} from "../renderers/vectorizer/job";
import type { GpuHostRef } from "./hostRef";
import { VECTORIZER_LIMITS } from "../vectorizer/limits";
import type { IngestSummary } from "../vectorizer/summary";
import { IrisVectorDb } from "./irisVectorDb";
import { BINDABLE_PORTS_ALLOWED, BUILT_IN_PORTS, isBindablePort } from "../fleet/ports";

/**
 * The vectorizer's TypeScript sources, which the job copies to the host and runs with tsx: beside
 * components/ in a checkout, two levels up from dist/components/ in the published package (which ships
 * vectorizer/ as sources). Looked up when a job is built, never at module load.
 */
export function vectorizerSourceDir(): string {
  const candidates = [join(__dirname, "..", "vectorizer"), join(__dirname, "..", "..", "vectorizer")];
  const found = candidates.find((dir) => existsSync(join(dir, "cli.ts")));
  if (!found) throw new Error(`the vectorizer's sources (cli.ts) are in none of ${candidates.join(", ")}`);
  return found;
}

/** What one run reported: the vectorizer CLI's summary line. */
export type IngestReport = IngestSummary & { readonly peakRssMiB: number };

export interface VectorizerJobArgs {
  readonly host: GpuHostRef;
  /** Local directory of .txt, .md and .jsonl documents, copied to the host. */
  readonly corpusDir: string;
  /** OpenAI-compatible embeddings base URL, e.g. an embedding NimService's `${endpoint}/v1`. */
  readonly embeddingsEndpoint: pulumi.Input<string>;
  /** The embedding model, as the catalog names it. */
  readonly embeddingModel: string;
  /** API key for a hosted embeddings API; not needed for a local NIM. Pass a secret. */
  readonly embeddingsApiKey?: pulumi.Input<string>;
  readonly store: IrisVectorDb;
  /** Chunks per embeddings request, 1 to 1000. Default: 50. */
  readonly batchSize?: number;
  /** Embeddings requests in flight, 1 to 64. Default: 4. */
  readonly concurrency?: number;
  /** Port of the job's Prometheus metrics (on the host's bind address). Default: 9464. */
  readonly metricsPort?: number;
  /** Resources to wait for besides the store: the embedding service's readiness. */
  readonly waitFor?: pulumi.Resource[];
}

export const DEFAULT_VECTORIZER_METRICS_PORT = BUILT_IN_PORTS.vectorizerMetrics;

export class VectorizerJob extends pulumi.ComponentResource {
  /** What the last run ingested (documents, chunks embedded, already done, stale chunks deleted, …). */
  public readonly ingested: pulumi.Output<IngestReport>;
  public readonly metricsPort: number;

  constructor(name: string, args: VectorizerJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const corpusDir = validateVectorizerJobArgs(name, args);
    super("gpu-fleet:index:VectorizerJob", name, {}, opts);
    const { host, store } = args;
    const paths = host.paths;
    const staging = `${paths.dataDir}/staging/vectorizer-${name}`;
    const appDir = `${staging}/app`;
    const packageJson = vectorizerPackageJson();
    const packageHash = specHash(packageJson);

    // The program and its pinned dependency list, then the corpus, over SFTP.
    const program = new command.remote.CopyToRemote(
      `${name}-program`,
      { connection: host.connection, source: new pulumi.asset.FileArchive(vectorizerSourceDir()), remotePath: appDir },
      { parent: this, dependsOn: [...host.ready] },
    );
    const manifest = new command.remote.CopyToRemote(
      `${name}-package`,
      {
        connection: host.connection,
        source: new pulumi.asset.StringAsset(packageJson),
        remotePath: `${appDir}/package.json`,
      },
      { parent: this, dependsOn: [program] },
    );
    const corpusArchive = new pulumi.asset.FileArchive(corpusDir);
    const corpus = new command.remote.CopyToRemote(
      `${name}-corpus`,
      {
        connection: host.connection,
        source: corpusArchive,
        remotePath: `${staging}/corpus`,
        triggers: [corpusArchive],
      },
      { parent: this, dependsOn: [...host.ready] },
    );
    const install = new command.remote.Command(
      `${name}-install`,
      {
        connection: host.connection,
        create: renderVectorizerInstallScript(
          { job: name, appDir, image: VECTORIZER_NODE_IMAGE, packageHash },
          { paths },
        ),
        triggers: [packageHash],
      },
      { parent: this, dependsOn: [manifest] },
    );

    const secretEnvFile = `${paths.configDir}/vectorizer/${name}.env`;
    const secrets = secretFileCommand(
      `${name}-secrets`,
      {
        connection: host.connection,
        path: secretEnvFile,
        purpose: `the vectorizer secrets of ${name}`,
        content: pulumi
          .all([store.connection, args.embeddingsApiKey])
          .apply(([c, key]) => `IRIS_PASSWORD=${c.password}\n${key ? `NVIDIA_API_KEY=${key}\n` : ""}`),
        paths,
      },
      { parent: this, dependsOn: [...host.ready] },
    );

    this.metricsPort = args.metricsPort ?? DEFAULT_VECTORIZER_METRICS_PORT;
    const bind = host.bindAddress === "private" ? pulumi.output(host.privateAddress) : pulumi.output(host.bindAddress);
    const dimension = findModel(args.embeddingModel)!.embeddingDim!;
    const runScript = pulumi
      .all([pulumi.output(args.embeddingsEndpoint), bind, store.address])
      .apply(([endpoint, bindAddress, irisHost]) =>
        renderVectorizerRunScript(
          {
            job: name,
            appDir,
            image: VECTORIZER_NODE_IMAGE,
            corpusDir: `${staging}/corpus/${basename(corpusDir)}`,
            stateDir: `${paths.dataDir}/vectorizer/${name}`,
            secretEnvFile,
            env: {
              IRIS_HOST: irisHost,
              IRIS_PORT: String(store.superserverPort),
              IRIS_NAMESPACE: store.namespace,
              IRIS_USERNAME: store.username,
            },
            args: [
              "--store",
              "iris",
              "--table",
              store.table,
              "--endpoint",
              endpoint,
              "--model",
              args.embeddingModel,
              "--dimension",
              String(dimension),
              "--batch-size",
              String(args.batchSize ?? VECTORIZER_LIMITS.batchSize.default),
              "--concurrency",
              String(args.concurrency ?? VECTORIZER_LIMITS.concurrency.default),
              "--metrics-host",
              bindAddress,
              "--metrics-port",
              String(this.metricsPort),
              "--progress-interval-ms",
              "10000",
            ],
          },
          { paths },
        ),
      );
    const run = new command.remote.Command(
      `${name}-ingest`,
      {
        connection: host.connection,
        create: runScript,
        // A new corpus, new settings or a new program: ingest again (it resumes from the checkpoint).
        triggers: [corpusArchive, packageHash, specHash({ batch: args.batchSize, concurrency: args.concurrency })],
        logging: "stderr",
      },
      {
        parent: this,
        dependsOn: [install, corpus, secrets, ...store.ready, ...(args.waitFor ?? [])],
        customTimeouts: { create: "12h" },
      },
    );
    this.ingested = run.stdout.apply(parseIngestReport);
    this.registerOutputs({ ingested: this.ingested, metricsPort: this.metricsPort });
  }
}

/** The run's summary: the last line of its stdout, which the vectorizer CLI writes as JSON. */
export function parseIngestReport(stdout: string | undefined): IngestReport {
  const last = (stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as IngestReport;
  } catch {
    throw new Error(`the vectorizer's last output line is not its JSON summary: ${JSON.stringify(last.slice(0, 200))}`);
  }
}

/** Exact, early errors; returns the absolute corpus directory. */
export function validateVectorizerJobArgs(name: string, args: VectorizerJobArgs): string {
  const where = `VectorizerJob "${name}"`;
  const corpusDir = resolve(args.corpusDir);
  if (!existsSync(corpusDir) || !statSync(corpusDir).isDirectory()) {
    throw new Error(
      `${where}: corpusDir "${args.corpusDir}" is not a directory; expected a local folder of .txt, .md and .jsonl documents`,
    );
  }
  const model = findModel(args.embeddingModel);
  if (!model || model.embeddingDim === undefined) {
    const embedders = MODELS.filter((m) => m.embeddingDim !== undefined).map((m) => m.id);
    throw new Error(
      `${where}: embeddingModel "${args.embeddingModel}" is not an embedding model of the catalog; expected one of ${embedders.join(", ")}`,
    );
  }
  if (model.embeddingDim !== args.store.dimension) {
    throw new Error(
      `${where}: ${model.id} makes ${model.embeddingDim}-dimensional vectors but the store's table holds ${args.store.dimension}; they must match`,
    );
  }
  for (const key of ["batchSize", "concurrency"] as const) {
    const value = args[key];
    const { min, max } = VECTORIZER_LIMITS[key];
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`${where}: ${key} ${value} is not allowed; expected a whole number from ${min} to ${max}`);
    }
  }
  if (args.metricsPort !== undefined && !isBindablePort(args.metricsPort)) {
    throw new Error(`${where}: metricsPort ${args.metricsPort} is not allowed; ${BINDABLE_PORTS_ALLOWED}`);
  }
  return corpusDir;
}
