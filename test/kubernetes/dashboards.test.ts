import { describe, expect, it } from "vitest";
import { planKubernetesFleet } from "../../fleet/kubernetes";
import { kubernetesDashboardInput, renderDashboardConfigMaps } from "../../renderers/kubernetes/dashboards";
import { fleetRelabelings } from "../../renderers/kubernetes/helm";
import { gpuDashboard, nimDashboard } from "../../renderers/observability/dashboards";
import { resolveObservabilityInput } from "../../renderers/observability/input";
import { strictSchemaProblems } from "./strictSchema";

const plan = planKubernetesFleet(
  [{ name: "gpu", maxSize: 3 }],
  [
    { name: "llm", model: "meta/llama-2-7b-chat", nodeGroup: "gpu" },
    { name: "chat", model: "microsoft/DialoGPT-medium", nodeGroup: "gpu" },
  ],
);

describe("the fleet's dashboards as Grafana sidecar ConfigMaps", () => {
  const input = kubernetesDashboardInput("eks", plan.nodeGroups, plan.services, "nim");
  const maps = renderDashboardConfigMaps(input);

  it("the NIM and GPU dashboards, rendered by the same functions as on hosts, for both engines", () => {
    const resolved = resolveObservabilityInput(input);
    expect(maps.map((m) => [m.metadata!.name, m.metadata!.namespace, m.metadata!.labels])).toEqual([
      [
        "gpu-fleet-dashboard-nim",
        "monitoring",
        { grafana_dashboard: "1", "app.kubernetes.io/managed-by": "gpu-fleet" },
      ],
      [
        "gpu-fleet-dashboard-gpu",
        "monitoring",
        { grafana_dashboard: "1", "app.kubernetes.io/managed-by": "gpu-fleet" },
      ],
    ]);
    expect(JSON.parse(maps[0].data!["gpu-fleet-nim.json"])).toEqual(nimDashboard(resolved));
    expect(JSON.parse(maps[1].data!["gpu-fleet-gpu.json"])).toEqual(gpuDashboard(resolved));
    expect(input.nimServices.map((s) => [s.name, s.engine])).toEqual([
      ["llm", "nim"],
      ["chat", "vllm"],
    ]);
    expect(maps.flatMap((m) => strictSchemaProblems(m))).toEqual([]);
  });

  it("the relabelings give Kubernetes targets the job and host labels the dashboards select on", () => {
    expect(fleetRelabelings("dcgm")).toEqual([
      { action: "replace", targetLabel: "job", replacement: "dcgm" },
      { action: "replace", sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "host" },
    ]);
    const gpu = JSON.parse(maps[1].data!["gpu-fleet-gpu.json"]);
    expect(gpu.panels[0].targets[0].expr).toBe('DCGM_FI_DEV_GPU_UTIL{job="dcgm", host=~"$host"}');
  });
});
