/**
 * The gpu-fleet policy pack: `pulumi preview --policy-pack policies`. The only file that constructs
 * the PolicyPack — constructing it starts the analyzer gRPC server and prints its port — so tests
 * and the offline plan import pack.ts / evaluate.ts instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES, POLICY_PACK_NAME } from "./pack";

new PolicyPack(POLICY_PACK_NAME, { policies: [...POLICIES] });
