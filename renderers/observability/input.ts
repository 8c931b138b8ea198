// What the observability renderers are given: the input model, its defaults and its checks. The
// scrape jobs derived from it are in targets.ts.
//
// Pure: no Pulumi import. The ObservabilityStack component builds an ObservabilityInput from its
// hosts and the services placed on them (fromPlan.ts) and hands it to the renderers in this folder;
// nothing here lists a target by hand.

import { BUILT_IN_PORTS } from "../../fleet/ports";

/** One service's share of one GPU, as the plan's ledger records it. */
export interface GpuReservationInput {
  readonly service: string;
  readonly reservedMiB: number;
}

/** One GPU of a host, with the memory the driver reports and what the plan reserved on it. */
export interface GpuInput {
  /** Device index as `nvidia-smi` and DCGM number it (DCGM's `gpu` label). */
  readonly index: number;
  readonly model: string;
  /** Total memory as the driver reports it (A10G: 23,028 MiB), not the marketing size. */
  readonly memoryMiB: number;
  readonly reservations: readonly GpuReservationInput[];
}

export interface HostInput {
  readonly name: string;
  /** Address Prometheus reaches the host's exporters at (private IP or DNS name). */
  readonly address: string;
  /** Address operators SSH to (a public IP when SSH is open to them). Default: `address`. */
  readonly sshAddress?: string;
  /** Login user for the SSH tunnel hint. Default: `ubuntu` (the user of Ubuntu AMIs). */
  readonly sshUser?: string;
  /** Empty for a host without GPUs: it gets node exporter but no DCGM exporter. */
  readonly gpus: readonly GpuInput[];
}

/**
 * A model container. NIMs serve `/v1/metrics`; models the fleet serves with vLLM's OpenAI server
 * (`vllm/vllm-openai`, for models without a NIM) serve `/metrics` with the same metrics under a
 * `vllm:` prefix. The plan's `serving.nim` says which.
 */
export interface NimServiceInput {
  readonly name: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
  /** Default: `nim`. */
  readonly engine?: "nim" | "vllm";
}

