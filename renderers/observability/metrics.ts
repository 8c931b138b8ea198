// The metrics catalog: every metric a rule or a panel of ours reads, the exporter in the stack
// that exposes it, and where that is documented. A test parses every PromQL expression we render
// and fails on a name that is not here, so no panel is empty by design and no alert waits on a
// series nobody exports.

export type Exporter = "dcgm-exporter" | "nim-llm" | "vllm" | "node-exporter" | "iris" | "vectorizer" | "prometheus";
export type MetricType = "gauge" | "counter" | "histogram";

export interface CatalogMetric {
  readonly name: string;
  readonly exporter: Exporter;
  readonly type: MetricType;
  readonly unit: string;
  readonly help: string;
  /** Where the name is documented (a URL, or a path in this repository for our own program). */
  readonly source: string;
}

// NVIDIA/dcgm-exporter, etc/default-counters.csv: the counters the exporter collects when started
// without `-f`. Labels on every series: gpu (device index), UUID, device, modelName, Hostname, pci_bus_id.
const DCGM_DEFAULT_COUNTERS = "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv";
// NIM for LLMs observability page: metrics served at /v1/metrics (vLLM-style names, no `vllm:` prefix).
const NIM_LLM_METRICS = "https://docs.nvidia.com/nim/large-language-models/latest/observability.html";
// vLLM's OpenAI server (the fleet's image for models without a NIM, vllm/vllm-openai:v0.8.5):
// /metrics, the same request metrics as NIM under a `vllm:` prefix.
const VLLM_METRICS = "https://github.com/vllm-project/vllm/blob/v0.8.5/docs/source/design/v1/metrics.md";
// node_exporter's meminfo and cpu collectors (enabled by default).
const NODE_EXPORTER = "https://github.com/prometheus/node_exporter#enabled-by-default";
// InterSystems IRIS /api/monitor/metrics, "Metric Descriptions".
const IRIS_MONITOR = "https://docs.intersystems.com/irislatest/csp/docbook/DocBook.UI.Page.cls?KEY=GCM_rest";
// Our own vectorization pipeline: METRIC_NAMES and renderMetrics in vectorizer/progress.ts (served on
// /metrics when started with --metrics-port).
const VECTORIZER = "vectorizer/progress.ts";
// Prometheus adds `up` to every scrape.
const PROMETHEUS_UP =
  "https://prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series";

