/**
 * NimService: one model container on a GpuHost, pinned to the devices the plan gave it. The NGC key
 * travels as a secret on stdin into a 0600 env file; the container start waits for readiness and
 * prints the container's logs when it fails. Nothing re-runs on a `pulumi up` that changes nothing:
 * the commands' inputs are pure functions of the plan.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SAFETY_MARGIN_FRACTION,
  GPU_MODEL_NAMES,
  HostConfig,
  PlannedService,
  Problems,
  ServiceSettings,
  checkHostLedger,
  findGpuModel,
  hostShape,
  planHost,
  validateServiceSettings,
} from "../fleet";
import {
  containerName,
  containerSpecHash,
  renderContainerStartScript,
  renderContainerStopScript,
} from "../renderers/container/container";
import { envFileContent } from "../renderers/nim/secretEnvFile";
import { containerSpecFor } from "../renderers/nim/serviceSpec";
import { enforceFindings } from "./fit";
import { secretFileCommand } from "./secretFile";
import type { GpuHostRef, ServiceRef } from "./hostRef";

/** Cold caches download tens of GB before NIM is ready; fewer than 30 minutes fails real first starts. */
export const MIN_READY_TIMEOUT_SECONDS = 1800;

export interface NimServiceArgs {
  /** The machine it runs on: a GpuHost, or any GpuHostRef (a machine you manage yourself). */
  readonly host: GpuHostRef;
  /**
   * The name of a service the host placed (one of a GpuHost's `services`), or — on a host that plans no
   * services (a GpuHostRef without `services`) — the service's settings, which this component estimates
   * and checks alone on the host's GPUs.
   */
  readonly service: string | ServiceSettings;
  /** NGC API key for nvcr.io and model downloads. Required for NIM images; pass a secret. */
  readonly ngcApiKey?: pulumi.Input<string>;
  /** How long `pulumi up` waits for the health endpoint. Default: 2400 s; at least 1800 s. */
  readonly readyTimeoutSeconds?: number;
}

export class NimService extends pulumi.ComponentResource implements ServiceRef {
  /** `http://<private address>:<port>`: the OpenAI-compatible API (`/v1/...`). */
  public readonly endpoint: pulumi.Output<string>;
  public readonly containerName: string;
  public readonly serviceName: string;
  public readonly hostName: string;
  public readonly hostPort: number;
  public readonly metrics: "nim" | "vllm";
  /** The catalog model it serves. */
  public readonly model: string;
  public readonly gpus: readonly number[];
  public readonly tensorParallel: number;
  public readonly reservedMiBPerGpu: number;
  /** The service as planned: devices, precision, context, estimate. */
  public readonly planned: PlannedService;
  /** Resources to wait for before using the service: the container answered its health check. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: NimServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and check the fit before super(): a rejected component registers nothing, not even itself.
    const { service, warnings } = resolveNimService(name, args);
    super("gpu-fleet:index:NimService", name, {}, opts);
    for (const w of warnings) pulumi.log.warn(w, this);
    const { host } = args;
    const spec = containerSpecFor(
      service,
      { name: host.name, bindAddress: host.bindAddress, gpu: findGpuModel(host.gpus[0].model)! },
      { paths: host.paths, readyTimeoutSeconds: args.readyTimeoutSeconds },
    );

    const dependsOn: pulumi.Resource[] = [...host.ready];
    let keyVersion: pulumi.Output<string> | undefined;
    if (spec.secretEnvFile) {
      const key = secretFileCommand(
        `${name}-ngc-key`,
        {
          connection: host.connection,
          path: spec.secretEnvFile,
          purpose: `the secret env file of ${service.name}`,
          content: pulumi.output(args.ngcApiKey!).apply((k) => envFileContent("NGC_API_KEY", k)),
          paths: host.paths,
        },
        { parent: this, dependsOn: [...host.ready] },
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
    this.serviceName = service.name;
    this.hostName = host.name;
    this.hostPort = service.hostPort;
    // Models without a NIM run on vLLM's OpenAI server, which serves /metrics with vllm: names.
    this.metrics = service.serving.nim ? "nim" : "vllm";
    this.planned = service;
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

/**
 * The planned service a NimService runs, with the warnings to log once it is registered. A service the
 * host placed is taken as planned (the host checked it with every other service on its GPUs); settings
 * on a host that plans none are estimated and checked here, alone on the host's GPUs.
 */
export function resolveNimService(name: string, args: NimServiceArgs): { service: PlannedService; warnings: string[] } {
  const where = `NimService "${name}"`;
  const fail = (problems: readonly string[]): never => {
    throw new pulumi.ResourceError(`${where}: ${problems.join(`\n${where}: `)}`, undefined);
  };
  const { host } = args;
  const p = new Problems();
  const gpu = host.gpus.length > 0 ? findGpuModel(host.gpus[0].model) : undefined;
  if (!gpu) {
    fail([
      `host "${host.name}" has ${host.gpus.length === 0 ? "no GPUs" : `GPU model "${host.gpus[0].model}", not in the catalog`}; expected GPUs of one catalog model: ${GPU_MODEL_NAMES.join(", ")}`,
    ]);
  }
  let service: PlannedService;
  let warnings: string[] = [];
  if (typeof args.service === "string") {
    const wanted = args.service;
    const found = host.services?.find((s) => s.name === wanted);
    if (!found) {
      const planned = (host.services ?? []).map((s) => `"${s.name}"`).join(", ") || "none";
      fail([
        `service: "${wanted}" is not a service of host "${host.name}" (its services: ${planned}); add it to the host's services or pass its settings`,
      ]);
    }
    service = found!;
  } else {
    if (host.services !== undefined) {
      // The host wrote a ledger of its own services: one planned elsewhere would share GPUs unseen.
      const settingsName = String((args.service as { name?: unknown }).name);
      fail([
        `service: host "${host.name}" places and checks its own services; add "${settingsName}" to the host's services and pass service: "${settingsName}"`,
      ]);
    }
    const config: HostConfig = {
      name: host.name,
      existing: {
        address: host.name,
        user: host.sshUser ?? "ubuntu",
        port: host.sshPort ?? 22,
        gpu: gpu!.name,
        gpuCount: host.gpus.length,
        dataDir: host.paths.dataDir,
      },
      sshAllowedCidrs: [],
      rootVolumeSizeGiB: 0,
      dataVolumeSizeGiB: 0,
      bindAddress: host.bindAddress,
    };
    const settings = validateServiceSettings(p, "service", args.service, config);
    if (!settings) fail(p.list);
    const planned = planHost(config, hostShape(config), [settings!], DEFAULT_SAFETY_MARGIN_FRACTION);
    warnings = enforceFindings(where, checkHostLedger(planned.host.ledgerDocument), () => "service");
    service = planned.services[0];
  }
  if (service.gpus.length === 0) {
    fail([`service "${service.name}" has no GPUs; the plan could not place it (see the host's findings)`]);
  }
  if (service.serving.nim && args.ngcApiKey === undefined) {
    p.add(
      "ngcApiKey",
      `is required to pull ${service.serving.image}; pass a secret (the stack reads gpu-fleet:ngcApiKey, set with \`pulumi config set --secret\`)`,
    );
  }
  const timeout = args.readyTimeoutSeconds;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < MIN_READY_TIMEOUT_SECONDS)) {
    p.add(
      "readyTimeoutSeconds",
      `${timeout} is too short; expected a whole number of seconds >= ${MIN_READY_TIMEOUT_SECONDS} (cold NIM caches download tens of GB)`,
    );
  }
  if (p.list.length > 0) fail(p.list);
  return { service, warnings };
}
