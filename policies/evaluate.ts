/**
 * The policy pack without the engine: the offline plan registers a stack under Pulumi's mock runtime
 * in preview mode and hands what it registered here, so its violations equal what
 * `pulumi preview --policy-pack policies` reports (the CLI prints each policy's description above
 * the message; `message` here is the message alone).
 */
import { Enforcement, PolicyConfig, isStackPolicy } from "./policy";
import { POLICIES } from "./pack";
import { PlainResource, materializeProps } from "./resource";

export type EnforcementLevel = Enforcement | "remediate" | "disabled";

/**
 * Policy config as in a `--policy-config` file: per policy name either an enforcement level or an
 * object with an optional enforcementLevel and the policy's own settings (e.g.
 * `{ "maximum-hourly-cost": { "maxHourlyUsd": 60 }, "tensor-parallel-over-pcie": "mandatory" }`).
 */
export type PolicyPackConfig = Readonly<
  Record<string, EnforcementLevel | ({ readonly enforcementLevel?: EnforcementLevel } & PolicyConfig)>
>;

export interface PolicyViolation {
  readonly policy: string;
  readonly enforcement: Enforcement;
  readonly message: string;
  /** The resource's name, or null for a stack-wide violation. */
  readonly resource: string | null;
}

export interface EvaluatedResource {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  /** Inputs as registered; unknowns may be the mock runtime's `pulumi.unknown` or the engine's sentinels. */
  readonly props: Record<string, unknown>;
}

/** Level and settings of one policy, the way @pulumi/policy resolves them (remediate reports as mandatory). */
export function resolvePolicyConfig(
  name: string,
  defaultLevel: Enforcement,
  config: PolicyPackConfig,
): { level: Enforcement | "disabled"; settings: PolicyConfig } {
  const entry = config[name];
  const { enforcementLevel, ...settings } = typeof entry === "string" ? { enforcementLevel: entry } : (entry ?? {});
  const level = (enforcementLevel as EnforcementLevel | undefined) ?? defaultLevel;
  return { level: level === "remediate" ? "mandatory" : level, settings };
}

export function evaluatePolicies(
  resources: readonly EvaluatedResource[],
  config: PolicyPackConfig = {},
): PolicyViolation[] {
  const plain: PlainResource[] = resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: materializeProps(r.props),
  }));
  const active = POLICIES.map((policy) => ({
    policy,
    ...resolvePolicyConfig(policy.name, policy.enforcementLevel, config),
  })).filter((p): p is typeof p & { level: Enforcement } => p.level !== "disabled");
  const violations: PolicyViolation[] = [];
  // Resource policies per resource in registration order (as Analyze runs), then stack policies (AnalyzeStack).
  for (const resource of plain) {
    for (const { policy, level, settings } of active) {
      if (isStackPolicy(policy)) continue;
      for (const message of policy.violations(resource, settings)) {
        violations.push({ policy: policy.name, enforcement: level, message, resource: resource.name });
      }
    }
  }
  for (const { policy, level, settings } of active) {
    if (!isStackPolicy(policy)) continue;
    for (const message of policy.violations(plain, settings))
      violations.push({ policy: policy.name, enforcement: level, message, resource: null });
  }
  return violations;
}
