/**
 * The shared model cache on EFS, under Pulumi mocks: the exact inputs of the file system (encrypted,
 * kept on destroy), its mount targets and NFS security group, the EFS CSI add-on with its Pod Identity
 * role, the efs-ap StorageClass, and the ReadWriteMany claim every pod of the service mounts.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, isSecretInput, settle, setupMocks } from "../helpers/pulumiMocks";
import { strictSchemaProblems } from "./strictSchema";

let mocks: MockRecorder;
let kc: typeof import("../../components/kubernetes");
let checks: typeof import("../../renderers/kubernetes/objectChecks");
let fk: typeof import("../../fleet/kubernetes");

const NODE_SG = "sg-0e1c5000000000001";
const SUBNETS = ["subnet-0a00000000000000a", "subnet-0b00000000000000b"];

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks({
    outputs: {
      "eks:index:Cluster": () => ({ kubeconfigJson: "{}", clusterSecurityGroupId: NODE_SG }),
      "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::123456789012:role/${name}` }),
    },
  });
  kc = await import("../../components/kubernetes");
  checks = await import("../../renderers/kubernetes/objectChecks");
  fk = await import("../../fleet/kubernetes");
});

describe("a cluster with a shared model cache and a 2-replica service on it", () => {
  let cluster: import("../../components/kubernetes").EksGpuCluster;

  beforeAll(async () => {
    cluster = new kc.EksGpuCluster("gpu", {
      nodeGroups: [{ name: "gpu", maxSize: 2 }],
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: SUBNETS,
      sharedModelCache: true,
      grafanaAdminPassword: pulumi.secret("grafana-TEST-password"),
    });
    const ns = new kc.NimNamespace("nim", { cluster, ngcApiKey: pulumi.secret("nvapi-TEST") });
    new kc.KubernetesNimService("llm", {
      cluster,
      namespace: ns,
      model: "meta/llama-3.1-8b-instruct",
      maxModelLen: 8192,
      replicas: 2,
      cache: { mode: "shared" },
    });
    await settle();
  });

  it("registers the EFS resources besides the cluster's", () => {
    const efs = mocks.registrations
      .map((r) => `${r.type} ${r.name}`)
      .filter((r) => /efs|model-cache|Deployment|PersistentVolumeClaim|StorageClass/.test(r))
      .sort();
    expect(efs).toEqual(
      [
        "aws:efs/fileSystem:FileSystem gpu-model-cache",
        "aws:ec2/securityGroup:SecurityGroup gpu-model-cache-nfs",
        "aws:efs/mountTarget:MountTarget gpu-model-cache-0",
        "aws:efs/mountTarget:MountTarget gpu-model-cache-1",
        "aws:iam/role:Role gpu-efs-csi-role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu-efs-csi-policy",
        "aws:eks/addon:Addon gpu-efs-csi",
        "kubernetes:storage.k8s.io/v1:StorageClass gpu-efs",
        "kubernetes:storage.k8s.io/v1:StorageClass gpu-gp3",
        "kubernetes:core/v1:PersistentVolumeClaim llm-cache",
        "kubernetes:apps/v1:Deployment llm",
      ].sort(),
    );
    expect(cluster.sharedStorageClassName).toBe("efs");
  });

  it("the file system: encrypted, elastic throughput, kept when the stack is destroyed", () => {
    expect(mocks.byName("gpu-model-cache").inputs).toEqual({
      encrypted: true,
      performanceMode: "generalPurpose",
      throughputMode: "elastic",
      tags: { "gpu-fleet:cluster": "gpu", Name: "gpu-model-cache" },
    });
    expect(mocks.optionsOf("gpu-model-cache").retainOnDelete).toBe(true);
  });

  it("NFS (TCP 2049) from the nodes' security group only, no other rule; one mount target per subnet", () => {
    expect(mocks.byName("gpu-model-cache-nfs").inputs).toEqual({
      description: "gpu-fleet gpu model cache (EFS): NFS from the cluster's nodes only",
      vpcId: "vpc-0123456789abcdef0",
      ingress: [
        {
          description: "NFS from the EKS nodes",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          securityGroups: [NODE_SG],
        },
      ],
      egress: [],
      tags: { "gpu-fleet:cluster": "gpu" },
    });
    expect(mocks.ofType("aws:efs/mountTarget:MountTarget").map((r) => r.inputs)).toEqual(
      SUBNETS.map((subnetId) => ({
        fileSystemId: "gpu-model-cache-id",
        subnetId,
        securityGroups: ["gpu-model-cache-nfs-id"],
      })),
    );
  });

  it("the EFS CSI add-on: the controller's role through Pod Identity, with the AWS managed policy", () => {
    expect(mocks.byName("gpu-efs-csi").inputs).toEqual({
      clusterName: "gpu",
      addonName: "aws-efs-csi-driver",
      podIdentityAssociations: [
        { roleArn: "arn:aws:iam::123456789012:role/gpu-efs-csi-role", serviceAccount: "efs-csi-controller-sa" },
      ],
    });
    expect(JSON.parse(mocks.byName("gpu-efs-csi-role").inputs.assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
      ],
    });
    expect(mocks.byName("gpu-efs-csi-policy").inputs).toEqual({
      role: "gpu-efs-csi-role-role",
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
    });
  });

  it("the StorageClass: access points owned by uid/gid 1000 on the file system, volumes retained", () => {
    const sc = mocks.byName("gpu-efs").inputs;
    expect(sc).toEqual({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "efs" },
      provisioner: "efs.csi.aws.com",
      parameters: {
        provisioningMode: "efs-ap",
        fileSystemId: "gpu-model-cache-id",
        directoryPerms: "700",
        uid: "1000",
        gid: "1000",
        basePath: "/gpu-fleet/model-cache",
      },
      reclaimPolicy: "Retain",
      volumeBindingMode: "Immediate",
    });
    expect(strictSchemaProblems(sc)).toEqual([]);
  });

  it("the service: one ReadWriteMany claim on it, mounted by every pod of a Deployment", () => {
    const pvc = mocks.byName("llm-cache").inputs;
    expect(pvc).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: "llm-cache",
        namespace: "nim",
        labels: {
          "app.kubernetes.io/name": "llm",
          "app.kubernetes.io/component": "model-server",
          "app.kubernetes.io/managed-by": "gpu-fleet",
        },
      },
      spec: { accessModes: ["ReadWriteMany"], storageClassName: "efs", resources: { requests: { storage: "100Gi" } } },
    });
    expect(strictSchemaProblems(pvc)).toEqual([]);
    const deployment = mocks.ofType("kubernetes:apps/v1:Deployment")[0].inputs;
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: "model-cache", persistentVolumeClaim: { claimName: "llm-cache" } },
    ]);
    expect(deployment.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: "model-cache", mountPath: "/opt/nim/.cache" },
    ]);
    expect(strictSchemaProblems(deployment)).toEqual([]);
    const objects = mocks.registrations
      .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh"))
      .map((r) => JSON.parse(JSON.stringify(r.inputs, (_k, v) => (isSecretInput(v) ? v.value : v))));
    expect(checks.checkObjects(objects)).toEqual([]);
  });
});

describe("a shared cache needs a file system", () => {
  it("the cluster needs the VPC and the nodes' subnets for its mount targets", () => {
    expect(
      () =>
        new kc.EksGpuCluster("nosubnets", {
          nodeGroups: [{ name: "gpu" }],
          sharedModelCache: true,
          grafanaAdminPassword: "x",
        }),
    ).toThrow(
      "EksGpuCluster \"nosubnets\": vpcId: is required with sharedModelCache; the EFS mount targets' security group is created in the cluster's VPC; nodeSubnetIds: is required with sharedModelCache (or subnetIds); the EFS file system needs a mount target in each subnet the nodes run in, one per availability zone",
    );
  });

  it("a shared-cache service on a cluster without one is refused, naming the arg", () => {
    const before = mocks.registrations.length;
    const cluster = {
      provider: undefined as any,
      nodeGroups: [fk.resolveNodeGroup({ name: "gpu" })],
      storageClassName: "gp3",
      ready: [],
    };
    expect(
      () =>
        new kc.KubernetesNimService("shared", {
          cluster,
          namespace: { name: "nim", ready: [] },
          model: "meta/llama-3.1-8b-instruct",
          maxModelLen: 8192,
          cache: { mode: "shared" },
        }),
    ).toThrow(
      'KubernetesNimService "shared": cache.mode: "shared" needs a ReadWriteMany storage class, and the cluster has none; create the cluster with sharedModelCache: true (an EFS file system) or set cache.storageClassName',
    );
    expect(mocks.registrations.length).toBe(before);
  });
});
