/**
 * The fleet's alerts on Kubernetes, as one PrometheusRule per service: the same names and thresholds as
 * on GPU hosts (renderers/observability/rules.ts ALERT, ALERT_POLICY), with Kubernetes labels. Pods move
 * between nodes, so a GPU is known by the pod dcgm-exporter maps it to (its `pod`/`namespace` labels,
 * from the kubelet's pod-resources API), not by host and index; and the HPA's range adds one alert: at
 * its maximum for long, the node group gives it no more.
 */
import { PlannedKubernetesService } from "../../fleet/kubernetes";
import { ALERT, ALERT_POLICY, AlertingRule, RuleFile } from "../observability/rules";

/** MiB a pod's GPU may use above its reservation before the alert fires (as on hosts: 256 MiB). */
export const RESERVATION_TOLERANCE_MIB = 256;
export const HPA_AT_MAX_ALERT = "HpaAtMaxReplicas";
export const HPA_AT_MAX_FOR = "15m";

export interface PrometheusRule {
  apiVersion: "monitoring.coreos.com/v1";
  kind: "PrometheusRule";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: RuleFile;
}

/** StatefulSet pods are `<name>-<ordinal>`; Deployment pods `<name>-<hash>-<suffix>`. */
function podPattern(service: string): string {
  return `${service}-[a-z0-9]+(-[a-z0-9]+)?`;
}

export function renderKubernetesAlerts(planned: PlannedKubernetesService, namespace: string): AlertingRule[] {
  const name = planned.service.name;
  const p = ALERT_POLICY;
  const pods = `namespace="${namespace}",pod=~"${podPattern(name)}"`;
  const limit = planned.service.reservedMiBPerGpu + RESERVATION_TOLERANCE_MIB;
  const rules: AlertingRule[] = [
    {
      alert: ALERT.gpuMemoryAboveReservation,
      expr: `DCGM_FI_DEV_FB_USED{${pods}} > ${limit}`,
      for: p.aboveReservationFor,
      labels: { severity: "critical", service: name },
      annotations: {
        summary: `GPU {{ $labels.gpu }} of pod {{ $labels.pod }} uses {{ $value }} MiB, more than the ${planned.service.reservedMiBPerGpu} MiB the plan reserved for ${name}`,
        description: `Pod {{ $labels.pod }} of service ${name} (${planned.service.model}) has used {{ $value }} MiB of GPU {{ $labels.gpu }} on node {{ $labels.Hostname }} for ${p.aboveReservationFor}; the plan reserved ${planned.service.reservedMiBPerGpu} MiB per GPU (tolerance ${RESERVATION_TOLERANCE_MIB} MiB).`,
      },
    },
    {
      alert: ALERT.gpuTemperatureHigh,
      expr: `DCGM_FI_DEV_GPU_TEMP{${pods}} > ${p.gpuTemperatureCelsius}`,
      for: p.gpuTemperatureFor,
      labels: { severity: "critical", service: name },
      annotations: {
        summary: `GPU {{ $labels.gpu }} of pod {{ $labels.pod }} is at {{ $value }} °C`,
        description: `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on node {{ $labels.Hostname }}, serving ${name}, has been above ${p.gpuTemperatureCelsius} °C for ${p.gpuTemperatureFor}; it will throttle.`,
      },
    },
    {
      alert: ALERT.nimNotReady,
      // The ServiceMonitor's targets carry the Service's name as `service`.
      expr: `up{namespace="${namespace}",service="${name}"} == 0`,
      for: p.nimNotReadyFor,
      labels: { severity: "critical", service: name },
      annotations: {
        summary: `Model service ${name}: pod {{ $labels.pod }} is not answering`,
        description: `Prometheus has not been able to scrape pod {{ $labels.pod }} of ${name} for ${p.nimNotReadyFor}: it is down, still loading its model, or out of GPU memory.`,
      },
    },
  ];
  const a = planned.autoscaling;
  if (a) {
    rules.push({
      alert: HPA_AT_MAX_ALERT,
      // kube-state-metrics' HPA series (kube-prometheus-stack ships kube-state-metrics).
      expr: `kube_horizontalpodautoscaler_status_current_replicas{namespace="${namespace}",horizontalpodautoscaler="${name}"} >= ${a.maxReplicas}`,
      for: HPA_AT_MAX_FOR,
      labels: { severity: "warning", service: name },
      annotations: {
        summary: `Service ${name} has run at its HPA maximum of ${a.maxReplicas} replicas for ${HPA_AT_MAX_FOR}`,
        description: `The HPA of ${name} wants more than ${a.maxReplicas} replicas on ${a.metric}; node group ${planned.nodeGroup} was planned for that many. Raise maxReplicas and the node group's maxSize together (the plan checks they fit).`,
      },
    });
  }
  return rules;
}

export function renderPrometheusRule(planned: PlannedKubernetesService, namespace: string): PrometheusRule {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: `${planned.service.name}-alerts`,
      namespace,
      labels: { "app.kubernetes.io/name": planned.service.name, "app.kubernetes.io/managed-by": "gpu-fleet" },
    },
    spec: {
      groups: [{ name: `gpu-fleet-${planned.service.name}`, rules: renderKubernetesAlerts(planned, namespace) }],
    },
  };
}
