import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, isSecretInput, resourcesRevealing, settle, setupMocks } from "../helpers/pulumiMocks";
import { strictSchemaProblems } from "./strictSchema";

let mocks: MockRecorder;
let kc: typeof import("../../components/kubernetes");
let fk: typeof import("../../fleet/kubernetes");
let helm: typeof import("../../renderers/kubernetes/helm");
let nim: typeof import("../../renderers/kubernetes/nim");
let checks: typeof import("../../renderers/kubernetes/objectChecks");
let alerts: typeof import("../../renderers/kubernetes/alerts");

const KUBECONFIG = '{"apiVersion":"v1","kind":"Config","clusters":[{"name":"gpu"}]}';
const NGC_KEY = "nvapi-TEST-key-0123456789";
const GRAFANA_PASSWORD = "grafana-TEST-password-0123456789";
const secretValue = (v: any) => (isSecretInput(v) ? v.value : v);

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks({
    outputs: {
      // What the providers compute: the cluster's kubeconfig, a role's ARN.
      "eks:index:Cluster": () => ({ kubeconfigJson: KUBECONFIG }),
      "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::123456789012:role/${name}` }),
    },
  });
  kc = await import("../../components/kubernetes");
  fk = await import("../../fleet/kubernetes");
  helm = await import("../../renderers/kubernetes/helm");
  nim = await import("../../renderers/kubernetes/nim");
  checks = await import("../../renderers/kubernetes/objectChecks");
  alerts = await import("../../renderers/kubernetes/alerts");
});

