// The scrape targets Prometheus gets, derived from the observability input (input.ts): one job per
// kind of exporter, every target from the hosts and services of the input.

import {
  DEFAULT_IRIS_SERVICE_NAME,
  type HostInput,
  type ObservabilityInput,
  type ResolvedObservabilityInput,
} from "./input";

/** Job names are part of the rules' and dashboards' contract: a rename breaks both. */
// Model containers: `nim` for NIMs, `vllm` for models served by vLLM's OpenAI server.
export const JOB = {
  prometheus: "prometheus",
  node: "node",
  dcgm: "dcgm",
  nim: "nim",
  vllm: "vllm",
  iris: "iris",
  vectorizer: "vectorizer",
} as const;
export type JobName = (typeof JOB)[keyof typeof JOB];

/** Selects every model container's job (NIM and vLLM) in PromQL. */
export const MODEL_JOBS_MATCHER = `job=~"${JOB.nim}|${JOB.vllm}"`;

export interface ScrapeTarget {
  /** `address:port`, as Prometheus' `__address__`. */
  readonly address: string;
  readonly labels: { readonly host: string; readonly service: string };
}

/** One Prometheus job: everything scraped the same way. */
export interface ScrapeJob {
  readonly job: JobName;
  readonly metricsPath: string;
  readonly targets: readonly ScrapeTarget[];
}

/** Metrics paths of each exporter. Sources: NIM `/v1/metrics` (NIM API, DESIGN.md §5); vLLM's
 *  OpenAI server `/metrics` (https://docs.vllm.ai/en/stable/design/metrics.html); IRIS
 *  `/api/monitor/metrics` (https://docs.intersystems.com/irislatest/csp/docbook/DocBook.UI.Page.cls?KEY=GCM_rest);
 *  DCGM exporter, node exporter and Prometheus itself serve `/metrics`. */
export const METRICS_PATH: Record<JobName, string> = {
  prometheus: "/metrics",
  node: "/metrics",
  dcgm: "/metrics",
  nim: "/v1/metrics",
  vllm: "/metrics",
  iris: "/api/monitor/metrics",
  vectorizer: "/metrics",
};

/** Where Prometheus listens, as seen from the observability host. */
export function prometheusListenAddress(input: ResolvedObservabilityInput): string {
  return `${bindAddress(input)}:${input.prometheusPort}`;
}

/** Address Prometheus and Grafana bind to. */
export function bindAddress(input: ResolvedObservabilityInput): string {
  if (input.bind === "loopback") return "127.0.0.1";
  return hostByName(input, input.observabilityHost).address;
}

export function hostByName(input: ObservabilityInput, name: string): HostInput {
  const host = input.hosts.find((h) => h.name === name);
  if (host === undefined) throw new Error(`observability: host "${name}" is not in hosts.`);
  return host;
}

/**
 * Every scrape job, derived from the input: node exporter on every host, DCGM on every host that
 * has a GPU, each NIM, IRIS instance and vectorizer where the plan put it, and Prometheus itself.
 * Jobs without targets are left out (Prometheus accepts them, but an empty job is noise).
 */
export function deriveScrapeJobs(input: ResolvedObservabilityInput): ScrapeJob[] {
  const jobs: ScrapeJob[] = [
    {
      job: JOB.prometheus,
      metricsPath: METRICS_PATH.prometheus,
      targets: [
        { address: prometheusListenAddress(input), labels: { host: input.observabilityHost, service: "prometheus" } },
      ],
    },
    {
      job: JOB.node,
      metricsPath: METRICS_PATH.node,
      targets: input.hosts.map((h) => ({
        address: `${h.address}:${input.nodeExporterPort}`,
        labels: { host: h.name, service: "node-exporter" },
      })),
    },
    {
      job: JOB.dcgm,
      metricsPath: METRICS_PATH.dcgm,
      targets: input.hosts
        .filter((h) => h.gpus.length > 0)
        .map((h) => ({
          address: `${h.address}:${input.dcgmPort}`,
          labels: { host: h.name, service: "dcgm-exporter" },
        })),
    },
    {
      job: JOB.nim,
      metricsPath: METRICS_PATH.nim,
      targets: input.nimServices
        .filter((s) => (s.engine ?? "nim") === "nim")
        .map((s) => ({ address: `${s.address}:${s.port}`, labels: { host: s.host, service: s.name } })),
    },
    {
      job: JOB.vllm,
      metricsPath: METRICS_PATH.vllm,
      targets: input.nimServices
        .filter((s) => s.engine === "vllm")
        .map((s) => ({ address: `${s.address}:${s.port}`, labels: { host: s.host, service: s.name } })),
    },
    {
      job: JOB.iris,
      metricsPath: METRICS_PATH.iris,
      targets: input.iris.map((i) => ({
        address: `${i.address}:${i.port}`,
        labels: { host: i.host, service: i.name ?? DEFAULT_IRIS_SERVICE_NAME },
      })),
    },
    {
      job: JOB.vectorizer,
      metricsPath: METRICS_PATH.vectorizer,
      targets: input.vectorizers.map((v) => ({
        address: `${v.address}:${v.port}`,
        labels: { host: v.host, service: v.name },
      })),
    },
  ];
  return jobs.filter((j) => j.targets.length > 0);
}

/** The plan's total reservation per GPU, and which services hold it ("none" for a spare GPU). */
export interface PlannedGpuReservation {
  readonly host: string;
  readonly gpu: number;
  readonly model: string;
  readonly memoryMiB: number;
  readonly reservedMiB: number;
  readonly services: string;
}

export function plannedGpuReservations(input: ObservabilityInput): PlannedGpuReservation[] {
  return input.hosts.flatMap((host) =>
    [...host.gpus]
      .sort((a, b) => a.index - b.index)
      .map((gpu) => ({
        host: host.name,
        gpu: gpu.index,
        model: gpu.model,
        memoryMiB: gpu.memoryMiB,
        reservedMiB: gpu.reservations.reduce((sum, r) => sum + r.reservedMiB, 0),
        services:
          gpu.reservations.length === 0
            ? "none"
            : [...new Set(gpu.reservations.map((r) => r.service))].sort().join(","),
      })),
  );
}
