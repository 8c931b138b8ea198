/**
 * GpuHost: a GPU machine ready for NIM containers — an EC2 instance from the catalog, or an existing
 * machine reached over SSH. It prepares the host (driver, NVIDIA Container Toolkit, data volume),
 * verifies that nvidia-smi reports the GPUs the catalog promises, and writes the host's GPU ledger,
 * which the policy pack reads and the container preflight obeys.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  DLAMI_SSM_PARAMETER,
  HostConfig,
  PlannedHost,
  PlannedService,
  Problems,
  ServiceSettings,
  checkHostLedger,
  findInstanceType,
  hostShape,
  planHost,
  serializeLedger,
  validateHostSettings,
  validateSafetyMargin,
  validateServiceSettings,
} from "../fleet";
import { enforceFindings } from "./fit";
import type { GpuHostRef, GpuInventoryEntry } from "./hostRef";
import { renderCloudInit } from "../renderers/host/cloudInit";
import { renderLedgerRemoveScript, renderLedgerWriteScript } from "../renderers/host/ledgerFile";
import { renderProvisionScript } from "../renderers/host/provision";
import { renderGpuVerifyScript } from "../renderers/host/verifyGpus";
import { DEFAULT_HOST_PATHS, HostPaths } from "../renderers/shell";

/** An existing GPU machine reached over SSH. */
export interface ExistingMachineArgs {
  /** IPv4 address or host name Pulumi's SSH commands connect to (also the services' private address). */
  readonly address: string;
  /** Linux user with passwordless sudo. */
  readonly user: string;
  /** SSH port. Default: 22. */
  readonly port?: number;
  /** Catalog GPU model of every device, e.g. `A10G`, `A100-SXM4-80GB`. */
  readonly gpu: string;
  readonly gpuCount: number;
  /** A dedicated directory for model caches and databases (never /, /tmp, /root, ...). Default: /data. */
  readonly dataDir?: string;
}

/**
 * A GPU host: an EC2 instance of a catalog type or an existing machine, and the model services it runs.
 * Plain values, not Inputs: the host estimates, places and checks its services when it is constructed.
 */
export interface GpuHostArgs {
  /** EC2 instance type from the catalog (`g5.xlarge`, `p4d.24xlarge`, ...). Set this or `existing`. */
  readonly instanceType?: string;
  /** An existing machine reached over SSH. Set this or `instanceType`. */
  readonly existing?: ExistingMachineArgs;
  /**
   * The model services this host runs: each is estimated with the fleet estimator, placed on GPUs (those
   * without `gpus` by the planner) and checked against its reservation before anything is created.
   * Default: none.
   */
  readonly services?: readonly ServiceSettings[];
  /** Share of every GPU's memory kept free of reservations. Default: 0.05. */
  readonly safetyMarginFraction?: number;
  /** What containers bind: "private" (the private address) or a specific IPv4 address. Default: "private". */
  readonly bindAddress?: string;
  /** EC2 only: IPv4 CIDRs allowed to reach SSH; none means SSH over the private address. Default: none. */
  readonly sshAllowedCidrs?: readonly string[];
  /** EC2 only: root volume size. Default: 100 GiB. */
  readonly rootVolumeSizeGiB?: number;
  /** EC2 only: data volume size (model caches, databases). Default: 500 GiB. */
  readonly dataVolumeSizeGiB?: number;
  /** Private key Pulumi's SSH commands authenticate with. Pass a secret. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** EC2 only: the public half, registered as the instance's key pair. */
  readonly sshPublicKey?: pulumi.Input<string>;
  /** EC2 only: AMI to boot. Default: the latest Deep Learning Base OSS NVIDIA driver GPU AMI (Ubuntu 22.04) from its public SSM parameter. */
  readonly amiId?: pulumi.Input<string>;
  /** EC2 only: zone of the instance and its data volume; both must share it. Default: `<aws:region>a`. */
  readonly availabilityZone?: string;
  /** EC2 only: subnet in that zone. Default: the zone's default subnet of the default VPC. */
  readonly subnetId?: pulumi.Input<string>;
  /** EC2 only: VPC of the security group. Default: the default VPC. */
  readonly vpcId?: pulumi.Input<string>;
  /** EC2 only: keep the data volume (model caches, databases) when the stack is destroyed. Default: true. */
  readonly retainDataVolumeOnDelete?: boolean;
  /** EC2 only: the AMI's login user. Default: "ubuntu". */
  readonly sshUser?: string;
  /** Where gpu-fleet keeps its files on the host. Default: /etc/gpu-fleet and the data directory (/data). */
  readonly paths?: HostPaths;
  readonly tags?: Readonly<Record<string, string>>;
}

