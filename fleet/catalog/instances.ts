/**
 * EC2 GPU instance types. Prices: us-east-1 Linux on-demand from the instances.vantage.sh snapshot of
 * 2026-01-21 (via github.com/tsaol/aws-gpu data/all_gpu_instances.js); interconnect from
 * gist.github.com/shashankprasanna/10ebe6dc1ba1d8d93db17da4e2cc890e. Collected in shared/data/instances.json.
 */
import { GpuModelName } from "./gpus";

/** How the GPUs of one machine talk to each other; tensor parallelism wants NVLink/NVSwitch. */
export type Interconnect = "single" | "pcie" | "nvswitch";

export interface InstanceType {
  readonly name: string;
  readonly gpu: GpuModelName;
  readonly gpuCount: number;
  readonly interconnect: Interconnect;
  readonly vcpu: number;
  readonly ramGiB: number;
  readonly hourlyUsd: number;
  /** Whether AWS's Deep Learning Base OSS NVIDIA driver GPU AMI supports it (Volta does not). */
  readonly baseOssDlami: boolean;
  readonly source: string;
}

const VANTAGE = "instances.vantage.sh snapshot 2026-01-21 (github.com/tsaol/aws-gpu data/all_gpu_instances.js)";
const INTERCONNECT = "gist.github.com/shashankprasanna/10ebe6dc1ba1d8d93db17da4e2cc890e";

function instance(
  name: string,
  gpu: GpuModelName,
  gpuCount: number,
  interconnect: Interconnect,
  vcpu: number,
  ramGiB: number,
  hourlyUsd: number,
  baseOssDlami = true,
): InstanceType {
  const source = interconnect === "single" ? VANTAGE : `${VANTAGE}; interconnect: ${INTERCONNECT}`;
  return { name, gpu, gpuCount, interconnect, vcpu, ramGiB, hourlyUsd, baseOssDlami, source };
}

export const INSTANCE_TYPES: readonly InstanceType[] = [
  instance("g4dn.xlarge", "T4", 1, "single", 4, 16, 0.526),
  instance("g5.xlarge", "A10G", 1, "single", 4, 16, 1.006),
  instance("g5.2xlarge", "A10G", 1, "single", 8, 32, 1.212),
  instance("g5.12xlarge", "A10G", 4, "pcie", 48, 192, 5.672),
  instance("g5.48xlarge", "A10G", 8, "pcie", 192, 768, 16.288),
  instance("g6.xlarge", "L4", 1, "single", 4, 16, 0.8048),
  instance("g6e.xlarge", "L40S", 1, "single", 4, 32, 1.861),
  instance("p3.2xlarge", "V100-SXM2-16GB", 1, "single", 8, 61, 3.06, false),
  instance("p4d.24xlarge", "A100-SXM4-40GB", 8, "nvswitch", 96, 1152, 21.957642),
  instance("p4de.24xlarge", "A100-SXM4-80GB", 8, "nvswitch", 96, 1152, 27.44705),
  instance("p5.48xlarge", "H100-SXM5-80GB", 8, "nvswitch", 192, 2048, 55.04),
];

/** The one region the catalog's prices are for (the vantage snapshot above). */
export const PRICE_REGION = "us-east-1";

/**
 * AWS region names: partition prefix, optional GovCloud/ISO marker, direction, number (us-east-1,
 * eu-central-2, ap-southeast-5, us-gov-west-1, il-central-1, mx-central-1). Source: the region list of
 * docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html.
 */
const AWS_REGION_NAME =
  /^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/**
 * What the plan can say about prices for the stack's `aws:region` (`region` undefined when neither
 * aws:region nor AWS_REGION / AWS_DEFAULT_REGION sets it, as the AWS provider reads them). A fleet of
 * EC2 hosts needs a region to deploy at all: a missing or malformed one is a problem. Another region
 * than PRICE_REGION gets a note: its on-demand prices differ, and the catalog has only us-east-1's.
 */
export function regionPricing(
  region: string | undefined,
  hasEc2Hosts: boolean,
): { readonly problem?: string; readonly note?: string } {
  if (region === undefined || region === "") {
    return hasEc2Hosts
      ? {
          problem: `aws:region: is not set; EC2 hosts need a region (pulumi config set aws:region ${PRICE_REGION}); the catalog's prices are ${PRICE_REGION} on-demand`,
        }
      : {};
  }
  if (!AWS_REGION_NAME.test(region))
    return {
      problem: `aws:region: "${region}" is not an AWS region name; expected one such as ${PRICE_REGION} or eu-west-1`,
    };
  if (region === PRICE_REGION || !hasEc2Hosts) return {};
  return {
    note: `prices are ${PRICE_REGION} on-demand (the catalog's only region); aws:region is ${region}, where EC2 on-demand prices differ`,
  };
}

export function findInstanceType(name: string): InstanceType | undefined {
  return INSTANCE_TYPES.find((t) => t.name === name);
}

/**
 * Public SSM parameter of the Deep Learning Base OSS NVIDIA Driver GPU AMI (Ubuntu 22.04): driver,
 * CUDA, Docker and the NVIDIA Container Toolkit preinstalled.
 * Source: docs.aws.amazon.com/dlami/latest/devguide/find-dlami-id.html (format); the name as used in
 * public CDK/Terraform code (shared/data/instances.json notes the doc example omits "-gpu-").
 */
export const DLAMI_SSM_PARAMETER =
  "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id";
