/** Pinned devices must exist: docker --gpus device=N fails at start for a device the host does not have. */
import { CHECKS, checkDevicesExist } from "../fleet/checks";
import { ledgerPolicy } from "./hostLedgers";

export const pinnedDevicesExist = ledgerPolicy({
  name: CHECKS.devicesExist,
  description: "Every GPU a service is pinned to must exist on its host.",
  enforcementLevel: "mandatory",
  subject: "pinned devices",
  check: checkDevicesExist,
});
