/**
 * The Helm charts the GPU cluster runs, pinned, and their values as plain data: the NVIDIA device
 * plugin (GPUs as `nvidia.com/gpu`, time-slicing where a node group asks for it), kube-prometheus-stack
 * (Prometheus, Grafana, the operator that reads the ServiceMonitors), dcgm-exporter (GPU metrics) and
 * prometheus-adapter (the custom metrics the HPAs scale on). Pure; the EksGpuCluster component installs them.
 */
import { GPU_TAINT, NodeGroupPlan } from "../../fleet/kubernetes";

export interface HelmChart {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
}

/**
 * Chart versions, pinned (a floating chart changes the cluster on an unrelated `pulumi up`). Each is a
 * release of its chart's repository, and every values key set below was read in that release's
 * values.yaml and templates (test/kubernetes/helm.test.ts lists them): nvidia-device-plugin 0.18.2
 * (NVIDIA/k8s-device-plugin tag v0.18.2), kube-prometheus-stack 80.4.1 and prometheus-adapter 4.14.1
 * (prometheus-community/helm-charts tags), dcgm-exporter 4.8.2 (NVIDIA/dcgm-exporter tag 4.5.3-4.8.2;
 * its published index has no 4.8.4), cluster-autoscaler 9.46.6 (kubernetes/autoscaler tag
 * cluster-autoscaler-chart-9.46.6, whose default image is v1.32.0: the image is set to the cluster's
 * minor version, as the autoscaler README asks).
 */
export const CHARTS = {
  devicePlugin: {
    chart: "nvidia-device-plugin",
    version: "0.18.2",
    repo: "https://nvidia.github.io/k8s-device-plugin",
  },
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "80.4.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  prometheusAdapter: {
    chart: "prometheus-adapter",
    version: "4.14.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  dcgmExporter: {
    chart: "dcgm-exporter",
    version: "4.8.2",
    repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
  },
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    version: "9.46.6",
    repo: "https://kubernetes.github.io/autoscaler",
  },
} as const satisfies Record<string, HelmChart>;

export const MONITORING_NAMESPACE = "monitoring";
/** kube-prometheus-stack's object names start with its fullname; fixed, so the adapter's URL is known. */
export const KUBE_PROMETHEUS_FULLNAME = "kps";
export const PROMETHEUS_URL = `http://${KUBE_PROMETHEUS_FULLNAME}-prometheus.${MONITORING_NAMESPACE}.svc`;
export const PROMETHEUS_PORT = 9090;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/** The label the device plugin chart's default node affinity requires (without Node Feature Discovery). */
export const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";
/** Picks the device plugin's named config per node (k8s-device-plugin README, "Multiple Config Files"). */
export const DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config";

const gpuToleration = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect };

/** Device plugin config: no sharing, or time-slicing with `replicas` per GPU (k8s-device-plugin README, "Shared Access to GPUs"). */
export function devicePluginConfig(replicasPerGpu: number): string {
  const lines = ["version: v1", "flags:", "  migStrategy: none"];
  if (replicasPerGpu > 1) {
    lines.push(
      "sharing:",
      "  timeSlicing:",
      // A pod asking for 2 slices would still get no more than one GPU's time: refuse such requests.
      "    failRequestsGreaterThanOne: true",
      "    resources:",
      "      - name: nvidia.com/gpu",
      `        replicas: ${replicasPerGpu}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Values of the device plugin: on GPU nodes only, with a named config per time-sliced node group. */
export function devicePluginValues(groups: readonly NodeGroupPlan[]): Record<string, unknown> {
  const shared = groups.filter((g) => g.replicasPerGpu > 1);
  return {
    nodeSelector: { [GPU_PRESENT_LABEL]: "true" },
    tolerations: [gpuToleration],
    ...(shared.length > 0
      ? {
          config: {
            default: "default",
            map: Object.fromEntries([
              ["default", devicePluginConfig(1)],
              ...shared.map((g) => [g.name, devicePluginConfig(g.replicasPerGpu)]),
            ]),
          },
        }
      : {}),
  };
}

/** The node labels a group needs for the device plugin: GPUs present, and its config when time-sliced. */
export function devicePluginNodeLabels(group: NodeGroupPlan): Record<string, string> {
  return {
    [GPU_PRESENT_LABEL]: "true",
    ...(group.replicasPerGpu > 1 ? { [DEVICE_PLUGIN_CONFIG_LABEL]: group.name } : {}),
  };
}

export interface MonitoringSettings {
  readonly retentionDays: number;
  readonly prometheusStorageGiB: number;
  readonly storageClassName: string;
}

/**
 * kube-prometheus-stack: every ServiceMonitor and PrometheusRule in the cluster is selected (the chart
 * selects only its own release's by default), Grafana's admin credentials come from an existing Secret
 * (never from values, which Helm keeps in plain text), dashboards from labelled ConfigMaps in any namespace.
 */
export function kubePrometheusStackValues(s: MonitoringSettings): Record<string, unknown> {
  return {
    fullnameOverride: KUBE_PROMETHEUS_FULLNAME,
    prometheus: {
      prometheusSpec: {
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        retention: `${s.retentionDays}d`,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: s.storageClassName,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${s.prometheusStorageGiB}Gi` } },
            },
          },
        },
      },
    },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" } },
    },
  };
}

