// promtool unit tests (`promtool test rules`) for the rules rendered from an input.
//
// For every alert the tests feed series shaped as Prometheus stores them after scraping with our
// config (job, instance, host, service and the exporter's own labels), and check that the alert
// is silent before its `for:` duration, fires exactly when it has elapsed, with the exact labels
// and annotations, and stays silent for values just on the safe side of each threshold. The
// plan's recording rules are checked value by value for every GPU, and the over-reservation alert
// fires for every GPU just above plan + tolerance and for none at plan + tolerance.

import { toYaml } from "../../renderers/observability/yaml";
import { ALERT, ALERT_POLICY, memoryAlertApplies, RECORDED } from "../../renderers/observability/rules";
import { RULE_FILE } from "../../renderers/observability/prometheus";
import type { HostInput, ResolvedObservabilityInput } from "../../renderers/observability/input";
import { JOB, plannedGpuReservations, type PlannedGpuReservation } from "../../renderers/observability/targets";

type Labels = Record<string, string>;

interface InputSeries {
  series: string;
  values: string;
}

interface ExpectedAlert {
  exp_labels: Labels;
  exp_annotations: { summary: string; description: string };
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}

interface PromqlExprTest {
  expr: string;
  eval_time: string;
  exp_samples: { labels: string; value: number }[];
}

interface RuleTestGroup {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test?: AlertRuleTest[];
  promql_expr_test?: PromqlExprTest[];
}

export interface RuleTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: RuleTestGroup[];
}

/** File name of the unit tests, beside prometheus.yml so the rule paths read the same. */
export const RULE_TEST_FILE = "gpu-fleet-alerts.test.yml";

function seriesText(name: string, labels: Labels): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
  return `${name}{${inner}}`;
}

function minutes(m: number): string {
  return `${m}m`;
}

function durationMinutes(duration: string): number {
  const match = /^(\d+)m$/.exec(duration);
  if (match === null) throw new Error(`ruletests: expected a whole-minute duration, got "${duration}".`);
  return Number(match[1]);
}

/**
 * How Prometheus' templates print a float with `{{ $value }}` (Go's %v). Go switches to exponent
 * form at 1e6 and above, so tests keep to whole numbers below that.
 */
function goValue(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) >= 1e6) {
    throw new Error(`ruletests: ${value} would print in exponent form; choose a whole number below 1e6.`);
  }
  return String(value);
}

function servicesSentence(services: string | undefined): string {
  return services === undefined ? "The plan has no entry for this GPU." : `Services planned on it: ${services}.`;
}

function dcgmLabels(input: ResolvedObservabilityInput, host: HostInput, gpu: number, model: string): Labels {
  return {
    job: JOB.dcgm,
    instance: `${host.address}:${input.dcgmPort}`,
    host: host.name,
    service: "dcgm-exporter",
    gpu: String(gpu),
    UUID: `GPU-test-${host.name}-${gpu}`,
    device: `nvidia${gpu}`,
    modelName: `NVIDIA ${model}`,
  };
}

/** A GPU as the memory test sees it; `services` is undefined for a GPU the plan does not list. */
interface GpuUnderTest {
  readonly index: number;
  readonly model: string;
  readonly memoryMiB: number;
  readonly services: string | undefined;
}

