/**
 * From a planned service to the Kubernetes objects that run it on a GPU node group: the same
 * PlannedService the Docker renderer takes (renderers/nim/serviceSpec.ts), so one service config runs
 * on either runtime. Pure: plain objects, typed by @pulumi/kubernetes' input types.
 */
import {
  DEFAULT_CACHE_SIZE_GIB,
  GPU_RESOURCE,
  GPU_TAINT,
  KUBERNETES_VERSION,
  ModelCacheMode,
  NODE_GROUP_LABEL,
  NodeGroupPlan,
  PlannedKubernetesService,
  podResources,
} from "../../fleet/kubernetes";
import { DEFAULT_READY_TIMEOUT_SECONDS } from "../container/container";
import { NIM_CACHE_MOUNT, engineArgs, nimEnvironment, shmSizeFor } from "../nim/serviceSpec";
import { JOB, METRICS_PATH } from "../observability/targets";
import { fleetRelabelings } from "./helm";
import type {
  Container,
  Deployment,
  HorizontalPodAutoscaler,
  Namespace,
  PersistentVolumeClaim,
  PodSpec,
  Service,
  ServiceMonitor,
  StatefulSet,
} from "./types";

// The cluster's version (fleet/kubernetes.ts, beside the rule for gpu-fleet:eks.kubernetesVersion) pins Pod Security too.
export { KUBERNETES_VERSION } from "../../fleet/kubernetes";
export const DEFAULT_NAMESPACE = "nim";
export const NGC_SECRET_NAME = "ngc-api-key";
export const NGC_PULL_SECRET_NAME = "nvcr-pull";
/** NIM images run as uid 1000 and NIM's Helm chart sets runAsUser/runAsGroup/fsGroup 1000 (nim-deploy helm/nim-llm values.yaml). */
export const NIM_UID = 1000;
/** vLLM's image keeps its cache under /root, which a non-root pod cannot write; HF_HOME points it at the volume. */
export const HF_CACHE_MOUNT = "/data/hf-cache";
const PROBE_PERIOD_SECONDS = 10;
/** Readiness of a cold pod waits for a model download of tens of GB: the Docker runtime's 40 minutes. */
export const STARTUP_BUDGET_SECONDS = DEFAULT_READY_TIMEOUT_SECONDS;
export { DEFAULT_CACHE_SIZE_GIB };

/**
 * Where the model cache lives. `per-replica`: one ReadWriteOnce volume per pod (EBS gp3) through a
 * StatefulSet's volumeClaimTemplates; `shared`: one ReadWriteMany volume (EFS) that every pod of a
 * Deployment mounts, so a new replica starts without downloading (recommended when replicas > 1).
 */
export interface ModelCacheSettings {
  readonly mode: ModelCacheMode;
  readonly storageClassName: string;
  readonly sizeGiB: number;
}

export interface NimKubernetesInput {
  readonly planned: PlannedKubernetesService;
  readonly group: NodeGroupPlan;
  readonly namespace?: string;
  readonly cache: ModelCacheSettings;
}

export interface NimKubernetesObjects {
  readonly service: Service;
  readonly workload:
    | { readonly kind: "StatefulSet"; readonly object: StatefulSet }
    | { readonly kind: "Deployment"; readonly object: Deployment };
  /** The shared cache's claim; per-replica caches are claimed by the StatefulSet itself. */
  readonly cacheClaim?: PersistentVolumeClaim;
  readonly autoscaler?: HorizontalPodAutoscaler;
  readonly serviceMonitor: ServiceMonitor;
}

/** Pod Security `restricted` enforced (and audited, warned) at the cluster's version (kubernetes.io/docs/concepts/security/pod-security-admission). */
export function renderNamespace(name: string = DEFAULT_NAMESPACE): Namespace {
  const version = `v${KUBERNETES_VERSION}`;
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/managed-by": "gpu-fleet",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
      },
    },
  };
}

/** The labels that select a service's pods: its name only, so a model swap keeps the (immutable) selector. */
export function selectorLabels(service: string): Record<string, string> {
  return { "app.kubernetes.io/name": service, "app.kubernetes.io/component": "model-server" };
}

function objectLabels(service: string): Record<string, string> {
  return { ...selectorLabels(service), "app.kubernetes.io/managed-by": "gpu-fleet" };
}

