/** The model must fit its reservation: weights + overhead + the KV cache of one maxModelLen sequence, per GPU. */
import { CHECKS, checkModelFits } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const modelFitsReservation = ledgerPolicy({
  name: CHECKS.modelFits,
  description:
    "A model's weights, engine overhead and the KV cache for one full-length sequence must fit the memory reserved for it on each GPU.",
  enforcementLevel: "mandatory",
  subject: "whether each model fits its reservation",
  check: checkModelFits,
});