function gpuMemoryTests(input: ResolvedObservabilityInput, host: HostInput, gpu: GpuUnderTest): RuleTestGroup[] {
  const p = ALERT_POLICY;
  const { index, model, memoryMiB } = gpu;
  const labels = dcgmLabels(input, host, index, model);
  const forMin = durationMinutes(p.gpuMemoryFor);
  const hotUsed = Math.ceil((memoryMiB * (p.gpuMemoryPercent + 1)) / 100);
  const safeUsed = Math.floor((memoryMiB * (p.gpuMemoryPercent - 1)) / 100);
  const percent = ((100 * hotUsed) / memoryMiB).toFixed(1);
  const expected: ExpectedAlert = {
    exp_labels: { ...labels, ...(gpu.services !== undefined ? { services: gpu.services } : {}), severity: "warning" },
    exp_annotations: {
      summary: `GPU ${index} on ${host.name} uses ${percent}% of its memory`,
      description: `GPU ${index} (NVIDIA ${model}) on host ${host.name} has used more than ${p.gpuMemoryPercent}% of its memory for ${p.gpuMemoryFor}. ${servicesSentence(gpu.services)}`,
    },
  };
  const where =
    gpu.services !== undefined ? `GPU ${index} of ${host.name}` : `GPU ${index} of ${host.name} (not in the plan)`;
  const samples = forMin + 5;
  return [
    {
      name: `${ALERT.gpuMemoryHigh}: ${where} at ${percent}% fires after ${p.gpuMemoryFor}`,
      interval: "1m",
      input_series: [
        { series: seriesText("DCGM_FI_DEV_FB_USED", labels), values: `${hotUsed}x${samples}` },
        { series: seriesText("DCGM_FI_DEV_FB_FREE", labels), values: `${memoryMiB - hotUsed}x${samples}` },
      ],
      alert_rule_test: [
        { eval_time: minutes(forMin - 1), alertname: ALERT.gpuMemoryHigh, exp_alerts: [] },
        { eval_time: minutes(forMin), alertname: ALERT.gpuMemoryHigh, exp_alerts: [expected] },
      ],
    },
    {
      name: `${ALERT.gpuMemoryHigh}: ${where} at ${((100 * safeUsed) / memoryMiB).toFixed(1)}% stays silent`,
      interval: "1m",
      input_series: [
        { series: seriesText("DCGM_FI_DEV_FB_USED", labels), values: `${safeUsed}x${samples}` },
        { series: seriesText("DCGM_FI_DEV_FB_FREE", labels), values: `${memoryMiB - safeUsed}x${samples}` },
      ],
      alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.gpuMemoryHigh, exp_alerts: [] }],
    },
  ];
}

/** A GPU the plan fills past the threshold (a vLLM NIM at 0.9): the memory alert stays silent there. */
function gpuMemoryPreallocatedTest(
  input: ResolvedObservabilityInput,
  host: HostInput,
  gpu: PlannedGpuReservation,
): RuleTestGroup {
  const p = ALERT_POLICY;
  const labels = dcgmLabels(input, host, gpu.gpu, gpu.model);
  const samples = durationMinutes(p.gpuMemoryFor) + 5;
  // What such a GPU shows when healthy: its reservation in use.
  const used = gpu.reservedMiB;
  const planned = ((100 * gpu.reservedMiB) / gpu.memoryMiB).toFixed(1);
  return {
    name: `${ALERT.gpuMemoryHigh}: GPU ${gpu.gpu} of ${host.name}, reserved ${planned}% by the plan, stays silent at its reservation`,
    interval: "1m",
    input_series: [
      { series: seriesText("DCGM_FI_DEV_FB_USED", labels), values: `${used}x${samples}` },
      { series: seriesText("DCGM_FI_DEV_FB_FREE", labels), values: `${gpu.memoryMiB - used}x${samples}` },
    ],
    alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.gpuMemoryHigh, exp_alerts: [] }],
  };
}

