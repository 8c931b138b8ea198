/**
 * IrisVectorDb: InterSystems IRIS Community in a container on a GpuHost (CPU only) as the RAG vector
 * store. Its data lives on the host's data volume (durable %SYS via ISC_DATA_DIRECTORY), so it
 * survives container and instance replacement; the default `_SYSTEM`/`SYS` credentials are replaced
 * by the stack's secret; ports bind privately; the schema — a `VECTOR(DOUBLE, dim)` table sized by the
 * embedding model in the catalog — is created idempotently once IRIS answers.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MODELS, findModel } from "../fleet";
import { renderIrisPasswordScript } from "../renderers/iris/password";
import { renderIrisSchemaScript } from "../renderers/iris/schema";
import {
  ContainerSpec,
  containerName,
  containerSpecHash,
  renderContainerStartScript,
  renderContainerStopScript,
} from "../renderers/container/container";
import { specHash } from "../renderers/shell";
import { secretFileCommand } from "./secretFile";
import { DEFAULT_TABLE, validateTableName } from "../vectorizer/stores/store";
import type { GpuHostRef } from "./hostRef";
import { BINDABLE_PORTS_ALLOWED, BUILT_IN_PORTS, isBindablePort } from "../fleet/ports";

/** InterSystems' public Community image; 2024.1+ has HNSW vector indexes. */
export const IRIS_IMAGE = "intersystems/iris-community:2025.1";
/** The uid of `irisowner`, the user the InterSystems images run as: it must own the durable directory. */
export const IRIS_OWNER_UID = 51773;
export const IRIS_SUPERSERVER_PORT = BUILT_IN_PORTS.irisSuperserver;
export const IRIS_WEB_PORT = BUILT_IN_PORTS.irisWeb;
/** Unauthenticated by default and cheap: answers once IRIS is up (also what Prometheus scrapes). */
export const IRIS_READY_PATH = "/api/monitor/metrics";

export interface IrisVectorDbArgs {
  readonly host: GpuHostRef;
  /** Password for `_SYSTEM` and the other predefined accounts. Pass a secret. */
  readonly password: pulumi.Input<string>;
  /** The embedding model whose vectors the table holds; its dimension sizes the VECTOR column. */
  readonly embeddingModel: string;
  /** Default: "vectorizer_chunks" (in IRIS's SQLUser schema). */
  readonly table?: string;
  /** Default: "USER". */
  readonly namespace?: string;
  /** Default: the pinned Community image. */
  readonly image?: string;
  /** Host ports. Defaults: 1972 (superserver) and 52773 (web, metrics). */
  readonly superserverPort?: number;
  readonly webPort?: number;
}

export interface IrisConnection {
  readonly host: string;
  readonly port: number;
  readonly namespace: string;
  readonly username: string;
  readonly password: string;
}