/** An IRIS instance; Prometheus scrapes `/api/monitor/metrics` on its web port (default 52773). */
export interface IrisInput {
  /** Service label for the instance. Default: `iris`. */
  readonly name?: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** The vectorization pipeline's metrics endpoint (`/metrics`). */
export interface VectorizerInput {
  readonly name: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

export interface ObservabilityInput {
  /** Stack name; becomes Prometheus' `stack` external label. */
  readonly stack: string;
  readonly hosts: readonly HostInput[];
  readonly nimServices: readonly NimServiceInput[];
  readonly iris?: readonly IrisInput[];
  readonly vectorizers?: readonly VectorizerInput[];
  /** Host that runs Prometheus and Grafana. Default: the first host. */
  readonly observabilityHost?: string;
  /** DCGM exporter port on every GPU host. Default: 9400 (the exporter's default listen port). */
  readonly dcgmPort?: number;
  /** Node exporter port on every host. Default: 9100 (node exporter's default listen port). */
  readonly nodeExporterPort?: number;
  /** Prometheus' own port. Default: 9090. */
  readonly prometheusPort?: number;
  /** Grafana's port. Default: 3000. */
  readonly grafanaPort?: number;
  /** Where Prometheus and Grafana listen: `loopback` (127.0.0.1, reach them by SSH tunnel) or
   *  `private` (the observability host's address). Default: `loopback`. */
  readonly bind?: "loopback" | "private";
  /** Prometheus TSDB retention. Default: 15 days. */
  readonly retentionDays?: number;
  /** Scrape and rule evaluation interval. Default: 15 s. */
  readonly scrapeIntervalSeconds?: number;
  /** How long a vectorizer with work left may go without progress before it counts as stalled.
   *  Default: 15 minutes. */
  readonly vectorizerStallMinutes?: number;
  /** MiB a GPU may use above its planned reservation before the over-reservation alert fires.
   *  Default: 256 MiB — more than an idle GPU's driver footprint (a few MiB in nvidia-smi), far less
   *  than any model's weights, so a leaking process or an unplanned service on a spare GPU shows. */
  readonly reservationToleranceMiB?: number;
}

/** Every optional field filled in, so renderers never repeat a default. */
export interface ResolvedObservabilityInput extends ObservabilityInput {
  readonly iris: readonly IrisInput[];
  readonly vectorizers: readonly VectorizerInput[];
  readonly observabilityHost: string;
  readonly dcgmPort: number;
  readonly nodeExporterPort: number;
  readonly prometheusPort: number;
  readonly grafanaPort: number;
  readonly bind: "loopback" | "private";
  readonly retentionDays: number;
  readonly scrapeIntervalSeconds: number;
  readonly vectorizerStallMinutes: number;
  readonly reservationToleranceMiB: number;
}

// The one table of the ports the stack binds (fleet/ports.ts): the config check keeps services off them.
export const DEFAULT_DCGM_PORT = BUILT_IN_PORTS.dcgmExporter;
export const DEFAULT_NODE_EXPORTER_PORT = BUILT_IN_PORTS.nodeExporter;
export const DEFAULT_PROMETHEUS_PORT = BUILT_IN_PORTS.prometheus;
export const DEFAULT_GRAFANA_PORT = BUILT_IN_PORTS.grafana;
export const DEFAULT_IRIS_SERVICE_NAME = "iris";
/** Where Prometheus and Grafana listen unless told: loopback, reached through an SSH tunnel. */
export const DEFAULT_BIND = "loopback";
/** Prometheus TSDB retention in days: 15 unless told (Prometheus' own default), at most ten years. */
export const RETENTION_DAYS = { default: 15, min: 1, max: 3650 } as const;

// Label values end up inside PromQL strings and alert templates; a quote or a brace there would
// break the rendered files, so names are restricted to what the fleet model already allows.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SAFE_ADDRESS = /^[A-Za-z0-9.:_-]+$/;

function checkName(what: string, name: string): void {
  if (!SAFE_NAME.test(name)) {
    throw new Error(
      `observability: ${what} "${name}" must start with a letter or digit and contain only letters, digits, ".", "_" and "-".`,
    );
  }
}

function checkAddress(what: string, address: string): void {
  if (!SAFE_ADDRESS.test(address)) {
    throw new Error(
      `observability: ${what} address "${address}" must be a host name or IP address without a scheme or path.`,
    );
  }
}

export function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`observability: ${what} port ${port} must be an integer from 1 to 65535.`);
  }
}

function checkPositive(what: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`observability: ${what} must be a positive number, got ${value}.`);
  }
}

/**
 * Checks the input and fills in every default. Throws one exact message per mistake, before any
 * file is rendered.
 */
