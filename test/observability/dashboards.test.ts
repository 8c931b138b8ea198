import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EXPORTER_JOB,
  METRIC_CATALOG,
  PROMETHEUS_DATASOURCE_UID,
  RECORDED,
  catalogEntryFor,
  deriveScrapeJobs,
  metricNamesInPromQL,
  renderDashboards,
  renderRuleFile,
  resolveObservabilityInput,
  variableSelector,
  type FleetDashboard,
  type ObservabilityInput,
} from "../../renderers/observability";
import { a100Input, ALL_INPUTS, devInput, fixtureInput } from "./fixtures";

function dashboardsOf(input: ObservabilityInput): FleetDashboard[] {
  return renderDashboards(resolveObservabilityInput(input));
}

/** Every PromQL expression a dashboard runs: panel targets and variable selectors. */
function dashboardExpressions(dashboard: FleetDashboard): { where: string; expr: string }[] {
  return [
    ...dashboard.panels.flatMap((p) =>
      p.targets.map((t) => ({ where: `${dashboard.uid} / ${p.title} / ${t.refId}`, expr: t.expr })),
    ),
    ...dashboard.templating.list.map((v) => ({ where: `${dashboard.uid} / $${v.name}`, expr: variableSelector(v) })),
  ];
}

function ruleExpressions(input: ObservabilityInput): { where: string; expr: string }[] {
  return renderRuleFile(resolveObservabilityInput(input)).groups.flatMap((g) =>
    g.rules.map((r) => ({ where: "record" in r ? `record ${r.record}` : `alert ${r.alert}`, expr: r.expr })),
  );
}

const RECORDED_NAMES = new Set<string>(Object.values(RECORDED));

describe("metrics catalog check", () => {
  it.each(Object.entries(ALL_INPUTS))(
    "every metric a rule or panel of the %s input reads is in the catalog or recorded by us",
    (_name, input) => {
      const unknown = [...ruleExpressions(input), ...dashboardsOf(input).flatMap(dashboardExpressions)].flatMap(
        ({ where, expr }) =>
          metricNamesInPromQL(expr)
            .filter((name) => catalogEntryFor(name) === undefined && !RECORDED_NAMES.has(name))
            .map((name) => `${where}: ${name}`),
      );
      expect(unknown).toEqual([]);
    },
  );

  it.each(Object.entries(ALL_INPUTS))(
    "every panel of the %s input reads an exporter that the stack scrapes",
    (_name, input) => {
      const resolved = resolveObservabilityInput(input);
      const scraped = new Set<string>(deriveScrapeJobs(resolved).map((j) => j.job));
      const unscraped = dashboardsOf(input)
        .flatMap(dashboardExpressions)
        .flatMap(({ where, expr }) =>
          metricNamesInPromQL(expr)
            // Our recorded plan series exist whatever runs; anything else needs its exporter's job.
            .map((name) => ({
              name,
              job: RECORDED_NAMES.has(name) ? null : EXPORTER_JOB[catalogEntryFor(name)!.exporter],
            }))
            .filter(({ job }) => job !== null && !scraped.has(job))
            .map(({ name, job }) => `${where}: ${name} needs job ${job}`),
        );
      expect(unscraped).toEqual([]);
    },
  );

  it("lists no metric that nothing reads (over all inputs), and every entry cites a source", () => {
    const everything = Object.values(ALL_INPUTS).flatMap((input) => [
      ...ruleExpressions(input),
      ...dashboardsOf(input).flatMap(dashboardExpressions),
    ]);
    const used = new Set(
      everything
        .flatMap(({ expr }) => metricNamesInPromQL(expr))
        .map((name) => catalogEntryFor(name)?.name)
        .filter((name): name is string => name !== undefined),
    );
    expect(METRIC_CATALOG.map((m) => m.name).filter((name) => !used.has(name))).toEqual([]);
    for (const metric of METRIC_CATALOG) expect(metric.source).toMatch(/^(https:\/\/|vectorizer\/progress\.ts$)/);
  });

  it("fails on a metric that no exporter exposes, so the check is real", () => {
    expect(
      metricNamesInPromQL('DCGM_FI_DEV_FB_TOTAL{host=~"$host"}').filter((n) => catalogEntryFor(n) === undefined),
    ).toEqual(["DCGM_FI_DEV_FB_TOTAL"]);
  });
});

