/** Tensor parallelism must equal the pinned devices: NIM shards the model over exactly the GPUs the container sees. */
import { CHECKS, checkTensorParallel } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const tensorParallelMatchesDevices = ledgerPolicy({
  name: CHECKS.tensorParallel,
  description: "A service's tensor parallelism must equal the number of GPUs it is pinned to.",
  enforcementLevel: "mandatory",
  subject: "tensor parallelism",
  check: checkTensorParallel,
});
