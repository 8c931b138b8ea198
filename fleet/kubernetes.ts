/**
 * The Kubernetes runtime's fleet model: a GPU node group, the services scheduled onto it as pods, and
 * the checks that refuse a fleet the node group cannot hold. Pure; the EKS components, the renderers
 * and the plan ask it. A node of the group is planned exactly like a GPU host — the same estimator,
 * ledger and ledger checks — with one pod's GPUs on it; what Kubernetes adds (replicas, an HPA range,
 * taints and tolerations, time-slicing) is checked here.
 */
import { GPU_MODELS, GpuModel } from "./catalog/gpus";
import { INSTANCE_TYPES, InstanceType, findInstanceType } from "./catalog/instances";
import { CHECKS, Finding, checkFixedFractions, checkGpuBudget, checkHostLedger } from "./checks";
import {
  ConfigError,
  HostConfig,
  Problems,
  NAMESPACE,
  SERVICE_SETTING_KEYS,
  STACK_CONFIG_KEYS,
  ServiceSettings,
  validateCidrList,
  validateMaxHourlyUsd,
  validateSafetyMargin,
  validateServiceSettings,
} from "./config";
import { findModel } from "./catalog/models";
import { weightsBytes } from "./estimator";
import { HostLedgerDocument } from "./hostLedger";
import { DEFAULT_SAFETY_MARGIN_FRACTION, buildLedger } from "./ledger";
import { PlannedService, hostShape, planHost } from "./plan";

/** The extended resource the NVIDIA device plugin advertises (k8s-device-plugin README). */
export const GPU_RESOURCE = "nvidia.com/gpu";

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: TaintEffect;
}

/**
 * GPU nodes are tainted so that only pods which ask for a GPU (and tolerate the taint) land on them;
 * the key is the resource name, as the EKS and NVIDIA GPU Operator documentation use it.
 */
export const GPU_TAINT: Taint = { key: GPU_RESOURCE, value: "true", effect: "NoSchedule" };

/** The label every node of a gpu-fleet node group carries; pods select their group by it. */
export const NODE_GROUP_LABEL = "gpu-fleet.dev/node-group";

export const DEFAULT_NODE_INSTANCE_TYPE = "g5.xlarge";
export const DEFAULT_NODE_MIN_SIZE = 1;
export const DEFAULT_NODE_MAX_SIZE = 2;
/** Root volume per node: the AL2023 NVIDIA AMI plus NIM images of 10-20 GB each must fit. */
export const DEFAULT_NODE_DISK_SIZE_GIB = 100;

/** What a user sets for one GPU node group. */
export interface NodeGroupSettings {
  /** DNS-1123 label; also the value of the `gpu-fleet.dev/node-group` node label. */
  readonly name: string;
  /** A GPU instance type of the catalog; default g5.xlarge (1 × A10G). */
  readonly instanceType?: string;
  /** Default 1. */
  readonly minSize?: number;
  /** Default minSize. */
  readonly desiredSize?: number;
  /** Default 2. */
  readonly maxSize?: number;
  /** Node labels besides `gpu-fleet.dev/node-group`; default none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Default 100. */
  readonly diskSizeGiB?: number;
  /**
   * NVIDIA device plugin time-slicing: each GPU is advertised `replicasPerGpu` times. Off (1) by
   * default: time-slicing gives the pods that share a GPU no memory isolation.
   */
  readonly gpuSharing?: { readonly replicasPerGpu: number };
}

export interface NodeGroupPlan {
  readonly name: string;
  readonly instanceType: InstanceType;
  readonly gpu: GpuModel;
  readonly gpusPerNode: number;
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly diskSizeGiB: number;
  /** 1 when GPUs are not shared. */
  readonly replicasPerGpu: number;
  /** `nvidia.com/gpu` a node advertises: GPUs × replicasPerGpu. */
  readonly gpuResourcesPerNode: number;
  readonly hourlyUsdPerNode: number;
}