const cacheVolumeName = "model-cache";

function cacheMountPath(input: NimKubernetesInput): string {
  return input.planned.service.serving.nim ? NIM_CACHE_MOUNT : HF_CACHE_MOUNT;
}

/** `16g` (Docker's --shm-size) as a Kubernetes quantity. */
function shmQuantity(size: string): string {
  const m = /^(\d+)([kmg])$/.exec(size);
  if (!m) throw new Error(`shm size ${size} is not <n>k|m|g`);
  return `${m[1]}${{ k: "Ki", m: "Mi", g: "Gi" }[m[2] as "k" | "m" | "g"]}`;
}

/** A Kubernetes quantity for a metric target: whole numbers as they are, fractions in milli-units. */
export function quantity(value: number): string {
  return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
}

/**
 * GPUs = tensor parallelism, requested and limited alike (extended resources allow no overcommit);
 * CPU and memory: the pod's share of its node (fleet/kubernetes.ts podResources, which cites NVIDIA's
 * requirements and the EKS AMI's reservations). Memory is limited to its request: the pod cannot push
 * the node into memory pressure (the kubelet evicts pods above their request first), and one that
 * outgrows it is OOM-killed and restarted instead of starving the node's daemons. CPU has no limit, so
 * the engine's tokenizer and scheduler threads are never throttled on a node no other pod may use.
 */
function podContainerResources(input: NimKubernetesInput): NonNullable<Container["resources"]> {
  const gpus = String(input.planned.gpusPerPod);
  const share = podResources(input.group, input.planned.gpusPerPod);
  const memory = `${share.memoryMiB}Mi`;
  return {
    requests: { [GPU_RESOURCE]: gpus, cpu: `${share.cpuMillis}m`, memory },
    limits: { [GPU_RESOURCE]: gpus, memory },
  };
}

function container(input: NimKubernetesInput): Container {
  const s = input.planned.service;
  const healthPort = "http";
  const env: NonNullable<Container["env"]> = s.serving.nim
    ? [
        { name: "NIM_CACHE_PATH", value: NIM_CACHE_MOUNT },
        ...Object.entries(nimEnvironment(s)).map(([name, value]) => ({ name, value })),
        { name: "NGC_API_KEY", valueFrom: { secretKeyRef: { name: NGC_SECRET_NAME, key: "NGC_API_KEY" } } },
      ]
    : [
        { name: "HF_HOME", value: HF_CACHE_MOUNT },
        // vLLM and its compilers (triton, torch.compile) write caches under $HOME, /root in the image,
        // which uid 1000 cannot write: point HOME at the volume, where they also survive restarts.
        { name: "HOME", value: HF_CACHE_MOUNT },
      ];
  const args = engineArgs(s);
  return {
    name: "model-server",
    image: s.serving.image,
    ...(args.length > 0 ? { args } : {}),
    ports: [{ name: "http", containerPort: s.serving.containerPort, protocol: "TCP" }],
    env,
    resources: podContainerResources(input),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      runAsUser: NIM_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: cacheVolumeName, mountPath: cacheMountPath(input) },
      ...(s.tensorParallel > 1 ? [{ name: "dshm", mountPath: "/dev/shm" }] : []),
    ],
    // The startup probe holds off readiness and liveness until the first ready answer: a cold pod
    // downloads the model within STARTUP_BUDGET_SECONDS before the kubelet restarts it.
    startupProbe: {
      httpGet: { path: s.serving.healthPath, port: healthPort },
      periodSeconds: PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: Math.ceil(STARTUP_BUDGET_SECONDS / PROBE_PERIOD_SECONDS),
    },
    readinessProbe: {
      httpGet: { path: s.serving.healthPath, port: healthPort },
      periodSeconds: PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    // NIM answers /v1/health/live while the engine runs (NIM API reference); vLLM has only /health.
    livenessProbe: {
      httpGet: { path: s.serving.nim ? "/v1/health/live" : s.serving.healthPath, port: healthPort },
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  };
}

