/** Every service has GPUs: one the planner could not place runs nowhere, so `pulumi up` refuses its host. */
import { CHECKS, checkPlaced } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const servicesPlaced = ledgerPolicy({
  name: CHECKS.placed,
  description:
    "Every service in a host ledger must hold GPUs: a service without explicit gpus that the planner could not place on any GPU with enough headroom cannot start.",
  enforcementLevel: "mandatory",
  subject: "the placement of the host's services",
  check: checkPlaced,
});
