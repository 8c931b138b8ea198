/**
 * Policy results over what the program registered: the policy pack's own evaluation (the same policy
 * modules `pulumi preview --policy-pack policies` runs), with the stack's cost ceiling from its config.
 */
import { evaluatePolicies } from "../policies/evaluate";
import type { RegisteredResource } from "./mockPreview";
import type { Violation } from "./report";

export function planViolations(resources: readonly RegisteredResource[], maxHourlyUsd?: number): Violation[] {
  return evaluatePolicies(
    resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs })),
    maxHourlyUsd === undefined ? {} : { "maximum-hourly-cost": { maxHourlyUsd } },
  );
}
