/**
 * The Kubernetes stack program (Pulumi.eks.yaml): plan the fleet on the EKS node group from config,
 * refuse during `pulumi up` when a mandatory check fails (warn during preview, so the offline plan and
 * the policy pack see everything), then one EksGpuCluster, the NIM namespace and one
 * KubernetesNimService per service. Its outputs: the kubeconfig (secret), in-cluster endpoints, the
 * node-group GPU map with replicas and HPA ranges, and the $/h range.
 */
import * as pulumi from "@pulumi/pulumi";
import { EksGpuCluster, FleetDashboards, KubernetesNimService, NimNamespace } from "../components/kubernetes";
import { ConfigError, NAMESPACE } from "../fleet/config";
import {
  KubernetesFleetPlan,
  KubernetesStackConfig,
  checkCacheSize,
  checkPodResources,
  checkPodScheduling,
  kubernetesStackKeyProblems,
  planKubernetesFleet,
  validateKubernetesStackConfig,
} from "../fleet/kubernetes";
import { Finding } from "../fleet/checks";
import { renderNimObjects } from "../renderers/kubernetes/nim";
import { EFS_STORAGE_CLASS, MODEL_CACHE_STORAGE_CLASS } from "../components/kubernetes/eksGpuCluster";
import { parsed, refuseMandatoryFindings } from "./config";

/**
 * Reads and validates `gpu-fleet:eks`, `gpu-fleet:services` and the stack-wide numbers; a key of the
 * host runtime or no runtime's is refused with the rest, not silently ignored.
 */