describe("dashboards", () => {
  it("renders the NIM, GPU and pipeline dashboards with these panels for the fixture", () => {
    expect(
      dashboardsOf(fixtureInput).map((d) => [d.uid, d.title, d.panels.map((p) => `${p.type}:${p.title}`)]),
    ).toEqual([
      [
        "gpu-fleet-nim",
        "gpu-fleet fixture: NIM",
        [
          "timeseries:Time to first token",
          "timeseries:Inter-token latency",
          "timeseries:Tokens per second",
          "timeseries:Requests running and waiting",
          "timeseries:KV cache usage",
          "timeseries:End-to-end request latency",
          "stat:Model services answering",
        ],
      ],
      [
        "gpu-fleet-gpu",
        "gpu-fleet fixture: GPUs",
        [
          "timeseries:GPU utilization",
          "timeseries:GPU memory used against the plan",
          "timeseries:GPU memory used (% of GPU)",
          "timeseries:GPU temperature",
          "timeseries:GPU power",
          "timeseries:Host CPU busy and memory available",
        ],
      ],
      [
        "gpu-fleet-pipeline",
        "gpu-fleet fixture: pipeline",
        [
          "stat:Progress",
          "timeseries:Chunks left",
          "timeseries:Rate",
          "timeseries:Errors",
          "timeseries:Time since last progress",
          "timeseries:IRIS vector store",
        ],
      ],
    ]);
  });

  it("draws each GPU's memory against the plan's reservation series", () => {
    const gpu = dashboardsOf(devInput).find((d) => d.uid === "gpu-fleet-gpu")!;
    const panel = gpu.panels.find((p) => p.title === "GPU memory used against the plan")!;
    expect(panel.targets.map((t) => [t.refId, t.expr, t.legendFormat])).toEqual([
      ["A", 'DCGM_FI_DEV_FB_USED{job="dcgm", host=~"$host"}', "{{host}} GPU {{gpu}} used"],
      ["B", 'gpu_fleet:planned_reservation_mib{host=~"$host"}', "{{host}} GPU {{gpu}} planned ({{services}})"],
    ]);
    expect(panel.fieldConfig?.defaults.unit).toBe("mbytes");
    expect(panel.fieldConfig?.overrides).toEqual([
      {
        matcher: { id: "byRegexp", options: ".* planned .*" },
        properties: [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }],
      },
    ]);
  });

  it("queries NIM latency as quantiles of the NIM histograms", () => {
    const nim = dashboardsOf(devInput).find((d) => d.uid === "gpu-fleet-nim")!;
    expect(nim.panels[0].targets.map((t) => t.expr)).toEqual([
      'histogram_quantile(0.5, sum by (service, le) (rate(time_to_first_token_seconds_bucket{job=~"nim|vllm", host=~"$host", service=~"$service"}[$__rate_interval])))',
      'histogram_quantile(0.95, sum by (service, le) (rate(time_to_first_token_seconds_bucket{job=~"nim|vllm", host=~"$host", service=~"$service"}[$__rate_interval])))',
    ]);
    expect(nim.templating.list.map((v) => [v.name, v.query])).toEqual([
      [
        "host",
        {
          qryType: 1,
          query: 'label_values(up{job=~"nim|vllm"}, host)',
          refId: "PrometheusVariableQueryEditor-VariableQuery",
        },
      ],
      [
        "service",
        {
          qryType: 1,
          query: 'label_values(up{job=~"nim|vllm", host=~"$host"}, service)',
          refId: "PrometheusVariableQueryEditor-VariableQuery",
        },
      ],
    ]);
  });

  it("reads vLLM's vllm: twins beside NIM's names when the stack serves a model with vLLM", () => {
    const nim = dashboardsOf(a100Input).find((d) => d.uid === "gpu-fleet-nim")!;
    const f = 'job=~"nim|vllm", host=~"$host", service=~"$service"';
    expect(nim.panels[0].targets[1].expr).toBe(
      `histogram_quantile(0.95, sum by (service, le) (rate(time_to_first_token_seconds_bucket{${f}}[$__rate_interval]) or rate(vllm:time_to_first_token_seconds_bucket{${f}}[$__rate_interval])))`,
    );
    expect(nim.panels.find((p) => p.title === "KV cache usage")!.targets[0].expr).toBe(
      `max by (service) (gpu_cache_usage_perc{${f}} or vllm:gpu_cache_usage_perc{${f}})`,
    );
    const vllmOnly = dashboardsOf({ ...devInput, nimServices: [{ ...devInput.nimServices[0], engine: "vllm" }] }).find(
      (d) => d.uid === "gpu-fleet-nim",
    )!;
    expect(vllmOnly.panels.find((p) => p.title === "Requests running and waiting")!.targets.map((t) => t.expr)).toEqual(
      [`sum by (service) (vllm:num_requests_running{${f}})`, `sum by (service) (vllm:num_requests_waiting{${f}})`],
    );
  });

  it("draws the alert thresholds on the panels they belong to", () => {
    const gpu = dashboardsOf(devInput).find((d) => d.uid === "gpu-fleet-gpu")!;
    const steps = (title: string) => gpu.panels.find((p) => p.title === title)!.fieldConfig?.defaults.thresholds?.steps;
    expect(steps("GPU memory used (% of GPU)")).toEqual([
      { color: "green", value: null },
      { color: "red", value: 85 },
    ]);
    expect(steps("GPU temperature")).toEqual([
      { color: "green", value: null },
      { color: "red", value: 83 },
    ]);
    const pipeline = dashboardsOf({ ...devInput, vectorizerStallMinutes: 20 }).find(
      (d) => d.uid === "gpu-fleet-pipeline",
    )!;
    expect(
      pipeline.panels.find((p) => p.title === "Time since last progress")!.fieldConfig?.defaults.thresholds?.steps,
    ).toEqual([
      { color: "green", value: null },
      { color: "red", value: 1200 },
    ]);
  });

  it("leaves out panels and dashboards for exporters the stack does not run", () => {
    const pipeline = dashboardsOf(a100Input).find((d) => d.uid === "gpu-fleet-pipeline")!;
    expect(pipeline.panels.map((p) => p.title)).not.toContain("IRIS vector store");
    const cpuOnly = dashboardsOf({
      stack: "cpu",
      hosts: [{ name: "cpu0", address: "10.0.2.2", gpus: [] }],
      nimServices: [],
      iris: [{ host: "cpu0", address: "10.0.2.2", port: 52773 }],
    });
    expect(cpuOnly.map((d) => [d.uid, d.panels.map((p) => p.title), d.templating.list.length])).toEqual([
      ["gpu-fleet-pipeline", ["IRIS vector store"], 0],
    ]);
  });

  it.each(Object.entries(ALL_INPUTS))(
    "gives every panel of the %s input a unique id, its own grid cell and the provisioned datasource",
    (_name, input) => {
      for (const dashboard of dashboardsOf(input)) {
        expect(dashboard.schemaVersion).toBe(42);
        const ids = dashboard.panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const cells = dashboard.panels.map((p) => `${p.gridPos?.x},${p.gridPos?.y}`);
        expect(new Set(cells).size).toBe(cells.length);
        for (const panel of dashboard.panels) {
          expect(panel.datasource).toEqual({ type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID });
          expect(panel.targets.length).toBeGreaterThan(0);
          expect(new Set(panel.targets.map((t) => t.refId)).size).toBe(panel.targets.length);
          for (const t of panel.targets)
            expect(t.datasource).toEqual({ type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID });
        }
        expect(JSON.parse(JSON.stringify(dashboard))).toEqual(dashboard);
      }
    },
  );
});

