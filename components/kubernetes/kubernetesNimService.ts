/**
 * KubernetesNimService: one model service on a GPU cluster — its workload, Service, HPA and
 * ServiceMonitor, rendered from the same settings a GpuHost takes — refused, like a GpuHost, when the
 * fleet checks find a misfit: the model on a node of the group (estimator and ledger), the replicas
 * and HPA range on the group's maxSize, the rendered pod's tolerations and GPU requests. The node
 * ledger is written as a ConfigMap so what was checked is visible in the cluster and to policies; the
 * fleet's alerts for the service as a PrometheusRule.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serializeLedger } from "../../fleet/hostLedger";
import {
  AutoscalingSettings,
  KubernetesServiceSettings,
  checkCacheSize,
  checkNodeGroupCapacity,
  checkPodResources,
  checkPodScheduling,
  planKubernetesService,
} from "../../fleet/kubernetes";
import { ConfigError, ServiceSettings } from "../../fleet/config";
import { ModelCacheSettings, renderNimObjects } from "../../renderers/kubernetes/nim";
import { renderPrometheusRule } from "../../renderers/kubernetes/alerts";
import { enforceFindings } from "../fit";
import type { GpuClusterRef } from "./eksGpuCluster";
import type { NimNamespaceRef } from "./nimNamespace";

export interface KubernetesNimServiceArgs extends Omit<ServiceSettings, "name" | "gpus" | "port"> {
  readonly cluster: GpuClusterRef;
  /** The cluster's node group the pods run on; default the cluster's only one. */
  readonly nodeGroup?: string;
  readonly namespace: NimNamespaceRef;
  /** Pods without an HPA; default 1. */
  readonly replicas?: number;
  readonly autoscaling?: AutoscalingSettings;
  /**
   * Default: one gp3 volume of 100 GiB per replica (the cluster's storage class). `mode: "shared"`: one
   * ReadWriteMany volume on the cluster's shared (EFS) storage class, which the cluster must have.
   */
  readonly cache?: Partial<ModelCacheSettings>;
}

export class KubernetesNimService extends pulumi.ComponentResource {
  /** `http://<name>.<namespace>.svc.cluster.local:<port>`: the OpenAI-compatible API inside the cluster. */
  public readonly endpoint: string;
  public readonly model: string;
  public readonly tensorParallel: number;
  public readonly reservedMiBPerGpu: number;
  public readonly replicas: number;
  public readonly maxReplicas: number;

