/** vLLM takes gpu_memory_utilization × total memory at start whatever the model needs; two such engines on one GPU must fit together. */
import { CHECKS, checkFixedFractions } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const fixedFractionEnginesFit = ledgerPolicy({
  name: CHECKS.fixedFractions,
  description:
    "Engines that reserve a fixed fraction of a GPU (vLLM gpu_memory_utilization) must together stay within the GPU's usable share.",
  enforcementLevel: "mandatory",
  subject: "fixed-fraction reservations",
  check: checkFixedFractions,
});