function gpuTemperatureTests(
  input: ResolvedObservabilityInput,
  host: HostInput,
  gpu: PlannedGpuReservation,
): RuleTestGroup[] {
  const p = ALERT_POLICY;
  const labels = dcgmLabels(input, host, gpu.gpu, gpu.model);
  const forMin = durationMinutes(p.gpuTemperatureFor);
  const hot = p.gpuTemperatureCelsius + 1;
  const samples = forMin + 5;
  return [
    {
      name: `${ALERT.gpuTemperatureHigh}: GPU ${gpu.gpu} of ${host.name} at ${hot} °C fires after ${p.gpuTemperatureFor}`,
      interval: "1m",
      input_series: [{ series: seriesText("DCGM_FI_DEV_GPU_TEMP", labels), values: `${hot}x${samples}` }],
      alert_rule_test: [
        { eval_time: minutes(forMin - 1), alertname: ALERT.gpuTemperatureHigh, exp_alerts: [] },
        {
          eval_time: minutes(forMin),
          alertname: ALERT.gpuTemperatureHigh,
          exp_alerts: [
            {
              exp_labels: { ...labels, services: gpu.services, severity: "critical" },
              exp_annotations: {
                summary: `GPU ${gpu.gpu} on ${host.name} is at ${goValue(hot)} °C`,
                description: `GPU ${gpu.gpu} (NVIDIA ${gpu.model}) on host ${host.name} has been above ${p.gpuTemperatureCelsius} °C for ${p.gpuTemperatureFor}; it will throttle. ${servicesSentence(gpu.services)}`,
              },
            },
          ],
        },
      ],
    },
    {
      name: `${ALERT.gpuTemperatureHigh}: GPU ${gpu.gpu} of ${host.name} at exactly ${p.gpuTemperatureCelsius} °C stays silent`,
      interval: "1m",
      input_series: [
        { series: seriesText("DCGM_FI_DEV_GPU_TEMP", labels), values: `${p.gpuTemperatureCelsius}x${samples}` },
      ],
      alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.gpuTemperatureHigh, exp_alerts: [] }],
    },
  ];
}

function nimTests(input: ResolvedObservabilityInput): RuleTestGroup[] {
  const p = ALERT_POLICY;
  const forMin = durationMinutes(p.nimNotReadyFor);
  const samples = forMin + 5;
  return input.nimServices.flatMap((nim) => {
    const job = nim.engine === "vllm" ? JOB.vllm : JOB.nim;
    const labels: Labels = { job, instance: `${nim.address}:${nim.port}`, host: nim.host, service: nim.name };
    return [
      {
        name: `${ALERT.nimNotReady}: ${nim.name} down fires after ${p.nimNotReadyFor}`,
        interval: "1m",
        input_series: [{ series: seriesText("up", labels), values: `0x${samples}` }],
        alert_rule_test: [
          { eval_time: minutes(forMin - 1), alertname: ALERT.nimNotReady, exp_alerts: [] },
          {
            eval_time: minutes(forMin),
            alertname: ALERT.nimNotReady,
            exp_alerts: [
              {
                exp_labels: { ...labels, severity: "critical" },
                exp_annotations: {
                  summary: `Model service ${nim.name} on ${nim.host} is not answering`,
                  description: `Prometheus has not been able to scrape the metrics of ${job} service ${nim.name} on host ${nim.host} (${labels.instance}) for ${p.nimNotReadyFor}: the container is down, still loading, or out of GPU memory.`,
                },
              },
            ],
          },
        ],
      },
      {
        // A single failed scrape between good ones must not page anyone.
        name: `${ALERT.nimNotReady}: ${nim.name} up, with one failed scrape, stays silent`,
        interval: "1m",
        input_series: [{ series: seriesText("up", labels), values: `1 1 1 0 1 1 1 1 1 1` }],
        alert_rule_test: [
          { eval_time: "3m", alertname: ALERT.nimNotReady, exp_alerts: [] },
          { eval_time: "9m", alertname: ALERT.nimNotReady, exp_alerts: [] },
        ],
      },
    ];
  });
}

