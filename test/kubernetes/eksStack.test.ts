import { describe, expect, it } from "vitest";
import { ConfigError } from "../../fleet/config";
import { checkRegisteredKubernetesFleet, validateKubernetesStackConfig } from "../../fleet/kubernetes";
import { RegisteredResource, previewProgram } from "../../plan/mockPreview";
import { readStackFile } from "../../plan/stackFile";
import {
  deployKubernetesFleet,
  kubernetesGpuMap,
  kubernetesStackOutputs,
  renderKubernetesGpuMap,
} from "../../stacks/eks";

const FILE = readStackFile("eks", `${__dirname}/../..`);

/** The problems the EKS stack-config validator names, or none. */
function problems(raw: Parameters<typeof validateKubernetesStackConfig>[0]): readonly string[] {
  try {
    validateKubernetesStackConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

/** Runs the EKS stack program as `pulumi preview` would, offline, on the file's config with changes. */
async function preview(change: (config: Record<string, any>) => void = () => {}) {
  const eks = JSON.parse(FILE.config["gpu-fleet:eks"]);
  const services = JSON.parse(FILE.config["gpu-fleet:services"]);
  const edited = { eks, services };
  change(edited);
  const config = {
    ...FILE.config,
    "gpu-fleet:eks": JSON.stringify(edited.eks),
    "gpu-fleet:services": JSON.stringify(edited.services),
  };
  let fleet: ReturnType<typeof deployKubernetesFleet> | undefined;
  const result = await previewProgram(() => kubernetesStackOutputs((fleet = deployKubernetesFleet())), {
    project: "gpu-fleet",
    stack: "eks",
    config,
    secretKeys: FILE.secretKeys,
  });
  return { ...result, fleet: fleet! };
}

describe("Pulumi.eks.yaml", () => {
  it("plans llama-2-7b-chat on 1-3 g5.xlarge nodes with an HPA of 1-3 and nothing to report", async () => {
    const { fleet, duplicates, resources } = await preview();
    expect(duplicates).toEqual([]);
    expect(fleet.findings).toEqual([]);
    expect(renderKubernetesGpuMap(fleet.plan)).toEqual([
      "node group gpu: g5.xlarge (1 × A10G, 23,028 MiB), 1-3 nodes, needs 1-3, $1.006-3.018/h",
      "  llm (meta/llama-2-7b-chat): 1 GPU/pod, 20,334 MiB reserved per GPU, maxModelLen 4,096, model cache 100 GiB per replica (EBS), HPA 1-3 on num_requests_running",
      "cost: $1.006/h to $3.018/h on demand",
    ]);
    expect(resources.filter((r) => !r.custom).map((r) => `${r.type} ${r.name}`)).toEqual([
      "gpu-fleet:index:EksGpuCluster gpu-fleet-eks",
      "gpu-fleet:index:NimNamespace nim",
      "gpu-fleet:index:KubernetesNimService llm",
      "gpu-fleet:index:FleetDashboards dashboards",
    ]);
    expect(resources.length).toBe(37);
    expect(kubernetesGpuMap(fleet.plan)).toEqual({
      hourlyUsd: { min: 1.006, max: 3.018 },
      nodeGroups: [
        {
          name: "gpu",
          instanceType: "g5.xlarge",
          gpu: "A10G",
          gpusPerNode: 1,
          memoryMiB: 23028,
          nodes: { min: 1, max: 3, neededMin: 1, neededMax: 3 },
          hourlyUsd: { min: 1.006, max: 3.018 },
          replicasPerGpu: 1,
        },
      ],
      services: [
        {
          name: "llm",
          model: "meta/llama-2-7b-chat",
          nodeGroup: "gpu",
          gpusPerPod: 1,
          reservedMiBPerGpu: 20334,
          maxModelLen: 4096,
          cache: { mode: "per-replica", sizeGiB: 100 },
          replicas: { min: 1, max: 3, metric: "num_requests_running" },
        },
      ],
    });
    expect(Object.fromEntries([...fleet.services].map(([n, s]) => [n, s.endpoint]))).toEqual({
      llm: "http://llm.nim.svc.cluster.local:8000",
    });
    const cluster = resources.find((r) => r.type === "eks:index:Cluster")!;
    expect(cluster.inputs).toMatchObject({
      name: "gpu-fleet-eks",
      version: "1.35",
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.7/32"],
    });
  });

  it("a hidden fleet: a 70B model on the g5.xlarge node group is refused naming the service", async () => {
    const { fleet } = await preview((c) => {
      c.services.push({ name: "big", model: "meta/llama-3.1-70b-instruct" });
    });
    expect(fleet.findings.filter((f) => f.enforcement === "mandatory").map((f) => `[${f.check}] ${f.message}`)).toEqual(
      [
        '[model-fits-reservation] service "big" (meta/llama-3.1-70b-instruct) on a node of node group "gpu" GPU 0 needs 177,073 MiB per GPU (weights 134,571 + overhead 1,542 + KV for 131,072 tokens 40,960) but its reservation is 20,334 MiB: over by 156,739 MiB; give it more GPUs, a lower precision or a larger GPU',
        '[kubernetes-hpa-max-schedulable] service "llm" has HPA maxReplicas 3 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 2 beside big; raise maxSize to 4 or lower maxReplicas to 2',
        '[kubernetes-model-cache-size] service "big" has a 100 GiB model cache, smaller than the 132 GiB of meta/llama-3.1-70b-instruct weights at bf16; set its cache size to at least 132 GiB',
      ],
    );
  });

  it("a hidden fleet: an HPA maxReplicas the node group cannot hold is refused naming the service", async () => {
    const { fleet } = await preview((c) => {
      c.services[0].autoscaling.maxReplicas = 5;
    });
    expect(fleet.findings.map((f) => `[${f.check}] ${f.message}`)).toEqual([
      '[kubernetes-hpa-max-schedulable] service "llm" has HPA maxReplicas 5 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 3; raise maxSize to 5 or lower maxReplicas to 3',
    ]);
  });

  it("two node groups: the embedding NIM on its own g6.xlarge group, each pod selecting its group", async () => {
    const { fleet, resources } = await preview((c) => {
      c.eks.nodeGroups.push({ name: "embed", instanceType: "g6.xlarge", minSize: 1, maxSize: 1 });
      c.services[0].nodeGroup = "gpu";
      c.services.push({ name: "embedder", model: "nvidia/nv-embedqa-e5-v5", nodeGroup: "embed" });
    });
    expect(fleet.findings).toEqual([]);
    expect(renderKubernetesGpuMap(fleet.plan)).toEqual([
      "node group gpu: g5.xlarge (1 × A10G, 23,028 MiB), 1-3 nodes, needs 1-3, $1.006-3.018/h",
      "  llm (meta/llama-2-7b-chat): 1 GPU/pod, 20,334 MiB reserved per GPU, maxModelLen 4,096, model cache 100 GiB per replica (EBS), HPA 1-3 on num_requests_running",
      "node group embed: g6.xlarge (1 × L4, 23,034 MiB), 1-1 nodes, needs 1-1, $0.805-0.805/h",
      // An encoder reserves its weights and workspace only: 640 + 1,024 MiB.
      "  embedder (nvidia/nv-embedqa-e5-v5): 1 GPU/pod, 1,664 MiB reserved per GPU, maxModelLen 512, model cache 100 GiB per replica (EBS), 1 replica",
      "cost: $1.811/h to $3.823/h on demand",
    ]);
    const groups = resources.filter((r) => r.type === "eks:index:ManagedNodeGroup");
    expect(groups.map((g) => [g.name, (g.inputs as any).instanceTypes, (g.inputs as any).labels])).toEqual([
      ["gpu-fleet-eks-gpu", ["g5.xlarge"], { "gpu-fleet.dev/node-group": "gpu", "nvidia.com/gpu.present": "true" }],
      ["gpu-fleet-eks-embed", ["g6.xlarge"], { "gpu-fleet.dev/node-group": "embed", "nvidia.com/gpu.present": "true" }],
    ]);
    const embedder = resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name === "embedder")!;
    expect((embedder.inputs as any).spec.template.spec.nodeSelector).toEqual({ "gpu-fleet.dev/node-group": "embed" });
    expect(
      checkRegisteredKubernetesFleet(resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }))),
    ).toEqual([]);
  });

  it("the cluster's CIDRs, version, margin and cost limit follow the rules EksGpuCluster and the host stacks apply", () => {
    expect(
      problems({
        eks: {
          nodeGroups: [{ name: "gpu", instanceType: "g5.xlarge" }],
          apiPublicAccessCidrs: ["0.0.0.0/0", "203.0.113.7/32 $(id)"],
          kubernetesVersion: "1.31; id",
        },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat" }],
        safetyMarginFraction: 0.7,
        maxHourlyUsd: -1,
      }),
    ).toEqual([
      "gpu-fleet:eks.apiPublicAccessCidrs[0]: 0.0.0.0/0 opens the Kubernetes API to the internet; list the runner's address instead",
      'gpu-fleet:eks.apiPublicAccessCidrs[1]: "203.0.113.7/32 $(id)" is not an IPv4 CIDR such as 203.0.113.7/32',
      'gpu-fleet:eks.kubernetesVersion: "1.31; id" is not allowed; expected a minor version such as "1.35"',
      "gpu-fleet:safetyMarginFraction: 0.7 is not allowed; expected a fraction from 0 to below 0.5, such as 0.05",
      "gpu-fleet:maxHourlyUsd: -1 is not allowed; expected a positive number of US dollars per hour",
    ]);
  });

  it("bad config names the key, the value and what is allowed", () => {
    expect(
      problems({
        eks: {
          nodeGroups: [{ name: "gpu", instanceType: "g5.xlarge", maxNodes: 3 }],
          apiPublicAccessCidrs: "10.0.0.0/8",
        },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", host: "gpu0", autoscaling: { max: 3 } }],
      }),
    ).toEqual([
      "gpu-fleet:eks.nodeGroups[0].maxNodes: unknown setting; allowed: name, instanceType, minSize, desiredSize, maxSize, labels, diskSizeGiB, gpuSharing",
      'gpu-fleet:eks.apiPublicAccessCidrs: "10.0.0.0/8" is not allowed; expected a list of IPv4 CIDRs such as ["203.0.113.7/32"]',
      "gpu-fleet:services[0].host: belongs to the host runtime (a stack without gpu-fleet:eks); on EKS a service runs on a node group: set nodeGroup instead",
      "gpu-fleet:services[0].autoscaling.max: unknown setting; allowed: minReplicas, maxReplicas, metric, targetAverageValue",
    ]);
    expect(problems({ services: [] })).toEqual([
      "gpu-fleet:eks: undefined is not allowed; expected { nodeGroups: [{ name, instanceType, minSize, maxSize }], apiPublicAccessCidrs?, clusterName? }",
    ]);
    expect(
      problems({
        eks: { nodeGroups: [{ name: "gpu", maxSize: 2 }] },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", tensorParallel: 0 }],
      }),
    ).toEqual(["gpu-fleet:services[0].tensorParallel: 0 is not allowed; expected a whole number from 1 to 16"]);
  });
});

