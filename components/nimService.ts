/**
 * NimService: one model container on a GpuHost, pinned to the devices the plan gave it. The NGC key
 * travels as a secret on stdin into a 0600 env file; the container start waits for readiness and
 * prints the container's logs when it fails. Nothing re-runs on a `pulumi up` that changes nothing:
 * the commands' inputs are pure functions of the plan.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlannedService } from "../fleet";
import {
  containerName,
  containerSpecHash,
  renderContainerStartScript,
  renderContainerStopScript,
} from "../renderers/container/container";
import {
  envFileContent,
  renderSecretEnvFileRemoveScript,
  renderSecretEnvFileScript,
} from "../renderers/nim/secretEnvFile";
import { containerSpecFor } from "../renderers/nim/serviceSpec";
import { GpuHost } from "./gpuHost";

/** Cold caches download tens of GB before NIM is ready; fewer than 30 minutes fails real first starts. */
export const MIN_READY_TIMEOUT_SECONDS = 1800;

export interface NimServiceArgs {
  readonly host: GpuHost;
  /** The service as the fleet plan placed it (`planFleet(config).services[i]`). */
  readonly service: PlannedService;
  /** NGC API key for nvcr.io and model downloads. Required for NIM images; pass a secret. */
  readonly ngcApiKey?: pulumi.Input<string>;
  /** How long `pulumi up` waits for the health endpoint. Default: 2400 s; at least 1800 s. */
  readonly readyTimeoutSeconds?: number;
}

export class NimService extends pulumi.ComponentResource {
  /** `http://<private address>:<port>`: the OpenAI-compatible API (`/v1/...`). */
  public readonly endpoint: pulumi.Output<string>;
  public readonly containerName: string;
  /** The catalog model it serves. */
  public readonly model: string;
  public readonly gpus: readonly number[];
  public readonly tensorParallel: number;
  public readonly reservedMiBPerGpu: number;
  /** Resources to wait for before using the service: the container answered its health check. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: NimServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before super(): a rejected component registers nothing, not even itself.
    validateNimServiceArgs(name, args);
    super("gpu-fleet:index:NimService", name, {}, opts);
    const { host, service } = args;
    const spec = containerSpecFor(service, host.plan, {
      paths: host.paths,
      readyTimeoutSeconds: args.readyTimeoutSeconds,
    });

    const dependsOn: pulumi.Resource[] = [...host.ready];
    let keyVersion: pulumi.Output<string> | undefined;
    if (spec.secretEnvFile) {
      const key = new command.remote.Command(
        `${name}-ngc-key`,
        {
          connection: host.connection,
          create: renderSecretEnvFileScript(service.name, { paths: host.paths }),
          delete: renderSecretEnvFileRemoveScript(service.name, { paths: host.paths }),
          stdin: pulumi.secret(pulumi.output(args.ngcApiKey!).apply((k) => envFileContent("NGC_API_KEY", k))),
        },
        { parent: this, dependsOn: host.ready },
      );
      dependsOn.push(key);
      // A new key replaces the env file; the container then restarts to read it.
      keyVersion = key.id;
    }
    const container = new command.remote.Command(
      `${name}-container`,
      {
        connection: host.connection,
        create: renderContainerStartScript(spec, { paths: host.paths }),
        delete: renderContainerStopScript(service.name, { paths: host.paths }),
        triggers: keyVersion ? [containerSpecHash(spec), keyVersion] : [containerSpecHash(spec)],
      },
      { parent: this, dependsOn, customTimeouts: { create: `${spec.readyTimeoutSeconds + 600}s` } },
    );

    this.containerName = containerName(service.name);
    this.model = service.model;
    this.gpus = service.gpus;
    this.tensorParallel = service.tensorParallel;
    this.reservedMiBPerGpu = service.reservedMiBPerGpu;
    this.endpoint = pulumi.interpolate`http://${host.privateAddress}:${service.hostPort}`;
    this.ready = [container];
    this.registerOutputs({
      endpoint: this.endpoint,
      containerName: this.containerName,
      gpus: this.gpus,
      tensorParallel: this.tensorParallel,
      reservedMiBPerGpu: this.reservedMiBPerGpu,
    });
  }
}

export function validateNimServiceArgs(name: string, args: NimServiceArgs): void {
  const where = `NimService "${name}"`;
  const { host, service } = args;
  if (service.host !== host.plan.name) {
    throw new Error(
      `${where}: service "${service.name}" is planned on host "${service.host}", not on "${host.plan.name}"`,
    );
  }
  if (service.gpus.length === 0) {
    throw new Error(
      `${where}: service "${service.name}" has no GPUs; the plan could not place it (see the plan's findings)`,
    );
  }
  if (service.serving.nim && args.ngcApiKey === undefined) {
    throw new Error(
      `${where}: ngcApiKey is required to pull ${service.serving.image}; set gpu-fleet:ngcApiKey with \`pulumi config set --secret\``,
    );
  }
  const timeout = args.readyTimeoutSeconds;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < MIN_READY_TIMEOUT_SECONDS)) {
    throw new Error(
      `${where}: readyTimeoutSeconds ${timeout} is too short; expected a whole number of seconds >= ${MIN_READY_TIMEOUT_SECONDS} (cold NIM caches download tens of GB)`,
    );
  }
}
