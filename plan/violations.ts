/**
 * Policy results over what the program registered: the policy pack's own evaluation (the same policy
 * modules `pulumi preview --policy-pack policies` runs), with the stack's cost ceiling from its config.
 */
import { evaluatePolicies } from "../policies/evaluate";
import type { RegisteredResource } from "./mockPreview";
import { placeholderInputsAsUnknown } from "./placeholders";
import type { Violation } from "./report";

/** `placeholders`: tokens the plan put in for provider outputs; inputs carrying one count as unknown, as in a preview. */
export function planViolations(
  resources: readonly RegisteredResource[],
  maxHourlyUsd?: number,
  placeholders: readonly string[] = [],
): Violation[] {
  return evaluatePolicies(
    resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: placeholderInputsAsUnknown(r.inputs, placeholders) as Record<string, unknown>,
    })),
    maxHourlyUsd === undefined ? {} : { "maximum-hourly-cost": { maxHourlyUsd } },
  );
}
