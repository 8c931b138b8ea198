import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveNodeGroup } from "../../fleet/kubernetes";
import {
  devicePluginConfig,
  devicePluginNodeLabels,
  devicePluginValues,
  expandAdapterQuery,
  prometheusAdapterRules,
} from "../../renderers/kubernetes/helm";
import { runTool, writeTree } from "../observability/tools";

describe("the NVIDIA device plugin", () => {
  it("without time-slicing: GPU nodes only, the taint tolerated, no config", () => {
    expect(devicePluginValues([resolveNodeGroup({ name: "gpu" })])).toEqual({
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
    expect(devicePluginNodeLabels(resolveNodeGroup({ name: "gpu" }))).toEqual({ "nvidia.com/gpu.present": "true" });
  });

  it("a time-sliced node group gets its own named config, picked by a node label", () => {
    const shared = resolveNodeGroup({ name: "shared", gpuSharing: { replicasPerGpu: 4 } });
    expect(devicePluginValues([resolveNodeGroup({ name: "gpu" }), shared])).toEqual({
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      config: {
        default: "default",
        map: { default: devicePluginConfig(1), shared: devicePluginConfig(4) },
      },
    });
    expect(devicePluginNodeLabels(shared)).toEqual({
      "nvidia.com/gpu.present": "true",
      "nvidia.com/device-plugin.config": "shared",
    });
    expect(devicePluginConfig(1)).toBe("version: v1\nflags:\n  migStrategy: none\n");
    expect(devicePluginConfig(4)).toBe(
      [
        "version: v1",
        "flags:",
        "  migStrategy: none",
        "sharing:",
        "  timeSlicing:",
        "    failRequestsGreaterThanOne: true",
        "    resources:",
        "      - name: nvidia.com/gpu",
        "        replicas: 4",
        "",
      ].join("\n"),
    );
  });
});

describe("prometheus-adapter rules", () => {
  const rules = prometheusAdapterRules();

  it("one rule per HPA metric, NIM and vLLM series under the NIM name", () => {
    expect(rules).toEqual([
      {
        seriesQuery: '{__name__=~"^(vllm:)?num_requests_running$",namespace!="",pod!=""}',
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: "^(vllm:)?num_requests_running$", as: "num_requests_running" },
        metricsQuery: "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      },
      {
        seriesQuery: '{__name__=~"^(vllm:)?gpu_cache_usage_perc$",namespace!="",pod!=""}',
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: "^(vllm:)?gpu_cache_usage_perc$", as: "gpu_cache_usage_perc" },
        metricsQuery: "avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      },
    ]);
    expect(expandAdapterQuery(rules[0], "vllm:num_requests_running", "nim", "llm-0|llm-1")).toBe(
      'sum(vllm:num_requests_running{namespace="nim",pod=~"llm-0|llm-1"}) by (pod)',
    );
  });

  it("the series queries and the expanded metrics queries pass promtool", () => {
    const exprs = rules.flatMap((r) => [
      r.seriesQuery,
      expandAdapterQuery(r, r.name.as, "nim", "llm-0|llm-1"),
      expandAdapterQuery(r, `vllm:${r.name.as}`, "nim", "llm-0"),
    ]);
    const file = stringify({
      groups: [{ name: "adapter", rules: exprs.map((expr, i) => ({ record: `adapter:query_${i}`, expr })) }],
    });
    const dir = writeTree({ "adapter.rules.yml": file }, "gpu-fleet-adapter-");
    const result = runTool("promtool", ["check", "rules", "adapter.rules.yml"], dir);
    expect(result.output).toContain("SUCCESS: 6 rules found");
    expect(result.status).toBe(0);
  });

  it("promtool refuses a broken query, so the check is real", () => {
    const dir = writeTree(
      { "bad.rules.yml": stringify({ groups: [{ name: "a", rules: [{ record: "a:b", expr: "sum(<<.Series>>)" }] }] }) },
      "gpu-fleet-adapter-",
    );
    expect(runTool("promtool", ["check", "rules", "bad.rules.yml"], dir).status).toBe(1);
  });
});