export function resolveObservabilityInput(input: ObservabilityInput): ResolvedObservabilityInput {
  checkName("stack", input.stack);
  if (input.hosts.length === 0) {
    throw new Error("observability: at least one host is required.");
  }
  const hostNames = new Set<string>();
  for (const host of input.hosts) {
    checkName("host name", host.name);
    checkAddress(`host "${host.name}"`, host.address);
    if (host.sshAddress !== undefined) checkAddress(`host "${host.name}" SSH`, host.sshAddress);
    if (hostNames.has(host.name)) {
      throw new Error(`observability: host "${host.name}" is listed twice.`);
    }
    hostNames.add(host.name);
    const indexes = new Set<number>();
    for (const gpu of host.gpus) {
      if (!Number.isInteger(gpu.index) || gpu.index < 0) {
        throw new Error(`observability: host "${host.name}" has GPU index ${gpu.index}; indexes are integers from 0.`);
      }
      if (indexes.has(gpu.index)) {
        throw new Error(`observability: host "${host.name}" lists GPU ${gpu.index} twice.`);
      }
      indexes.add(gpu.index);
      checkPositive(`memoryMiB of GPU ${gpu.index} on host "${host.name}"`, gpu.memoryMiB);
      for (const reservation of gpu.reservations) {
        checkName(`service on GPU ${gpu.index} of host "${host.name}"`, reservation.service);
        if (!Number.isFinite(reservation.reservedMiB) || reservation.reservedMiB < 0) {
          throw new Error(
            `observability: reservation of "${reservation.service}" on GPU ${gpu.index} of host "${host.name}" must be a number of MiB >= 0, got ${reservation.reservedMiB}.`,
          );
        }
      }
    }
  }

  const serviceKeys = new Set<string>();
  const checkService = (kind: string, name: string, host: string, address: string, port: number): void => {
    checkName(`${kind} name`, name);
    if (!hostNames.has(host)) {
      throw new Error(
        `observability: ${kind} "${name}" is on host "${host}", which is not in hosts (${[...hostNames].join(", ")}).`,
      );
    }
    checkAddress(`${kind} "${name}"`, address);
    checkPort(`${kind} "${name}"`, port);
    const key = `${kind}/${name}`;
    if (serviceKeys.has(key)) {
      throw new Error(`observability: ${kind} "${name}" is listed twice.`);
    }
    serviceKeys.add(key);
  };
  for (const nim of input.nimServices) checkService("NIM service", nim.name, nim.host, nim.address, nim.port);
  for (const iris of input.iris ?? []) {
    checkService("IRIS instance", iris.name ?? DEFAULT_IRIS_SERVICE_NAME, iris.host, iris.address, iris.port);
  }
  for (const vectorizer of input.vectorizers ?? []) {
    checkService("vectorizer", vectorizer.name, vectorizer.host, vectorizer.address, vectorizer.port);
  }

  const observabilityHost = input.observabilityHost ?? input.hosts[0].name;
  if (!hostNames.has(observabilityHost)) {
    throw new Error(
      `observability: observabilityHost "${observabilityHost}" is not in hosts (${[...hostNames].join(", ")}).`,
    );
  }
  const resolved: ResolvedObservabilityInput = {
    ...input,
    iris: input.iris ?? [],
    vectorizers: input.vectorizers ?? [],
    observabilityHost,
    dcgmPort: input.dcgmPort ?? DEFAULT_DCGM_PORT,
    nodeExporterPort: input.nodeExporterPort ?? DEFAULT_NODE_EXPORTER_PORT,
    prometheusPort: input.prometheusPort ?? DEFAULT_PROMETHEUS_PORT,
    grafanaPort: input.grafanaPort ?? DEFAULT_GRAFANA_PORT,
    bind: input.bind ?? DEFAULT_BIND,
    retentionDays: input.retentionDays ?? RETENTION_DAYS.default,
    scrapeIntervalSeconds: input.scrapeIntervalSeconds ?? 15,
    vectorizerStallMinutes: input.vectorizerStallMinutes ?? 15,
    reservationToleranceMiB: input.reservationToleranceMiB ?? 256,
  };
  checkPort("dcgm", resolved.dcgmPort);
  checkPort("node exporter", resolved.nodeExporterPort);
  checkPort("prometheus", resolved.prometheusPort);
  checkPort("grafana", resolved.grafanaPort);
  const { min, max } = RETENTION_DAYS;
  if (!Number.isInteger(resolved.retentionDays) || resolved.retentionDays < min || resolved.retentionDays > max) {
    throw new Error(
      `observability: retentionDays must be a whole number of days from ${min} to ${max}, got ${resolved.retentionDays}.`,
    );
  }
  if (!Number.isInteger(resolved.scrapeIntervalSeconds) || resolved.scrapeIntervalSeconds < 1) {
    throw new Error(
      `observability: scrapeIntervalSeconds must be a whole number >= 1, got ${resolved.scrapeIntervalSeconds}.`,
    );
  }
  if (!Number.isInteger(resolved.vectorizerStallMinutes) || resolved.vectorizerStallMinutes < 1) {
    throw new Error(
      `observability: vectorizerStallMinutes must be a whole number >= 1, got ${resolved.vectorizerStallMinutes}.`,
    );
  }
  if (!Number.isInteger(resolved.reservationToleranceMiB) || resolved.reservationToleranceMiB < 0) {
    throw new Error(
      `observability: reservationToleranceMiB must be a whole number >= 0, got ${resolved.reservationToleranceMiB}.`,
    );
  }
  return resolved;
}

/** One scrape target with the stable labels every rule and panel joins on. */