export class IrisVectorDb extends pulumi.ComponentResource {
  /** Where clients connect; the password inside is secret. */
  public readonly connection: pulumi.Output<IrisConnection>;
  /** The connection's parts that are not secret, for clients that take them one by one. */
  public readonly address: pulumi.Output<string>;
  public readonly superserverPort: number;
  public readonly namespace: string;
  public readonly username: string;
  public readonly table: string;
  public readonly dimension: number;
  public readonly webPort: number;
  /** The Prometheus endpoint IRIS serves. */
  public readonly metricsUrl: pulumi.Output<string>;
  /** Resources a client must wait for: IRIS answers, the passwords are set, the schema exists. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: IrisVectorDbArgs, opts?: pulumi.ComponentResourceOptions) {
    const dimension = validateIrisVectorDbArgs(name, args);
    super("gpu-fleet:index:IrisVectorDb", name, {}, opts);
    const { host } = args;
    const paths = host.paths;
    const namespace = args.namespace ?? "USER";
    const table = args.table ?? DEFAULT_TABLE;
    const webPort = args.webPort ?? IRIS_WEB_PORT;
    const superserverPort = args.superserverPort ?? IRIS_SUPERSERVER_PORT;
    const service = `iris-${name}`;
    const passwordFile = `${paths.configDir}/iris/${name}.password`;

    const password = secretFileCommand(
      `${name}-password`,
      {
        connection: host.connection,
        path: passwordFile,
        purpose: `the IRIS password of ${name}`,
        content: args.password,
        paths,
      },
      { parent: this, dependsOn: [...host.ready] },
    );

    const spec: ContainerSpec = {
      service,
      host: host.name,
      image: args.image ?? IRIS_IMAGE,
      nim: false,
      containerPort: IRIS_WEB_PORT,
      hostPort: webPort,
      extraPorts: [{ hostPort: superserverPort, containerPort: IRIS_SUPERSERVER_PORT }],
      healthPath: IRIS_READY_PATH,
      bindAddress: host.bindAddress,
      gpus: [],
      // Durable %SYS: configuration, databases and journals under /durable/iris on the data volume.
      env: { ISC_DATA_DIRECTORY: "/durable/iris" },
      args: [],
      volumes: [
        { hostPath: `${paths.dataDir}/databases/${name}`, containerPath: "/durable", ownerUid: IRIS_OWNER_UID },
      ],
      readyTimeoutSeconds: 600,
    };
    const container = new command.remote.Command(
      `${name}-container`,
      {
        connection: host.connection,
        create: renderContainerStartScript(spec, { paths }),
        delete: renderContainerStopScript(service, { paths }),
        triggers: [containerSpecHash(spec)],
      },
      { parent: this, dependsOn: [...host.ready] },
    );
    const credentials = new command.remote.Command(
      `${name}-credentials`,
      {
        connection: host.connection,
        create: renderIrisPasswordScript(name, containerName(service), passwordFile, { paths }),
        // A new password or a new container: set the passwords again.
        triggers: [password.id, container.id],
      },
      { parent: this, dependsOn: [password, container] },
    );
    const schemaScript = renderIrisSchemaScript(
      { service: name, containerName: containerName(service), namespace, table, dimension },
      { paths },
    );
    const schema = new command.remote.Command(
      `${name}-schema`,
      { connection: host.connection, create: schemaScript, triggers: [specHash(schemaScript), container.id] },
      { parent: this, dependsOn: [credentials] },
    );

    this.address = pulumi.output(host.privateAddress);
    this.superserverPort = superserverPort;
    this.namespace = namespace;
    this.username = "_SYSTEM";
    this.table = table;
    this.dimension = dimension;
    this.webPort = webPort;
    this.connection = pulumi.secret(
      pulumi.all([host.privateAddress, args.password]).apply(([address, pw]) => ({
        host: address,
        port: superserverPort,
        namespace,
        username: this.username,
        password: pw,
      })),
    );
    this.metricsUrl = pulumi.interpolate`http://${host.privateAddress}:${webPort}${IRIS_READY_PATH}`;
    this.ready = [schema];
    this.registerOutputs({ connection: this.connection, table, dimension, webPort, metricsUrl: this.metricsUrl });
  }
}

/** Exact, early errors; returns the vector dimension of the embedding model. */
export function validateIrisVectorDbArgs(name: string, args: IrisVectorDbArgs): number {
  const where = `IrisVectorDb "${name}"`;
  const model = findModel(args.embeddingModel);
  if (!model || model.embeddingDim === undefined) {
    const embedders = MODELS.filter((m) => m.embeddingDim !== undefined).map((m) => m.id);
    throw new Error(
      `${where}: embeddingModel "${args.embeddingModel}" is not an embedding model of the catalog; expected one of ${embedders.join(", ")}`,
    );
  }
  const tableProblem = args.table === undefined ? null : validateTableName(args.table);
  if (tableProblem) throw new Error(`${where}: table "${args.table}": ${tableProblem}`);
  if (args.namespace !== undefined && !/^[A-Z][A-Z0-9]{0,30}$/.test(args.namespace)) {
    throw new Error(
      `${where}: namespace "${args.namespace}" is not allowed; expected upper-case letters and digits, such as USER`,
    );
  }
  for (const [key, port] of [
    ["superserverPort", args.superserverPort],
    ["webPort", args.webPort],
  ] as const) {
    if (port !== undefined && !isBindablePort(port)) {
      throw new Error(`${where}: ${key} ${port} is not allowed; ${BINDABLE_PORTS_ALLOWED}`);
    }
  }
  return model.embeddingDim;
}