describe("an EKS GPU cluster with llama-3.1-8b on g5.xlarge, HPA 1-2", () => {
  let cluster: import("../../components/kubernetes").EksGpuCluster;
  let service: import("../../components/kubernetes").KubernetesNimService;

  beforeAll(async () => {
    cluster = new kc.EksGpuCluster("gpu", {
      nodeGroups: [{ name: "gpu", maxSize: 2 }],
      apiPublicAccessCidrs: ["203.0.113.7/32"],
      grafanaAdminPassword: pulumi.secret(GRAFANA_PASSWORD),
    });
    const ns = new kc.NimNamespace("nim", { cluster, ngcApiKey: pulumi.secret(NGC_KEY) });
    service = new kc.KubernetesNimService("llm", {
      cluster,
      namespace: ns,
      model: "meta/llama-3.1-8b-instruct",
      maxModelLen: 8192,
      autoscaling: { minReplicas: 1, maxReplicas: 2, targetAverageValue: 4 },
    });
    await settle();
  });

  it("registers exactly these resources", () => {
    expect(mocks.registrations.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "gpu-fleet:index:EksGpuCluster gpu",
        "gpu-fleet:index:NimNamespace nim",
        "gpu-fleet:index:KubernetesNimService llm",
        "aws:iam/role:Role gpu-node-role",
        "aws:iam/role:Role gpu-ebs-csi-role",
        "aws:iam/role:Role gpu-cluster-autoscaler-role",
        "aws:iam/rolePolicy:RolePolicy gpu-cluster-autoscaler-policy",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation gpu-cluster-autoscaler-identity",
        "kubernetes:helm.sh/v3:Release gpu-cluster-autoscaler",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-node-AmazonEKSWorkerNodePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-node-AmazonEKS_CNI_Policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-node-AmazonEC2ContainerRegistryReadOnly",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-ebs-csi-policy",
        "eks:index:Cluster gpu-eks",
        "eks:index:ManagedNodeGroup gpu-gpu",
        "pulumi:providers:kubernetes gpu-k8s",
        "aws:eks/addon:Addon gpu-pod-identity-agent",
        "aws:eks/addon:Addon gpu-ebs-csi",
        "kubernetes:storage.k8s.io/v1:StorageClass gpu-gp3",
        "kubernetes:helm.sh/v3:Release gpu-device-plugin",
        "kubernetes:core/v1:Namespace gpu-monitoring",
        "kubernetes:core/v1:Secret gpu-grafana-admin",
        "kubernetes:helm.sh/v3:Release gpu-kube-prometheus-stack",
        "kubernetes:helm.sh/v3:Release gpu-dcgm-exporter",
        "kubernetes:helm.sh/v3:Release gpu-prometheus-adapter",
        "kubernetes:core/v1:Namespace nim",
        "kubernetes:core/v1:Secret nim-ngc-api-key",
        "kubernetes:core/v1:Secret nim-nvcr-pull",
        "kubernetes:core/v1:ConfigMap llm-ledger",
        "kubernetes:core/v1:Service llm",
        "kubernetes:apps/v1:StatefulSet llm",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler llm",
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor llm-monitor",
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule llm-alerts",
      ].sort(),
    );
  });

  it("the EKS cluster: current version, API access entries, private endpoint plus the runner's /32", () => {
    expect(mocks.byName("gpu-eks").inputs).toEqual({
      name: "gpu",
      version: "1.35",
      authenticationMode: "API",
      skipDefaultNodeGroup: true,
      skipDefaultSecurityGroups: true,
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.7/32"],
      enabledClusterLogTypes: ["api", "audit", "authenticator"],
      tags: { "gpu-fleet:cluster": "gpu" },
    });
  });

  it("the GPU managed node group: g5.xlarge on the NVIDIA AL2023 AMI, tainted and labelled", () => {
    const { cluster: ref, ...inputs } = mocks.byName("gpu-gpu").inputs;
    expect([ref.__pulumiType, ref.__name]).toEqual(["eks:index:Cluster", "gpu-eks"]);
    expect(inputs).toEqual({
      nodeGroupNamePrefix: "gpu-gpu-",
      nodeRole: inputs.nodeRole,
      amiType: "AL2023_x86_64_NVIDIA",
      instanceTypes: ["g5.xlarge"],
      diskSize: 100,
      scalingConfig: { minSize: 1, desiredSize: 1, maxSize: 2 },
      ignoreScalingChanges: true,
      labels: { "gpu-fleet.dev/node-group": "gpu", "nvidia.com/gpu.present": "true" },
      taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
    });
    expect(inputs.nodeRole.__name).toBe("gpu-node-role");
  });

  it("the Kubernetes provider takes the cluster's kubeconfigJson output, as a secret", () => {
    const kubeconfig = mocks.byName("gpu-k8s").inputs.kubeconfig;
    expect(isSecretInput(kubeconfig)).toBe(true);
    expect(secretValue(kubeconfig)).toBe(KUBECONFIG);
    expect(mocks.byName("gpu-k8s").inputs.enableServerSideApply).toBe("true");
  });

  it("EBS CSI through EKS Pod Identity, and the encrypted gp3 StorageClass bound where the pod lands", () => {
    expect(mocks.byName("gpu-ebs-csi").inputs).toEqual({
      clusterName: "gpu",
      addonName: "aws-ebs-csi-driver",
      podIdentityAssociations: [
        { roleArn: "arn:aws:iam::123456789012:role/gpu-ebs-csi-role", serviceAccount: "ebs-csi-controller-sa" },
      ],
    });
    expect(JSON.parse(mocks.byName("gpu-ebs-csi-role").inputs.assumeRolePolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
      },
    ]);
    expect(mocks.byName("gpu-pod-identity-agent").inputs).toEqual({
      clusterName: "gpu",
      addonName: "eks-pod-identity-agent",
    });
    const sc = mocks.byName("gpu-gp3").inputs;
    expect(sc).toEqual({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "gp3" },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      reclaimPolicy: "Delete",
    });
  });

  it.each([
    [
      "gpu-device-plugin",
      "nvidia-device-plugin",
      "0.18.2",
      "https://nvidia.github.io/k8s-device-plugin",
      "kube-system",
    ],
    [
      "gpu-kube-prometheus-stack",
      "kube-prometheus-stack",
      "80.4.1",
      "https://prometheus-community.github.io/helm-charts",
      "monitoring",
    ],
    ["gpu-dcgm-exporter", "dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts", "monitoring"],
    [
      "gpu-prometheus-adapter",
      "prometheus-adapter",
      "4.14.1",
      "https://prometheus-community.github.io/helm-charts",
      "monitoring",
    ],
  ])("Helm release %s: %s %s from %s in %s", (resource, chart, version, repo, namespace) => {
    const { values, ...inputs } = mocks.byName(resource).inputs;
    expect(inputs).toEqual({
      name: chart,
      chart,
      version,
      repositoryOpts: { repo },
      namespace,
      skipAwait: false,
      timeout: 900,
      atomic: true,
      cleanupOnFail: true,
      compat: "true",
    });
    const group = fk.resolveNodeGroup({ name: "gpu", maxSize: 2 });
    const expected = {
      "gpu-device-plugin": helm.devicePluginValues([group]),
      "gpu-kube-prometheus-stack": helm.kubePrometheusStackValues({
        retentionDays: 15,
        prometheusStorageGiB: 50,
        storageClassName: "gp3",
      }),
      "gpu-dcgm-exporter": helm.dcgmExporterValues(),
      "gpu-prometheus-adapter": helm.prometheusAdapterValues(),
      "gpu-cluster-autoscaler": helm.clusterAutoscalerValues("gpu", "us-east-1"),
    }[resource];
    expect(values).toEqual(expected);
  });

  it("the chart values: GPU nodes only, every ServiceMonitor selected, Grafana's password from a Secret, the HPA rules", () => {
    expect(mocks.byName("gpu-device-plugin").inputs.values).toEqual({
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
    const kps = mocks.byName("gpu-kube-prometheus-stack").inputs.values;
    expect(kps.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(kps.grafana.admin).toEqual({
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(mocks.byName("gpu-prometheus-adapter").inputs.values.rules.custom.map((r: any) => r.name.as)).toEqual([
      "num_requests_running",
      "gpu_cache_usage_perc",
    ]);
    expect(mocks.byName("gpu-prometheus-adapter").inputs.values.prometheus).toEqual({
      url: "http://kps-prometheus.monitoring.svc",
      port: 9090,
    });
  });

  it("the cluster autoscaler: its IAM role through Pod Identity, the cluster's name and region, the 1.35 image", () => {
    expect(mocks.byName("gpu-cluster-autoscaler-identity").inputs).toEqual({
      clusterName: "gpu",
      namespace: "kube-system",
      serviceAccount: "cluster-autoscaler",
      roleArn: "arn:aws:iam::123456789012:role/gpu-cluster-autoscaler-role",
    });
    expect(JSON.parse(mocks.byName("gpu-cluster-autoscaler-policy").inputs.policy)).toEqual(
      helm.clusterAutoscalerPolicy(),
    );
    const values = mocks.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name === "gpu-cluster-autoscaler")!
      .inputs.values;
    expect(values).toEqual({
      cloudProvider: "aws",
      awsRegion: "us-east-1",
      autoDiscovery: { clusterName: "gpu" },
      image: { tag: "v1.35.0" },
      rbac: { serviceAccount: { create: true, name: "cluster-autoscaler" } },
      extraArgs: { expander: "least-waste", "balance-similar-node-groups": true, "scale-down-unneeded-time": "10m" },
    });
  });

  it("the NGC key and Grafana password are secrets in Secrets only", () => {
    expect(resourcesRevealing(mocks, NGC_KEY)).toEqual([]);
    expect(resourcesRevealing(mocks, GRAFANA_PASSWORD)).toEqual([]);
    expect(isSecretInput(mocks.byName("nim-ngc-api-key").inputs.stringData)).toBe(true);
    expect(secretValue(mocks.byName("nim-ngc-api-key").inputs.stringData)).toEqual({ NGC_API_KEY: NGC_KEY });
    const pull = mocks.byName("nim-nvcr-pull").inputs;
    expect(pull.type).toBe("kubernetes.io/dockerconfigjson");
    expect(JSON.parse(secretValue(pull.stringData)[".dockerconfigjson"]).auths["nvcr.io"].password).toBe(NGC_KEY);
    expect(secretValue(mocks.byName("gpu-grafana-admin").inputs.stringData)).toEqual({
      "admin-user": "admin",
      "admin-password": GRAFANA_PASSWORD,
    });
  });

  it("the service's objects are exactly the rendered ones", () => {
    const group = fk.resolveNodeGroup({ name: "gpu", maxSize: 2 });
    const { planned } = fk.planKubernetesService(
      {
        name: "llm",
        model: "meta/llama-3.1-8b-instruct",
        nodeGroup: "gpu",
        maxModelLen: 8192,
        autoscaling: { minReplicas: 1, maxReplicas: 2, targetAverageValue: 4 },
      },
      group,
    );
    const o = nim.renderNimObjects({
      planned,
      group,
      namespace: "nim",
      cache: { mode: "per-replica", storageClassName: "gp3", sizeGiB: 100 },
    });
    const sts = mocks.ofType("kubernetes:apps/v1:StatefulSet")[0].inputs;
    expect(sts).toEqual(o.workload.object);
    expect(mocks.ofType("kubernetes:core/v1:Service")[0].inputs).toEqual(o.service);
    expect(mocks.ofType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")[0].inputs).toEqual(o.autoscaler);
    expect(mocks.byName("llm-monitor").inputs).toEqual(o.serviceMonitor);
    expect(mocks.byName("llm-alerts").inputs).toEqual(alerts.renderPrometheusRule(planned, "nim"));
    expect(JSON.parse(mocks.byName("llm-ledger").inputs.data["ledger.json"])).toEqual(planned.nodeLedger);
    expect([
      service.endpoint,
      service.tensorParallel,
      service.reservedMiBPerGpu,
      service.replicas,
      service.maxReplicas,
    ]).toEqual(["http://llm.nim.svc.cluster.local:8000", 1, 20334, 1, 2]);
  });

  it("every registered Kubernetes object passes the official schema strictly, and the cross-object checks", () => {
    const objects = mocks.registrations
      .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh"))
      .map((r) => JSON.parse(JSON.stringify(r.inputs, (_k, v) => (isSecretInput(v) ? v.value : v))));
    expect(
      objects
        .filter((o) => !o.apiVersion.startsWith("monitoring.coreos.com/"))
        .map((o) => [`${o.kind} ${o.metadata.name}`, strictSchemaProblems(o)]),
    ).toEqual(
      objects
        .filter((o) => !o.apiVersion.startsWith("monitoring.coreos.com/"))
        .map((o) => [`${o.kind} ${o.metadata.name}`, []]),
    );
    expect(objects.length).toBe(12);
    expect(checks.checkObjects(objects)).toEqual([]);
  });
});

describe("a misfit is refused before anything registers", () => {
  const cluster = () => ({
    provider: undefined as any,
    nodeGroups: [fk.resolveNodeGroup({ name: "gpu", maxSize: 2 })],
    storageClassName: "gp3",
    ready: [],
  });
  const namespace = { name: "nim", ready: [] };

  it("a 70B model on the g5.xlarge node group", () => {
    const before = mocks.registrations.length;
    expect(
      () => new kc.KubernetesNimService("big", { cluster: cluster(), namespace, model: "meta/llama-3.1-70b-instruct" }),
    ).toThrow(
      'KubernetesNimService "big": 2 mandatory GPU finding(s); nothing was created:\n[model-fits-reservation] KubernetesNimService "big" needs 177,073 MiB per GPU (weights 134,571 + overhead 1,542 + KV for 131,072 tokens 40,960) but its reservation is 20,334 MiB: over by 156,739 MiB; give it more GPUs, a lower precision or a larger GPU\n[kubernetes-model-cache-size] KubernetesNimService "big" has a 100 GiB model cache, smaller than the 132 GiB of meta/llama-3.1-70b-instruct weights at bf16; set its cache size to at least 132 GiB',
    );
    expect(mocks.registrations.length).toBe(before);
  });

  it("an HPA maxReplicas the node group cannot hold", () => {
    expect(
      () =>
        new kc.KubernetesNimService("llm2", {
          cluster: cluster(),
          namespace,
          model: "meta/llama-3.1-8b-instruct",
          maxModelLen: 8192,
          autoscaling: { minReplicas: 1, maxReplicas: 3, targetAverageValue: 4 },
        }),
    ).toThrow(
      'KubernetesNimService "llm2": 1 mandatory GPU finding(s); nothing was created:\n[kubernetes-hpa-max-schedulable] KubernetesNimService "llm2" has HPA maxReplicas 3 × 1 GPU, but node group "gpu" (maxSize 2 × 1 A10G per node) can schedule 2; raise maxSize to 3 or lower maxReplicas to 2',
    );
  });

  it("bad args name the key", () => {
    expect(
      () =>
        new kc.EksGpuCluster("bad", {
          nodeGroups: [{ name: "gpu", instanceType: "m5.large" }],
          apiPublicAccessCidrs: ["0.0.0.0/0", "10.0.0.1"],
          grafanaAdminPassword: "x",
        }),
    ).toThrow(
      'EksGpuCluster "bad": nodeGroups[0].instanceType: "m5.large" is not a catalog GPU instance type; known: g4dn.xlarge, g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge, g6.xlarge, g6e.xlarge, p3.2xlarge, p4d.24xlarge, p4de.24xlarge, p5.48xlarge; apiPublicAccessCidrs[0]: 0.0.0.0/0 opens the Kubernetes API to the internet; list the runner\'s address instead; apiPublicAccessCidrs[1]: "10.0.0.1" is not an IPv4 CIDR such as 203.0.113.7/32',
    );
    expect(
      () =>
        new kc.KubernetesNimService("llm3", {
          cluster: cluster(),
          namespace,
          model: "meta/llama-3.1-8b-instruct",
          maxModelLen: 8192,
          cache: { sizeGiB: 10 },
        }),
    ).toThrow(
      'KubernetesNimService "llm3": 1 mandatory GPU finding(s); nothing was created:\n[kubernetes-model-cache-size] KubernetesNimService "llm3" has a 10 GiB model cache, smaller than the 15 GiB of meta/llama-3.1-8b-instruct weights at bf16; set its cache size to at least 15 GiB',
    );
  });
});
