/**
 * The policies of the gpu-fleet pack, in the order the pack serves them and evaluatePolicies reports
 * them. Importing this module does not start anything: only index.ts constructs the PolicyPack.
 */
import { ebsVolumesEncrypted } from "./ebsVolumesEncrypted";
import { ec2InstanceImdsv2Required } from "./ec2InstanceImdsv2Required";
import { fixedFractionEnginesFit } from "./fixedFractionEnginesFit";
import { gpuHostsHaveLedgers } from "./gpuHostsHaveLedgers";
import { gpuMemoryBudget } from "./gpuMemoryBudget";
import { kubernetesFleetFits } from "./kubernetesFleetFits";
import { maximumHourlyCost } from "./maximumHourlyCost";
import { modelFitsReservation } from "./modelFitsReservation";
import { noPlaintextSecrets } from "./noPlaintextSecrets";
import { pinnedDevicesExist } from "./pinnedDevicesExist";
import { FleetPolicy } from "./policy";
import { precisionSupportedByGpu } from "./precisionSupportedByGpu";
import { securityGroupNoPublicIngress } from "./securityGroupNoPublicIngress";
import { servicesPlaced } from "./servicesPlaced";
import { tensorParallelMatchesDevices } from "./tensorParallelMatchesDevices";
import { tensorParallelOverPcie } from "./tensorParallelOverPcie";

export const POLICY_PACK_NAME = "gpu-fleet";

/** Same order as fleet/checks.ts checkHostLedger, then security, then the stack-wide policies. */
export const POLICIES: readonly FleetPolicy[] = [
  servicesPlaced,
  pinnedDevicesExist,
  tensorParallelMatchesDevices,
  precisionSupportedByGpu,
  gpuMemoryBudget,
  fixedFractionEnginesFit,
  modelFitsReservation,
  tensorParallelOverPcie,
  ec2InstanceImdsv2Required,
  ebsVolumesEncrypted,
  securityGroupNoPublicIngress,
  noPlaintextSecrets,
  gpuHostsHaveLedgers,
  kubernetesFleetFits,
  maximumHourlyCost,
];
