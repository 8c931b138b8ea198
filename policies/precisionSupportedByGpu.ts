/** Precision must be supported by the GPU: bf16 needs Ampere, fp8 needs Ada/Hopper, an fp8 KV cache Ampere. */
import { CHECKS, checkPrecision } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const precisionSupportedByGpu = ledgerPolicy({
  name: CHECKS.precision,
  description:
    "A service's precision must be supported by its GPU (no bf16 before compute capability 8.0, no fp8 before 8.9, no fp8 KV cache before 8.0).",
  enforcementLevel: "mandatory",
  subject: "precision support",
  check: checkPrecision,
});
