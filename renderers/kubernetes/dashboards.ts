/**
 * The fleet's Grafana dashboards (NIM and GPU, renderers/observability/dashboards.ts) as ConfigMaps
 * kube-prometheus-stack's Grafana sidecar loads (label grafana_dashboard=1, helm.ts). The dashboards
 * select on job, host and service: the ServiceMonitors relabel Kubernetes targets to those labels
 * (helm.ts fleetRelabelings), with host = the node a pod runs on.
 */
import { PlannedKubernetesService, PlannedNodeGroup } from "../../fleet/kubernetes";
import { gpuDashboard, nimDashboard } from "../observability/dashboards";
import { ObservabilityInput, resolveObservabilityInput } from "../observability/input";
import { MONITORING_NAMESPACE } from "./helm";
import type { ConfigMap } from "./types";

/**
 * The dashboards' input for a Kubernetes fleet: one entry per node group standing for its nodes (their
 * names are known only once they run, and the dashboards list them from the metrics), the planned
 * reservation of one node's GPUs, and every service with its engine.
 */
export function kubernetesDashboardInput(
  stack: string,
  groups: readonly PlannedNodeGroup[],
  services: readonly PlannedKubernetesService[],
  namespace: string,
): ObservabilityInput {
  return {
    stack,
    hosts: groups.map((g) => ({
      name: g.name,
      address: `${g.name}.nodes`,
      gpus: (services.find((s) => s.nodeGroup === g.name)?.nodeLedger.gpus ?? []).map((gpu) => ({
        index: gpu.index,
        model: gpu.model,
        memoryMiB: gpu.memoryMiB,
        reservations: gpu.reservations.map((r) => ({ service: r.service, reservedMiB: r.reservedMiB })),
      })),
    })),
    nimServices: services.map((s) => ({
      name: s.service.name,
      host: s.nodeGroup,
      address: `${s.service.name}.${namespace}.svc`,
      port: s.service.serving.containerPort,
      engine: s.service.serving.nim ? "nim" : "vllm",
    })),
  };
}

export function renderDashboardConfigMaps(input: ObservabilityInput): ConfigMap[] {
  const resolved = resolveObservabilityInput(input);
  const dashboards = [
    ...(resolved.nimServices.length > 0 ? [["nim", nimDashboard(resolved)] as const] : []),
    ...(resolved.hosts.some((h) => h.gpus.length > 0) ? [["gpu", gpuDashboard(resolved)] as const] : []),
  ];
  return dashboards.map(([key, dashboard]) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `gpu-fleet-dashboard-${key}`,
      namespace: MONITORING_NAMESPACE,
      labels: { grafana_dashboard: "1", "app.kubernetes.io/managed-by": "gpu-fleet" },
    },
    data: { [`gpu-fleet-${key}.json`]: JSON.stringify(dashboard) },
  }));
}
