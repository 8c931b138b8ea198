/** Advisory by default (set enforcementLevel in policy config to make it mandatory): tensor-parallel all-reduce over PCIe limits throughput. */
import { CHECKS, checkPcieTensorParallel } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const tensorParallelOverPcie = ledgerPolicy({
  name: CHECKS.pcieTensorParallel,
  description: "Tensor parallelism across PCIe-only GPUs is slow; prefer NVLink/NVSwitch hosts for multi-GPU services.",
  enforcementLevel: "advisory",
  subject: "the GPU interconnect",
  check: checkPcieTensorParallel,
});