export const METRIC_CATALOG: readonly CatalogMetric[] = [
  {
    name: "DCGM_FI_DEV_GPU_UTIL",
    exporter: "dcgm-exporter",
    type: "gauge",
    unit: "percent",
    help: "GPU utilization (in %).",
    source: DCGM_DEFAULT_COUNTERS,
  },
  {
    name: "DCGM_FI_DEV_FB_USED",
    exporter: "dcgm-exporter",
    type: "gauge",
    unit: "MiB",
    help: "Framebuffer memory used (in MiB).",
    source: DCGM_DEFAULT_COUNTERS,
  },
  {
    name: "DCGM_FI_DEV_FB_FREE",
    exporter: "dcgm-exporter",
    type: "gauge",
    unit: "MiB",
    help: "Framebuffer memory free (in MiB).",
    source: DCGM_DEFAULT_COUNTERS,
  },
  {
    name: "DCGM_FI_DEV_GPU_TEMP",
    exporter: "dcgm-exporter",
    type: "gauge",
    unit: "celsius",
    help: "GPU temperature (in C).",
    source: DCGM_DEFAULT_COUNTERS,
  },
  {
    name: "DCGM_FI_DEV_POWER_USAGE",
    exporter: "dcgm-exporter",
    type: "gauge",
    unit: "watt",
    help: "Power draw (in W).",
    source: DCGM_DEFAULT_COUNTERS,
  },

  {
    name: "time_to_first_token_seconds",
    exporter: "nim-llm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of time to first token in seconds.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "time_per_output_token_seconds",
    exporter: "nim-llm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of time per output token (inter-token latency) in seconds.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "e2e_request_latency_seconds",
    exporter: "nim-llm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of end-to-end request latency in seconds.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "num_requests_running",
    exporter: "nim-llm",
    type: "gauge",
    unit: "requests",
    help: "Number of requests currently running on GPU.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "num_requests_waiting",
    exporter: "nim-llm",
    type: "gauge",
    unit: "requests",
    help: "Number of requests waiting to be processed.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "gpu_cache_usage_perc",
    exporter: "nim-llm",
    type: "gauge",
    unit: "ratio",
    help: "GPU KV-cache usage; 1 means 100 percent.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "prompt_tokens_total",
    exporter: "nim-llm",
    type: "counter",
    unit: "tokens",
    help: "Number of prefill tokens processed.",
    source: NIM_LLM_METRICS,
  },
  {
    name: "generation_tokens_total",
    exporter: "nim-llm",
    type: "counter",
    unit: "tokens",
    help: "Number of generation tokens processed.",
    source: NIM_LLM_METRICS,
  },

  {
    name: "vllm:time_to_first_token_seconds",
    exporter: "vllm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of time to first token in seconds.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:time_per_output_token_seconds",
    exporter: "vllm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of time per output token in seconds.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:e2e_request_latency_seconds",
    exporter: "vllm",
    type: "histogram",
    unit: "seconds",
    help: "Histogram of end-to-end request latency in seconds.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:num_requests_running",
    exporter: "vllm",
    type: "gauge",
    unit: "requests",
    help: "Number of requests currently running on GPU.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:num_requests_waiting",
    exporter: "vllm",
    type: "gauge",
    unit: "requests",
    help: "Number of requests waiting to be processed.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:gpu_cache_usage_perc",
    exporter: "vllm",
    type: "gauge",
    unit: "ratio",
    help: "GPU KV-cache usage; 1 means 100 percent.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:prompt_tokens_total",
    exporter: "vllm",
    type: "counter",
    unit: "tokens",
    help: "Number of prefill tokens processed.",
    source: VLLM_METRICS,
  },
  {
    name: "vllm:generation_tokens_total",
    exporter: "vllm",
    type: "counter",
    unit: "tokens",
    help: "Number of generation tokens processed.",
    source: VLLM_METRICS,
  },

  {
    name: "node_cpu_seconds_total",
    exporter: "node-exporter",
    type: "counter",
    unit: "seconds",
    help: "Seconds the CPUs spent in each mode.",
    source: NODE_EXPORTER,
  },
  {
    name: "node_memory_MemAvailable_bytes",
    exporter: "node-exporter",
    type: "gauge",
    unit: "bytes",
    help: "Memory available for new work (MemAvailable in /proc/meminfo).",
    source: NODE_EXPORTER,
  },
  {
    name: "node_memory_MemTotal_bytes",
    exporter: "node-exporter",
    type: "gauge",
    unit: "bytes",
    help: "Total memory (MemTotal in /proc/meminfo).",
    source: NODE_EXPORTER,
  },

  {
    name: "iris_system_alerts",
    exporter: "iris",
    type: "gauge",
    unit: "alerts",
    help: "Number of alerts posted to the messages log since system startup.",
    source: IRIS_MONITOR,
  },
  {
    name: "iris_process_count",
    exporter: "iris",
    type: "gauge",
    unit: "processes",
    help: "Number of active InterSystems IRIS processes.",
    source: IRIS_MONITOR,
  },
  {
    name: "iris_cpu_usage",
    exporter: "iris",
    type: "gauge",
    unit: "percent",
    help: "Percent of CPU usage by all programs on the operating system.",
    source: IRIS_MONITOR,
  },

  {
    name: "gpu_fleet_vectorizer_chunks_total",
    exporter: "vectorizer",
    type: "counter",
    unit: "chunks",
    help: "Chunks found in the corpus by this run's scan (the work to do).",
    source: VECTORIZER,
  },
  {
    name: "gpu_fleet_vectorizer_chunks_done_total",
    exporter: "vectorizer",
    type: "counter",
    unit: "chunks",
    help: "Chunks whose vectors are in the store: present at start plus written by this run.",
    source: VECTORIZER,
  },
  {
    name: "gpu_fleet_vectorizer_chunks_embedded_total",
    exporter: "vectorizer",
    type: "counter",
    unit: "chunks",
    help: "Chunks embedded and written by this process (the rate of work; done_total jumps at start by what was already stored).",
    source: VECTORIZER,
  },
  {
    name: "gpu_fleet_vectorizer_errors_total",
    exporter: "vectorizer",
    type: "counter",
    unit: "errors",
    help: "Errors by kind (label kind: retry, malformed, fatal).",
    source: VECTORIZER,
  },
  {
    name: "gpu_fleet_vectorizer_last_progress_timestamp_seconds",
    exporter: "vectorizer",
    type: "gauge",
    unit: "unix seconds",
    help: "Unix time of the run's start or of the last batch written to the store.",
    source: VECTORIZER,
  },

  {
    name: "up",
    exporter: "prometheus",
    type: "gauge",
    unit: "boolean",
    help: "1 if the last scrape of the target succeeded, else 0.",
    source: PROMETHEUS_UP,
  },
];

/** The Prometheus job that scrapes each exporter (see targets.ts); `up` exists for every job. */
export const EXPORTER_JOB: Record<Exporter, string | null> = {
  "dcgm-exporter": "dcgm",
  "nim-llm": "nim",
  vllm: "vllm",
  "node-exporter": "node",
  iris: "iris",
  vectorizer: "vectorizer",
  prometheus: null,
};

// A histogram is exposed as three series families; queries read those, not the base name.
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/** The catalog entry a series name belongs to (`foo_bucket` belongs to histogram `foo`), if any. */
export function catalogEntryFor(seriesName: string): CatalogMetric | undefined {
  const exact = METRIC_CATALOG.find((m) => m.name === seriesName);
  if (exact !== undefined) return exact.type === "histogram" ? undefined : exact;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (seriesName.endsWith(suffix)) {
      const base = seriesName.slice(0, -suffix.length);
      const histogram = METRIC_CATALOG.find((m) => m.name === base && m.type === "histogram");
      if (histogram !== undefined) return histogram;
    }
  }
  return undefined;
}