const SSH_PORT = 22;

export class GpuHost extends pulumi.ComponentResource implements GpuHostRef {
  /** The host's name (the component's): it names the ledger, the metrics' `host` label and the services' host. */
  public readonly name: string;
  /** SSH connection other components run their commands over (secret: it holds the private key). */
  public readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  /** The address services on this host are reached at from inside the network. */
  public readonly privateAddress: pulumi.Output<string>;
  /** Every GPU of the host, as planned and verified. */
  public readonly gpus: GpuInventoryEntry[];
  /** The host's services with their GPUs, tensor parallelism, estimate and reservation. */
  public readonly services: readonly PlannedService[];
  /** The host's plan: GPUs, per-GPU ledger (the document written to the host) and settings. */
  public readonly plan: PlannedHost;
  public readonly paths: HostPaths;
  public readonly bindAddress: string;
  public readonly sshUser: string;
  public readonly sshPort: number;
  /** Resources a workload must wait for: the host is prepared, its GPUs verified, its ledger written. */
  public readonly ready: pulumi.Resource[];
  public readonly instanceId: pulumi.Output<string> | undefined;
  public readonly dataVolumeId: pulumi.Output<string> | undefined;

  constructor(name: string, args: GpuHostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and plan before super(): a rejected component registers nothing, not even itself.
    const where = `GpuHost "${name}"`;
    const { config, services, margin } = validateGpuHostArgs(name, args);
    const planned = planHost(config, hostShape(config), services, margin);
    // The fit guarantee: the checks run on the very ledger this host writes, whoever built the args.
    const ledgerDocument = planned.host.ledgerDocument;
    const argOf = (service: string) => {
      const i = services.findIndex((s) => s.name === service);
      return i >= 0 ? `services[${i}]` : undefined;
    };
    const warnings = enforceFindings(where, checkHostLedger(ledgerDocument), argOf);
    super("gpu-fleet:index:GpuHost", name, {}, opts);
    for (const w of warnings) pulumi.log.warn(w, this);
    const plan = planned.host;
    this.name = name;
    this.plan = plan;
    this.services = planned.services;
    this.bindAddress = config.bindAddress;
    // An existing machine keeps its data where its config says; an EC2 host mounts its volume at /data.
    this.paths = args.paths ?? {
      ...DEFAULT_HOST_PATHS,
      dataDir: config.existing?.dataDir ?? DEFAULT_HOST_PATHS.dataDir,
    };
    this.gpus = plan.ledger.map((g) => ({ index: g.index, model: g.model, memoryMiB: g.memoryMiB }));
    this.sshUser = config.existing?.user ?? args.sshUser ?? "ubuntu";
    this.sshPort = config.existing?.port ?? SSH_PORT;

    let dependsOn: pulumi.Resource[] = [];
    if (plan.kind === "ec2") {
      const ec2 = this.createEc2Host(name, plan, args);
      this.connection = pulumi.secret({
        host: config.sshAllowedCidrs.length > 0 ? ec2.instance.publicIp : ec2.instance.privateIp,
        port: SSH_PORT,
        user: this.sshUser,
        privateKey: args.sshPrivateKey,
        // A new instance takes minutes to accept SSH: retry for up to 10 minutes.
        dialErrorLimit: 60,
        perDialTimeout: 10,
      }) as pulumi.Output<command.types.input.remote.ConnectionArgs>;
      this.privateAddress = ec2.instance.privateIp;
      this.instanceId = ec2.instance.id;
      this.dataVolumeId = ec2.dataVolume.id;
      dependsOn = [ec2.attachment];
    } else {
      const machine = config.existing!;
      this.connection = pulumi.secret({
        host: machine.address,
        port: machine.port,
        user: machine.user,
        privateKey: args.sshPrivateKey,
      }) as pulumi.Output<command.types.input.remote.ConnectionArgs>;
      this.privateAddress = pulumi.output(machine.address);
      this.instanceId = undefined;
      this.dataVolumeId = undefined;
    }

    const scriptOptions = { paths: this.paths };
    const provision = new command.remote.Command(
      `${name}-provision`,
      {
        connection: this.connection,
        create: renderProvisionScript(
          { host: plan.name, dataVolume: plan.kind === "ec2" ? "ebs" : "directory" },
          scriptOptions,
        ),
        // Re-prepare when the machine behind the host changes.
        triggers: this.instanceId ? [this.instanceId] : [],
      },
      { parent: this, dependsOn },
    );
    const verify = new command.remote.Command(
      `${name}-verify-gpus`,
      {
        connection: this.connection,
        create: renderGpuVerifyScript(
          {
            host: plan.name,
            nvidiaSmiName: plan.gpu.nvidiaSmiName,
            gpuCount: plan.gpuCount,
            memoryMiB: plan.gpu.memoryMiB,
          },
          scriptOptions,
        ),
        triggers: this.instanceId ? [this.instanceId] : [],
      },
      { parent: this, dependsOn: [provision] },
    );
    // The ledger is a plain input of a real resource so the policy pack can read it.
    const ledger = new command.remote.Command(
      `${name}-ledger`,
      {
        connection: this.connection,
        create: renderLedgerWriteScript(plan.name, scriptOptions),
        delete: renderLedgerRemoveScript(plan.name, scriptOptions),
        stdin: serializeLedger(ledgerDocument),
        triggers: this.instanceId ? [this.instanceId] : [],
      },
      { parent: this, dependsOn: [verify] },
    );
    this.ready = [provision, verify, ledger];

    this.registerOutputs({
      connection: this.connection,
      privateAddress: this.privateAddress,
      gpus: this.gpus,
      instanceId: this.instanceId,
      dataVolumeId: this.dataVolumeId,
    });
  }

