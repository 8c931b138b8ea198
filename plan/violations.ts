/**
 * Policy results over what the program registered: the GPU checks run on every host ledger found in
 * a command's stdin, exactly as the policy pack finds them, plus the stack's cost ceiling.
 */
import { checkHostLedger, checkHourlyCost, parseLedger } from "../fleet";
import type { RegisteredResource } from "./mockPreview";
import type { Violation } from "./report";

export function ledgerViolations(resources: readonly RegisteredResource[], maxHourlyUsd?: number): Violation[] {
  const violations: Violation[] = [];
  let hourlyUsd = 0;
  for (const r of resources) {
    const doc = r.type === "command:remote:Command" ? parseLedger(r.inputs.stdin) : undefined;
    if (!doc) continue;
    hourlyUsd += doc.hourlyUsd ?? 0;
    for (const f of checkHostLedger(doc)) violations.push({ policy: f.check, enforcement: f.enforcement, message: f.message, resource: r.name });
  }
  for (const f of checkHourlyCost(Math.round(hourlyUsd * 1e6) / 1e6, maxHourlyUsd)) {
    violations.push({ policy: f.check, enforcement: f.enforcement, message: f.message, resource: null });
  }
  return violations;
}
