/**
 * Per-GPU budget: the sum of reservations on a device — plus, when engines share it, what each vLLM
 * engine keeps outside its reservation (CUDA context, graph pool) — must not exceed its usable memory,
 * or a container fails to start (or is OOM-killed) on the host.
 */
import { CHECKS, checkGpuBudget } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const gpuMemoryBudget = ledgerPolicy({
  name: CHECKS.gpuBudget,
  description:
    "The reservations of the services pinned to each GPU, plus what each engine keeps outside its reservation when engines share the GPU, must fit the GPU's usable memory (its memory after the safety margin).",
  enforcementLevel: "mandatory",
  subject: "the GPU budget",
  check: checkGpuBudget,
});
