/**
 * EksGpuCluster: an EKS cluster with GPU managed node groups on the NVIDIA AL2023 AMI (driver and
 * container toolkit come with the AMI), tainted so only GPU pods land there, plus what GPU pods need on
 * the cluster: the NVIDIA device plugin, the EBS CSI driver with a gp3 StorageClass for model caches,
 * optionally an encrypted EFS file system with the EFS CSI driver for shared (ReadWriteMany) caches,
 * and monitoring (kube-prometheus-stack, dcgm-exporter, prometheus-adapter with the HPAs' rules).
 * Thin: node group facts and chart values come from fleet/kubernetes.ts and renderers/kubernetes/helm.ts.
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Problems } from "../../fleet/config";
import { NodeGroupPlan, NodeGroupSettings, resolveNodeGroup, validateEksClusterSettings } from "../../fleet/kubernetes";
import {
  CHARTS,
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  GRAFANA_ADMIN_SECRET,
  HelmChart,
  MONITORING_NAMESPACE,
  clusterAutoscalerPolicy,
  clusterAutoscalerValues,
  dcgmExporterValues,
  devicePluginNodeLabels,
  devicePluginValues,
  kubePrometheusStackValues,
  prometheusAdapterValues,
} from "../../renderers/kubernetes/helm";
import { KUBERNETES_VERSION, NIM_UID } from "../../renderers/kubernetes/nim";

/** The EKS AMI type with the NVIDIA driver for x86 GPU instances (aws.eks.NodeGroup amiType). */
export const NVIDIA_AMI_TYPE = "AL2023_x86_64_NVIDIA";
export const MODEL_CACHE_STORAGE_CLASS = "gp3";
/** The StorageClass of shared model caches: EFS access points on the cluster's file system. */
export const EFS_STORAGE_CLASS = "efs";
/** NFS, the only port an EFS mount target serves (EFS user guide, "Using VPC security groups"). */
export const NFS_PORT = 2049;
/** Where the access points of shared caches live on the file system. */
export const EFS_BASE_PATH = "/gpu-fleet/model-cache";

export interface EksGpuClusterArgs {
  /** The GPU node groups, at least one: g5.xlarge, 1-2 nodes by default (fleet/kubernetes.ts NodeGroupSettings). */
  readonly nodeGroups: readonly NodeGroupSettings[];
  /** EKS cluster name. Default: the component's name. */
  readonly clusterName?: string;
  /** Default: the current EKS version gpu-fleet is tested against (1.35). */
  readonly kubernetesVersion?: string;
  /** VPC and subnets; default the account's default VPC and its subnets. */
  readonly vpcId?: pulumi.Input<string>;
  /** Subnets for the nodes; private subnets keep the GPU nodes off the internet. Default: the cluster's. */
  readonly nodeSubnetIds?: pulumi.Input<string>[];
  readonly subnetIds?: pulumi.Input<string>[];
  /**
   * An encrypted EFS file system, a mount target in each node subnet (NFS from the nodes only), the
   * EFS CSI driver and the `efs` StorageClass, for services whose cache mode is `shared`. Needs vpcId
   * and nodeSubnetIds or subnetIds (one subnet per availability zone: EFS allows one mount target per
   * zone). The file system is kept when the stack is destroyed (retainOnDelete). Default false.
   */
  readonly sharedModelCache?: boolean;
  /**
   * CIDRs allowed to reach the Kubernetes API's public endpoint. Default none: the endpoint is private
   * only, and `pulumi up` must run inside the VPC. A runner outside it lists its own address here (/32).
   */
  readonly apiPublicAccessCidrs?: readonly string[];
  /** Grafana's admin password; kept in a Secret, never in Helm values. Pass a secret. */
  readonly grafanaAdminPassword: pulumi.Input<string>;
  /** Default 15. */
  readonly prometheusRetentionDays?: number;
  /** Default 50. */
  readonly prometheusStorageGiB?: number;
}