/** DNS-1123 label (RFC 1123): what Kubernetes requires of Service, namespace and label-like names. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const isCount = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

/** Defaults applied and every value checked; a ConfigError names each bad key, its value and what is allowed. */
export function resolveNodeGroup(settings: NodeGroupSettings, path = "nodeGroup"): NodeGroupPlan {
  const problems: string[] = [];
  const name = settings.name;
  if (typeof name !== "string" || !DNS1123_LABEL.test(name) || name.length > 63) {
    problems.push(
      `${path}.name: ${JSON.stringify(name)} is not allowed; expected a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)`,
    );
  }
  const typeName = settings.instanceType ?? DEFAULT_NODE_INSTANCE_TYPE;
  const instanceType = findInstanceType(typeName);
  if (!instanceType) {
    problems.push(
      `${path}.instanceType: ${JSON.stringify(typeName)} is not a catalog GPU instance type; known: ${INSTANCE_TYPES.map((t) => t.name).join(", ")}`,
    );
  }
  const minSize = settings.minSize ?? DEFAULT_NODE_MIN_SIZE;
  const maxSize = settings.maxSize ?? Math.max(DEFAULT_NODE_MAX_SIZE, isCount(minSize, 0) ? minSize : 0);
  const desiredSize = settings.desiredSize ?? minSize;
  if (!isCount(minSize, 0))
    problems.push(`${path}.minSize: ${JSON.stringify(minSize)} is not allowed; expected an integer >= 0`);
  if (!isCount(maxSize, 1))
    problems.push(`${path}.maxSize: ${JSON.stringify(maxSize)} is not allowed; expected an integer >= 1`);
  if (isCount(minSize, 0) && isCount(maxSize, 1) && minSize > maxSize) {
    problems.push(`${path}.minSize: ${minSize} is not allowed; expected at most maxSize (${maxSize})`);
  }
  if (!isCount(desiredSize, 0) || (isCount(minSize, 0) && desiredSize < minSize) || desiredSize > maxSize) {
    problems.push(
      `${path}.desiredSize: ${JSON.stringify(desiredSize)} is not allowed; expected an integer from minSize (${minSize}) to maxSize (${maxSize})`,
    );
  }
  const diskSizeGiB = settings.diskSizeGiB ?? DEFAULT_NODE_DISK_SIZE_GIB;
  if (!isCount(diskSizeGiB, 20)) {
    problems.push(`${path}.diskSizeGiB: ${JSON.stringify(diskSizeGiB)} is not allowed; expected an integer >= 20`);
  }
  const replicasPerGpu = settings.gpuSharing?.replicasPerGpu ?? 1;
  if (!isCount(replicasPerGpu, 1) || replicasPerGpu > 48) {
    // The device plugin accepts any count; more than 48 pods per GPU is a configuration mistake here.
    problems.push(
      `${path}.gpuSharing.replicasPerGpu: ${JSON.stringify(replicasPerGpu)} is not allowed; expected an integer from 1 to 48`,
    );
  }
  const userLabels = settings.labels ?? {};
  for (const [key, value] of Object.entries(userLabels)) {
    if (key === NODE_GROUP_LABEL) {
      problems.push(`${path}.labels: "${NODE_GROUP_LABEL}" is set by gpu-fleet to the node group's name; remove it`);
    } else if (!isLabelKey(key)) {
      problems.push(`${path}.labels: key ${JSON.stringify(key)} is not a valid Kubernetes label key`);
    } else if (!isLabelValue(value)) {
      problems.push(`${path}.labels.${key}: ${JSON.stringify(value)} is not a valid Kubernetes label value`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const type = instanceType!;
  return {
    name,
    instanceType: type,
    gpu: GPU_MODELS[type.gpu],
    gpusPerNode: type.gpuCount,
    minSize,
    desiredSize,
    maxSize,
    labels: { [NODE_GROUP_LABEL]: name, ...userLabels },
    taints: [GPU_TAINT],
    diskSizeGiB,
    replicasPerGpu,
    gpuResourcesPerNode: type.gpuCount * replicasPerGpu,
    hourlyUsdPerNode: type.hourlyUsd,
  };
}

/** Label keys: an optional DNS-1123 subdomain prefix and "/", then a name of at most 63 characters. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (
    prefix !== undefined &&
    (prefix.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))
  )
    return false;
  return isLabelValue(name) && name.length > 0;
}

/** Label values: at most 63 characters, alphanumerics with "-", "_" or "." inside; may be empty. */
export function isLabelValue(value: unknown): boolean {
  return typeof value === "string" && value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value);
}

/** The custom metrics prometheus-adapter serves for the HPAs (renderers/kubernetes/adapter.ts has the rules). */
export type AutoscalingMetric = "num_requests_running" | "gpu_cache_usage_perc";
export const AUTOSCALING_METRICS: readonly AutoscalingMetric[] = ["num_requests_running", "gpu_cache_usage_perc"];

export interface AutoscalingSettings {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Default num_requests_running. */
  readonly metric?: AutoscalingMetric;
  /** Average per pod the HPA keeps the metric at: requests for num_requests_running, a 0-1 ratio for KV cache. */
  readonly targetAverageValue: number;
}

/**
 * Where a service's model cache lives. `per-replica`: one ReadWriteOnce EBS volume per pod (a
 * StatefulSet's volumeClaimTemplates); `shared`: one ReadWriteMany EFS volume every pod mounts, so a
 * new replica starts without downloading the model (recommended when replicas > 1).
 */
export type ModelCacheMode = "per-replica" | "shared";
export const MODEL_CACHE_MODES: readonly ModelCacheMode[] = ["per-replica", "shared"];
/**
 * Default model-cache volume per replica (or shared): several times the 15 GiB of an 8B model at 16
 * bits, so profile changes and a model swap fit; a larger model must set its own size, which the
 * kubernetes-model-cache-size check enforces.
 */
export const DEFAULT_CACHE_SIZE_GIB = 100;

export interface ModelCacheOptions {
  /** Default per-replica. */
  readonly mode?: ModelCacheMode;
  /** Default 100. */
  readonly sizeGiB?: number;
}

/** One model service on Kubernetes: the same settings as on a GPU host, plus how many pods and where. */
export interface KubernetesServiceSettings extends ServiceSettings {
  /** The node group its pods run on. */
  readonly nodeGroup: string;
  /** Pods when there is no HPA; default 1. */
  readonly replicas?: number;
  readonly autoscaling?: AutoscalingSettings;
  /** Default: one 100 GiB EBS volume per replica. */
  readonly cache?: ModelCacheOptions;
}

/** The keys of a Kubernetes service's settings. */
export const KUBERNETES_SERVICE_KEYS = [...SERVICE_SETTING_KEYS, "nodeGroup", "replicas", "autoscaling", "cache"];
const CACHE_KEYS = ["mode", "sizeGiB"];

export interface PlannedKubernetesService {
  /** The runtime-agnostic service, as planned on one node of its group (host = the node group's name). */
  readonly service: PlannedService;
  readonly nodeGroup: string;
  /** Pods the workload starts with: replicas, or the HPA's minReplicas. */
  readonly replicas: number;
  readonly autoscaling?: Required<AutoscalingSettings>;
  /** GPUs each pod requests and is limited to: its tensor-parallel size. */
  readonly gpusPerPod: number;
  readonly cache: Required<ModelCacheOptions>;
  /** Ledger of one node of the group carrying as many pods of this service as share a GPU. */
  readonly nodeLedger: HostLedgerDocument;
}

export const KUBERNETES_CHECKS = {
  podFitsNode: "kubernetes-pod-fits-node",
  replicasFit: "kubernetes-replicas-fit-node-group",
  hpaSchedulable: "kubernetes-hpa-max-schedulable",
  hpaRange: "kubernetes-hpa-range",
  toleratesTaint: "kubernetes-tolerates-gpu-taint",
  nodeSelector: "kubernetes-node-selector-matches",
  gpuRequestLimit: "kubernetes-gpu-request-equals-limit",
  gpuSharing: "kubernetes-gpu-sharing",
  cacheSize: "kubernetes-model-cache-size",
  podResources: "kubernetes-pod-resources-fit-node",
} as const;

function serviceFinding(
  check: string,
  enforcement: Finding["enforcement"],
  group: string,
  service: string,
  detail: string,
): Finding {
  return { check, enforcement, host: group, service, detail, message: `service "${service}" ${detail}` };
}

/** The node group as a host: the ledger checks then speak of "a node of node group X". */
function nodeHost(group: NodeGroupPlan): HostConfig {
  return {
    name: group.name,
    instanceType: group.instanceType.name,
    sshAllowedCidrs: [],
    rootVolumeSizeGiB: group.diskSizeGiB,
    dataVolumeSizeGiB: 0,
    bindAddress: "private",
  };
}

const asNode = (group: string, f: Finding): Finding => {
  const from = `host "${group}"`;
  const to = `a node of node group "${group}"`;
  return {
    ...f,
    message: f.message.split(from).join(to),
    ...(f.detail !== undefined ? { detail: f.detail.split(from).join(to) } : {}),
  };
};

/**
 * Plans one service on one node of its group with the fleet's estimator and ledger checks. Device ids
 * cannot be pinned on Kubernetes (the device plugin chooses them), so `gpus` is refused; without
 * `tensorParallel` the planner picks the smallest size that fits, as on a host.
 */
export function planKubernetesService(
  settings: KubernetesServiceSettings,
  group: NodeGroupPlan,
  safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION,
  path = `services.${settings.name}`,
): { planned: PlannedKubernetesService; findings: Finding[] } {
  const p = new Problems();
  // The same validation as a host's service (name, model, precision, lengths), with the Kubernetes keys.
  validateServiceSettings(p, path, settings, nodeHost(group), KUBERNETES_SERVICE_KEYS);
  const problems: string[] = [...p.list];
  if (settings.gpus !== undefined) {
    problems.push(
      `${path}.gpus: ${JSON.stringify(settings.gpus)} is not allowed on Kubernetes; the device plugin picks the devices: set tensorParallel instead`,
    );
  }
  const replicas = settings.replicas ?? 1;
  if (!isCount(replicas, 1)) {
    problems.push(`${path}.replicas: ${JSON.stringify(replicas)} is not allowed; expected an integer >= 1`);
  }
  const a = settings.autoscaling;
  const modelSpec = findModel(settings.model);
  if (a && modelSpec && modelSpec.kind !== "llm") {
    // NIM for LLMs and vLLM export these gauges; embedding, reranking, ASR and OCR servers do not.
    problems.push(
      `${path}.autoscaling: ${settings.model} is a${modelSpec.kind === "embedding" ? "n" : ""} ${modelSpec.kind} model, whose server exports neither ${AUTOSCALING_METRICS.join(" nor ")}; set replicas instead`,
    );
  }
  if (a) {
    if (!isCount(a.minReplicas, 1))
      problems.push(
        `${path}.autoscaling.minReplicas: ${JSON.stringify(a.minReplicas)} is not allowed; expected an integer >= 1`,
      );
    if (!isCount(a.maxReplicas, 1))
      problems.push(
        `${path}.autoscaling.maxReplicas: ${JSON.stringify(a.maxReplicas)} is not allowed; expected an integer >= 1`,
      );
    if (a.metric !== undefined && !AUTOSCALING_METRICS.includes(a.metric))
      problems.push(
        `${path}.autoscaling.metric: ${JSON.stringify(a.metric)} is not allowed; expected one of ${AUTOSCALING_METRICS.join(", ")}`,
      );
    const ratio = (a.metric ?? "num_requests_running") === "gpu_cache_usage_perc";
    if (typeof a.targetAverageValue !== "number" || !(a.targetAverageValue > 0) || (ratio && a.targetAverageValue > 1))
      problems.push(
        `${path}.autoscaling.targetAverageValue: ${JSON.stringify(a.targetAverageValue)} is not allowed; expected ${ratio ? "a ratio above 0 and at most 1" : "a number above 0"}`,
      );
  }
  const c = settings.cache;
  if (c !== undefined && (typeof c !== "object" || c === null || Array.isArray(c))) {
    problems.push(`${path}.cache: ${JSON.stringify(c)} is not allowed; expected { mode?, sizeGiB? }`);
  } else if (c) {
    if (c.mode !== undefined && !MODEL_CACHE_MODES.includes(c.mode))
      problems.push(
        `${path}.cache.mode: ${JSON.stringify(c.mode)} is not allowed; expected one of ${MODEL_CACHE_MODES.join(", ")}`,
      );
    if (c.sizeGiB !== undefined && !isCount(c.sizeGiB, 1))
      problems.push(`${path}.cache.sizeGiB: ${JSON.stringify(c.sizeGiB)} is not allowed; expected an integer >= 1`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { nodeGroup: _group, replicas: _r, autoscaling: _a, cache: _c, ...serviceSettings } = settings;
  const attempt = planHost(
    nodeHost(group),
    hostShape({ instanceType: group.instanceType.name }),
    [serviceSettings],
    safetyMarginFraction,
  );
  const service = attempt.services[0];
  const gpusPerPod = service.tensorParallel;
  const findings: Finding[] = [];
  if (gpusPerPod > group.gpuResourcesPerNode) {
    findings.push(
      serviceFinding(
        KUBERNETES_CHECKS.podFitsNode,
        "mandatory",
        group.name,
        service.name,
        `needs ${gpusPerPod} GPUs in one pod (tensor parallelism ${gpusPerPod}), but the nodes of node group "${group.name}" (${group.instanceType.name}) have ${group.gpusPerNode} × ${group.gpu.name}; use an instance type with at least ${gpusPerPod} GPUs`,
      ),
    );
  }
  // Placement on a node is the scheduler's; what the fleet checks keep is whether the model fits.
  findings.push(...attempt.findings.filter((f) => f.check !== CHECKS.placed).map((f) => asNode(group.name, f)));

  // Time-slicing: up to replicasPerGpu pods of a TP-1 service share one GPU with no memory isolation, so
  // the GPU's budget is charged once per pod that can land on it.
  let nodeLedger = attempt.host.ledgerDocument;
  if (group.replicasPerGpu > 1 && gpusPerPod <= group.gpusPerNode) {
    const sharers = Array.from({ length: group.replicasPerGpu }, (_, i) => ({
      ...nodeLedger.services[0],
      name: `${service.name}#${i + 1}`,
      gpus: service.gpus,
    }));
    nodeLedger = {
      ...nodeLedger,
      services: sharers,
      gpus: buildLedger(
        group.gpu.name,
        group.gpu.memoryMiB,
        group.gpusPerNode,
        sharers.map((s) => ({
          service: s.name,
          gpus: s.gpus,
          reservedMiBPerGpu: s.reservedMiBPerGpu,
          outsideReservationMiBPerGpu: s.outsideReservationMiBPerGpu,
        })),
        safetyMarginFraction,
      ),
    };
    findings.push(
      ...[...checkGpuBudget(nodeLedger), ...checkFixedFractions(nodeLedger)].map((f) => ({
        ...asNode(group.name, f),
        service: service.name,
        message: `service "${service.name}" with GPU time-slicing (${group.replicasPerGpu} pods per GPU): ${asNode(group.name, f).message}`,
      })),
    );
  }

  return {
    planned: {
      service,
      nodeGroup: group.name,
      replicas: a ? a.minReplicas : replicas,
      ...(a
        ? {
            autoscaling: {
              minReplicas: a.minReplicas,
              maxReplicas: a.maxReplicas,
              metric: a.metric ?? "num_requests_running",
              targetAverageValue: a.targetAverageValue,
            },
          }
        : {}),
      gpusPerPod,
      cache: { mode: c?.mode ?? "per-replica", sizeGiB: c?.sizeGiB ?? DEFAULT_CACHE_SIZE_GIB },
      nodeLedger,
    },
    findings,
  };
}

/**
 * How many pods of the given sizes fit on `nodes` nodes with `perNode` GPU resources each, packing in
 * the given order first-fit (a pod's GPUs must be on one node). Returns how many of each were placed.
 */
export function packPods(
  nodes: number,
  perNode: number,
  pods: readonly { readonly gpus: number; readonly count: number }[],
): number[] {
  const free = Array.from({ length: nodes }, () => perNode);
  return pods.map(({ gpus, count }) => {
    let placed = 0;
    for (let i = 0; i < count; i++) {
      const node = free.findIndex((f) => f >= gpus);
      if (node < 0) break;
      free[node] -= gpus;
      placed++;
    }
    return placed;
  });
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The node group must hold every service's pods at once on maxSize nodes: at their starting replicas
 * (kubernetes-replicas-fit-node-group), then with every HPA grown to maxReplicas
 * (kubernetes-hpa-max-schedulable). Pods are packed in service order, the HPAs' extra pods last, so a
 * finding names the service left without room — at the maximum, the HPA whose growth does not fit.
 */
/** What the capacity and scheduling checks need of a service: its pods, not its model. */
export type ScheduledService = Pick<
  PlannedKubernetesService,
  "nodeGroup" | "gpusPerPod" | "replicas" | "autoscaling"
> & {
  readonly service: { readonly name: string };
};

export function checkNodeGroupCapacity(group: NodeGroupPlan, services: readonly ScheduledService[]): Finding[] {
  const mine = services.filter((s) => s.nodeGroup === group.name && s.gpusPerPod <= group.gpuResourcesPerNode);
  const perNode =
    group.replicasPerGpu > 1
      ? `${group.gpuResourcesPerNode} GPU slices (${group.gpusPerNode} × ${group.gpu.name} × ${group.replicasPerGpu})`
      : `${group.gpusPerNode} ${group.gpu.name}`;
  const capacity = `maxSize ${group.maxSize} × ${perNode} per node`;
  const start = mine.map((s) => ({ gpus: s.gpusPerPod, count: s.replicas }));
  const growth = mine.map((s) => ({
    gpus: s.gpusPerPod,
    count: s.autoscaling ? s.autoscaling.maxReplicas - s.replicas : 0,
  }));
  const placed = packPods(group.maxSize, group.gpuResourcesPerNode, [...start, ...growth]);
  const findings: Finding[] = [];
  const i = start.findIndex((p, j) => placed[j] < p.count);
  if (i >= 0) {
    const s = mine[i];
    const before = mine.slice(0, i).map((o) => o.service.name);
    findings.push(
      serviceFinding(
        KUBERNETES_CHECKS.replicasFit,
        "mandatory",
        group.name,
        s.service.name,
        `needs ${plural(s.replicas, "replica")} × ${plural(s.gpusPerPod, "GPU")}, but node group "${group.name}" (${capacity}) has room for ${placed[i]}${before.length > 0 ? ` beside ${before.join(", ")}` : ""}; raise maxSize to ${nodesFor(group, start.slice(0, i + 1))} or lower replicas`,
      ),
    );
  } else {
    const g = growth.findIndex((p, j) => placed[start.length + j] < p.count);
    if (g >= 0) {
      const s = mine[g];
      const schedulable = s.replicas + placed[start.length + g];
      const others = mine.filter((o) => o !== s).map((o) => o.service.name);
      findings.push(
        serviceFinding(
          KUBERNETES_CHECKS.hpaSchedulable,
          "mandatory",
          group.name,
          s.service.name,
          `has HPA maxReplicas ${s.autoscaling!.maxReplicas} × ${plural(s.gpusPerPod, "GPU")}, but node group "${group.name}" (${capacity}) can schedule ${schedulable}${others.length > 0 ? ` beside ${others.join(", ")}` : ""}; raise maxSize to ${nodesFor(group, [...start, ...growth.slice(0, g + 1)])} or lower maxReplicas to ${schedulable}`,
        ),
      );
    }
  }
  for (const s of mine) {
    if (s.autoscaling && s.autoscaling.minReplicas > s.autoscaling.maxReplicas) {
      findings.push(
        serviceFinding(
          KUBERNETES_CHECKS.hpaRange,
          "mandatory",
          group.name,
          s.service.name,
          `has HPA minReplicas ${s.autoscaling.minReplicas} above maxReplicas ${s.autoscaling.maxReplicas}`,
        ),
      );
    }
  }
  return findings;
}

/** The smallest node count on which these pods all fit (first-fit in order). */
function nodesFor(
  group: Pick<NodeGroupPlan, "gpuResourcesPerNode">,
  pods: readonly { gpus: number; count: number }[],
): number {
  for (let n = 1; ; n++) {
    const placed = packPods(n, group.gpuResourcesPerNode, pods);
    if (placed.every((p, j) => p === pods[j].count)) return n;
  }
}

/** The node group's nodes at its HPA extremes: for the plan's GPU map and its $/h range. */
export function nodeGroupRange(
  group: NodeGroupPlan,
  services: readonly PlannedKubernetesService[],
): { minNodes: number; maxNodes: number; minHourlyUsd: number; maxHourlyUsd: number } {
  const mine = services.filter((s) => s.nodeGroup === group.name && s.gpusPerPod <= group.gpuResourcesPerNode);
  const need = (max: boolean) =>
    nodesFor(group, [
      ...mine.map((s) => ({ gpus: s.gpusPerPod, count: s.replicas })),
      ...mine.map((s) => ({
        gpus: s.gpusPerPod,
        count: max && s.autoscaling ? s.autoscaling.maxReplicas - s.replicas : 0,
      })),
    ]);
  // The node group never goes below minSize nor above maxSize, whatever the pods need.
  const minNodes = Math.min(group.maxSize, Math.max(group.minSize, mine.length > 0 ? need(false) : 0));
  const maxNodes = Math.min(group.maxSize, Math.max(minNodes, mine.length > 0 ? need(true) : 0));
  return {
    minNodes,
    maxNodes,
    minHourlyUsd: round3(minNodes * group.hourlyUsdPerNode),
    maxHourlyUsd: round3(maxNodes * group.hourlyUsdPerNode),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** GiB of a service's weights at its precision: what its model cache must hold at least. */
export function weightsGiBOf(service: PlannedService): number {
  return Math.ceil(weightsBytes(findModel(service.model)!, service.precision) / 1024 ** 3);
}

/** The model-cache volume must hold the checkpoint NIM downloads: at least the weights. */
export function checkCacheSize(planned: PlannedKubernetesService, cacheSizeGiB: number): Finding[] {
  const need = weightsGiBOf(planned.service);
  if (cacheSizeGiB >= need) return [];
  return [
    serviceFinding(
      KUBERNETES_CHECKS.cacheSize,
      "mandatory",
      planned.nodeGroup,
      planned.service.name,
      `has a ${cacheSizeGiB} GiB model cache, smaller than the ${need} GiB of ${planned.service.model} weights at ${planned.service.precision}; set its cache size to at least ${need} GiB`,
    ),
  ];
}

/** The pod-spec fields the scheduling checks read: what the renderers produce, as plain data. */
export interface PodSchedulingSpec {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly {
    readonly key?: string;
    readonly operator?: string;
    readonly value?: string;
    readonly effect?: string;
  }[];
  readonly containers: readonly {
    readonly name: string;
    readonly resources?: {
      readonly requests?: Readonly<Record<string, string | number>>;
      readonly limits?: Readonly<Record<string, string | number>>;
    };
    readonly env?: readonly { readonly name: string; readonly value?: string }[];
  }[];
}

/** Kubernetes' toleration matching (k8s.io/api core/v1 toleration.go ToleratesTaint). */
export function tolerates(t: NonNullable<PodSchedulingSpec["tolerations"]>[number], taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== "Exists") return false;
  if (t.operator === "Exists") return true;
  return (t.operator === undefined || t.operator === "Equal") && (t.value ?? "") === taint.value;
}

/**
 * The scheduling checks on a rendered pod spec: it tolerates the group's NoSchedule/NoExecute taints,
 * its nodeSelector is satisfied by the group's labels, every GPU container's request equals its limit
 * and is the service's tensor-parallel size, and no container reaches GPUs around the device plugin.
 */
export function checkPodScheduling(planned: ScheduledService, group: NodeGroupPlan, pod: PodSchedulingSpec): Finding[] {
  const name = planned.service.name;
  const f = (check: string, detail: string, enforcement: Finding["enforcement"] = "mandatory") =>
    serviceFinding(check, enforcement, group.name, name, detail);
  const findings: Finding[] = [];
  for (const taint of group.taints.filter((t) => t.effect !== "PreferNoSchedule")) {
    if (!(pod.tolerations ?? []).some((t) => tolerates(t, taint))) {
      findings.push(
        f(
          KUBERNETES_CHECKS.toleratesTaint,
          `does not tolerate the taint ${taint.key}=${taint.value}:${taint.effect} of node group "${group.name}"; its pods would never be scheduled`,
        ),
      );
    }
  }
  for (const [key, value] of Object.entries(pod.nodeSelector ?? {})) {
    if (group.labels[key] !== value) {
      findings.push(
        f(
          KUBERNETES_CHECKS.nodeSelector,
          `selects nodes with ${key}=${value}, which the nodes of node group "${group.name}" do not have (${group.labels[key] === undefined ? "no such label" : `they have ${key}=${group.labels[key]}`})`,
        ),
      );
    }
  }
  for (const c of pod.containers) {
    const limit = c.resources?.limits?.[GPU_RESOURCE];
    const request = c.resources?.requests?.[GPU_RESOURCE];
    if (limit === undefined && request === undefined) {
      const bypass = (c.env ?? []).find(
        (e) => e.name === "NVIDIA_VISIBLE_DEVICES" && e.value !== "void" && e.value !== "none",
      );
      if (bypass) {
        findings.push(
          f(
            KUBERNETES_CHECKS.gpuSharing,
            `container "${c.name}" sets NVIDIA_VISIBLE_DEVICES=${bypass.value} without requesting ${GPU_RESOURCE}: it would share GPUs around the device plugin and the GPU budget`,
          ),
        );
      }
      continue;
    }
    if (request !== undefined && String(request) !== String(limit)) {
      findings.push(
        f(
          KUBERNETES_CHECKS.gpuRequestLimit,
          `container "${c.name}" requests ${request} ${GPU_RESOURCE} but is limited to ${limit ?? "none"}; GPU requests must equal limits`,
        ),
      );
    } else if (String(limit) !== String(planned.gpusPerPod)) {
      findings.push(
        f(
          KUBERNETES_CHECKS.gpuRequestLimit,
          `container "${c.name}" is limited to ${limit} ${GPU_RESOURCE}, but the service runs tensor parallelism ${planned.gpusPerPod}; they must be equal`,
        ),
      );
    }
  }
  if (group.replicasPerGpu > 1) {
    findings.push(
      f(
        KUBERNETES_CHECKS.gpuSharing,
        `runs on node group "${group.name}" with GPU time-slicing (${group.replicasPerGpu} pods per GPU): pods sharing a GPU get no memory isolation; the per-GPU budget is charged for all ${group.replicasPerGpu}`,
        "advisory",
      ),
    );
  }
  return findings;
}

export interface PlannedNodeGroup extends NodeGroupPlan {
  /** Nodes the services need at their starting replicas and at every HPA's maximum (within min/maxSize). */
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly minHourlyUsd: number;
  readonly maxHourlyUsd: number;
}

export interface KubernetesFleetPlan {
  readonly nodeGroups: readonly PlannedNodeGroup[];
  readonly services: readonly PlannedKubernetesService[];
  readonly findings: readonly Finding[];
  readonly minHourlyUsd: number;
  readonly maxHourlyUsd: number;
}

/**
 * The whole Kubernetes fleet: every node group resolved, every service planned on a node of its group,
 * and the capacity checks per group. The pod checks (checkPodScheduling) need the rendered pods and
 * run where they are rendered. Bad references are a ConfigError naming the key.
 */
export function planKubernetesFleet(
  groups: readonly NodeGroupSettings[],
  services: readonly KubernetesServiceSettings[],
  safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION,
  /** Prefix of the keys problems name: "gpu-fleet:" for a stack's config. */
  keyPrefix = "",
): KubernetesFleetPlan {
  const problems: string[] = [];
  const resolved: NodeGroupPlan[] = [];
  groups.forEach((g, i) => {
    try {
      resolved.push(resolveNodeGroup(g, `${keyPrefix}nodeGroups[${i}]`));
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
    }
  });
  const seenGroups = new Set<string>();
  groups.forEach((g, i) => {
    if (seenGroups.has(g.name))
      problems.push(`${keyPrefix}nodeGroups[${i}].name: "${g.name}" is used twice; node group names must be unique`);
    seenGroups.add(g.name);
  });
  const seenServices = new Set<string>();
  services.forEach((s, i) => {
    if (seenServices.has(s.name))
      problems.push(`${keyPrefix}services[${i}].name: "${s.name}" is used twice; service names must be unique`);
    seenServices.add(s.name);
    if (!groups.some((g) => g.name === s.nodeGroup)) {
      problems.push(
        `${keyPrefix}services[${i}].nodeGroup: ${JSON.stringify(s.nodeGroup)} is not a node group; known: ${groups.map((g) => g.name).join(", ") || "none"}`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const findings: Finding[] = [];
  const planned: PlannedKubernetesService[] = [];
  services.forEach((s, i) => {
    try {
      const group = resolved.find((g) => g.name === s.nodeGroup)!;
      const r = planKubernetesService(s, group, safetyMarginFraction, `${keyPrefix}services[${i}]`);
      findings.push(...r.findings);
      planned.push(r.planned);
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const nodeGroups = resolved.map((g) => {
    findings.push(...checkNodeGroupCapacity(g, planned));
    return { ...g, ...nodeGroupRange(g, planned) };
  });
  return {
    nodeGroups,
    services: planned,
    findings,
    minHourlyUsd: round3(nodeGroups.reduce((sum, g) => sum + g.minHourlyUsd, 0)),
    maxHourlyUsd: round3(nodeGroups.reduce((sum, g) => sum + g.maxHourlyUsd, 0)),
  };
}

/** The EKS cluster settings of a stack (`gpu-fleet:eks`). */
export interface EksStackSettings {
  readonly clusterName?: string;
  readonly kubernetesVersion?: string;
  /** CIDRs allowed to reach the API's public endpoint; none: private endpoint only. */
  readonly apiPublicAccessCidrs: readonly string[];
  readonly nodeGroups: readonly NodeGroupSettings[];
  /** Namespace of the NIM services; default "nim". */
  readonly namespace?: string;
  /** The VPC of the cluster; default the account's default VPC. Required with subnetIds. */
  readonly vpcId?: string;
  /**
   * The cluster's and nodes' subnets (private ones keep the GPU nodes off the internet), one per
   * availability zone; default the default VPC's. Required for a shared (EFS) model cache, which puts
   * one mount target in each.
   */
  readonly subnetIds?: readonly string[];
}

export interface KubernetesStackConfig {
  readonly eks: EksStackSettings;
  readonly services: readonly KubernetesServiceSettings[];
  readonly safetyMarginFraction: number;
  readonly maxHourlyUsd?: number;
}

/** The Kubernetes version the cluster runs and Pod Security is pinned to (EKS 1.35: 2026-01-28, endoflife.date/amazon-eks). */
export const KUBERNETES_VERSION = "1.35";
const KUBERNETES_MINOR_VERSION = /^1\.\d{2}$/;

/**
 * The EKS cluster's own settings, one rule for `gpu-fleet:eks` and EksGpuCluster's args: the API's public
 * CIDRs (never the whole internet) and the Kubernetes minor version. Problems are keyed under `path`.
 */
export function validateEksClusterSettings(
  p: Problems,
  path: string,
  raw: { readonly apiPublicAccessCidrs?: unknown; readonly kubernetesVersion?: unknown },
): void {
  validateCidrList(
    p,
    `${path}.apiPublicAccessCidrs`,
    raw.apiPublicAccessCidrs,
    "opens the Kubernetes API to the internet; list the runner's address instead",
  );
  const v = raw.kubernetesVersion;
  if (v !== undefined && (typeof v !== "string" || !KUBERNETES_MINOR_VERSION.test(v)))
    p.add(
      `${path}.kubernetesVersion`,
      `${showValue(v)} is not allowed; expected a minor version such as "${KUBERNETES_VERSION}"`,
    );
}

export const EKS_SETTING_KEYS = [
  "clusterName",
  "kubernetesVersion",
  "apiPublicAccessCidrs",
  "nodeGroups",
  "namespace",
  "vpcId",
  "subnetIds",
];
export const NODE_GROUP_KEYS = [
  "name",
  "instanceType",
  "minSize",
  "desiredSize",
  "maxSize",
  "labels",
  "diskSizeGiB",
  "gpuSharing",
];
const AUTOSCALING_KEYS = ["minReplicas", "maxReplicas", "metric", "targetAverageValue"];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const showValue = (v: unknown) => (typeof v === "string" ? `"${v}"` : (JSON.stringify(v) ?? String(v)));

/**
 * `gpu-fleet:eks` and `gpu-fleet:services` of a Kubernetes stack: shapes and keys checked here (each
 * problem names the full config key), values by resolveNodeGroup and planKubernetesFleet. A service
 * names its node group; with one node group it may leave it out.
 */
export function validateKubernetesStackConfig(raw: {
  readonly eks?: unknown;
  readonly services?: unknown;
  readonly safetyMarginFraction?: unknown;
  readonly maxHourlyUsd?: unknown;
}): KubernetesStackConfig {
  const ns = "gpu-fleet";
  const p = new Problems();
  const problems = p.list;
  const unknown = (path: string, value: Record<string, unknown>, allowed: readonly string[]) => {
    for (const k of Object.keys(value))
      if (!allowed.includes(k)) problems.push(`${path}.${k}: unknown setting; allowed: ${allowed.join(", ")}`);
  };
  if (!isPlainObject(raw.eks)) {
    throw new ConfigError([
      `${ns}:eks: ${showValue(raw.eks)} is not allowed; expected { nodeGroups: [{ name, instanceType, minSize, maxSize }], apiPublicAccessCidrs?, clusterName? }`,
    ]);
  }
  const eks = raw.eks;
  unknown(`${ns}:eks`, eks, EKS_SETTING_KEYS);
  const rawGroups = eks.nodeGroups;
  if (!Array.isArray(rawGroups) || rawGroups.length === 0) {
    problems.push(
      `${ns}:eks.nodeGroups: ${showValue(rawGroups)} is not allowed; expected a non-empty list of { name, instanceType, minSize, maxSize }`,
    );
  } else {
    rawGroups.forEach((g, i) => {
      const path = `${ns}:eks.nodeGroups[${i}]`;
      if (!isPlainObject(g)) {
        problems.push(`${path}: ${showValue(g)} is not allowed; expected { name, instanceType, minSize, maxSize }`);
        return;
      }
      unknown(path, g, NODE_GROUP_KEYS);
      try {
        resolveNodeGroup(g as unknown as NodeGroupSettings, path);
      } catch (e) {
        if (e instanceof ConfigError) problems.push(...e.problems);
        else throw e;
      }
    });
  }
  validateEksClusterSettings(p, `${ns}:eks`, eks);
  for (const key of ["clusterName", "namespace"] as const) {
    const v = eks[key];
    if (v !== undefined && (typeof v !== "string" || !DNS1123_LABEL.test(v))) {
      problems.push(`${ns}:eks.${key}: ${showValue(v)} is not allowed; expected a DNS-1123 label`);
    }
  }
  const vpcId = eks.vpcId;
  const subnetIds = eks.subnetIds;
  if (vpcId !== undefined && (typeof vpcId !== "string" || !/^vpc-[0-9a-f]{8,17}$/.test(vpcId))) {
    problems.push(
      `${ns}:eks.vpcId: ${showValue(vpcId)} is not allowed; expected a VPC id such as "vpc-0123456789abcdef0"`,
    );
  }
  if (
    subnetIds !== undefined &&
    (!Array.isArray(subnetIds) ||
      subnetIds.length === 0 ||
      subnetIds.some((id) => typeof id !== "string" || !/^subnet-[0-9a-f]{8,17}$/.test(id)))
  ) {
    problems.push(
      `${ns}:eks.subnetIds: ${showValue(subnetIds)} is not allowed; expected a non-empty list of subnet ids such as ["subnet-0123456789abcdef0"]`,
    );
  } else if (Array.isArray(subnetIds) && new Set(subnetIds).size !== subnetIds.length) {
    problems.push(`${ns}:eks.subnetIds: ${showValue(subnetIds)} lists a subnet twice`);
  }
  if ((vpcId === undefined) !== (subnetIds === undefined)) {
    problems.push(
      vpcId === undefined
        ? `${ns}:eks.vpcId: is required with ${ns}:eks.subnetIds; the subnets are the VPC's`
        : `${ns}:eks.subnetIds: is required with ${ns}:eks.vpcId; list the VPC's subnets for the cluster and its nodes`,
    );
  }
  // With one node group a service may leave its nodeGroup out.
  const groupName =
    Array.isArray(rawGroups) && rawGroups.length === 1 && isPlainObject(rawGroups[0]) ? rawGroups[0].name : undefined;
  const services: KubernetesServiceSettings[] = [];
  if (!Array.isArray(raw.services) || raw.services.length === 0) {
    problems.push(
      `${ns}:services: ${showValue(raw.services)} is not allowed; expected a non-empty list of { name, model, nodeGroup? }`,
    );
  } else {
    raw.services.forEach((s, i) => {
      const path = `${ns}:services[${i}]`;
      if (!isPlainObject(s)) {
        problems.push(`${path}: ${showValue(s)} is not allowed; expected { name, model, nodeGroup? }`);
        return;
      }
      if ("host" in s) {
        problems.push(
          `${path}.host: belongs to the host runtime (a stack without ${ns}:eks); on EKS a service runs on a node group: set nodeGroup instead`,
        );
      }
      unknown(path, Object.fromEntries(Object.entries(s).filter(([k]) => k !== "host")), KUBERNETES_SERVICE_KEYS);
      if (s.autoscaling !== undefined) {
        if (!isPlainObject(s.autoscaling))
          problems.push(
            `${path}.autoscaling: ${showValue(s.autoscaling)} is not allowed; expected { minReplicas, maxReplicas, metric?, targetAverageValue }`,
          );
        else unknown(`${path}.autoscaling`, s.autoscaling, AUTOSCALING_KEYS);
      }
      if (isPlainObject(s.cache)) unknown(`${path}.cache`, s.cache, CACHE_KEYS);
      services.push({
        ...(s as unknown as KubernetesServiceSettings),
        nodeGroup: (s.nodeGroup as string) ?? groupName,
      });
    });
  }
  const shared = services.findIndex((s) => isPlainObject(s.cache) && s.cache.mode === "shared");
  if (shared >= 0 && subnetIds === undefined) {
    problems.push(
      `${ns}:eks.subnetIds: is required when a service's model cache is shared (${ns}:services[${shared}].cache.mode "shared"): the EFS file system needs a mount target in each of the nodes' subnets; set ${ns}:eks.vpcId and ${ns}:eks.subnetIds (private subnets, one per availability zone)`,
    );
  }
  const margin = validateSafetyMargin(p, `${ns}:safetyMarginFraction`, raw.safetyMarginFraction);
  const max = validateMaxHourlyUsd(p, `${ns}:maxHourlyUsd`, raw.maxHourlyUsd);
  if (problems.length > 0) throw new ConfigError(problems);
  const config: KubernetesStackConfig = {
    eks: {
      ...(eks.clusterName !== undefined ? { clusterName: eks.clusterName as string } : {}),
      ...(eks.kubernetesVersion !== undefined ? { kubernetesVersion: eks.kubernetesVersion as string } : {}),
      ...(eks.namespace !== undefined ? { namespace: eks.namespace as string } : {}),
      ...(vpcId !== undefined ? { vpcId: vpcId as string, subnetIds: subnetIds as string[] } : {}),
      apiPublicAccessCidrs: (eks.apiPublicAccessCidrs ?? []) as string[],
      nodeGroups: rawGroups as unknown as NodeGroupSettings[],
    },
    services,
    safetyMarginFraction: margin,
    ...(max !== undefined ? { maxHourlyUsd: max } : {}),
  };
  // Values: node group references, models, replicas and HPA ranges, named by their config keys.
  try {
    planKubernetesFleet(config.eks.nodeGroups, services, config.safetyMarginFraction, `${ns}:`);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems);
    throw e;
  }
  return config;
}

/** The `gpu-fleet:*` keys an EKS stack reads; the others of STACK_CONFIG_KEYS are the host runtime's. */
export const KUBERNETES_STACK_KEYS = [
  "eks",
  "services",
  "ngcApiKey",
  "grafanaAdminPassword",
  "safetyMarginFraction",
  "maxHourlyUsd",
];

/**
 * Problems with the config keys of an EKS stack (as `pulumi.runtime.allConfig()` lists them): a key of
 * the host runtime (hosts, SSH keys, IRIS, the host observability stack) is refused rather than
 * silently ignored, and so is any key neither runtime knows.
 */
export function kubernetesStackKeyProblems(keys: readonly string[]): string[] {
  const prefix = `${NAMESPACE}:`;
  const allowed = KUBERNETES_STACK_KEYS.map((k) => prefix + k).join(", ");
  return keys
    .filter((k) => k.startsWith(prefix) && !KUBERNETES_STACK_KEYS.includes(k.slice(prefix.length)))
    .map((k) =>
      STACK_CONFIG_KEYS.includes(k.slice(prefix.length))
        ? `${k}: belongs to the host runtime (a stack without ${prefix}eks), which this EKS stack is not; remove it (allowed on EKS: ${allowed})`
        : `${k}: unknown setting; allowed on EKS: ${allowed}`,
    );
}

/**
 * Max pods per node as the EKS AMI sets them (ENIs × (IPv4 addresses per ENI − 1) + 2), from
 * awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt; the kubelet's memory reservation
 * grows with it. Every GPU instance type of the catalog.
 */
export const EKS_MAX_PODS: Readonly<Record<string, number>> = {
  "g4dn.xlarge": 29,
  "g5.xlarge": 58,
  "g5.2xlarge": 58,
  "g5.12xlarge": 737,
  "g5.48xlarge": 345,
  "g6.xlarge": 58,
  "g6e.xlarge": 58,
  "p3.2xlarge": 58,
  "p4d.24xlarge": 737,
  "p4de.24xlarge": 737,
  "p5.48xlarge": 100,
};

/**
 * What the EKS AMI's kubelet keeps back from pods (kubeReserved, as amazon-eks-ami computes it:
 * 6% of the first core, 1% of the second, 0.5% of the third and fourth, 0.25% of the rest; memory
 * 11 MiB × maxPods + 255 MiB) plus its hard eviction threshold (memory.available < 100Mi).
 */
export function kubeletReserved(type: InstanceType): { cpuMillis: number; memoryMiB: number } {
  const cores = type.vcpu;
  const cpuMillis = 60 + (cores > 1 ? 10 : 0) + Math.min(Math.max(cores - 2, 0), 2) * 5 + Math.max(cores - 4, 0) * 2.5;
  const maxPods = EKS_MAX_PODS[type.name] ?? 110;
  return { cpuMillis, memoryMiB: 11 * maxPods + 255 + 100 };
}

/**
 * Room left on every GPU node for its DaemonSets — kube-proxy (100m), the VPC CNI aws-node (25m),
 * dcgm-exporter (100m, 128Mi: its chart's values.yaml at 4.5.3-4.8.2), node-exporter, the device
 * plugin, the pod identity agent, the EBS and EFS CSI node plugins — and for the kernel, whose share
 * of the instance's memory the kubelet never sees. A round allowance, not a measurement: only
 * `kubectl describe node` on a real node gives the exact allocatable (components/kubernetes/README.md).
 */
export const NODE_DAEMONS_ALLOWANCE = { cpuMillis: 500, memoryMiB: 1536 } as const;

export interface PodResources {
  /** Pods of the service a node holds: its GPU resources over the pod's GPUs. */
  readonly podsPerNode: number;
  /** What one pod may request at most: the node's allocatable less the daemons, shared by its pods. */
  readonly maxCpuMillis: number;
  readonly maxMemoryMiB: number;
  /** What the renderer requests: the maximum rounded down (100m CPU, 256 MiB memory). */
  readonly cpuMillis: number;
  readonly memoryMiB: number;
}

/**
 * CPU and memory for a model pod on a node of the group. The node is the pod's alone (GPU nodes are
 * tainted, and a pod takes whole GPUs), so a pod gets its share of the whole node: NVIDIA's NIM for
 * LLMs prerequisites ask for at least 8 cores and host memory of about 2 GB per billion parameters
 * (docs.nvidia.com/nim/large-language-models/latest/getting-started.html, "Prerequisites"), more than
 * a g5.xlarge (4 vCPUs, 16 GiB) has, so no smaller request is safe to assume.
 */
export function podResources(group: NodeGroupPlan, gpusPerPod: number): PodResources {
  const reserved = kubeletReserved(group.instanceType);
  const podsPerNode = Math.max(1, Math.floor(group.gpuResourcesPerNode / Math.max(1, gpusPerPod)));
  const maxCpuMillis = Math.floor(
    (group.instanceType.vcpu * 1000 - reserved.cpuMillis - NODE_DAEMONS_ALLOWANCE.cpuMillis) / podsPerNode,
  );
  const maxMemoryMiB = Math.floor(
    (group.instanceType.ramGiB * 1024 - reserved.memoryMiB - NODE_DAEMONS_ALLOWANCE.memoryMiB) / podsPerNode,
  );
  return {
    podsPerNode,
    maxCpuMillis,
    maxMemoryMiB,
    cpuMillis: Math.floor(maxCpuMillis / 100) * 100,
    memoryMiB: Math.floor(maxMemoryMiB / 256) * 256,
  };
}

const CPU_QUANTITY = /^(\d+(?:\.\d+)?)(m)?$/;
const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_UNIT_MIB: Record<string, number> = {
  "": 1 / 1024 ** 2,
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 ** 2,
  k: 1e3 / 1024 ** 2,
  M: 1e6 / 1024 ** 2,
  G: 1e9 / 1024 ** 2,
  T: 1e12 / 1024 ** 2,
};

/** A CPU quantity ("3400m", "2", 1.5) in millicores; undefined when it is not one. */
export function cpuMillisOf(q: string | number): number | undefined {
  const m = CPU_QUANTITY.exec(String(q));
  return m ? Number(m[1]) * (m[2] ? 1 : 1000) : undefined;
}

/** A memory quantity ("13824Mi", "14Gi", "15G") in MiB; undefined when it is not one. */
export function memoryMiBOf(q: string | number): number | undefined {
  const m = MEMORY_QUANTITY.exec(String(q));
  return m ? Number(m[1]) * MEMORY_UNIT_MIB[m[2] ?? ""] : undefined;
}

const mib = (n: number) => `${Math.round(n).toLocaleString("en-US")} MiB`;

/**
 * The pod's CPU and memory requests, summed over its containers, fit the share of a node's allocatable
 * it can have (podResources); a pod asking for more stays Pending on every node of the group.
 */
export function checkPodResources(planned: ScheduledService, group: NodeGroupPlan, pod: PodSchedulingSpec): Finding[] {
  const name = planned.service.name;
  const share = podResources(group, planned.gpusPerPod);
  const reserved = kubeletReserved(group.instanceType);
  const node = `a node of node group "${group.name}" (${group.instanceType.name}: ${group.instanceType.vcpu} vCPUs, ${group.instanceType.ramGiB} GiB)`;
  const pods = `${share.podsPerNode} pod${share.podsPerNode === 1 ? "" : "s"} of it per node`;
  const findings: Finding[] = [];
  const refuse = (message: string) =>
    findings.push(serviceFinding(KUBERNETES_CHECKS.podResources, "mandatory", group.name, name, message));
  const sum = { cpu: 0, memory: 0 };
  for (const c of pod.containers) {
    for (const [resource, parse] of [
      ["cpu", cpuMillisOf],
      ["memory", memoryMiBOf],
    ] as const) {
      const q = c.resources?.requests?.[resource];
      if (q === undefined) continue;
      const value = parse(q);
      if (value === undefined)
        refuse(
          `container "${c.name}" requests ${resource} ${JSON.stringify(q)}, which is not a Kubernetes quantity (such as ${resource === "cpu" ? '"3400m"' : '"13824Mi"'})`,
        );
      else sum[resource] += value;
    }
  }
  if (sum.cpu > share.maxCpuMillis)
    refuse(
      `requests ${Math.round(sum.cpu)}m CPU per pod, but ${node} has ${share.maxCpuMillis}m for each of ${pods} after the kubelet's reservation (${reserved.cpuMillis}m) and the node's daemons (${NODE_DAEMONS_ALLOWANCE.cpuMillis}m); request at most ${share.maxCpuMillis}m`,
    );
  if (sum.memory > share.maxMemoryMiB)
    refuse(
      `requests ${mib(sum.memory)} of memory per pod, but ${node} has ${mib(share.maxMemoryMiB)} for each of ${pods} after the kubelet's reservation and eviction threshold (${mib(reserved.memoryMiB)}) and the node's daemons (${mib(NODE_DAEMONS_ALLOWANCE.memoryMiB)}); request at most ${share.maxMemoryMiB}Mi`,
    );
  return findings;
}

/** A registered resource as the policy pack and the offline plan see it: type, name, plain inputs. */
export interface RegisteredObject {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}

const EFFECTS: Record<string, TaintEffect> = {
  NO_SCHEDULE: "NoSchedule",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
  NO_EXECUTE: "NoExecute",
};

const obj = (v: unknown): Record<string, any> => (isPlainObject(v) ? v : {});

/**
 * The Kubernetes checks on what a program registered, not on component args (which never reach the
 * engine): the node groups from `eks:index:ManagedNodeGroup` inputs (a remote component: its inputs do
 * reach the engine), time-slicing from the device plugin release's values, the workloads' pods and
 * replicas, the HPAs' ranges, and each service's node ledger ConfigMap, on which the fleet's ledger
 * checks run. For a stack policy and the offline plan: one implementation, as for hosts.
 */
export function checkRegisteredKubernetesFleet(resources: readonly RegisteredObject[]): Finding[] {
  const findings: Finding[] = [];
  const sharing = new Map<string, number>();
  for (const r of resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
    if (r.props.chart !== "nvidia-device-plugin") continue;
    for (const [group, config] of Object.entries(obj(obj(obj(r.props.values).config).map))) {
      const m = /replicas: (\d+)/.exec(String(config));
      if (m) sharing.set(group, Number(m[1]));
    }
  }
  const groups: NodeGroupPlan[] = [];
  for (const r of resources.filter((x) => x.type === "eks:index:ManagedNodeGroup")) {
    const labels = obj(r.props.labels) as Record<string, string>;
    const name = labels[NODE_GROUP_LABEL];
    if (typeof name !== "string") continue;
    const scaling = obj(r.props.scalingConfig);
    const userLabels = Object.fromEntries(
      Object.entries(labels).filter(([k]) => k !== NODE_GROUP_LABEL && !k.startsWith("nvidia.com/")),
    );
    const group = resolveNodeGroup({
      name,
      instanceType: Array.isArray(r.props.instanceTypes) ? String(r.props.instanceTypes[0]) : undefined,
      minSize: scaling.minSize,
      maxSize: scaling.maxSize,
      desiredSize: scaling.desiredSize,
      labels: userLabels,
      ...(sharing.has(name) ? { gpuSharing: { replicasPerGpu: sharing.get(name)! } } : {}),
    });
    const taints = (Array.isArray(r.props.taints) ? r.props.taints : []).map((t: any) => ({
      key: String(t.key),
      value: String(t.value ?? ""),
      effect: EFFECTS[t.effect] ?? t.effect,
    }));
    groups.push({ ...group, labels, taints });
  }
  const hpas = resources.filter((x) => x.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
  const scheduled: ScheduledService[] = [];
  for (const r of resources.filter(
    (x) => x.type === "kubernetes:apps/v1:StatefulSet" || x.type === "kubernetes:apps/v1:Deployment",
  )) {
    const spec = obj(r.props.spec);
    const pod = obj(obj(spec.template).spec);
    const groupName = obj(pod.nodeSelector)[NODE_GROUP_LABEL];
    const group = groups.find((g) => g.name === groupName);
    const name = String(obj(r.props.metadata).name ?? r.name);
    const containers: any[] = Array.isArray(pod.containers) ? pod.containers : [];
    const gpu = containers.map((c) => obj(obj(c.resources).limits)[GPU_RESOURCE]).find((v) => v !== undefined);
    if (gpu === undefined) continue;
    if (!group) {
      findings.push(
        serviceFinding(
          KUBERNETES_CHECKS.nodeSelector,
          "mandatory",
          String(groupName ?? ""),
          name,
          `asks for ${GPU_RESOURCE} but selects no gpu-fleet node group (${NODE_GROUP_LABEL}=${groupName ?? "unset"})`,
        ),
      );
      continue;
    }
    const kind = r.type.endsWith("StatefulSet") ? "StatefulSet" : "Deployment";
    const hpa = hpas.find((h) => {
      const ref = obj(obj(h.props.spec).scaleTargetRef);
      return ref.kind === kind && ref.name === name;
    });
    const hpaSpec = hpa ? obj(hpa.props.spec) : undefined;
    const s: ScheduledService = {
      service: { name },
      nodeGroup: group.name,
      gpusPerPod: Number(gpu),
      replicas: Number(hpaSpec?.minReplicas ?? spec.replicas ?? 1),
      ...(hpaSpec
        ? {
            autoscaling: {
              minReplicas: Number(hpaSpec.minReplicas ?? 1),
              maxReplicas: Number(hpaSpec.maxReplicas),
              metric: "num_requests_running" as const,
              targetAverageValue: 1,
            },
          }
        : {}),
    };
    scheduled.push(s);
    findings.push(
      ...checkPodScheduling(s, group, pod as PodSchedulingSpec).filter((f) => f.enforcement === "mandatory"),
      ...checkPodResources(s, group, pod as PodSchedulingSpec),
    );
    if (s.gpusPerPod > group.gpuResourcesPerNode) {
      findings.push(
        serviceFinding(
          KUBERNETES_CHECKS.podFitsNode,
          "mandatory",
          group.name,
          name,
          `needs ${s.gpusPerPod} GPUs in one pod, but the nodes of node group "${group.name}" (${group.instanceType.name}) have ${group.gpusPerNode} × ${group.gpu.name}; use an instance type with at least ${s.gpusPerPod} GPUs`,
        ),
      );
    }
  }
  for (const g of groups) findings.push(...checkNodeGroupCapacity(g, scheduled));
  for (const r of resources.filter((x) => x.type === "kubernetes:core/v1:ConfigMap")) {
    const text = obj(r.props.data)["ledger.json"];
    if (typeof text !== "string") continue;
    let doc: HostLedgerDocument;
    try {
      doc = JSON.parse(text);
    } catch {
      continue;
    }
    const ledgerFindings = [...checkHostLedger(doc)].filter((f) => f.check !== CHECKS.placed);
    findings.push(...ledgerFindings.map((f) => asNode(doc.host, f)));
  }
  return findings;
}