function vectorizerTests(input: ResolvedObservabilityInput): RuleTestGroup[] {
  const stall = input.vectorizerStallMinutes;
  const total = 1000;
  const done = 400;
  const samples = stall + 10;
  return input.vectorizers.flatMap((v) => {
    const labels: Labels = { job: JOB.vectorizer, instance: `${v.address}:${v.port}`, host: v.host, service: v.name };
    const left = total - done;
    // What the alert says when it fires, in both the no-progress and the stopped-reporting case.
    const stalled = {
      exp_labels: { ...labels, severity: "warning" },
      exp_annotations: {
        summary: `Vectorizer ${v.name} on ${v.host} is stalled with ${goValue(left)} chunks left`,
        description: `Vectorizer ${v.name} on host ${v.host} has ${goValue(left)} chunks left and has stored none for more than ${stall} minutes. Check its log and the embedding service; it resumes from its checkpoint when restarted.`,
      },
    };
    return [
      {
        // Last progress at t=0 with 600 chunks left: stalled once more than `stall` minutes pass.
        name: `${ALERT.vectorizerStalled}: ${v.name} without progress for more than ${stall}m fires`,
        interval: "1m",
        input_series: [
          { series: seriesText("gpu_fleet_vectorizer_chunks_total", labels), values: `${total}x${samples}` },
          { series: seriesText("gpu_fleet_vectorizer_chunks_done_total", labels), values: `${done}x${samples}` },
          {
            series: seriesText("gpu_fleet_vectorizer_last_progress_timestamp_seconds", labels),
            values: `0x${samples}`,
          },
        ],
        alert_rule_test: [
          { eval_time: minutes(stall), alertname: ALERT.vectorizerStalled, exp_alerts: [] },
          {
            eval_time: minutes(stall + 1),
            alertname: ALERT.vectorizerStalled,
            exp_alerts: [stalled],
          },
        ],
      },
      {
        // A vectorizer that crashed keeps alerting: its last values still say work is left.
        name: `${ALERT.vectorizerStalled}: ${v.name} that stopped reporting with work left fires`,
        interval: "1m",
        input_series: [
          { series: seriesText("gpu_fleet_vectorizer_chunks_total", labels), values: `${total}x5 stale` },
          { series: seriesText("gpu_fleet_vectorizer_chunks_done_total", labels), values: `${done}x5 stale` },
          { series: seriesText("gpu_fleet_vectorizer_last_progress_timestamp_seconds", labels), values: `0x5 stale` },
        ],
        alert_rule_test: [
          {
            eval_time: minutes(stall + 1),
            alertname: ALERT.vectorizerStalled,
            exp_alerts: [stalled],
          },
        ],
      },
      {
        // Progress every minute (done grows by 10, timestamp follows the clock): never stalled.
        name: `${ALERT.vectorizerStalled}: ${v.name} making progress stays silent`,
        interval: "1m",
        input_series: [
          { series: seriesText("gpu_fleet_vectorizer_chunks_total", labels), values: `${total}x${samples}` },
          { series: seriesText("gpu_fleet_vectorizer_chunks_done_total", labels), values: `${done}+10x${samples}` },
          {
            series: seriesText("gpu_fleet_vectorizer_last_progress_timestamp_seconds", labels),
            values: `0+60x${samples}`,
          },
        ],
        alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.vectorizerStalled, exp_alerts: [] }],
      },
      {
        // Finished: nothing left, so no progress is expected.
        name: `${ALERT.vectorizerStalled}: ${v.name} finished stays silent`,
        interval: "1m",
        input_series: [
          { series: seriesText("gpu_fleet_vectorizer_chunks_total", labels), values: `${total}x${samples}` },
          { series: seriesText("gpu_fleet_vectorizer_chunks_done_total", labels), values: `${total}x${samples}` },
          {
            series: seriesText("gpu_fleet_vectorizer_last_progress_timestamp_seconds", labels),
            values: `0x${samples}`,
          },
        ],
        alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.vectorizerStalled, exp_alerts: [] }],
      },
    ];
  });
}