  constructor(name: string, args: KubernetesNimServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const where = `KubernetesNimService "${name}"`;
    const { cluster, namespace, cache: cacheArgs, nodeGroup: groupName, ...rest } = args;
    const group =
      groupName === undefined && cluster.nodeGroups.length === 1
        ? cluster.nodeGroups[0]
        : cluster.nodeGroups.find((g) => g.name === groupName);
    if (!group) {
      throw new Error(
        `${where}: nodeGroup: ${JSON.stringify(groupName)} is not a node group of the cluster; known: ${cluster.nodeGroups.map((g) => g.name).join(", ")}`,
      );
    }
    const settings: KubernetesServiceSettings = {
      ...rest,
      name,
      nodeGroup: group.name,
      ...(cacheArgs?.mode !== undefined || cacheArgs?.sizeGiB !== undefined
        ? {
            cache: {
              ...(cacheArgs.mode !== undefined ? { mode: cacheArgs.mode } : {}),
              ...(cacheArgs.sizeGiB !== undefined ? { sizeGiB: cacheArgs.sizeGiB } : {}),
            },
          }
        : {}),
    };
    let planned;
    let findings;
    try {
      ({ planned, findings } = planKubernetesService(settings, group, undefined, "args"));
    } catch (e) {
      if (e instanceof ConfigError) throw new Error(`${where}: ${e.problems.join("; ")}`);
      throw e;
    }
    const shared = planned.cache.mode === "shared";
    const storageClassName =
      cacheArgs?.storageClassName ?? (shared ? cluster.sharedStorageClassName : cluster.storageClassName);
    if (storageClassName === undefined) {
      throw new Error(
        `${where}: cache.mode: "shared" needs a ReadWriteMany storage class, and the cluster has none; create the cluster with sharedModelCache: true (an EFS file system) or set cache.storageClassName`,
      );
    }
    const cache: ModelCacheSettings = { mode: planned.cache.mode, storageClassName, sizeGiB: planned.cache.sizeGiB };
    const objects = renderNimObjects({ planned, group, namespace: namespace.name, cache });
    const pod = objects.workload.object.spec!.template.spec!;
    const all = [
      ...findings,
      ...checkNodeGroupCapacity(group, [planned]),
      ...checkCacheSize(planned, cache.sizeGiB),
      ...checkPodScheduling(planned, group, pod as Parameters<typeof checkPodScheduling>[2]),
      ...checkPodResources(planned, group, pod as Parameters<typeof checkPodResources>[2]),
    ];
    const warnings = enforceFindings(where, all, (service) => (service === name ? "" : undefined));
    super("gpu-fleet:index:KubernetesNimService", name, {}, opts);
    for (const w of warnings) pulumi.log.warn(w, this);

    this.model = planned.service.model;
    this.tensorParallel = planned.gpusPerPod;
    this.reservedMiBPerGpu = planned.service.reservedMiBPerGpu;
    this.replicas = planned.replicas;
    this.maxReplicas = planned.autoscaling?.maxReplicas ?? planned.replicas;
    this.endpoint = `http://${name}.${namespace.name}.svc.cluster.local:${planned.service.serving.containerPort}`;

    const child = { parent: this, provider: cluster.provider };
    const dependsOn = [...cluster.ready, ...namespace.ready];
    const ledger = new k8s.core.v1.ConfigMap(
      `${name}-ledger`,
      {
        metadata: { name: `${name}-gpu-ledger`, namespace: namespace.name, labels: objects.service.metadata!.labels },
        data: { "ledger.json": serializeLedger(planned.nodeLedger) },
      },
      { ...child, dependsOn },
    );
    const service = new k8s.core.v1.Service(
      name,
      { metadata: objects.service.metadata, spec: objects.service.spec },
      { ...child, dependsOn },
    );
    const claim = objects.cacheClaim
      ? new k8s.core.v1.PersistentVolumeClaim(
          `${name}-cache`,
          { metadata: objects.cacheClaim.metadata, spec: objects.cacheClaim.spec },
          { ...child, dependsOn },
        )
      : undefined;
    const workloadDeps = [...dependsOn, service, ledger, ...(claim ? [claim] : [])];
    // `up` waits for the pods to be ready, and a cold start downloads the model: wait a little longer
    // than the startup probe's 40 minutes, after which the kubelet restarts the pod anyway.
    const workloadOpts = { ...child, dependsOn: workloadDeps, customTimeouts: { create: "45m", update: "45m" } };
    const workload =
      objects.workload.kind === "StatefulSet"
        ? new k8s.apps.v1.StatefulSet(
            name,
            { metadata: objects.workload.object.metadata, spec: objects.workload.object.spec },
            workloadOpts,
          )
        : new k8s.apps.v1.Deployment(
            name,
            { metadata: objects.workload.object.metadata, spec: objects.workload.object.spec },
            workloadOpts,
          );
    if (objects.autoscaler) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        { metadata: objects.autoscaler.metadata, spec: objects.autoscaler.spec },
        { ...child, dependsOn: [workload] },
      );
    }
    new k8s.apiextensions.CustomResource(
      `${name}-monitor`,
      {
        apiVersion: objects.serviceMonitor.apiVersion,
        kind: objects.serviceMonitor.kind,
        metadata: objects.serviceMonitor.metadata,
        spec: objects.serviceMonitor.spec,
      },
      { ...child, dependsOn: [service] },
    );
    const alerts = renderPrometheusRule(planned, namespace.name);
    new k8s.apiextensions.CustomResource(
      `${name}-alerts`,
      { apiVersion: alerts.apiVersion, kind: alerts.kind, metadata: alerts.metadata, spec: alerts.spec },
      { ...child, dependsOn },
    );
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
