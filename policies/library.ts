/**
 * The policy pack's policies, for a pack of your own (`gpu-fleet/policies`):
 * `new PolicyPack("my-pack", { policies: [...POLICIES] })`. Importing it starts nothing; the pack this
 * project runs (`pulumi preview --policy-pack policies`) is policies/index.ts.
 */
export { POLICIES, POLICY_PACK_NAME } from "./pack";
