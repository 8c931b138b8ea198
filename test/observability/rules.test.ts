import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  ALERT,
  RULE_FILE,
  memoryAlertApplies,
  renderAlertRules,
  renderPlanRecordingRules,
  renderRuleFile,
  renderPrometheusConfig,
  resolveObservabilityInput,
  ruleFileToYaml,
  type ObservabilityInput,
} from "../../renderers/observability";
import { RULE_TEST_FILE, buildAlertRuleTests, renderAlertRuleTests } from "./ruletests";
import { a100Input, ALL_INPUTS, devInput, fixtureInput } from "./fixtures";
import { runTool, writeTree } from "./tools";

interface RenderedRules {
  readonly config: string;
  readonly rules: string;
  readonly tests: string;
}

function renderRules(input: ObservabilityInput): RenderedRules {
  const resolved = resolveObservabilityInput(input);
  return {
    config: renderPrometheusConfig(resolved),
    rules: ruleFileToYaml(renderRuleFile(resolved)),
    tests: renderAlertRuleTests(resolved),
  };
}

/** Writes prometheus.yml, the rule file and the unit tests as Prometheus would see them. */
function writeRules(r: RenderedRules): string {
  return writeTree({ "prometheus.yml": r.config, [RULE_FILE]: r.rules, [RULE_TEST_FILE]: r.tests });
}

function promtoolTest(r: RenderedRules) {
  return runTool("promtool", ["test", "rules", RULE_TEST_FILE], writeRules(r));
}

/** Replaces text that must be present, so a mutation can never silently miss. */
function mutate(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.split(from).join(to);
}

describe("plan recording rules", () => {
  it("records the dev stack's one reservation and its plan info, before the alerts in the same group", () => {
    expect(renderRules(devInput).rules.split("      - alert: GpuMemoryHigh")[0]).toBe(
      [
        "groups:",
        "  - name: gpu-fleet",
        "    rules:",
        "      - record: gpu_fleet:planned_reservation_mib",
        "        expr: vector(20334)",
        "        labels:",
        "          host: gpu0",
        '          gpu: "0"',
        "          services: llm",
        "      - record: gpu_fleet:gpu_plan_info",
        "        expr: vector(1)",
        "        labels:",
        "          host: gpu0",
        '          gpu: "0"',
        "          services: llm",
        "          model: A10G",
        '          memory_mib: "23028"',
        '          reserved_mib: "20334"',
        "          memory_alert: disabled",
        "",
      ].join("\n"),
    );
  });

  it("records every GPU of the 8× A100 node, spare GPUs at 0 MiB", () => {
    const rules = renderPlanRecordingRules(resolveObservabilityInput(a100Input)).filter(
      (r) => r.record === "gpu_fleet:planned_reservation_mib",
    );
    expect(rules.map((r) => [r.labels?.gpu, r.expr, r.labels?.services])).toEqual([
      ["0", "vector(16384)", "asr"],
      ["1", "vector(8192)", "embed"],
      ["2", "vector(73728)", "llm"],
      ["3", "vector(73728)", "llm"],
      ["4", "vector(12288)", "ocr"],
      ["5", "vector(0)", "none"],
      ["6", "vector(0)", "none"],
      ["7", "vector(0)", "none"],
    ]);
  });

  it("sums two services sharing one GPU and names both", () => {
    const rules = renderPlanRecordingRules(resolveObservabilityInput(fixtureInput));
    expect(rules.filter((r) => r.record === "gpu_fleet:planned_reservation_mib")).toEqual([
      {
        record: "gpu_fleet:planned_reservation_mib",
        expr: "vector(20334)",
        labels: { host: "gpu0", gpu: "0", services: "llm" },
      },
      {
        record: "gpu_fleet:planned_reservation_mib",
        expr: "vector(10240)",
        labels: { host: "gpu1", gpu: "0", services: "embed,rerank" },
      },
      {
        record: "gpu_fleet:planned_reservation_mib",
        expr: "vector(0)",
        labels: { host: "gpu1", gpu: "1", services: "none" },
      },
    ]);
  });
});

describe("memoryAlertApplies", () => {
  it.each<[number, number, boolean]>([
    [20334, 23028, false], // the dev NIM at gpu_memory_utilization 0.9 of the 22,594 MiB CUDA reports
    [19573, 23028, true], // 84.997 %
    [19574, 23028, false], // 85.002 %
    [10240, 23034, true], // two small NIMs sharing an L4
    [0, 81920, true], // a spare A100
  ])("reserved %i MiB of %i MiB: %s", (reservedMiB, memoryMiB, applies) => {
    expect(memoryAlertApplies(reservedMiB, memoryMiB)).toBe(applies);
  });
});

