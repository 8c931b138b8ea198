import { describe, expect, it } from "vitest";
import {
  prometheusCommandLine,
  renderPrometheusConfig,
  resolveObservabilityInput,
} from "../../renderers/observability";
import { ALL_INPUTS, devInput } from "./fixtures";
import { runTool, writeTree, yamllintRelaxed } from "./tools";

describe("prometheus.yml", () => {
  it("renders the dev stack's config exactly", () => {
    expect(renderPrometheusConfig(resolveObservabilityInput(devInput))).toBe(`global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    stack: dev
rule_files:
  - rules/gpu-fleet.rules.yml
scrape_configs:
  - job_name: prometheus
    metrics_path: /metrics
    static_configs:
      - targets:
          - 127.0.0.1:9090
        labels:
          host: gpu0
          service: prometheus
  - job_name: node
    metrics_path: /metrics
    static_configs:
      - targets:
          - 10.0.1.10:9100
        labels:
          host: gpu0
          service: node-exporter
  - job_name: dcgm
    metrics_path: /metrics
    static_configs:
      - targets:
          - 10.0.1.10:9400
        labels:
          host: gpu0
          service: dcgm-exporter
    metric_relabel_configs:
      - action: labeldrop
        regex: Hostname
  - job_name: nim
    metrics_path: /v1/metrics
    static_configs:
      - targets:
          - 10.0.1.10:8000
        labels:
          host: gpu0
          service: llm
  - job_name: iris
    metrics_path: /api/monitor/metrics
    static_configs:
      - targets:
          - 10.0.1.10:52773
        labels:
          host: gpu0
          service: iris
  - job_name: vectorizer
    metrics_path: /metrics
    static_configs:
      - targets:
          - 10.0.1.10:9464
        labels:
          host: gpu0
          service: vectorizer
`);
  });

  it("fails promtool check config when the rule file is missing, so the check is real", () => {
    const dir = writeTree({ "prometheus.yml": renderPrometheusConfig(resolveObservabilityInput(devInput)) });
    const result = runTool("promtool", ["check", "config", "prometheus.yml"], dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain("gpu-fleet.rules.yml");
  });

  it.each(Object.entries(ALL_INPUTS))("passes yamllint -d relaxed for the %s input", (_name, input) => {
    const dir = writeTree({ "prometheus.yml": renderPrometheusConfig(resolveObservabilityInput(input)) });
    expect(yamllintRelaxed(["prometheus.yml"], dir)).toEqual({ status: 0, problems: [] });
  });

  it("puts retention and a private listen address on the command line", () => {
    expect(prometheusCommandLine(resolveObservabilityInput({ ...devInput, retentionDays: 30 }))).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--web.listen-address=127.0.0.1:9090",
    ]);
    expect(prometheusCommandLine(resolveObservabilityInput({ ...devInput, bind: "private" }))[3]).toBe(
      "--web.listen-address=10.0.1.10:9090",
    );
  });
});