function podSpec(input: NimKubernetesInput, withSharedClaim: boolean): PodSpec {
  const s = input.planned.service;
  return {
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NIM_UID,
      runAsGroup: NIM_UID,
      fsGroup: NIM_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    nodeSelector: { [NODE_GROUP_LABEL]: input.group.name },
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    ...(s.serving.image.startsWith("nvcr.io/") ? { imagePullSecrets: [{ name: NGC_PULL_SECRET_NAME }] } : {}),
    terminationGracePeriodSeconds: 60,
    containers: [container(input)],
    volumes: [
      ...(withSharedClaim ? [{ name: cacheVolumeName, persistentVolumeClaim: { claimName: `${s.name}-cache` } }] : []),
      // NCCL exchanges tensors between the ranks of a tensor-parallel engine through /dev/shm.
      ...(s.tensorParallel > 1
        ? [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: shmQuantity(shmSizeFor(s)) } }]
        : []),
    ],
  };
}

export function renderNimObjects(input: NimKubernetesInput): NimKubernetesObjects {
  const s = input.planned.service;
  const namespace = input.namespace ?? DEFAULT_NAMESPACE;
  const name = s.name;
  const labels = objectLabels(name);
  const metadata = { name, namespace, labels, annotations: { "gpu-fleet.dev/model": s.model } };
  const template = {
    metadata: { labels, annotations: { "gpu-fleet.dev/model": s.model } },
    spec: podSpec(input, input.cache.mode === "shared"),
  };
  const replicas = input.planned.replicas;
  const claim = (claimName: string, accessMode: string): PersistentVolumeClaim => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName, namespace, labels },
    spec: {
      accessModes: [accessMode],
      storageClassName: input.cache.storageClassName,
      resources: { requests: { storage: `${input.cache.sizeGiB}Gi` } },
    },
  });

  let workload: NimKubernetesObjects["workload"];
  let cacheClaim: PersistentVolumeClaim | undefined;
  if (input.cache.mode === "per-replica") {
    const template_ = claim(cacheVolumeName, "ReadWriteOnce");
    workload = {
      kind: "StatefulSet",
      object: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata,
        spec: {
          serviceName: name,
          replicas,
          // Pods start together: each downloads into its own volume, none waits for another to be ready.
          podManagementPolicy: "Parallel",
          // A rolling update replaces one pod at a time in place (delete, then create): no spare GPU needed.
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
          // Scaling in keeps the caches, so the next scale-out starts warm; deleting the set keeps them too.
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          selector: { matchLabels: selectorLabels(name) },
          template,
          volumeClaimTemplates: [{ metadata: { name: cacheVolumeName, labels }, spec: template_.spec }],
        },
      },
    };
  } else {
    cacheClaim = claim(`${name}-cache`, "ReadWriteMany");
    workload = {
      kind: "Deployment",
      object: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata,
        spec: {
          replicas,
          // maxSurge 0: an update never needs a GPU beyond the replicas' own; one pod at a time is replaced.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
          selector: { matchLabels: selectorLabels(name) },
          template,
        },
      },
    };
  }

  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(name),
      ports: [{ name: "http", port: s.serving.containerPort, targetPort: "http", protocol: "TCP" }],
    },
  };

  const a = input.planned.autoscaling;
  const autoscaler: HorizontalPodAutoscaler | undefined = a
    ? {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name, namespace, labels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: workload.kind, name },
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [
            {
              type: "Pods",
              pods: {
                metric: { name: a.metric },
                target: { type: "AverageValue", averageValue: quantity(a.targetAverageValue) },
              },
            },
          ],
          behavior: {
            // A new pod needs a GPU node and a model load (minutes): add one at a time, and wait 10
            // minutes of low load before removing one, so a burst does not cost a cold start each time.
            scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 120 }] },
            scaleDown: {
              stabilizationWindowSeconds: 600,
              policies: [{ type: "Pods", value: 1, periodSeconds: 300 }],
            },
          },
        },
      }
    : undefined;

  const serviceMonitor: ServiceMonitor = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: selectorLabels(name) },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: "http",
          path: s.serving.nim ? METRICS_PATH.nim : METRICS_PATH.vllm,
          interval: "15s",
          scrapeTimeout: "10s",
          relabelings: fleetRelabelings(s.serving.nim ? JOB.nim : JOB.vllm),
        },
      ],
    },
  };

  return {
    service,
    workload,
    ...(cacheClaim ? { cacheClaim } : {}),
    ...(autoscaler ? { autoscaler } : {}),
    serviceMonitor,
  };
}
