import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveNodeGroup } from "../../fleet/kubernetes";
import {
  CHARTS,
  clusterAutoscalerValues,
  dcgmExporterValues,
  kubePrometheusStackValues,
  prometheusAdapterValues,
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

/** Every key path set in a values object, down to the leaves (arrays and strings are leaves). */
function valuePaths(values: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(values).flatMap(([k, v]) =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0
      ? valuePaths(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

/**
 * The values keys gpu-fleet sets, each read in the chart's values.yaml (or, for free-form maps, its
 * templates) at the pinned release. A key added to a renderer fails here until it is read there too.
 * nodeSelector, config.map and extraArgs are free-form maps: their keys are labels, config names, flags.
 *   nvidia-device-plugin 0.18.2: NVIDIA/k8s-device-plugin tag v0.18.2, deployments/helm/nvidia-device-plugin/values.yaml
 *     (nodeSelector, tolerations, config.map, config.default; the config files' fields in api/config/v1/replicas.go)
 *   kube-prometheus-stack 80.4.1: prometheus-community/helm-charts tag kube-prometheus-stack-80.4.1,
 *     charts/kube-prometheus-stack/values.yaml (prometheus.prometheusSpec.*, grafana.admin.*, grafana.sidecar.dashboards.*;
 *     storageSpec is the operator's StorageSpec, passed through)
 *   dcgm-exporter 4.8.2: NVIDIA/dcgm-exporter tag 4.5.3-4.8.2, deployment/values.yaml (nodeSelector, tolerations,
 *     serviceMonitor.enabled/interval/relabelings; templates/service-monitor.yaml renders relabelings as given)
 *   prometheus-adapter 4.14.1: prometheus-community/helm-charts tag prometheus-adapter-4.14.1,
 *     charts/prometheus-adapter/values.yaml (prometheus.url, prometheus.port, rules.default, rules.custom)
 *   cluster-autoscaler 9.46.6: kubernetes/autoscaler tag cluster-autoscaler-chart-9.46.6,
 *     charts/cluster-autoscaler/values.yaml (cloudProvider, awsRegion, autoDiscovery.clusterName, image.tag,
 *     rbac.serviceAccount.*, extraArgs: templates/deployment.yaml renders each as --key=value)
 */
describe("Helm values use only keys of the pinned charts", () => {
  const group = resolveNodeGroup({ name: "shared", gpuSharing: { replicasPerGpu: 2 } });
  it.each([
    [
      "nvidia-device-plugin",
      devicePluginValues([group]),
      [
        "nodeSelector.nvidia.com/gpu.present",
        "tolerations",
        "config.default",
        "config.map.default",
        "config.map.shared",
      ],
    ],
    [
      "kube-prometheus-stack",
      kubePrometheusStackValues({ retentionDays: 15, prometheusStorageGiB: 50, storageClassName: "gp3" }),
      [
        "fullnameOverride",
        "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.retention",
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName",
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.accessModes",
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage",
        "grafana.admin.existingSecret",
        "grafana.admin.userKey",
        "grafana.admin.passwordKey",
        "grafana.sidecar.dashboards.enabled",
        "grafana.sidecar.dashboards.label",
        "grafana.sidecar.dashboards.labelValue",
        "grafana.sidecar.dashboards.searchNamespace",
      ],
    ],
    [
      "dcgm-exporter",
      dcgmExporterValues(),
      [
        "nodeSelector.nvidia.com/gpu.present",
        "tolerations",
        "serviceMonitor.enabled",
        "serviceMonitor.interval",
        "serviceMonitor.relabelings",
      ],
    ],
    [
      "prometheus-adapter",
      prometheusAdapterValues(),
      ["prometheus.url", "prometheus.port", "rules.default", "rules.custom"],
    ],
    [
      "cluster-autoscaler",
      clusterAutoscalerValues("gpu-fleet-eks", "us-east-1"),
      [
        "cloudProvider",
        "awsRegion",
        "autoDiscovery.clusterName",
        "image.tag",
        "rbac.serviceAccount.create",
        "rbac.serviceAccount.name",
        "extraArgs.expander",
        "extraArgs.balance-similar-node-groups",
        "extraArgs.scale-down-unneeded-time",
      ],
    ],
  ])("%s", (_chart, values, paths) => {
    expect(valuePaths(values)).toEqual(paths);
  });

  it("the pinned versions", () => {
    expect(Object.values(CHARTS).map((c) => `${c.chart} ${c.version}`)).toEqual([
      "nvidia-device-plugin 0.18.2",
      "kube-prometheus-stack 80.4.1",
      "prometheus-adapter 4.14.1",
      "dcgm-exporter 4.8.2",
      "cluster-autoscaler 9.46.6",
    ]);
  });
});
