// The three Grafana dashboards: NIM, GPU and pipeline. Typed against @grafana/schema's Dashboard,
// so tsc rejects a field Grafana does not know or a value of the wrong kind.

import type { Dashboard, GridPos, VariableModel } from "@grafana/schema";
import type { ResolvedObservabilityInput } from "./input";
import { JOB, MODEL_JOBS_MATCHER } from "./targets";
import { ALERT_POLICY, RECORDED } from "./rules";
import {
  gridPositions,
  labelValuesVariable,
  promQuery,
  statPanel,
  timeSeriesPanel,
  type FleetPanel,
  type PrometheusQuery,
} from "./panels";

// Grafana 12's dashboard JSON schema version (the value @grafana/schema 12.4's defaultDashboard uses).
const SCHEMA_VERSION = 42;

export interface FleetDashboard extends Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: FleetPanel[];
  readonly templating: { list: VariableModel[] };
}

function dashboard(
  uid: string,
  title: string,
  description: string,
  variables: VariableModel[],
  panels: FleetPanel[],
  stack: string,
): FleetDashboard {
  return {
    uid,
    title,
    description,
    tags: ["gpu-fleet", stack],
    editable: false,
    schemaVersion: SCHEMA_VERSION,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    timezone: "utc",
    graphTooltip: 1, // shared crosshair: compare a latency spike with GPU memory at the same moment
    templating: { list: variables },
    panels,
  };
}

type PanelBuilder = (id: number, pos: GridPos) => FleetPanel;

/** Lays out panel builders in order, assigning ids and grid positions. */
function layout(builders: PanelBuilder[]): FleetPanel[] {
  const positions = gridPositions(builders.length);
  return builders.map((build, i) => build(i + 1, positions[i]));
}

/**
 * A model metric across the engines the stack runs: NIM's name, vLLM's `vllm:` twin, or both
 * joined with `or` (their series differ by job and service, so none is dropped). `wrap` turns a
 * selector into the expression to take per engine, e.g. a rate.
 */
function modelMetric(
  input: ResolvedObservabilityInput,
  name: string,
  filter: string,
  wrap: (selector: string) => string = (x) => x,
): string {
  const names: string[] = [];
  if (input.nimServices.some((s) => (s.engine ?? "nim") === "nim")) names.push(name);
  if (input.nimServices.some((s) => s.engine === "vllm")) names.push(`vllm:${name}`);
  return names.map((n) => wrap(`${n}{${filter}}`)).join(" or ");
}

function quantiles(input: ResolvedObservabilityInput, histogram: string, filter: string): PrometheusQuery[] {
  const rates = modelMetric(input, `${histogram}_bucket`, filter, (x) => `rate(${x}[$__rate_interval])`);
  return [0.5, 0.95].map((q, i) =>
    promQuery(
      `A${i}`,
      `histogram_quantile(${q}, sum by (service, le) (${rates}))`,
      `{{service}} p${Math.round(q * 100)}`,
    ),
  );
}

