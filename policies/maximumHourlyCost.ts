/**
 * A ceiling on what the stack costs per hour on demand: the sum of `hourlyUsd` over every host
 * ledger (existing machines carry null and cost nothing here). Advisory by default; the limit is
 * policy config because a policy cannot read stack config.
 */
import { COST_CHECK, checkHourlyCost } from "../fleet/checks";
import { findLedger, unreadableMessage } from "./hostLedgers";
import { PolicyConfig, stackPolicy } from "./policy";
import { PlainResource } from "./resource";

/** Same rounding as fleet/plan.ts, so the pack and the plan print the same total. */
const roundUsd = (usd: number) => Math.round(usd * 1e6) / 1e6;

export function configuredMaxHourlyUsd(config: PolicyConfig): number | undefined {
  const max = config.maxHourlyUsd;
  return typeof max === "number" && max > 0 ? max : undefined;
}

export function stackHourlyCostViolations(resources: readonly PlainResource[], config: PolicyConfig): string[] {
  const max = configuredMaxHourlyUsd(config);
  // Without a limit there is nothing to check, not even whether the ledgers are readable.
  if (max === undefined) return [];
  let total = 0;
  const unreadable: string[] = [];
  for (const resource of resources) {
    const found = findLedger(resource);
    if (found.kind === "ledger") total += found.doc.hourlyUsd ?? 0;
    if (found.kind === "unreadable") unreadable.push(unreadableMessage(resource, found.reason, "the hourly cost"));
  }
  return [...unreadable, ...checkHourlyCost(roundUsd(total), max).map((f) => f.message)];
}

export const maximumHourlyCost = stackPolicy({
  name: COST_CHECK,
  description:
    "The on-demand cost of all GPU hosts of the stack must stay under the configured maximum US dollars per hour.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      maxHourlyUsd: {
        type: "number",
        exclusiveMinimum: 0,
        description: "Maximum on-demand US dollars per hour for the stack's GPU hosts; no limit when unset.",
      },
    },
  },
  violations: stackHourlyCostViolations,
});