/** What a Kubernetes NIM service needs of a cluster, by interface: EksGpuCluster, or any other. */
export interface GpuClusterRef {
  readonly provider: k8s.Provider;
  readonly nodeGroups: readonly NodeGroupPlan[];
  readonly storageClassName: string;
  /** A ReadWriteMany storage class for shared model caches, when the cluster has one. */
  readonly sharedStorageClassName?: string;
  /** Resources to wait for before scheduling GPU pods (device plugin, CSI driver, monitoring CRDs). */
  readonly ready: pulumi.Resource[];
}

export function validateEksGpuClusterArgs(name: string, args: EksGpuClusterArgs): NodeGroupPlan[] {
  const where = `EksGpuCluster "${name}"`;
  const problems: string[] = [];
  const groups: NodeGroupPlan[] = [];
  if (!Array.isArray(args.nodeGroups) || args.nodeGroups.length === 0) {
    problems.push(
      'nodeGroups: expected at least one GPU node group such as { name: "gpu", instanceType: "g5.xlarge" }',
    );
  }
  (args.nodeGroups ?? []).forEach((g, i) => {
    try {
      groups.push(resolveNodeGroup(g, `nodeGroups[${i}]`));
    } catch (e) {
      problems.push(...((e as { problems?: string[] }).problems ?? [(e as Error).message]));
    }
    if ((args.nodeGroups ?? []).slice(0, i).some((o) => o.name === g.name)) {
      problems.push(`nodeGroups[${i}].name: "${g.name}" is used twice; node group names must be unique`);
    }
  });
  const cluster = new Problems();
  validateEksClusterSettings(cluster, "", args);
  problems.push(...cluster.list);
  for (const [key, value, min] of [
    ["prometheusRetentionDays", args.prometheusRetentionDays, 1],
    ["prometheusStorageGiB", args.prometheusStorageGiB, 10],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < min))
      problems.push(`${key}: ${JSON.stringify(value)} is not allowed; expected an integer >= ${min}`);
  }
  if (args.sharedModelCache) {
    if (args.vpcId === undefined)
      problems.push(
        "vpcId: is required with sharedModelCache; the EFS mount targets' security group is created in the cluster's VPC",
      );
    const subnets = args.nodeSubnetIds ?? args.subnetIds;
    if (subnets === undefined || subnets.length === 0)
      problems.push(
        "nodeSubnetIds: is required with sharedModelCache (or subnetIds); the EFS file system needs a mount target in each subnet the nodes run in, one per availability zone",
      );
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
  return groups;
}

function release(
  name: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  chart: HelmChart,
  namespace: string,
  values: Record<string, unknown>,
  dependsOn: pulumi.Resource[],
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name: chart.chart,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      namespace,
      values,
      // Wait for the release's pods, so GPU pods are scheduled only once the cluster can run them.
      skipAwait: false,
      timeout: 900,
      atomic: true,
      cleanupOnFail: true,
    },
    { parent, provider, dependsOn },
  );
}