describe("dashboards are type-checked against @grafana/schema", () => {
  // Runs tsc on a file that misuses the schema types through our builders; each mistake must be an
  // error at its line, which proves `tsc` checks dashboards rather than accepting anything.
  it("rejects a wrong schemaVersion type, an unknown panel field, a misspelt enum value and a partial grid position", () => {
    const repo = resolve(__dirname, "../..");
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-tsc-"));
    const obs = join(repo, "renderers/observability");
    const lines = [
      `import type { LegendDisplayMode } from ${JSON.stringify(join(repo, "node_modules/@grafana/schema"))};`,
      `import { enumValue, statPanel, timeSeriesPanel } from ${JSON.stringify(join(obs, "panels"))};`,
      `import type { FleetDashboard } from ${JSON.stringify(join(obs, "dashboards"))};`,
      `export const ok: FleetDashboard = { uid: "u", title: "t", schemaVersion: 42, templating: { list: [] }, panels: [] };`,
      `export const badVersion: FleetDashboard = { uid: "u", title: "t", schemaVersion: "42", templating: { list: [] }, panels: [] };`,
      `export const badField: FleetDashboard["panels"][number] = { ...timeSeriesPanel(1, { x: 0, y: 0, w: 12, h: 8 }, { title: "t", description: "d", unit: "s", queries: [] }), titel: "x" };`,
      `export const badEnum = enumValue<LegendDisplayMode>("tabel");`,
      `export const badGrid = statPanel(1, { x: 0, y: 0, w: 12 }, { title: "t", description: "d", unit: "s", queries: [] });`,
    ];
    writeFileSync(join(dir, "bad.ts"), `${lines.join("\n")}\n`);
    // The repository's compiler options, on this one file. Line 4 (a valid dashboard) must compile;
    // lines 5-8 each carry one mistake: TS2322 wrong type, TS2561 unknown field ("did you mean title"),
    // TS2345 an enum value Grafana does not have, TS2345 a grid position without its height.
    const repoOptions = JSON.parse(readFileSync(join(repo, "tsconfig.json"), "utf8")).compilerOptions;
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { ...repoOptions, noEmit: true, typeRoots: [join(repo, "node_modules/@types")] },
        files: ["bad.ts"],
      }),
    );
    const tsc = join(repo, "node_modules/typescript/bin/tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
    });
    const errors = (result.stdout + result.stderr)
      .split("\n")
      .filter((l) => l.includes("bad.ts("))
      .map((l) => /bad\.ts\((\d+),\d+\): error (TS\d+)/.exec(l)!.slice(1).join(" "));
    expect({ errors, output: errors.length === 0 ? result.stdout + result.stderr : "" }).toEqual({
      errors: ["5 TS2322", "6 TS2561", "7 TS2345", "8 TS2345"],
      output: "",
    });
    expect(result.status).toBe(2);
  }, 120_000);
});
