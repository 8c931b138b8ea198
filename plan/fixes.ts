/**
 * How to fix each policy's violation, in the stack config's terms, for the plan's Markdown (a
 * reviewer reads what to change next to what is wrong). Messages that know a precise fix (the
 * maxModelLen that fits) carry it themselves; these say what to change in general.
 */
import { POLICIES } from "../policies/pack";

export const POLICY_FIXES: Readonly<Record<string, string>> = {
  "automatic-placement":
    "pin the service with `gpus:` to GPUs that have room, lower its `maxModelLen` or `gpuMemoryUtilization`, or add a host or a larger `instanceType`",
  "pinned-devices-exist":
    "pin the service to GPUs the host has (0 to gpuCount − 1), or choose an instance type with more GPUs",
  "tensor-parallel-matches-devices": "set `tensorParallel` to the number of GPUs in `gpus`, or list that many GPUs",
  "precision-supported-by-gpu":
    "choose a `precision` the GPU supports (bf16 needs compute capability 8.0, fp8 needs 8.9; fp16 runs everywhere), or a newer GPU",
  "gpu-memory-budget":
    "move a service to another GPU (`gpus:`), lower `gpuMemoryUtilization` or `maxModelLen`, or choose a GPU with more memory",
  "fixed-fraction-engines-fit":
    "give each vLLM engine its own GPU, or lower their `gpuMemoryUtilization` so that together they stay within the usable share",
  "model-fits-reservation":
    "lower `maxModelLen` to what the reservation holds, raise `gpuMemoryUtilization`, choose a smaller `precision`, or give the service more GPUs",
  "tensor-parallel-over-pcie":
    "run multi-GPU services on an NVLink/NVSwitch host (p4d, p4de, p5), or on one GPU with enough memory",
  "ec2-instance-imdsv2-required":
    "require IMDSv2 (`metadataOptions.httpTokens: required`, as GpuHost sets it) on every instance and launch template",
  "ebs-volumes-encrypted": "set `encrypted: true` on the root device, every block device and every EBS volume",
  "security-group-no-public-ingress":
    "list your own networks in the host's `sshAllowedCidrs`, never 0.0.0.0/0 or ::/0, and keep service ports private",
  "no-plaintext-secrets":
    "store the value with `pulumi config set --secret` and pass it as a secret; only the stdin of a *-ngc-key, *-password or *-secrets command, or a Kubernetes Secret's data, may carry it",
  "gpu-hosts-have-ledgers": "build GPU instances through GpuHost, which writes the host ledger the GPU checks read",
  "kubernetes-fleet-fits":
    "give the model a node group whose GPUs hold it (or more GPUs per pod, or a lower precision or maxModelLen), and keep replicas and HPA maxReplicas within the node group's maxSize",
  "maximum-hourly-cost":
    "choose fewer or smaller instances (or `instanceType: auto`), or raise `gpu-fleet:maxHourlyUsd` if the cost is intended",
};

/** The fix for a policy's violation; every policy of the pack has one (tested). */
export function policyFix(policy: string): string | undefined {
  return POLICY_FIXES[policy];
}

/** Names of the pack's policies without a fix (empty when the table is complete). */
export function policiesWithoutFix(): string[] {
  return POLICIES.map((p) => p.name).filter((n) => POLICY_FIXES[n] === undefined);
}