/**
 * Relabelings that give Kubernetes targets the labels the fleet's dashboards and alerts select on
 * (renderers/observability): `job` as on hosts, and `host` = the node the pod runs on. The operator
 * already sets `service` to the Kubernetes Service's name, which is the fleet service's name.
 */
export function fleetRelabelings(job: string): Record<string, unknown>[] {
  return [
    { action: "replace", targetLabel: "job", replacement: job },
    { action: "replace", sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "host" },
  ];
}

/**
 * dcgm-exporter on the GPU nodes (it tolerates their taint), scraped through its own ServiceMonitor.
 * Each GPU's metrics are labelled by the pod using it without a value: the chart's DaemonSet always sets
 * DCGM_EXPORTER_KUBERNETES=true and mounts the kubelet's pod-resources socket (deployment/templates/
 * daemonset.yaml at 4.5.3-4.8.2; the chart has no `mapPodsMetrics` key, which an earlier version set).
 */
export function dcgmExporterValues(): Record<string, unknown> {
  return {
    nodeSelector: { [GPU_PRESENT_LABEL]: "true" },
    tolerations: [gpuToleration],
    serviceMonitor: { enabled: true, interval: "15s", relabelings: fleetRelabelings("dcgm") },
  };
}

export interface AdapterRule {
  readonly seriesQuery: string;
  readonly resources: { readonly overrides: Record<string, { readonly resource: string }> };
  readonly name: { readonly matches: string; readonly as: string };
  readonly metricsQuery: string;
}

/**
 * The custom metrics the HPAs use (fleet/kubernetes.ts AUTOSCALING_METRICS), per pod. NIM names them
 * `num_requests_running` / `gpu_cache_usage_perc`, vLLM with a `vllm:` prefix
 * (renderers/observability/metrics.ts); one rule serves both under the NIM name. Requests running add up
 * across a pod's series; KV-cache usage is a ratio, averaged.
 */
export function prometheusAdapterRules(): AdapterRule[] {
  const rule = (metric: string, aggregate: "sum" | "avg"): AdapterRule => ({
    seriesQuery: `{__name__=~"^(vllm:)?${metric}$",namespace!="",pod!=""}`,
    resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
    name: { matches: `^(vllm:)?${metric}$`, as: metric },
    metricsQuery: `${aggregate}(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)`,
  });
  return [rule("num_requests_running", "sum"), rule("gpu_cache_usage_perc", "avg")];
}

export function prometheusAdapterValues(): Record<string, unknown> {
  return {
    prometheus: { url: PROMETHEUS_URL, port: PROMETHEUS_PORT },
    rules: { default: false, custom: prometheusAdapterRules() },
  };
}

/**
 * An adapter query as prometheus-adapter expands it for one pod (its template placeholders filled the
 * way the adapter fills them), so promtool can check the PromQL.
 */
export function expandAdapterQuery(rule: AdapterRule, series: string, namespace: string, pod: string): string {
  return rule.metricsQuery
    .replace("<<.Series>>", series)
    .replace("<<.LabelMatchers>>", `namespace="${namespace}",pod=~"${pod}"`)
    .replace("<<.GroupBy>>", "pod");
}

/** The service account the cluster autoscaler runs as; EKS Pod Identity gives it its IAM role. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
/** The autoscaler release matching Kubernetes 1.35 (kubernetes/autoscaler releases: cluster-autoscaler-1.35.0). */
export const CLUSTER_AUTOSCALER_IMAGE_TAG = "v1.35.0";

/**
 * The cluster autoscaler grows the GPU node group when HPA replicas stay Pending for want of a GPU, and
 * shrinks it when nodes idle. It finds managed node groups by the tags EKS puts on their Auto Scaling
 * groups (k8s.io/cluster-autoscaler/enabled, k8s.io/cluster-autoscaler/<cluster>).
 */
export function clusterAutoscalerValues(clusterName: string, region: string): Record<string, unknown> {
  return {
    cloudProvider: "aws",
    awsRegion: region,
    autoDiscovery: { clusterName },
    image: { tag: CLUSTER_AUTOSCALER_IMAGE_TAG },
    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
    extraArgs: {
      // Pick the node group that wastes the fewest GPUs; wait 10 minutes before removing an idle node,
      // the HPA's own scale-down window, so a node is not removed under a pod about to come back.
      expander: "least-waste",
      "balance-similar-node-groups": true,
      "scale-down-unneeded-time": "10m",
    },
  };
}

/** What the autoscaler may do in AWS (kubernetes/autoscaler cloudprovider/aws README, "Minimal IAM Permissions Policy"). */
export function clusterAutoscalerPolicy(): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: ["*"],
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: ["*"],
      },
    ],
  };
}