export class EksGpuCluster extends pulumi.ComponentResource implements GpuClusterRef {
  public readonly cluster: eks.Cluster;
  public readonly nodeGroupResources: eks.ManagedNodeGroup[];
  public readonly provider: k8s.Provider;
  public readonly nodeGroups: readonly NodeGroupPlan[];
  public readonly storageClassName = MODEL_CACHE_STORAGE_CLASS;
  public readonly sharedStorageClassName?: string;
  /** The shared model cache's file system (kept on destroy), when sharedModelCache is set. */
  public readonly modelCacheFileSystem?: aws.efs.FileSystem;
  /** The cluster's kubeconfig (secret): `pulumi stack output kubeconfig --show-secrets > kubeconfig`. */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: EksGpuClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const groups = validateEksGpuClusterArgs(name, args);
    super("gpu-fleet:index:EksGpuCluster", name, {}, opts);
    this.nodeGroups = groups;
    const clusterName = args.clusterName ?? name;
    const publicCidrs = [...(args.apiPublicAccessCidrs ?? [])];

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      { parent: this },
    );
    // The three policies EKS requires of a node role (EKS user guide, "Amazon EKS node IAM role").
    const nodePolicies = [
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
      "AmazonEC2ContainerRegistryReadOnly",
    ].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` },
          { parent: this },
        ),
    );

    this.cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: clusterName,
        version: args.kubernetesVersion ?? KUBERNETES_VERSION,
        // Access entries, not the aws-auth ConfigMap; managed node groups register their role themselves.
        authenticationMode: eks.AuthenticationMode.Api,
        skipDefaultNodeGroup: true,
        // Managed node groups without a launch template carry the security group EKS creates for the
        // cluster, never the two pulumi-eks adds for self-managed nodes: skip those, so the cluster's
        // clusterSecurityGroupId output is the EKS-created group the GPU nodes are in.
        skipDefaultSecurityGroups: true,
        ...(args.vpcId ? { vpcId: args.vpcId } : {}),
        ...(args.subnetIds ? { subnetIds: args.subnetIds } : {}),
        endpointPrivateAccess: true,
        endpointPublicAccess: publicCidrs.length > 0,
        ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        tags: { "gpu-fleet:cluster": clusterName },
      },
      { parent: this },
    );

    this.nodeGroupResources = groups.map(
      (group) =>
        new eks.ManagedNodeGroup(
          `${name}-${group.name}`,
          {
            cluster: this.cluster,
            nodeGroupNamePrefix: `${clusterName}-${group.name}-`,
            nodeRole,
            amiType: NVIDIA_AMI_TYPE,
            instanceTypes: [group.instanceType.name],
            diskSize: group.diskSizeGiB,
            scalingConfig: { minSize: group.minSize, desiredSize: group.desiredSize, maxSize: group.maxSize },
            // The desired size moves with the load (an autoscaler), not with `pulumi up`.
            ignoreScalingChanges: true,
            labels: { ...group.labels, ...devicePluginNodeLabels(group) },
            taints: group.taints.map((t) => ({
              key: t.key,
              value: t.value,
              effect: { NoSchedule: "NO_SCHEDULE", PreferNoSchedule: "PREFER_NO_SCHEDULE", NoExecute: "NO_EXECUTE" }[
                t.effect
              ],
            })),
            ...(args.nodeSubnetIds ? { subnetIds: args.nodeSubnetIds } : {}),
          },
          { parent: this, dependsOn: nodePolicies },
        ),
    );

    // The kubeconfig is an output of the cluster; getKubeconfig() would be a provider call.
    this.kubeconfig = pulumi.secret(this.cluster.kubeconfigJson);
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );

    // EBS CSI driver, with its IAM role through EKS Pod Identity (no OIDC provider, no node-wide rights).
    const podIdentity = new aws.eks.Addon(
      `${name}-pod-identity-agent`,
      { clusterName, addonName: "eks-pod-identity-agent" },
      { parent: this, dependsOn: [this.cluster, ...this.nodeGroupResources] },
    );
    const ebsCsi = this.csiDriverAddon(name, clusterName, podIdentity, {
      suffix: "ebs-csi",
      addonName: "aws-ebs-csi-driver",
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
      serviceAccount: "ebs-csi-controller-sa",
    });
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-gp3`,
      {
        metadata: { name: MODEL_CACHE_STORAGE_CLASS },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true" },
        // Bind where the pod is scheduled: an EBS volume lives in one availability zone.
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Delete",
      },
      { parent: this, provider: this.provider, dependsOn: [ebsCsi] },
    );

    const sharedCache = args.sharedModelCache
      ? this.createSharedModelCache(name, clusterName, args, podIdentity)
      : undefined;
    this.modelCacheFileSystem = sharedCache?.fileSystem;
    this.sharedStorageClassName = sharedCache ? EFS_STORAGE_CLASS : undefined;

    const devicePlugin = release(
      `${name}-device-plugin`,
      this,
      this.provider,
      CHARTS.devicePlugin,
      "kube-system",
      devicePluginValues(groups),
      this.nodeGroupResources,
    );

    // The cluster autoscaler: what turns the HPA's maxReplicas into GPU nodes, up to the group's maxSize.
    const autoscalerRole = this.podIdentityRole(name, "cluster-autoscaler");
    const autoscalerPolicy = new aws.iam.RolePolicy(
      `${name}-cluster-autoscaler-policy`,
      { role: autoscalerRole.name, policy: JSON.stringify(clusterAutoscalerPolicy()) },
      { parent: this },
    );
    const autoscalerIdentity = new aws.eks.PodIdentityAssociation(
      `${name}-cluster-autoscaler-identity`,
      {
        clusterName,
        namespace: "kube-system",
        serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        roleArn: autoscalerRole.arn,
      },
      { parent: this, dependsOn: [podIdentity, autoscalerPolicy] },
    );
    const region = aws.config.region;
    if (!region) throw new Error(`EksGpuCluster "${name}": aws:region is not set; the cluster autoscaler needs it`);
    const autoscaler = release(
      `${name}-cluster-autoscaler`,
      this,
      this.provider,
      CHARTS.clusterAutoscaler,
      "kube-system",
      clusterAutoscalerValues(clusterName, region),
      [autoscalerIdentity, ...this.nodeGroupResources],
    );

    const monitoringNs = new k8s.core.v1.Namespace(
      `${name}-monitoring`,
      { metadata: { name: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/managed-by": "gpu-fleet" } } },
      { parent: this, provider: this.provider },
    );
    const grafanaAdmin = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: MONITORING_NAMESPACE },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(args.grafanaAdminPassword) },
      },
      { parent: this, provider: this.provider, dependsOn: [monitoringNs] },
    );
    const kubePrometheus = release(
      `${name}-kube-prometheus-stack`,
      this,
      this.provider,
      CHARTS.kubePrometheusStack,
      MONITORING_NAMESPACE,
      kubePrometheusStackValues({
        retentionDays: args.prometheusRetentionDays ?? 15,
        prometheusStorageGiB: args.prometheusStorageGiB ?? 50,
        storageClassName: MODEL_CACHE_STORAGE_CLASS,
      }),
      [grafanaAdmin, storageClass, ...this.nodeGroupResources],
    );
    // Both come after the operator's CRDs: dcgm-exporter ships a ServiceMonitor.
    const dcgm = release(
      `${name}-dcgm-exporter`,
      this,
      this.provider,
      CHARTS.dcgmExporter,
      MONITORING_NAMESPACE,
      dcgmExporterValues(),
      [kubePrometheus, devicePlugin],
    );
    const adapter = release(
      `${name}-prometheus-adapter`,
      this,
      this.provider,
      CHARTS.prometheusAdapter,
      MONITORING_NAMESPACE,
      prometheusAdapterValues(),
      [kubePrometheus],
    );
    this.ready = [
      devicePlugin,
      storageClass,
      ...(sharedCache ? [sharedCache.storageClass] : []),
      kubePrometheus,
      dcgm,
      adapter,
      autoscaler,
    ];
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      ...(sharedCache ? { modelCacheFileSystemId: sharedCache.fileSystem.id } : {}),
    });
  }

  /**
   * The shared model cache: an encrypted EFS file system with elastic throughput (a model download is
   * a burst of tens of GB, then near nothing; EFS user guide, "Throughput modes"), one mount target per
   * node subnet behind a security group that lets NFS in from the cluster's nodes only, the EFS CSI
   * driver, and a StorageClass whose volumes are access points owned by uid/gid 1000, the uid the
   * restricted NIM pods run as, so they can write without root.
   *
   * The driver is the EKS managed add-on, not its Helm chart, as for EBS: EKS picks versions tested
   * with the cluster's Kubernetes version, and the IAM role is bound in the same resource. Pod Identity
   * serves the controller (kubernetes-sigs/aws-efs-csi-driver PR 1254), which creates the access
   * points; the add-on binds no role to the node plugin (issue 1759), which needs none here: mounts are
   * allowed by the security group, not by IAM.
   */
  private createSharedModelCache(
    name: string,
    clusterName: string,
    args: EksGpuClusterArgs,
    podIdentity: pulumi.Resource,
  ): { fileSystem: aws.efs.FileSystem; storageClass: k8s.storage.v1.StorageClass } {
    const tags = { "gpu-fleet:cluster": clusterName };
    const fileSystem = new aws.efs.FileSystem(
      `${name}-model-cache`,
      {
        encrypted: true,
        performanceMode: "generalPurpose",
        throughputMode: "elastic",
        tags: { ...tags, Name: `${clusterName}-model-cache` },
      },
      // Downloaded models outlive the workload: `pulumi destroy` leaves the file system (and its data)
      // in the account; README "Deploy to EKS" says how to delete it deliberately.
      { parent: this, retainOnDelete: true },
    );
    const nfs = new aws.ec2.SecurityGroup(
      `${name}-model-cache-nfs`,
      {
        description: `gpu-fleet ${clusterName} model cache (EFS): NFS from the cluster's nodes only`,
        vpcId: args.vpcId,
        ingress: [
          {
            description: "NFS from the EKS nodes",
            protocol: "tcp",
            fromPort: NFS_PORT,
            toPort: NFS_PORT,
            securityGroups: [this.cluster.clusterSecurityGroupId],
          },
        ],
        // A mount target only answers; security groups are stateful, so it needs no outbound rule.
        egress: [],
        tags,
      },
      { parent: this },
    );
    const subnets = (args.nodeSubnetIds ?? args.subnetIds)!;
    const mountTargets = subnets.map(
      (subnetId, i) =>
        new aws.efs.MountTarget(
          `${name}-model-cache-${i}`,
          { fileSystemId: fileSystem.id, subnetId, securityGroups: [nfs.id] },
          { parent: this },
        ),
    );
    const driver = this.csiDriverAddon(name, clusterName, podIdentity, {
      suffix: "efs-csi",
      addonName: "aws-efs-csi-driver",
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
      serviceAccount: "efs-csi-controller-sa",
    });
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-efs`,
      {
        metadata: { name: EFS_STORAGE_CLASS },
        provisioner: "efs.csi.aws.com",
        // Dynamic provisioning: one access point per claim (aws-efs-csi-driver docs/parameters.md).
        parameters: {
          provisioningMode: "efs-ap",
          fileSystemId: fileSystem.id,
          directoryPerms: "700",
          uid: String(NIM_UID),
          gid: String(NIM_UID),
          basePath: EFS_BASE_PATH,
        },
        // Deleting a claim keeps its volume and access point: a model cache is never lost by accident.
        reclaimPolicy: "Retain",
        // EFS is regional: a volume is reachable from every zone with a mount target, so bind at once.
        volumeBindingMode: "Immediate",
      },
      { parent: this, provider: this.provider, dependsOn: [driver, ...mountTargets] },
    );
    return { fileSystem, storageClass };
  }

  /** An IAM role the EKS Pod Identity agent hands to one service account's pods (no OIDC provider). */
  private podIdentityRole(name: string, suffix: string): aws.iam.Role {
    return new aws.iam.Role(
      `${name}-${suffix}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "pods.eks.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession"],
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  /** A CSI driver as an EKS managed add-on, its controller given the AWS managed policy by Pod Identity. */
  private csiDriverAddon(
    name: string,
    clusterName: string,
    podIdentity: pulumi.Resource,
    driver: { suffix: string; addonName: string; policyArn: string; serviceAccount: string },
  ): aws.eks.Addon {
    const role = this.podIdentityRole(name, driver.suffix);
    const policy = new aws.iam.RolePolicyAttachment(
      `${name}-${driver.suffix}-policy`,
      { role: role.name, policyArn: driver.policyArn },
      { parent: this },
    );
    return new aws.eks.Addon(
      `${name}-${driver.suffix}`,
      {
        clusterName,
        addonName: driver.addonName,
        podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: driver.serviceAccount }],
      },
      { parent: this, dependsOn: [podIdentity, policy] },
    );
  }
}
