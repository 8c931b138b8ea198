import { describe, expect, it } from "vitest";
import {
  KubernetesServiceSettings,
  NodeGroupSettings,
  checkPodResources,
  checkPodScheduling,
  cpuMillisOf,
  kubeletReserved,
  kubernetesStackKeyProblems,
  memoryMiBOf,
  podResources,
  packPods,
  planKubernetesFleet,
  planKubernetesService,
  resolveNodeGroup,
  tolerates,
} from "../../fleet/kubernetes";
import { ConfigError } from "../../fleet/config";
import { renderNimObjects } from "../../renderers/kubernetes/nim";

const LLM: KubernetesServiceSettings = {
  name: "llm",
  model: "meta/llama-3.1-8b-instruct",
  nodeGroup: "gpu",
  maxModelLen: 8192,
};
const GROUP: NodeGroupSettings = { name: "gpu", maxSize: 2 };

const findings = (groups: NodeGroupSettings[], services: KubernetesServiceSettings[]) =>
  planKubernetesFleet(groups, services).findings.map((f) => ({
    check: f.check,
    enforcement: f.enforcement,
    service: f.service,
    message: f.message,
  }));

describe("the node group holds the fleet", () => {
  it("llama-3.1-8b with an HPA of 1-2 on two g5.xlarge nodes: nothing to report, $1.006-2.012/h", () => {
    const plan = planKubernetesFleet(
      [GROUP],
      [{ ...LLM, autoscaling: { minReplicas: 1, maxReplicas: 2, targetAverageValue: 4 } }],
    );
    expect(plan.findings).toEqual([]);
    expect(plan.nodeGroups.map((g) => [g.name, g.instanceType.name, g.minNodes, g.maxNodes])).toEqual([
      ["gpu", "g5.xlarge", 1, 2],
    ]);
    expect([plan.minHourlyUsd, plan.maxHourlyUsd]).toEqual([1.006, 2.012]);
    expect(plan.services[0].service.reservedMiBPerGpu).toBe(20334);
    expect(plan.services[0].service.host).toBe("gpu");
  });

  it("a 70B model on a g5.xlarge node group is refused, naming the service", () => {
    expect(findings([GROUP], [{ name: "big", model: "meta/llama-3.1-70b-instruct", nodeGroup: "gpu" }])).toEqual([
      {
        check: "model-fits-reservation",
        enforcement: "mandatory",
        service: "big",
        message:
          'service "big" (meta/llama-3.1-70b-instruct) on a node of node group "gpu" GPU 0 needs 177,073 MiB per GPU (weights 134,571 + overhead 1,542 + KV for 131,072 tokens 40,960) but its reservation is 20,334 MiB: over by 156,739 MiB; give it more GPUs, a lower precision or a larger GPU',
      },
    ]);
  });

  it("an HPA maxReplicas the node group cannot hold is refused", () => {
    expect(
      findings([GROUP], [{ ...LLM, autoscaling: { minReplicas: 1, maxReplicas: 4, targetAverageValue: 4 } }]),
    ).toEqual([
      {
        check: "kubernetes-hpa-max-schedulable",
        enforcement: "mandatory",
        service: "llm",
        message:
          'service "llm" has HPA maxReplicas 4 × 1 GPU, but node group "gpu" (maxSize 2 × 1 A10G per node) can schedule 2; raise maxSize to 4 or lower maxReplicas to 2',
      },
    ]);
  });

  it("an HPA whose growth leaves no room beside another service names the HPA's service", () => {
    expect(
      findings(
        [GROUP],
        [
          { ...LLM, autoscaling: { minReplicas: 1, maxReplicas: 2, targetAverageValue: 4 } },
          { name: "emb", model: "nvidia/nv-embedqa-e5-v5", nodeGroup: "gpu" },
        ],
      ).map((f) => f.message),
    ).toEqual([
      'service "llm" has HPA maxReplicas 2 × 1 GPU, but node group "gpu" (maxSize 2 × 1 A10G per node) can schedule 1 beside emb; raise maxSize to 3 or lower maxReplicas to 1',
    ]);
  });

  it("static replicas beyond maxSize × GPUs per node", () => {
    expect(findings([GROUP], [{ ...LLM, replicas: 3 }]).map((f) => `${f.check}: ${f.message}`)).toEqual([
      'kubernetes-replicas-fit-node-group: service "llm" needs 3 replicas × 1 GPU, but node group "gpu" (maxSize 2 × 1 A10G per node) has room for 2; raise maxSize to 3 or lower replicas',
    ]);
  });

  it("a tensor-parallel pod wider than a node", () => {
    expect(findings([GROUP], [{ ...LLM, tensorParallel: 2 }]).map((f) => `${f.check}: ${f.message}`)).toEqual([
      'kubernetes-pod-fits-node: service "llm" needs 2 GPUs in one pod (tensor parallelism 2), but the nodes of node group "gpu" (g5.xlarge) have 1 × A10G; use an instance type with at least 2 GPUs',
    ]);
  });

  it("TP-2 pods pack two to a g5.12xlarge: 4 replicas need 2 nodes, 5 do not fit", () => {
    const big: NodeGroupSettings = { name: "gpu", instanceType: "g5.12xlarge", maxSize: 2 };
    const plan = planKubernetesFleet([big], [{ ...LLM, tensorParallel: 2, replicas: 4 }]);
    expect(plan.findings.filter((f) => f.enforcement === "mandatory")).toEqual([]);
    expect([plan.nodeGroups[0].minNodes, plan.maxHourlyUsd]).toEqual([2, 11.344]);
    expect(findings([big], [{ ...LLM, tensorParallel: 2, replicas: 5 }]).map((f) => f.message)).toEqual([
      'service "llm" on a node of node group "gpu" runs tensor parallelism 2 over PCIe-only A10G GPUs [0, 1]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)',
      'service "llm" needs 5 replicas × 2 GPUs, but node group "gpu" (maxSize 2 × 4 A10G per node) has room for 4; raise maxSize to 3 or lower replicas',
    ]);
  });
});