describe("alert rules", () => {
  it("renders each alert's exact expression, duration and severity", () => {
    const rules = renderAlertRules(resolveObservabilityInput(devInput));
    expect(rules.map((r) => [r.alert, r.for ?? null, r.labels.severity])).toEqual([
      [ALERT.gpuMemoryHigh, "5m", "warning"],
      [ALERT.gpuTemperatureHigh, "2m", "critical"],
      [ALERT.nimNotReady, "2m", "critical"],
      [ALERT.vectorizerStalled, null, "warning"],
      [ALERT.gpuMemoryAboveReservation, "5m", "critical"],
    ]);
    expect(rules.map((r) => r.expr)).toEqual([
      '(100 * DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 85) * on(host, gpu) group_left(services) gpu_fleet:gpu_plan_info{memory_alert="enabled"} or on(host, gpu) ((100 * DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 85) unless on(host, gpu) gpu_fleet:gpu_plan_info)',
      "(DCGM_FI_DEV_GPU_TEMP > 83) * on(host, gpu) group_left(services) gpu_fleet:gpu_plan_info or on(host, gpu) (DCGM_FI_DEV_GPU_TEMP > 83)",
      'up{job=~"nim|vllm"} == 0',
      '(last_over_time(gpu_fleet_vectorizer_chunks_total{job="vectorizer"}[1h]) - last_over_time(gpu_fleet_vectorizer_chunks_done_total{job="vectorizer"}[1h]) > 0) and on(host, service) (time() - last_over_time(gpu_fleet_vectorizer_last_progress_timestamp_seconds{job="vectorizer"}[1h]) > 900)',
      "(DCGM_FI_DEV_FB_USED > on(host, gpu) group_left() (gpu_fleet:planned_reservation_mib + 256)) * on(host, gpu) group_left(services, reserved_mib) gpu_fleet:gpu_plan_info",
    ]);
  });

  it("takes the stall time and reservation tolerance from the input", () => {
    const rules = renderAlertRules(
      resolveObservabilityInput({ ...devInput, vectorizerStallMinutes: 30, reservationToleranceMiB: 0 }),
    );
    expect(rules.find((r) => r.alert === ALERT.vectorizerStalled)?.expr).toContain("> 1800)");
    expect(rules.find((r) => r.alert === ALERT.gpuMemoryAboveReservation)?.expr).toBe(
      "(DCGM_FI_DEV_FB_USED > on(host, gpu) group_left() gpu_fleet:planned_reservation_mib) * on(host, gpu) group_left(services, reserved_mib) gpu_fleet:gpu_plan_info",
    );
  });

  it("gives every alert a summary and a description naming the host", () => {
    for (const rule of renderAlertRules(resolveObservabilityInput(devInput))) {
      expect(rule.annotations.summary).toContain("{{ $labels.host }}");
      expect(rule.annotations.description).toContain("{{ $labels.host }}");
      expect(rule.annotations.summary).toMatch(/\{\{ \$labels\.(gpu|service) \}\}/);
    }
  });
});

