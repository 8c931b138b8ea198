/**
 * The shape every gpu-fleet policy shares: a pure function from plain resources to violation
 * messages, and the @pulumi/policy object built from it. The pack serves the policy objects; the
 * offline plan (evaluate.ts) calls the pure functions — one implementation, two callers.
 */
import type { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PlainResource, materializeProps } from "./resource";

export type Enforcement = "mandatory" | "advisory";
export type PolicyConfig = Record<string, unknown>;

interface PolicyInfo {
  /** kebab-case; the name users put in policy config. */
  readonly name: string;
  /** A full sentence: the CLI prints it above each violation message. */
  readonly description: string;
  /** The default; policy config may change it (to mandatory, advisory or disabled). */
  readonly enforcementLevel: Enforcement;
  readonly configSchema?: PolicyConfigSchema;
}

export interface FleetResourcePolicy extends ResourceValidationPolicy {
  enforcementLevel: Enforcement;
  /** Violation messages for one resource; config is the policy's config without enforcementLevel. */
  readonly violations: (resource: PlainResource, config: PolicyConfig) => string[];
}

export interface FleetStackPolicy extends StackValidationPolicy {
  enforcementLevel: Enforcement;
  readonly violations: (resources: readonly PlainResource[], config: PolicyConfig) => string[];
}

export type FleetPolicy = FleetResourcePolicy | FleetStackPolicy;

export function isStackPolicy(p: FleetPolicy): p is FleetStackPolicy {
  return "validateStack" in p;
}

export function resourcePolicy(
  info: PolicyInfo & { violations: (resource: PlainResource, config: PolicyConfig) => string[] },
): FleetResourcePolicy {
  return {
    ...info,
    validateResource: (args, reportViolation) => {
      const resource = { type: args.type, name: args.name, urn: args.urn, props: materializeProps(args.props) };
      for (const message of info.violations(resource, args.getConfig())) reportViolation(message);
    },
  };
}

export function stackPolicy(
  info: PolicyInfo & { violations: (resources: readonly PlainResource[], config: PolicyConfig) => string[] },
): FleetStackPolicy {
  return {
    ...info,
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: materializeProps(r.props),
      }));
      for (const message of info.violations(resources, args.getConfig())) reportViolation(message);
    },
  };
}