describe("GPU time-slicing charges the per-GPU budget for every pod that shares a GPU", () => {
  const shared: NodeGroupSettings = { name: "gpu", maxSize: 2, gpuSharing: { replicasPerGpu: 2 } };

  it("two vLLM engines at 0.9 on one A10G cannot both start", () => {
    expect(findings([shared], [LLM]).map((f) => `${f.check}: ${f.message}`)).toEqual([
      'gpu-memory-budget: service "llm" with GPU time-slicing (2 pods per GPU): a node of node group "gpu" GPU 0 (A10G) is over budget by 22,056 MiB: llm#1 20,334 MiB + llm#2 20,334 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm#1 1,632 MiB + llm#2 1,632 MiB = 43,932 MiB charged, 21,876 MiB usable of 23,028 MiB',
      'fixed-fraction-engines-fit: service "llm" with GPU time-slicing (2 pods per GPU): a node of node group "gpu" GPU 0 (A10G): vLLM engines llm#1 0.9 + llm#2 0.9 reserve 1.80 of the GPU, more than the usable 0.95; they cannot all start (over by 19,205 MiB)',
    ]);
  });

  it("two embedding pods share an A10G; two slices per node double the pod capacity", () => {
    const plan = planKubernetesFleet(
      [shared],
      [{ name: "emb", model: "nvidia/nv-embedqa-e5-v5", nodeGroup: "gpu", replicas: 4 }],
    );
    expect(plan.findings).toEqual([]);
    expect(plan.nodeGroups[0].gpuResourcesPerNode).toBe(2);
    expect(plan.nodeGroups[0].minNodes).toBe(2);
  });
});