export function nimDashboard(input: ResolvedObservabilityInput): FleetDashboard {
  const f = `${MODEL_JOBS_MATCHER}, host=~"$host", service=~"$service"`;
  const rate = (x: string) => `rate(${x}[$__rate_interval])`;
  const variables = [
    labelValuesVariable("host", "host", `up{${MODEL_JOBS_MATCHER}}`, "Host"),
    labelValuesVariable("service", "service", `up{${MODEL_JOBS_MATCHER}, host=~"$host"}`, "Model service"),
  ];
  const panels = layout([
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Time to first token",
        description:
          "Median and 95th percentile time from request to first generated token (NIM histogram time_to_first_token_seconds).",
        unit: "s",
        min: 0,
        queries: quantiles(input, "time_to_first_token_seconds", f),
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Inter-token latency",
        description:
          "Median and 95th percentile time per output token after the first (NIM histogram time_per_output_token_seconds).",
        unit: "s",
        min: 0,
        queries: quantiles(input, "time_per_output_token_seconds", f),
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Tokens per second",
        description: "Generated and prompt (prefill) tokens processed per second.",
        unit: "suffix: tok/s",
        min: 0,
        queries: [
          promQuery(
            "A",
            `sum by (service) (${modelMetric(input, "generation_tokens_total", f, rate)})`,
            "{{service}} generated",
          ),
          promQuery(
            "B",
            `sum by (service) (${modelMetric(input, "prompt_tokens_total", f, rate)})`,
            "{{service}} prompt",
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Requests running and waiting",
        description:
          "Requests being decoded on the GPU, and requests queued for a slot: a growing queue means the NIM is saturated.",
        unit: "short",
        min: 0,
        queries: [
          promQuery("A", `sum by (service) (${modelMetric(input, "num_requests_running", f)})`, "{{service}} running"),
          promQuery("B", `sum by (service) (${modelMetric(input, "num_requests_waiting", f)})`, "{{service}} waiting"),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "KV cache usage",
        description: "Share of the KV cache blocks in use (1 = full); when full, new requests wait.",
        unit: "percentunit",
        min: 0,
        max: 1,
        queries: [promQuery("A", `max by (service) (${modelMetric(input, "gpu_cache_usage_perc", f)})`, "{{service}}")],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "End-to-end request latency",
        description: "Median and 95th percentile time from request to last token.",
        unit: "s",
        min: 0,
        queries: quantiles(input, "e2e_request_latency_seconds", f),
      }),
    (id, pos) =>
      statPanel(id, pos, {
        title: "Model services answering",
        description:
          "1 when Prometheus could scrape the service's metrics at the last attempt (alert NimNotReady fires after 2 minutes at 0).",
        unit: "short",
        min: 0,
        max: 1,
        queries: [promQuery("A", `up{${f}}`, "{{service}} on {{host}}")],
      }),
  ]);
  return dashboard(
    "gpu-fleet-nim",
    `gpu-fleet ${input.stack}: NIM`,
    "Latency, throughput, queue and KV cache of every model service in the stack: NIMs, and models served by vLLM.",
    variables,
    panels,
    input.stack,
  );
}

export function gpuDashboard(input: ResolvedObservabilityInput): FleetDashboard {
  const d = `job="${JOB.dcgm}", host=~"$host"`;
  const n = `job="${JOB.node}", host=~"$host"`;
  const variables = [labelValuesVariable("host", "host", `up{job="${JOB.dcgm}"}`, "Host")];
  const gpuLegend = "{{host}} GPU {{gpu}}";
  const panels = layout([
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "GPU utilization",
        description: "Share of time a kernel was running on each GPU (DCGM_FI_DEV_GPU_UTIL).",
        unit: "percent",
        min: 0,
        max: 100,
        queries: [promQuery("A", `DCGM_FI_DEV_GPU_UTIL{${d}}`, gpuLegend)],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "GPU memory used against the plan",
        description:
          "Memory each GPU uses (solid) against the reservation the plan gave it (dashed). Used above planned raises GpuMemoryAboveReservation.",
        unit: "mbytes",
        min: 0,
        dashedSeriesRegex: ".* planned .*",
        queries: [
          promQuery("A", `DCGM_FI_DEV_FB_USED{${d}}`, `${gpuLegend} used`),
          promQuery(
            "B",
            `${RECORDED.plannedReservationMiB}{host=~"$host"}`,
            `{{host}} GPU {{gpu}} planned ({{services}})`,
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "GPU memory used (% of GPU)",
        description: `Memory used as a share of what the driver lets processes use; the red line is the ${ALERT_POLICY.gpuMemoryPercent}% alert threshold.`,
        unit: "percent",
        min: 0,
        max: 100,
        thresholdLine: ALERT_POLICY.gpuMemoryPercent,
        queries: [
          promQuery(
            "A",
            `100 * DCGM_FI_DEV_FB_USED{${d}} / (DCGM_FI_DEV_FB_USED{${d}} + DCGM_FI_DEV_FB_FREE{${d}})`,
            gpuLegend,
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "GPU temperature",
        description: `Core temperature; the red line is the ${ALERT_POLICY.gpuTemperatureCelsius} °C alert threshold.`,
        unit: "celsius",
        thresholdLine: ALERT_POLICY.gpuTemperatureCelsius,
        queries: [promQuery("A", `DCGM_FI_DEV_GPU_TEMP{${d}}`, gpuLegend)],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "GPU power",
        description: "Power draw of each GPU (DCGM_FI_DEV_POWER_USAGE).",
        unit: "watt",
        min: 0,
        queries: [promQuery("A", `DCGM_FI_DEV_POWER_USAGE{${d}}`, gpuLegend)],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Host CPU busy and memory available",
        description: "CPU time not idle, and memory available for new work, per host (node exporter).",
        unit: "percentunit",
        min: 0,
        max: 1,
        queries: [
          promQuery(
            "A",
            `1 - avg by (host) (rate(node_cpu_seconds_total{${n}, mode="idle"}[$__rate_interval]))`,
            "{{host}} CPU busy",
          ),
          promQuery(
            "B",
            `node_memory_MemAvailable_bytes{${n}} / node_memory_MemTotal_bytes{${n}}`,
            "{{host}} memory available",
          ),
        ],
      }),
  ]);
  return dashboard(
    "gpu-fleet-gpu",
    `gpu-fleet ${input.stack}: GPUs`,
    "Utilization, memory against the plan's reservations, temperature and power of every GPU.",
    variables,
    panels,
    input.stack,
  );
}

export function pipelineDashboard(input: ResolvedObservabilityInput): FleetDashboard {
  const v = `job="${JOB.vectorizer}", service=~"$vectorizer"`;
  const i = `job="${JOB.iris}"`;
  const hasVectorizers = input.vectorizers.length > 0;
  const variables = hasVectorizers
    ? [labelValuesVariable("vectorizer", "service", `up{job="${JOB.vectorizer}"}`, "Vectorizer")]
    : [];
  const vectorizerPanels: PanelBuilder[] = [
    (id, pos) =>
      statPanel(id, pos, {
        title: "Progress",
        description: "Chunks stored over chunks known.",
        unit: "percentunit",
        min: 0,
        max: 1,
        queries: [
          promQuery(
            "A",
            `sum by (service) (gpu_fleet_vectorizer_chunks_done_total{${v}}) / sum by (service) (gpu_fleet_vectorizer_chunks_total{${v}})`,
            "{{service}}",
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Chunks left",
        description: "Chunks known but not yet stored.",
        unit: "short",
        min: 0,
        queries: [
          promQuery(
            "A",
            `sum by (service) (gpu_fleet_vectorizer_chunks_total{${v}}) - sum by (service) (gpu_fleet_vectorizer_chunks_done_total{${v}})`,
            "{{service}}",
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Rate",
        description:
          "Chunks embedded and stored per second by the running process (chunks found already stored at start are not work).",
        unit: "suffix: chunks/s",
        min: 0,
        queries: [
          promQuery(
            "A",
            `sum by (service) (rate(gpu_fleet_vectorizer_chunks_embedded_total{${v}}[$__rate_interval]))`,
            "{{service}}",
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Errors",
        description:
          "Errors per interval by kind: retry (an embedding request was retried), malformed (an input skipped), fatal (the run stopped).",
        unit: "short",
        min: 0,
        queries: [
          promQuery(
            "A",
            `sum by (service, kind) (increase(gpu_fleet_vectorizer_errors_total{${v}}[$__rate_interval]))`,
            "{{service}} {{kind}}",
          ),
        ],
      }),
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "Time since last progress",
        description: `Seconds since a batch was last stored; the red line is where VectorizerStalled fires while work is left (${input.vectorizerStallMinutes} minutes).`,
        unit: "s",
        min: 0,
        thresholdLine: input.vectorizerStallMinutes * 60,
        queries: [promQuery("A", `time() - gpu_fleet_vectorizer_last_progress_timestamp_seconds{${v}}`, "{{service}}")],
      }),
  ];
  const irisPanels: PanelBuilder[] = [
    (id, pos) =>
      timeSeriesPanel(id, pos, {
        title: "IRIS vector store",
        description:
          "InterSystems IRIS: alerts posted to its messages log, active processes and CPU usage (/api/monitor/metrics).",
        unit: "short",
        min: 0,
        queries: [
          promQuery("A", `iris_system_alerts{${i}}`, "{{service}} on {{host}} alerts"),
          promQuery("B", `iris_process_count{${i}}`, "{{service}} on {{host}} processes"),
          promQuery("C", `iris_cpu_usage{${i}}`, "{{service}} on {{host}} CPU %"),
        ],
      }),
  ];
  // Panels only for exporters the stack runs: a panel over metrics nobody exports is empty by design.
  const panels = layout([...(hasVectorizers ? vectorizerPanels : []), ...(input.iris.length > 0 ? irisPanels : [])]);
  return dashboard(
    "gpu-fleet-pipeline",
    `gpu-fleet ${input.stack}: pipeline`,
    "Progress, rate and errors of the vectorization pipeline, and the health of the IRIS vector store.",
    variables,
    panels,
    input.stack,
  );
}

/** The dashboards that have something to show for this stack: NIM if it runs a NIM, GPU if a host
 *  has a GPU, pipeline if it runs a vectorizer or IRIS. */
export function renderDashboards(input: ResolvedObservabilityInput): FleetDashboard[] {
  const dashboards: FleetDashboard[] = [];
  if (input.nimServices.length > 0) dashboards.push(nimDashboard(input));
  if (input.hosts.some((h) => h.gpus.length > 0)) dashboards.push(gpuDashboard(input));
  if (input.vectorizers.length > 0 || input.iris.length > 0) dashboards.push(pipelineDashboard(input));
  return dashboards;
}