  private createEc2Host(name: string, plan: PlannedHost, args: GpuHostArgs) {
    const type = findInstanceType(plan.instanceType!)!;
    const tags = { ...args.tags, "gpu-fleet:host": plan.name };
    const region = aws.config.region;
    const availabilityZone = args.availabilityZone ?? `${region}a`;

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        description: `gpu-fleet host ${plan.name}: SSH from the allowed CIDRs only; service ports are bound privately`,
        vpcId: args.vpcId,
        ingress: plan.config.sshAllowedCidrs.length
          ? [
              {
                description: "SSH",
                protocol: "tcp",
                fromPort: SSH_PORT,
                toPort: SSH_PORT,
                cidrBlocks: [...plan.config.sshAllowedCidrs],
              },
            ]
          : [],
        // Outbound: image pulls from nvcr.io and model downloads from NGC.
        egress: [{ description: "all outbound", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
        tags,
      },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `gpu-fleet host ${plan.name}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      { parent: this },
    );
    // Session Manager access, so operators reach the host without opening SSH to the internet.
    new aws.iam.RolePolicyAttachment(
      `${name}-ssm-core`,
      { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
      { parent: this },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent: this });
    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { publicKey: args.sshPublicKey!, tags }, { parent: this });
    const ami = args.amiId ?? aws.ssm.getParameterOutput({ name: DLAMI_SSM_PARAMETER }, { parent: this }).value;

    const instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami,
        instanceType: type.name,
        availabilityZone,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [securityGroup.id],
        iamInstanceProfile: profile.name,
        keyName: keyPair.keyName,
        // IMDSv2 only; hop limit 2 lets containers on the host reach the metadata service.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
        rootBlockDevice: {
          volumeSize: plan.config.rootVolumeSizeGiB,
          volumeType: "gp3",
          encrypted: true,
          deleteOnTermination: true,
        },
        userData: renderCloudInit({ host: plan.name, gpuModel: plan.gpu.name, gpuCount: plan.gpuCount }),
        userDataReplaceOnChange: true,
        tags: { ...tags, Name: `gpu-fleet-${plan.name}` },
      },
      // A new AMI release must not replace a running GPU host on the next `pulumi up`.
      { parent: this, ignoreChanges: args.amiId ? [] : ["ami"] },
    );
    // Model caches and databases live on their own volume: it outlives instance replacement.
    const dataVolume = new aws.ebs.Volume(
      `${name}-data`,
      {
        availabilityZone,
        size: plan.config.dataVolumeSizeGiB,
        type: "gp3",
        encrypted: true,
        tags: { ...tags, Name: `gpu-fleet-${plan.name}-data` },
      },
      { parent: this, retainOnDelete: args.retainDataVolumeOnDelete ?? true },
    );
    const attachment = new aws.ec2.VolumeAttachment(
      `${name}-data-attachment`,
      { deviceName: "/dev/sdf", instanceId: instance.id, volumeId: dataVolume.id, stopInstanceBeforeDetaching: true },
      // A volume attaches to one instance at a time: on replacement, detach (stopping the old
      // instance first, so the filesystem is clean) before attaching to the new one.
      { parent: this, deleteBeforeReplace: true },
    );
    return { instance, dataVolume, attachment };
  }
}

/**
 * Exact, early errors for arguments that cannot make a host, every problem at once and keyed by the arg
 * (`services[1].gpus[0]: device 3 does not exist ...`). The knobs are the fleet's own validators: the
 * stack config reports the same problems under `gpu-fleet:hosts[i]` and `gpu-fleet:services[j]`.
 */
export function validateGpuHostArgs(
  name: string,
  args: GpuHostArgs,
): { config: HostConfig; services: ServiceSettings[]; margin: number } {
  const where = `GpuHost "${name}"`;
  const p = new Problems();
  const { instanceType, existing, sshAllowedCidrs, rootVolumeSizeGiB, dataVolumeSizeGiB, bindAddress } = args;
  const config = validateHostSettings(
    p,
    "",
    { name, instanceType, existing, sshAllowedCidrs, rootVolumeSizeGiB, dataVolumeSizeGiB, bindAddress },
    { allowAuto: false },
  );
  const services: ServiceSettings[] = [];
  const list = args.services ?? [];
  if (!Array.isArray(list)) p.add("services", `${JSON.stringify(list)} is not allowed; expected a list of services`);
  (Array.isArray(list) ? list : []).forEach((raw, i) => {
    const service = validateServiceSettings(p, `services[${i}]`, raw, config);
    if (!service) return;
    const sameName = services.find((o) => o.name === service.name);
    const samePort = service.port !== undefined && services.find((o) => o.port === service.port);
    if (sameName)
      p.add(`services[${i}].name`, `duplicate service name "${service.name}"; service names must be unique`);
    else if (samePort)
      p.add(`services[${i}].port`, `port ${service.port} is already used by service "${samePort.name}"`);
    else services.push(service);
  });
  const margin = validateSafetyMargin(p, "safetyMarginFraction", args.safetyMarginFraction);
  if (config?.instanceType !== undefined && args.sshPublicKey === undefined) {
    p.add("sshPublicKey", "is required for an EC2 host; it is registered as the instance's key pair");
  }
  if (config?.existing && (args.amiId ?? args.subnetId ?? args.availabilityZone ?? args.vpcId) !== undefined) {
    p.add(
      "existing",
      "amiId, subnetId, vpcId and availabilityZone apply to EC2 hosts only; this is an existing machine",
    );
  }
  if (p.list.length > 0 || !config) {
    throw new pulumi.ResourceError(`${where}: ${p.list.join(`\n${where}: `)}`, undefined);
  }
  return { config, services, margin };
}