export function loadKubernetesStackConfig(): KubernetesStackConfig {
  const config = new pulumi.Config(NAMESPACE);
  const problems = kubernetesStackKeyProblems(Object.keys(pulumi.runtime.allConfig()));
  let stack: KubernetesStackConfig | undefined;
  try {
    stack = validateKubernetesStackConfig({
      eks: parsed(config, "eks"),
      services: parsed(config, "services"),
      safetyMarginFraction: parsed(config, "safetyMarginFraction"),
      maxHourlyUsd: parsed(config, "maxHourlyUsd"),
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0 || !stack) throw new ConfigError(problems);
  return stack;
}

/** Every finding of the plan, the rendered pods' scheduling checks included. */
export function kubernetesFindings(plan: KubernetesFleetPlan, namespace: string): Finding[] {
  const podFindings = plan.services.flatMap((s) => {
    const group = plan.nodeGroups.find((g) => g.name === s.nodeGroup)!;
    const objects = renderNimObjects({
      planned: s,
      group,
      namespace,
      cache: {
        ...s.cache,
        storageClassName: s.cache.mode === "shared" ? EFS_STORAGE_CLASS : MODEL_CACHE_STORAGE_CLASS,
      },
    });
    const pod = objects.workload.object.spec!.template.spec! as Parameters<typeof checkPodScheduling>[2];
    return [
      ...checkPodScheduling(s, group, pod),
      ...checkPodResources(s, group, pod),
      ...checkCacheSize(s, s.cache.sizeGiB),
    ];
  });
  return [...plan.findings, ...podFindings];
}

/** The node-group GPU map: what the plan prints and the stack exports. */
export function kubernetesGpuMap(plan: KubernetesFleetPlan) {
  return {
    hourlyUsd: { min: plan.minHourlyUsd, max: plan.maxHourlyUsd },
    nodeGroups: plan.nodeGroups.map((g) => ({
      name: g.name,
      instanceType: g.instanceType.name,
      gpu: g.gpu.name,
      gpusPerNode: g.gpusPerNode,
      memoryMiB: g.gpu.memoryMiB,
      nodes: { min: g.minSize, max: g.maxSize, neededMin: g.minNodes, neededMax: g.maxNodes },
      hourlyUsd: { min: g.minHourlyUsd, max: g.maxHourlyUsd },
      replicasPerGpu: g.replicasPerGpu,
    })),
    services: plan.services.map((s) => ({
      name: s.service.name,
      model: s.service.model,
      nodeGroup: s.nodeGroup,
      gpusPerPod: s.gpusPerPod,
      reservedMiBPerGpu: s.service.reservedMiBPerGpu,
      maxModelLen: s.service.maxModelLen,
      cache: { mode: s.cache.mode, sizeGiB: s.cache.sizeGiB },
      replicas: s.autoscaling
        ? { min: s.autoscaling.minReplicas, max: s.autoscaling.maxReplicas, metric: s.autoscaling.metric }
        : { min: s.replicas, max: s.replicas },
    })),
  };
}

/** The GPU map as text lines, for the plan and the preview's log. */
export function renderKubernetesGpuMap(plan: KubernetesFleetPlan): string[] {
  const map = kubernetesGpuMap(plan);
  const lines: string[] = [];
  for (const g of map.nodeGroups) {
    lines.push(
      `node group ${g.name}: ${g.instanceType} (${g.gpusPerNode} × ${g.gpu}, ${g.memoryMiB.toLocaleString("en-US")} MiB), ${g.nodes.min}-${g.nodes.max} nodes, needs ${g.nodes.neededMin}-${g.nodes.neededMax}, $${g.hourlyUsd.min.toFixed(3)}-${g.hourlyUsd.max.toFixed(3)}/h`,
    );
    for (const s of map.services.filter((x) => x.nodeGroup === g.name)) {
      const replicas =
        "metric" in s.replicas
          ? `HPA ${s.replicas.min}-${s.replicas.max} on ${s.replicas.metric}`
          : `${s.replicas.min} replica${s.replicas.min === 1 ? "" : "s"}`;
      const cache =
        s.cache.mode === "shared"
          ? `model cache ${s.cache.sizeGiB} GiB shared (EFS)`
          : `model cache ${s.cache.sizeGiB} GiB per replica (EBS)`;
      lines.push(
        `  ${s.name} (${s.model}): ${s.gpusPerPod} GPU/pod, ${s.reservedMiBPerGpu.toLocaleString("en-US")} MiB reserved per GPU, maxModelLen ${s.maxModelLen.toLocaleString("en-US")}, ${cache}, ${replicas}`,
      );
    }
  }
  lines.push(`cost: $${map.hourlyUsd.min.toFixed(3)}/h to $${map.hourlyUsd.max.toFixed(3)}/h on demand`);
  return lines;
}

export interface KubernetesFleetOutputs {
  readonly plan: KubernetesFleetPlan;
  readonly findings: readonly Finding[];
  readonly cluster: EksGpuCluster;
  readonly services: ReadonlyMap<string, KubernetesNimService>;
}

export function deployKubernetesFleet(): KubernetesFleetOutputs {
  const stack = loadKubernetesStackConfig();
  const plan = planKubernetesFleet(stack.eks.nodeGroups, stack.services, stack.safetyMarginFraction, `${NAMESPACE}:`);
  const namespace = stack.eks.namespace ?? "nim";
  const findings = kubernetesFindings(plan, namespace);
  refuseMandatoryFindings(findings);
  if (stack.maxHourlyUsd !== undefined && plan.maxHourlyUsd > stack.maxHourlyUsd) {
    pulumi.log.warn(
      `[maximum-hourly-cost] the node group costs up to $${plan.maxHourlyUsd.toFixed(3)}/h on demand at its HPA maxima, above the maximum of $${stack.maxHourlyUsd.toFixed(3)}/h (gpu-fleet:maxHourlyUsd)`,
    );
  }

  const config = new pulumi.Config(NAMESPACE);
  const cluster = new EksGpuCluster(stack.eks.clusterName ?? "gpu-fleet", {
    nodeGroups: stack.eks.nodeGroups,
    ...(stack.eks.kubernetesVersion ? { kubernetesVersion: stack.eks.kubernetesVersion } : {}),
    apiPublicAccessCidrs: stack.eks.apiPublicAccessCidrs,
    ...(stack.eks.vpcId ? { vpcId: stack.eks.vpcId, subnetIds: [...stack.eks.subnetIds!] } : {}),
    sharedModelCache: plan.services.some((s) => s.cache.mode === "shared"),
    grafanaAdminPassword: config.requireSecret("grafanaAdminPassword"),
  });
  const nimNamespace = new NimNamespace(namespace, {
    cluster,
    namespace,
    ngcApiKey: config.requireSecret("ngcApiKey"),
  });
  const services = new Map(
    stack.services.map((s) => {
      const { name, ...settings } = s;
      return [name, new KubernetesNimService(name, { cluster, namespace: nimNamespace, ...settings })] as const;
    }),
  );
  new FleetDashboards("dashboards", {
    cluster,
    stack: pulumi.getStack(),
    nodeGroups: plan.nodeGroups,
    services: plan.services,
    namespace,
  });
  return { plan, findings, cluster, services };
}

/** Stack outputs: nothing secret but the kubeconfig, which is an encrypted output. */
export function kubernetesStackOutputs(fleet: KubernetesFleetOutputs) {
  return {
    kubeconfig: fleet.cluster.kubeconfig,
    // Kept by `pulumi destroy`: the id to find (or delete) the shared model cache afterwards.
    ...(fleet.cluster.modelCacheFileSystem ? { modelCacheFileSystemId: fleet.cluster.modelCacheFileSystem.id } : {}),
    endpoints: Object.fromEntries([...fleet.services].map(([name, svc]) => [name, svc.endpoint])),
    gpuMap: kubernetesGpuMap(fleet.plan),
  };
}
