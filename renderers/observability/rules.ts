// Prometheus rules: the plan's per-GPU reservations as recording rules, and the alerts.
//
// The plan knows, before anything runs, how much memory each GPU should hold. Recording that as
// constant series (`vector(20725)` with host/gpu labels) lets Prometheus compare the plan with what
// DCGM measures, so a GPU using more than it was given raises an alert — the check no comparable
// system makes. Thresholds for memory (85 %) and temperature (83 °C) come from the 8× A100 design
// the project replaces (DESIGN.md, system 4).

import { toYaml } from "./yaml";
import type { ResolvedObservabilityInput } from "./input";
import { JOB, MODEL_JOBS_MATCHER, plannedGpuReservations } from "./targets";

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration, e.g. `5m`; absent when the expression already measures the duration. */
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>> & { readonly severity: "warning" | "critical" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

/** Recording-rule outputs; the catalog test counts these as known metric names. */
export const RECORDED = {
  plannedReservationMiB: "gpu_fleet:planned_reservation_mib",
  gpuPlanInfo: "gpu_fleet:gpu_plan_info",
} as const;

export const ALERT = {
  gpuMemoryHigh: "GpuMemoryHigh",
  gpuTemperatureHigh: "GpuTemperatureHigh",
  nimNotReady: "NimNotReady",
  vectorizerStalled: "VectorizerStalled",
  gpuMemoryAboveReservation: "GpuMemoryAboveReservation",
} as const;

/** Thresholds and `for:` durations; the promtool tests are generated from the same values. */
export const ALERT_POLICY = {
  gpuMemoryPercent: 85,
  gpuMemoryFor: "5m",
  gpuTemperatureCelsius: 83,
  gpuTemperatureFor: "2m",
  nimNotReadyFor: "2m",
  aboveReservationFor: "5m",
  /** How far back the stall rule looks for a vectorizer's last values: a crashed vectorizer with
   *  work left keeps alerting for this long after its series stop. */
  vectorizerLookback: "1h",
} as const;

/**
 * Whether the 85 % memory alert means anything on this GPU. A vLLM-based NIM takes
 * `gpu_memory_utilization × total` at start (0.9 by default: 20,725 of an A10G's 23,028 MiB), so
 * a GPU the plan reserves at or above the threshold sits above it whenever it is healthy; there the
 * alert would fire for as long as the service runs, and GpuMemoryAboveReservation is the check
 * that says something is wrong.
 */
export function memoryAlertApplies(reservedMiB: number, memoryMiB: number): boolean {
  return (100 * reservedMiB) / memoryMiB < ALERT_POLICY.gpuMemoryPercent;
}

/**
 * One constant series per GPU of the plan: `gpu_fleet:planned_reservation_mib` (MiB reserved, 0 for
 * a spare GPU) and `gpu_fleet:gpu_plan_info` (value 1, carrying the services, model and reservation
 * as labels so alerts can name them, and `memory_alert` = enabled|disabled, see memoryAlertApplies).
 */
export function renderPlanRecordingRules(input: ResolvedObservabilityInput): RecordingRule[] {
  return plannedGpuReservations(input).flatMap((g): RecordingRule[] => [
    {
      record: RECORDED.plannedReservationMiB,
      expr: `vector(${g.reservedMiB})`,
      labels: { host: g.host, gpu: String(g.gpu), services: g.services },
    },
    {
      record: RECORDED.gpuPlanInfo,
      expr: "vector(1)",
      labels: {
        host: g.host,
        gpu: String(g.gpu),
        services: g.services,
        model: g.model,
        memory_mib: String(g.memoryMiB),
        reserved_mib: String(g.reservedMiB),
        // Not on/off: YAML 1.1 readers take those for booleans.
        memory_alert: memoryAlertApplies(g.reservedMiB, g.memoryMiB) ? "enabled" : "disabled",
      },
    },
  ]);
}

// DCGM reports used and free framebuffer; their sum is the memory the driver lets processes use.
const GPU_MEMORY_PERCENT = "100 * DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)";

/**
 * Adds the plan's `services` label to a per-GPU condition, keeping GPUs the plan does not know
 * (they still alert, without service names) rather than hiding them.
 */
function withPlannedServices(condition: string): string {
  return `(${condition}) * on(host, gpu) group_left(services) ${RECORDED.gpuPlanInfo} or on(host, gpu) (${condition})`;
}

const SERVICES_SENTENCE =
  "{{ if $labels.services }}Services planned on it: {{ $labels.services }}.{{ else }}The plan has no entry for this GPU.{{ end }}";

export function renderAlertRules(input: ResolvedObservabilityInput): AlertingRule[] {
  const p = ALERT_POLICY;
  const stallSeconds = input.vectorizerStallMinutes * 60;
  const tolerance = input.reservationToleranceMiB;
  const plannedPlusTolerance =
    tolerance === 0 ? RECORDED.plannedReservationMiB : `(${RECORDED.plannedReservationMiB} + ${tolerance})`;
  const lookback = p.vectorizerLookback;

  const rules: AlertingRule[] = [
    {
      alert: ALERT.gpuMemoryHigh,
      // GPUs of the plan where the threshold means something, with their services; GPUs the plan
      // does not list at all, without. GPUs the plan fills past the threshold are left to
      // GpuMemoryAboveReservation.
      expr:
        `(${GPU_MEMORY_PERCENT} > ${p.gpuMemoryPercent}) * on(host, gpu) group_left(services) ${RECORDED.gpuPlanInfo}{memory_alert="enabled"}` +
        ` or on(host, gpu) ((${GPU_MEMORY_PERCENT} > ${p.gpuMemoryPercent}) unless on(host, gpu) ${RECORDED.gpuPlanInfo})`,
      for: p.gpuMemoryFor,
      labels: { severity: "warning" },
      annotations: {
        summary: `GPU {{ $labels.gpu }} on {{ $labels.host }} uses {{ $value | printf "%.1f" }}% of its memory`,
        description: `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on host {{ $labels.host }} has used more than ${p.gpuMemoryPercent}% of its memory for ${p.gpuMemoryFor}. ${SERVICES_SENTENCE}`,
      },
    },
    {
      alert: ALERT.gpuTemperatureHigh,
      expr: withPlannedServices(`DCGM_FI_DEV_GPU_TEMP > ${p.gpuTemperatureCelsius}`),
      for: p.gpuTemperatureFor,
      labels: { severity: "critical" },
      annotations: {
        summary: `GPU {{ $labels.gpu }} on {{ $labels.host }} is at {{ $value }} °C`,
        description: `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on host {{ $labels.host }} has been above ${p.gpuTemperatureCelsius} °C for ${p.gpuTemperatureFor}; it will throttle. ${SERVICES_SENTENCE}`,
      },
    },
    {
      alert: ALERT.nimNotReady,
      // Both model jobs: a vLLM-served model is as much a service of the stack as a NIM.
      expr: `up{${MODEL_JOBS_MATCHER}} == 0`,
      for: p.nimNotReadyFor,
      labels: { severity: "critical" },
      annotations: {
        summary: `Model service {{ $labels.service }} on {{ $labels.host }} is not answering`,
        description: `Prometheus has not been able to scrape the metrics of {{ $labels.job }} service {{ $labels.service }} on host {{ $labels.host }} ({{ $labels.instance }}) for ${p.nimNotReadyFor}: the container is down, still loading, or out of GPU memory.`,
      },
    },
    {
      alert: ALERT.vectorizerStalled,
      expr:
        `(last_over_time(gpu_fleet_vectorizer_chunks_total{job="${JOB.vectorizer}"}[${lookback}]) - last_over_time(gpu_fleet_vectorizer_chunks_done_total{job="${JOB.vectorizer}"}[${lookback}]) > 0)` +
        ` and on(host, service) ` +
        `(time() - last_over_time(gpu_fleet_vectorizer_last_progress_timestamp_seconds{job="${JOB.vectorizer}"}[${lookback}]) > ${stallSeconds})`,
      labels: { severity: "warning" },
      annotations: {
        summary: `Vectorizer {{ $labels.service }} on {{ $labels.host }} is stalled with {{ $value }} chunks left`,
        description: `Vectorizer {{ $labels.service }} on host {{ $labels.host }} has {{ $value }} chunks left and has stored none for more than ${input.vectorizerStallMinutes} minutes. Check its log and the embedding service; it resumes from its checkpoint when restarted.`,
      },
    },
    {
      // `group_left()` keeps DCGM's labels (UUID, modelName, instance...): a one-to-one match with
      // `on(...)` would keep only host and gpu, even for a filtering comparison.
      alert: ALERT.gpuMemoryAboveReservation,
      expr: `(DCGM_FI_DEV_FB_USED > on(host, gpu) group_left() ${plannedPlusTolerance}) * on(host, gpu) group_left(services, reserved_mib) ${RECORDED.gpuPlanInfo}`,
      for: p.aboveReservationFor,
      labels: { severity: "critical" },
      annotations: {
        summary: `GPU {{ $labels.gpu }} on {{ $labels.host }} uses {{ $value }} MiB, more than the {{ $labels.reserved_mib }} MiB the plan reserved`,
        description:
          `GPU {{ $labels.gpu }} on host {{ $labels.host }} has used {{ $value }} MiB for ${p.aboveReservationFor}; the plan reserved {{ $labels.reserved_mib }} MiB for: {{ $labels.services }}` +
          ` (tolerance ${tolerance} MiB). A service is using more than its budget, or something the plan does not know runs on this GPU; other services placed on it may fail to start.`,
      },
    },
  ];
  return rules;
}

/**
 * One group: the plan's recording rules first, then the alerts. Rules of a group run in order at
 * the same evaluation time, so every alert sees the current plan series; in separate groups an
 * alert could be evaluated before the plan exists (at startup), fire without its `services` label,
 * and restart its `for:` timer when the label appears.
 */
export function renderRuleFile(input: ResolvedObservabilityInput): RuleFile {
  return { groups: [{ name: "gpu-fleet", rules: [...renderPlanRecordingRules(input), ...renderAlertRules(input)] }] };
}

/** YAML as Prometheus reads it; long expressions stay on one line so diffs stay readable. */
export function ruleFileToYaml(file: RuleFile): string {
  return toYaml(file);
}
