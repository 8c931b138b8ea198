/**
 * gpu-fleet as a library: the components (`gpu-fleet/components`) and the fleet model
 * (`gpu-fleet/fleet`). Importing it creates nothing; the stack program is stacks/, which only
 * Pulumi.yaml runs.
 */
export * from "./components";
export * from "./fleet";