const registered = (rs: RegisteredResource[]) => rs.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));

describe("the same checks on what the program registered (for the policy pack and the plan's violations)", () => {
  it("Pulumi.eks.yaml: nothing to report", async () => {
    expect(checkRegisteredKubernetesFleet(registered((await preview()).resources))).toEqual([]);
  });

  it("the hidden fleets: a 70B model on g5.xlarge, an HPA maxReplicas beyond the node group", async () => {
    const big = await preview((c) => {
      c.services.push({ name: "big", model: "meta/llama-3.1-70b-instruct" });
    });
    expect(checkRegisteredKubernetesFleet(registered(big.resources)).map((f) => `[${f.check}] ${f.message}`)).toEqual([
      '[kubernetes-hpa-max-schedulable] service "llm" has HPA maxReplicas 3 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 2 beside big; raise maxSize to 4 or lower maxReplicas to 2',
      '[model-fits-reservation] service "big" (meta/llama-3.1-70b-instruct) on a node of node group "gpu" GPU 0 needs 177,073 MiB per GPU (weights 134,571 + overhead 1,542 + KV for 131,072 tokens 40,960) but its reservation is 20,334 MiB: over by 156,739 MiB; give it more GPUs, a lower precision or a larger GPU',
    ]);
    const hpa = await preview((c) => {
      c.services[0].autoscaling.maxReplicas = 5;
    });
    expect(checkRegisteredKubernetesFleet(registered(hpa.resources)).map((f) => f.message)).toEqual([
      'service "llm" has HPA maxReplicas 5 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 3; raise maxSize to 5 or lower maxReplicas to 3',
    ]);
  });

  it("a workload edited after rendering: the toleration dropped, request ≠ limit", async () => {
    const rs = registered((await preview()).resources);
    const sts = rs.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!;
    const pod = JSON.parse(JSON.stringify(sts.props.spec)).template.spec;
    pod.tolerations = [];
    pod.containers[0].resources.requests["nvidia.com/gpu"] = "2";
    const edited = rs.map((r) =>
      r === sts
        ? {
            ...r,
            props: {
              ...r.props,
              spec: { ...(r.props.spec as object), template: { ...(r.props.spec as any).template, spec: pod } },
            },
          }
        : r,
    );
    expect(checkRegisteredKubernetesFleet(edited).map((f) => f.check)).toEqual([
      "kubernetes-tolerates-gpu-taint",
      "kubernetes-gpu-request-equals-limit",
    ]);
  });
});

