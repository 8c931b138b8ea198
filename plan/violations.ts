/**
 * Policy results over what the program registered: the policy pack's own evaluation (the same policy
 * modules `pulumi preview --policy-pack policies` runs), with the stack's cost ceiling from its config.
 */
import { evaluatePolicies } from "../policies/evaluate";
import type { RegisteredResource } from "./mockPreview";
import { placeholderInputsAsUnknown } from "./placeholders";
import type { Finding } from "../fleet/checks";
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

/**
 * The plan never passes what `pulumi up` refuses: a mandatory finding the stack program stops on
 * (stacks/config.ts refuseMandatoryFindings) that no policy reported — such as `instance-type-auto`,
 * which is not about one ledger — becomes a violation of its own, so it shows in text, md and JSON
 * and makes the plan exit 1.
 */
export function withRefusedFindings(violations: readonly Violation[], findings: readonly Finding[]): Violation[] {
  const unreported = findings.filter(
    (f) => f.enforcement === "mandatory" && !violations.some((v) => v.message.includes(f.message)),
  );
  return [
    ...violations,
    ...unreported.map((f) => ({
      policy: f.check,
      enforcement: "mandatory" as const,
      message: f.message,
      resource: null,
    })),
  ];
}