function reservationTests(
  input: ResolvedObservabilityInput,
  host: HostInput,
  gpus: PlannedGpuReservation[],
): RuleTestGroup[] {
  const p = ALERT_POLICY;
  const tolerance = input.reservationToleranceMiB;
  const forMin = durationMinutes(p.aboveReservationFor);
  const samples = forMin + 5;
  const over = (g: PlannedGpuReservation): number => g.reservedMiB + tolerance + 1;
  return [
    {
      name: `${RECORDED.plannedReservationMiB}: every GPU of ${host.name} records the plan`,
      interval: "1m",
      input_series: [],
      promql_expr_test: [
        {
          expr: `${RECORDED.plannedReservationMiB}{host="${host.name}"}`,
          eval_time: "0m",
          exp_samples: gpus.map((g) => ({
            labels: seriesText(RECORDED.plannedReservationMiB, {
              host: g.host,
              gpu: String(g.gpu),
              services: g.services,
            }),
            value: g.reservedMiB,
          })),
        },
      ],
    },
    {
      name: `${ALERT.gpuMemoryAboveReservation}: every GPU of ${host.name} 1 MiB above plan + ${tolerance} MiB fires after ${p.aboveReservationFor}`,
      interval: "1m",
      input_series: gpus.map((g) => ({
        series: seriesText("DCGM_FI_DEV_FB_USED", dcgmLabels(input, host, g.gpu, g.model)),
        values: `${over(g)}x${samples}`,
      })),
      alert_rule_test: [
        { eval_time: minutes(forMin - 1), alertname: ALERT.gpuMemoryAboveReservation, exp_alerts: [] },
        {
          eval_time: minutes(forMin),
          alertname: ALERT.gpuMemoryAboveReservation,
          exp_alerts: gpus.map((g) => ({
            exp_labels: {
              ...dcgmLabels(input, host, g.gpu, g.model),
              services: g.services,
              reserved_mib: String(g.reservedMiB),
              severity: "critical",
            },
            exp_annotations: {
              summary: `GPU ${g.gpu} on ${host.name} uses ${goValue(over(g))} MiB, more than the ${g.reservedMiB} MiB the plan reserved`,
              description:
                `GPU ${g.gpu} on host ${host.name} has used ${goValue(over(g))} MiB for ${p.aboveReservationFor}; the plan reserved ${g.reservedMiB} MiB for: ${g.services}` +
                ` (tolerance ${tolerance} MiB). A service is using more than its budget, or something the plan does not know runs on this GPU; other services placed on it may fail to start.`,
            },
          })),
        },
      ],
    },
    {
      name: `${ALERT.gpuMemoryAboveReservation}: every GPU of ${host.name} at exactly plan + ${tolerance} MiB stays silent`,
      interval: "1m",
      input_series: gpus.map((g) => ({
        series: seriesText("DCGM_FI_DEV_FB_USED", dcgmLabels(input, host, g.gpu, g.model)),
        values: `${g.reservedMiB + tolerance}x${samples}`,
      })),
      alert_rule_test: [{ eval_time: minutes(samples), alertname: ALERT.gpuMemoryAboveReservation, exp_alerts: [] }],
    },
  ];
}

export function buildAlertRuleTests(input: ResolvedObservabilityInput): RuleTestFile {
  const planned = plannedGpuReservations(input);
  const tests: RuleTestGroup[] = [];
  for (const host of input.hosts) {
    const gpus = planned.filter((g) => g.host === host.name);
    if (gpus.length === 0) continue;
    const first = gpus[0];
    const alerting = gpus.find((g) => memoryAlertApplies(g.reservedMiB, g.memoryMiB));
    if (alerting !== undefined) {
      tests.push(
        ...gpuMemoryTests(input, host, {
          index: alerting.gpu,
          model: alerting.model,
          memoryMiB: alerting.memoryMiB,
          services: alerting.services,
        }),
      );
    }
    const preallocated = gpus.find((g) => !memoryAlertApplies(g.reservedMiB, g.memoryMiB));
    if (preallocated !== undefined) tests.push(gpuMemoryPreallocatedTest(input, host, preallocated));
    // A GPU the plan does not list (index past the last planned one) still alerts, without services.
    const unplannedIndex = Math.max(...gpus.map((g) => g.gpu)) + 1;
    tests.push(
      ...gpuMemoryTests(input, host, {
        index: unplannedIndex,
        model: first.model,
        memoryMiB: first.memoryMiB,
        services: undefined,
      }),
    );
    tests.push(...gpuTemperatureTests(input, host, first));
    tests.push(...reservationTests(input, host, gpus));
  }
  tests.push(...nimTests(input));
  tests.push(...vectorizerTests(input));
  return { rule_files: [RULE_FILE], evaluation_interval: "1m", tests };
}

export function renderAlertRuleTests(input: ResolvedObservabilityInput): string {
  return toYaml(buildAlertRuleTests(input));
}