/** Paths whose values differ between two objects. */
function changedPaths(a: unknown, b: unknown, path = ""): string[] {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => changedPaths((a as any)[k], (b as any)[k], path === "" ? k : `${path}.${k}`));
}

describe("live model swap: llama-2-7b-chat → mistral-7b-instruct as a config change", () => {
  it("changes only the StatefulSet's image, model settings and annotation, and the ledger; the rollout needs no spare GPU", async () => {
    const before = await preview();
    const after = await preview((c) => {
      c.services[0].model = "mistralai/mistral-7b-instruct-v0.3";
      c.services[0].maxModelLen = 16384;
    });
    expect(after.fleet.findings).toEqual([]);
    const byKey = (rs: RegisteredResource[]) => new Map(rs.map((r) => [`${r.type} ${r.name}`, r.inputs]));
    const a = byKey(before.resources);
    const b = byKey(after.resources);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const changed = [...a.keys()].filter((k) => changedPaths(a.get(k), b.get(k)).length > 0);
    expect(changed.sort()).toEqual([
      "kubernetes:apps/v1:StatefulSet llm",
      "kubernetes:core/v1:ConfigMap llm-ledger",
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule llm-alerts",
    ]);
    expect(
      changedPaths(a.get("kubernetes:apps/v1:StatefulSet llm"), b.get("kubernetes:apps/v1:StatefulSet llm")),
    ).toEqual([
      "metadata.annotations.gpu-fleet.dev/model",
      "spec.template.metadata.annotations.gpu-fleet.dev/model",
      "spec.template.spec.containers.0.env.2.value",
      "spec.template.spec.containers.0.image",
    ]);
    const sts = b.get("kubernetes:apps/v1:StatefulSet llm") as any;
    expect(sts.spec.template.spec.containers[0].image).toBe("nvcr.io/nim/mistralai/mistral-7b-instruct-v0.3:latest");
    expect(sts.spec.template.spec.containers[0].env[2]).toEqual({ name: "NIM_MAX_MODEL_LEN", value: "16384" });
    expect(sts.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
  });
});

describe("the stack loader refuses keys the EKS runtime does not read", () => {
  it("host-runtime keys and unknown keys, named, with the valid config's own problems", async () => {
    const config = {
      ...FILE.config,
      "gpu-fleet:hosts": JSON.stringify([{ name: "gpu0", instanceType: "g5.xlarge" }]),
      "gpu-fleet:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST test",
      "gpu-fleet:observability": JSON.stringify({ enabled: false }),
      "gpu-fleet:nodegroups": "[]",
    };
    const result = await previewProgram(() => kubernetesStackOutputs(deployKubernetesFleet()), {
      project: "gpu-fleet",
      stack: "eks",
      config,
      secretKeys: FILE.secretKeys,
    });
    expect(result.resources).toEqual([]);
    expect(result.errors).toEqual([
      [
        "gpu-fleet:hosts: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
        "gpu-fleet:sshPublicKey: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
        "gpu-fleet:observability: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
        "gpu-fleet:nodegroups: unknown setting; allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd",
      ].join("\n"),
    ]);
  });
});

describe("a shared model cache in the stack", () => {
  const shared = (c: Record<string, any>) => {
    c.eks.vpcId = "vpc-0123456789abcdef0";
    c.eks.subnetIds = ["subnet-0a00000000000000a", "subnet-0b00000000000000b", "subnet-0c00000000000000c"];
    c.services[0].cache = { mode: "shared", sizeGiB: 200 };
  };

  it("an EFS file system with a mount target per subnet, a Deployment on one ReadWriteMany claim, nothing to report", async () => {
    const { fleet, resources, duplicates } = await preview(shared);
    expect(duplicates).toEqual([]);
    expect(fleet.findings).toEqual([]);
    expect(checkRegisteredKubernetesFleet(registered(resources))).toEqual([]);
    const names = resources.map((r) => `${r.type} ${r.name}`);
    expect(names.filter((n) => /efs|model-cache|apps\/v1|PersistentVolumeClaim/.test(n)).sort()).toEqual(
      [
        "aws:efs/fileSystem:FileSystem gpu-fleet-eks-model-cache",
        "aws:ec2/securityGroup:SecurityGroup gpu-fleet-eks-model-cache-nfs",
        "aws:efs/mountTarget:MountTarget gpu-fleet-eks-model-cache-0",
        "aws:efs/mountTarget:MountTarget gpu-fleet-eks-model-cache-1",
        "aws:efs/mountTarget:MountTarget gpu-fleet-eks-model-cache-2",
        "aws:iam/role:Role gpu-fleet-eks-efs-csi-role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-fleet-eks-efs-csi-policy",
        "aws:eks/addon:Addon gpu-fleet-eks-efs-csi",
        "kubernetes:storage.k8s.io/v1:StorageClass gpu-fleet-eks-efs",
        "kubernetes:core/v1:PersistentVolumeClaim llm-cache",
        "kubernetes:apps/v1:Deployment llm",
      ].sort(),
    );
    // 37 resources per-replica; shared adds 9 EFS resources and the claim, and the StatefulSet becomes a Deployment.
    expect(resources.length).toBe(47);
    expect(renderKubernetesGpuMap(fleet.plan)[1]).toBe(
      "  llm (meta/llama-2-7b-chat): 1 GPU/pod, 20,334 MiB reserved per GPU, maxModelLen 4,096, model cache 200 GiB shared (EFS), HPA 1-3 on num_requests_running",
    );
    const cluster = resources.find((r) => r.type === "eks:index:Cluster")!;
    expect([cluster.inputs.vpcId, cluster.inputs.subnetIds]).toEqual([
      "vpc-0123456789abcdef0",
      ["subnet-0a00000000000000a", "subnet-0b00000000000000b", "subnet-0c00000000000000c"],
    ]);
    const pvc = resources.find((r) => r.name === "llm-cache")!.inputs;
    expect(pvc.spec).toEqual({
      accessModes: ["ReadWriteMany"],
      storageClassName: "efs",
      resources: { requests: { storage: "200Gi" } },
    });
  });

  it("needs the VPC's subnets, and checks the cache's keys", () => {
    expect(
      problems({
        eks: { nodeGroups: [{ name: "gpu", maxSize: 2 }] },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", cache: { mode: "shared" } }],
      }),
    ).toEqual([
      "gpu-fleet:eks.subnetIds: is required when a service's model cache is shared (gpu-fleet:services[0].cache.mode \"shared\"): the EFS file system needs a mount target in each of the nodes' subnets; set gpu-fleet:eks.vpcId and gpu-fleet:eks.subnetIds (private subnets, one per availability zone)",
    ]);
    expect(
      problems({
        eks: { nodeGroups: [{ name: "gpu", maxSize: 2 }], vpcId: "vpc-1", subnetIds: ["subnet-0a00000000000000a"] },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", cache: { mode: "efs", size: 10 } }],
      }),
    ).toEqual([
      'gpu-fleet:eks.vpcId: "vpc-1" is not allowed; expected a VPC id such as "vpc-0123456789abcdef0"',
      "gpu-fleet:services[0].cache.size: unknown setting; allowed: mode, sizeGiB",
    ]);
    expect(
      problems({
        eks: { nodeGroups: [{ name: "gpu", maxSize: 2 }], subnetIds: ["subnet-0a00000000000000a"] },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", cache: { mode: "efs", sizeGiB: 0 } }],
      }),
    ).toEqual(["gpu-fleet:eks.vpcId: is required with gpu-fleet:eks.subnetIds; the subnets are the VPC's"]);
    // Values are checked once the shapes are right.
    expect(
      problems({
        eks: { nodeGroups: [{ name: "gpu", maxSize: 2 }] },
        services: [{ name: "llm", model: "meta/llama-2-7b-chat", cache: { mode: "efs", sizeGiB: 0 } }],
      }),
    ).toEqual([
      'gpu-fleet:services[0].cache.mode: "efs" is not allowed; expected one of per-replica, shared',
      "gpu-fleet:services[0].cache.sizeGiB: 0 is not allowed; expected an integer >= 1",
    ]);
  });
});

describe("CPU and memory on the model pods", () => {
  it("Pulumi.eks.yaml: the g5.xlarge node's share, and a request above it is refused by the registered-resource check", async () => {
    const rs = registered((await preview()).resources);
    const sts = rs.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!;
    const pod = JSON.parse(JSON.stringify(sts.props.spec)).template.spec;
    expect(pod.containers[0].resources).toEqual({
      requests: { "nvidia.com/gpu": "1", cpu: "3400m", memory: "13824Mi" },
      limits: { "nvidia.com/gpu": "1", memory: "13824Mi" },
    });
    pod.containers[0].resources.requests.cpu = "4";
    pod.containers[0].resources.requests.memory = "16Gi";
    const edited = rs.map((r) =>
      r === sts
        ? {
            ...r,
            props: {
              ...r.props,
              spec: { ...(r.props.spec as object), template: { ...(r.props.spec as any).template, spec: pod } },
            },
          }
        : r,
    );
    expect(checkRegisteredKubernetesFleet(edited).map((f) => `[${f.check}] ${f.message}`)).toEqual([
      '[kubernetes-pod-resources-fit-node] service "llm" requests 4000m CPU per pod, but a node of node group "gpu" (g5.xlarge: 4 vCPUs, 16 GiB) has 3420m for each of 1 pod of it per node after the kubelet\'s reservation (80m) and the node\'s daemons (500m); request at most 3420m',
      '[kubernetes-pod-resources-fit-node] service "llm" requests 16,384 MiB of memory per pod, but a node of node group "gpu" (g5.xlarge: 4 vCPUs, 16 GiB) has 13,855 MiB for each of 1 pod of it per node after the kubelet\'s reservation and eviction threshold (993 MiB) and the node\'s daemons (1,536 MiB); request at most 13855Mi',
    ]);
  });
});