describe.each(Object.entries(ALL_INPUTS))("promtool on the %s input", (_name, input) => {
  const rendered = renderRules(input);

  it("accepts prometheus.yml with its rule file found", () => {
    const result = runTool("promtool", ["check", "config", "prometheus.yml"], writeRules(rendered));
    expect(result.output).toContain("SUCCESS: 1 rule files found");
    expect(result.status).toBe(0);
  });

  it("accepts the rule file: two plan rules per GPU and five alerts", () => {
    const dir = writeRules(rendered);
    const result = runTool("promtool", ["check", "rules", RULE_FILE], dir);
    const planRuleCount = 2 * input.hosts.reduce((n, h) => n + h.gpus.length, 0);
    expect(result.output).toContain(`SUCCESS: ${planRuleCount + 5} rules found`);
    expect(result.status).toBe(0);
  });

  it("passes every unit test: each alert fires when it should and stays silent when it should not", () => {
    const result = promtoolTest(rendered);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});

describe("the promtool unit tests catch broken rules", () => {
  const rendered = renderRules(fixtureInput);

  it.each([
    [
      "memory threshold raised from 85% to 95%",
      "> 85)",
      "> 95)",
      "GpuMemoryHigh: GPU 0 of gpu1 at 86.0% fires after 5m",
    ],
    [
      "memory for: doubled",
      "for: 5m\n        labels:\n          severity: warning",
      "for: 10m\n        labels:\n          severity: warning",
      "GpuMemoryHigh: GPU 0 of gpu1 at 86.0% fires after 5m",
    ],
    [
      "the plan's memory_alert label ignored",
      '{memory_alert="enabled"}',
      "",
      "GpuMemoryHigh: GPU 0 of gpu0, reserved 88.3% by the plan, stays silent at its reservation",
    ],
    [
      "temperature compared with >= instead of >",
      "DCGM_FI_DEV_GPU_TEMP > 83",
      "DCGM_FI_DEV_GPU_TEMP >= 83",
      "at exactly 83 °C stays silent",
    ],
    [
      "NIM alert without for:",
      "for: 2m\n        labels:\n          severity: critical\n        annotations:\n          summary: Model service",
      "labels:\n          severity: critical\n        annotations:\n          summary: Model service",
      "NimNotReady: llm down fires after 2m",
    ],
    [
      "stall read from the live gauge, so a crashed vectorizer goes quiet",
      'time() - last_over_time(gpu_fleet_vectorizer_last_progress_timestamp_seconds{job="vectorizer"}[1h])',
      'time() - gpu_fleet_vectorizer_last_progress_timestamp_seconds{job="vectorizer"}',
      "stopped reporting with work left fires",
    ],
    [
      "reservation compared one-to-one, losing DCGM's labels",
      "on(host, gpu) group_left() (",
      "on(host, gpu) (",
      "GpuMemoryAboveReservation: every GPU of gpu0 1 MiB above plan",
    ],
    [
      "GPUs missing from the plan hidden",
      " or on(host, gpu) ((100 * DCGM_FI_DEV_FB_USED",
      " and on(host, gpu) ((100 * DCGM_FI_DEV_FB_USED",
      "(not in the plan) at 86.0% fires after 5m",
    ],
  ])("alert rules with %s fail", (_what, from, to, failingTest) => {
    const result = promtoolTest({ ...rendered, rules: mutate(rendered.rules, from, to) });
    expect(result.status).toBe(1);
    expect(result.output).toContain("FAILED");
    expect(result.output).toContain(failingTest);
  });

  it("a plan reservation off by one MiB fails the recording and the over-reservation tests", () => {
    const result = promtoolTest({ ...rendered, rules: mutate(rendered.rules, "vector(10240)", "vector(10241)") });
    expect(result.status).toBe(1);
    // promtool names a failing PromQL test by its expression, and shows the value it got.
    expect(result.output).toContain('expr: "gpu_fleet:planned_reservation_mib{host=\\"gpu1\\"}"');
    expect(result.output).toContain(
      'got: {__name__="gpu_fleet:planned_reservation_mib", gpu="0", host="gpu1", services="embed,rerank"} 1.0241E+04',
    );
    expect(result.output).toContain(
      "GpuMemoryAboveReservation: every GPU of gpu1 1 MiB above plan + 256 MiB fires after 5m",
    );
  });

  it("a deliberately wrong expected annotation fails", () => {
    const tests = mutate(rendered.tests, "summary: GPU 0 on gpu0 is at 84 °C", "summary: GPU 0 on gpu0 is at 85 °C");
    const result = promtoolTest({ ...rendered, tests });
    expect(result.status).toBe(1);
    expect(result.output).toContain("GpuTemperatureHigh: GPU 0 of gpu0 at 84 °C fires after 2m");
  });
});

describe("generated unit tests", () => {
  it("cover every alert, before and at its for: duration, and the silent side of each threshold", () => {
    const file = buildAlertRuleTests(resolveObservabilityInput(devInput));
    expect(file.rule_files).toEqual(["rules/gpu-fleet.rules.yml"]);
    expect(file.tests.map((t) => t.name)).toEqual([
      // The dev GPU is 88.3 % reserved by its NIM: the 85 % alert must stay quiet there.
      "GpuMemoryHigh: GPU 0 of gpu0, reserved 88.3% by the plan, stays silent at its reservation",
      "GpuMemoryHigh: GPU 1 of gpu0 (not in the plan) at 86.0% fires after 5m",
      "GpuMemoryHigh: GPU 1 of gpu0 (not in the plan) at 84.0% stays silent",
      "GpuTemperatureHigh: GPU 0 of gpu0 at 84 °C fires after 2m",
      "GpuTemperatureHigh: GPU 0 of gpu0 at exactly 83 °C stays silent",
      "gpu_fleet:planned_reservation_mib: every GPU of gpu0 records the plan",
      "GpuMemoryAboveReservation: every GPU of gpu0 1 MiB above plan + 256 MiB fires after 5m",
      "GpuMemoryAboveReservation: every GPU of gpu0 at exactly plan + 256 MiB stays silent",
      "NimNotReady: llm down fires after 2m",
      "NimNotReady: llm up, with one failed scrape, stays silent",
      "VectorizerStalled: vectorizer without progress for more than 15m fires",
      "VectorizerStalled: vectorizer that stopped reporting with work left fires",
      "VectorizerStalled: vectorizer making progress stays silent",
      "VectorizerStalled: vectorizer finished stays silent",
    ]);
    expect(file.tests[0].input_series.map((s) => s.values)).toEqual(["20334x10", "2694x10"]);
    const overReservation = file.tests[6];
    expect(overReservation.input_series.map((s) => s.values)).toEqual(["20591x10"]);
    expect(overReservation.alert_rule_test?.[1].exp_alerts[0].exp_annotations).toEqual({
      summary: "GPU 0 on gpu0 uses 20591 MiB, more than the 20334 MiB the plan reserved",
      description:
        "GPU 0 on host gpu0 has used 20591 MiB for 5m; the plan reserved 20334 MiB for: llm (tolerance 256 MiB). A service is using more than its budget, or something the plan does not know runs on this GPU; other services placed on it may fail to start.",
    });
  });

  it("fire the memory alert on a shared GPU with its services named, exactly at its for: duration", () => {
    const file = buildAlertRuleTests(resolveObservabilityInput(fixtureInput));
    const memory = file.tests.find((t) => t.name === "GpuMemoryHigh: GPU 0 of gpu1 at 86.0% fires after 5m")!;
    const labels =
      'job="dcgm", instance="10.0.1.11:9400", host="gpu1", service="dcgm-exporter", gpu="0", UUID="GPU-test-gpu1-0", device="nvidia0", modelName="NVIDIA L4"';
    expect(memory.input_series).toEqual([
      { series: `DCGM_FI_DEV_FB_USED{${labels}}`, values: "19810x10" },
      { series: `DCGM_FI_DEV_FB_FREE{${labels}}`, values: "3224x10" },
    ]);
    expect(memory.alert_rule_test).toEqual([
      { eval_time: "4m", alertname: "GpuMemoryHigh", exp_alerts: [] },
      {
        eval_time: "5m",
        alertname: "GpuMemoryHigh",
        exp_alerts: [
          {
            exp_labels: {
              job: "dcgm",
              instance: "10.0.1.11:9400",
              host: "gpu1",
              service: "dcgm-exporter",
              gpu: "0",
              UUID: "GPU-test-gpu1-0",
              device: "nvidia0",
              modelName: "NVIDIA L4",
              services: "embed,rerank",
              severity: "warning",
            },
            exp_annotations: {
              summary: "GPU 0 on gpu1 uses 86.0% of its memory",
              description:
                "GPU 0 (NVIDIA L4) on host gpu1 has used more than 85% of its memory for 5m. Services planned on it: embed,rerank.",
            },
          },
        ],
      },
    ]);
  });

  it("expects a vLLM-served model's alert under the vllm job", () => {
    const file = buildAlertRuleTests(resolveObservabilityInput(a100Input));
    const ocr = file.tests.find((t) => t.name === "NimNotReady: ocr down fires after 2m")!;
    expect(ocr.input_series).toEqual([
      { series: 'up{job="vllm", instance="10.0.0.5:8003", host="dgx", service="ocr"}', values: "0x7" },
    ]);
    expect(ocr.alert_rule_test?.[1].exp_alerts[0].exp_annotations.description).toBe(
      "Prometheus has not been able to scrape the metrics of vllm service ocr on host dgx (10.0.0.5:8003) for 2m: the container is down, still loading, or out of GPU memory.",
    );
  });

  it("checks the over-reservation alert on all eight A100 GPUs, spare ones included", () => {
    const file = parse(renderAlertRuleTests(resolveObservabilityInput(a100Input))) as ReturnType<
      typeof buildAlertRuleTests
    >;
    const firing = file.tests.find(
      (t) => t.name === "GpuMemoryAboveReservation: every GPU of dgx 1 MiB above plan + 256 MiB fires after 5m",
    );
    expect(firing?.input_series.map((s) => s.values)).toEqual([
      "16641x10",
      "8449x10",
      "73985x10",
      "73985x10",
      "12545x10",
      "257x10",
      "257x10",
      "257x10",
    ]);
    expect(
      firing?.alert_rule_test?.[1].exp_alerts.map((a) => [
        a.exp_labels.gpu,
        a.exp_labels.services,
        a.exp_labels.reserved_mib,
      ]),
    ).toEqual([
      ["0", "asr", "16384"],
      ["1", "embed", "8192"],
      ["2", "llm", "73728"],
      ["3", "llm", "73728"],
      ["4", "ocr", "12288"],
      ["5", "none", "0"],
      ["6", "none", "0"],
      ["7", "none", "0"],
    ]);
  });
});