describe("the rendered pod tolerates the taint, selects its group, and asks for exactly its GPUs", () => {
  const group = resolveNodeGroup(GROUP);
  const { planned } = planKubernetesService(LLM, group);
  const pod = () =>
    JSON.parse(
      JSON.stringify(
        renderNimObjects({ planned, group, cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 100 } })
          .workload.object.spec!.template.spec,
      ),
    );

  it("as rendered: nothing to report", () => {
    expect(checkPodScheduling(planned, group, pod())).toEqual([]);
  });

  it("no toleration, a foreign node selector, request ≠ limit", () => {
    const p = pod();
    p.tolerations = [];
    p.nodeSelector = { "gpu-fleet.dev/node-group": "cpu" };
    p.containers[0].resources.requests["nvidia.com/gpu"] = "2";
    expect(checkPodScheduling(planned, group, p).map((f) => `${f.check}: ${f.message}`)).toEqual([
      'kubernetes-tolerates-gpu-taint: service "llm" does not tolerate the taint nvidia.com/gpu=true:NoSchedule of node group "gpu"; its pods would never be scheduled',
      'kubernetes-node-selector-matches: service "llm" selects nodes with gpu-fleet.dev/node-group=cpu, which the nodes of node group "gpu" do not have (they have gpu-fleet.dev/node-group=gpu)',
      'kubernetes-gpu-request-equals-limit: service "llm" container "model-server" requests 2 nvidia.com/gpu but is limited to 1; GPU requests must equal limits',
    ]);
  });

  it("a limit other than the tensor-parallel size, and a sidecar that reaches GPUs around the device plugin", () => {
    const p = pod();
    p.containers[0].resources = { limits: { "nvidia.com/gpu": "2" } };
    p.containers.push({ name: "sidecar", env: [{ name: "NVIDIA_VISIBLE_DEVICES", value: "all" }] });
    expect(checkPodScheduling(planned, group, p).map((f) => `${f.check}: ${f.message}`)).toEqual([
      'kubernetes-gpu-request-equals-limit: service "llm" container "model-server" is limited to 2 nvidia.com/gpu, but the service runs tensor parallelism 1; they must be equal',
      'kubernetes-gpu-sharing: service "llm" container "sidecar" sets NVIDIA_VISIBLE_DEVICES=all without requesting nvidia.com/gpu: it would share GPUs around the device plugin and the GPU budget',
    ]);
  });

  it("time-slicing, when configured, is an advisory finding", () => {
    const sharedGroup = resolveNodeGroup({ ...GROUP, gpuSharing: { replicasPerGpu: 2 } });
    expect(checkPodScheduling(planned, sharedGroup, pod()).map((f) => `${f.enforcement} ${f.message}`)).toEqual([
      'advisory service "llm" runs on node group "gpu" with GPU time-slicing (2 pods per GPU): pods sharing a GPU get no memory isolation; the per-GPU budget is charged for all 2',
    ]);
  });

  it.each([
    [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }, true],
    [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }, true],
    [{ key: "nvidia.com/gpu", value: "true" }, true],
    [{ operator: "Exists" }, true],
    [{ key: "nvidia.com/gpu", operator: "Equal", value: "false", effect: "NoSchedule" }, false],
    [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }, false],
    [{ value: "true" }, false],
  ])("toleration %j tolerates nvidia.com/gpu=true:NoSchedule: %s", (t, expected) => {
    expect(tolerates(t, { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" })).toBe(expected);
  });
});

describe("bad settings name the key, the value and what is allowed", () => {
  const problems = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it("node group settings", () => {
    expect(problems(() => resolveNodeGroup({ name: "GPU", instanceType: "g9.huge", minSize: 3, maxSize: 2 }))).toEqual([
      'nodeGroup.name: "GPU" is not allowed; expected a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)',
      'nodeGroup.instanceType: "g9.huge" is not a catalog GPU instance type; known: g4dn.xlarge, g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge, g6.xlarge, g6e.xlarge, p3.2xlarge, p4d.24xlarge, p4de.24xlarge, p5.48xlarge',
      "nodeGroup.minSize: 3 is not allowed; expected at most maxSize (2)",
      "nodeGroup.desiredSize: 3 is not allowed; expected an integer from minSize (3) to maxSize (2)",
    ]);
    expect(problems(() => resolveNodeGroup({ name: "gpu", labels: { "gpu-fleet.dev/node-group": "x" } }))).toEqual([
      'nodeGroup.labels: "gpu-fleet.dev/node-group" is set by gpu-fleet to the node group\'s name; remove it',
    ]);
  });

  it("service settings: pinned devices, an unknown node group, an HPA target out of range", () => {
    expect(
      problems(() =>
        planKubernetesFleet(
          [GROUP],
          [
            { ...LLM, gpus: [0] },
            { ...LLM, name: "other", nodeGroup: "cpu" },
          ],
        ),
      ),
    ).toEqual(['services[1].nodeGroup: "cpu" is not a node group; known: gpu']);
    expect(
      problems(() =>
        planKubernetesFleet(
          [GROUP],
          [
            {
              ...LLM,
              gpus: [0],
              autoscaling: { minReplicas: 0, maxReplicas: 2, metric: "gpu_cache_usage_perc", targetAverageValue: 80 },
            },
          ],
        ),
      ),
    ).toEqual([
      "services[0].gpus: [0] is not allowed on Kubernetes; the device plugin picks the devices: set tensorParallel instead",
      "services[0].autoscaling.minReplicas: 0 is not allowed; expected an integer >= 1",
      "services[0].autoscaling.targetAverageValue: 80 is not allowed; expected a ratio above 0 and at most 1",
    ]);
  });

  it("an HPA on an embedding model, whose server exports no such metric", () => {
    expect(
      problems(() =>
        planKubernetesFleet(
          [GROUP],
          [
            {
              name: "emb",
              model: "nvidia/nv-embedqa-e5-v5",
              nodeGroup: "gpu",
              autoscaling: { minReplicas: 1, maxReplicas: 2, targetAverageValue: 4 },
            },
          ],
        ),
      ),
    ).toEqual([
      "services[0].autoscaling: nvidia/nv-embedqa-e5-v5 is an embedding model, whose server exports neither num_requests_running nor gpu_cache_usage_perc; set replicas instead",
    ]);
  });

  it("an unknown model is reported as on a host", () => {
    expect(problems(() => planKubernetesFleet([GROUP], [{ ...LLM, model: "meta/llama-9" }]))[0]).toMatch(
      /^services\[0\]\.model: unknown model "meta\/llama-9"; known: meta\/llama-3.1-8b-instruct, /,
    );
  });
});

describe("packPods", () => {
  it.each([
    [2, 1, [{ gpus: 1, count: 3 }], [2]],
    [
      2,
      4,
      [
        { gpus: 2, count: 3 },
        { gpus: 4, count: 1 },
      ],
      [3, 0],
    ],
    [
      2,
      4,
      [
        { gpus: 4, count: 1 },
        { gpus: 2, count: 3 },
      ],
      [1, 2],
    ],
    [1, 8, [{ gpus: 3, count: 3 }], [2]],
  ])("%i nodes × %i GPUs, pods %j → %j", (nodes, perNode, pods, expected) => {
    expect(packPods(nodes, perNode, pods)).toEqual(expected);
  });
});

describe("CPU and memory per pod: the node's allocatable less the daemons, shared by its pods", () => {
  it.each([
    // name, instance type, GPU slices per GPU, TP, pods per node, max CPU m, max MiB, rendered m, rendered MiB
    ["g5.xlarge, 1 pod", "g5.xlarge", 1, 1, 1, 3420, 13855, 3400, 13824],
    ["g5.12xlarge, TP 2: 2 pods", "g5.12xlarge", 1, 2, 2, 23655, 93305, 23600, 93184],
    ["g5.12xlarge, TP 1: 4 pods", "g5.12xlarge", 1, 1, 4, 11827, 46652, 11800, 46592],
    ["g5.xlarge time-sliced 4 ways: 4 pods", "g5.xlarge", 4, 1, 4, 855, 3463, 800, 3328],
    ["p4d.24xlarge, TP 8", "p4d.24xlarge", 1, 8, 1, 95190, 1169650, 95100, 1169408],
  ])("%s", (_name, instanceType, replicasPerGpu, tp, pods, maxCpu, maxMiB, cpu, memory) => {
    const group = resolveNodeGroup({ name: "gpu", instanceType, gpuSharing: { replicasPerGpu } });
    expect(podResources(group, tp)).toEqual({
      podsPerNode: pods,
      maxCpuMillis: maxCpu,
      maxMemoryMiB: maxMiB,
      cpuMillis: cpu,
      memoryMiB: memory,
    });
  });

  it("the EKS AMI's kubelet reservation: g5.xlarge 80m and 993 MiB (58 pods), g5.12xlarge 190m and 8,462 MiB (737 pods)", () => {
    expect(kubeletReserved(resolveNodeGroup({ name: "a" }).instanceType)).toEqual({ cpuMillis: 80, memoryMiB: 993 });
    expect(kubeletReserved(resolveNodeGroup({ name: "b", instanceType: "g5.12xlarge" }).instanceType)).toEqual({
      cpuMillis: 190,
      memoryMiB: 8462,
    });
  });

  it.each([
    ["3400m", 3400],
    ["2", 2000],
    [1.5, 1500],
    ["0.5", 500],
    ["two", undefined],
  ])("CPU quantity %s is %s millicores", (q, m) => expect(cpuMillisOf(q)).toBe(m));

  it.each([
    ["13824Mi", 13824],
    ["16Gi", 16384],
    ["1024Ki", 1],
    ["1G", 1e9 / 1024 ** 2],
    ["16GB", undefined],
  ])("memory quantity %s is %s MiB", (q, m) => expect(memoryMiBOf(q)).toBe(m));

  it("a rendered pod fits; a request above the share, or not a quantity, is refused naming the service", () => {
    const group = resolveNodeGroup(GROUP);
    const { planned } = planKubernetesService(LLM, group);
    const pod = renderNimObjects({
      planned,
      group,
      cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 100 },
    }).workload.object.spec!.template.spec!;
    expect(checkPodResources(planned, group, pod as any)).toEqual([]);
    const containers = [
      { name: "model-server", resources: { requests: { cpu: "3", memory: "12Gi" } } },
      { name: "sidecar", resources: { requests: { cpu: "500m", memory: "two" } } },
    ];
    expect(checkPodResources(planned, group, { containers }).map((f) => [f.check, f.enforcement, f.message])).toEqual([
      [
        "kubernetes-pod-resources-fit-node",
        "mandatory",
        'service "llm" container "sidecar" requests memory "two", which is not a Kubernetes quantity (such as "13824Mi")',
      ],
      [
        "kubernetes-pod-resources-fit-node",
        "mandatory",
        'service "llm" requests 3500m CPU per pod, but a node of node group "gpu" (g5.xlarge: 4 vCPUs, 16 GiB) has 3420m for each of 1 pod of it per node after the kubelet\'s reservation (80m) and the node\'s daemons (500m); request at most 3420m',
      ],
    ]);
  });
});

describe("an EKS stack's config keys", () => {
  it("host-runtime keys belong to the host runtime; others are unknown; its own and other namespaces pass", () => {
    expect(
      kubernetesStackKeyProblems([
        "aws:region",
        "gpu-fleet:eks",
        "gpu-fleet:services",
        "gpu-fleet:ngcApiKey",
        "gpu-fleet:grafanaAdminPassword",
        "gpu-fleet:maxHourlyUsd",
        "gpu-fleet:safetyMarginFraction",
        "gpu-fleet:rag",
        "gpu-fleet:irisPassword",
        "gpu-fleet:sshPrivateKey",
        "gpu-fleet:eksCluster",
      ]),
    ).toEqual([
      "gpu-fleet:rag: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
      "gpu-fleet:irisPassword: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
      "gpu-fleet:sshPrivateKey: belongs to the host runtime (a stack without gpu-fleet:eks), which this EKS stack is not; remove it (allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd)",
      "gpu-fleet:eksCluster: unknown setting; allowed on EKS: gpu-fleet:eks, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd",
    ]);
  });
});
