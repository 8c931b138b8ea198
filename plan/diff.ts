/**
 * What a change does to the fleet, against the base branch's plan (`--base FILE`, a `--json` plan):
 * services added, removed or moved (another host or other GPUs), their reservations, the memory
 * reserved in all and the hourly cost. Pure; the Markdown renderer prints it.
 */

/** The part of a `--json` plan the diff reads (docs/plan-json.md); older plans with more fields are fine. */
export interface BasePlan {
  readonly stack: string;
  readonly hourlyUsd: number;
  readonly hosts: readonly { readonly gpus: readonly { readonly reservedMiB: number }[] }[];
  readonly services: readonly {
    readonly name: string;
    readonly host: string;
    readonly gpus: readonly number[];
    readonly reservedMiBPerGpu: number;
  }[];
  readonly violations: readonly { readonly enforcement: string }[];
}

export type ServiceChangeKind = "added" | "removed" | "moved" | "resized" | "moved, resized";

export interface ServiceChange {
  readonly service: string;
  readonly kind: ServiceChangeKind;
  /** `host GPU [..], N MiB/GPU` before and after; null where the service does not exist. */
  readonly base: Placement | null;
  readonly head: Placement | null;
}

export interface Placement {
  readonly host: string;
  readonly gpus: readonly number[];
  readonly reservedMiBPerGpu: number;
}

export interface PlanDiff {
  readonly hourlyUsd: { readonly base: number; readonly head: number };
  readonly reservedMiB: { readonly base: number; readonly head: number };
  readonly mandatoryViolations: { readonly base: number; readonly head: number };
  readonly services: readonly ServiceChange[];
}

export class BasePlanError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks that a parsed `--base` file has what the diff reads; the message names the first field that does not. */
export function parseBasePlan(doc: unknown, source: string): BasePlan {
  const fail = (path: string, expected: string): never => {
    throw new BasePlanError(
      `--base ${source}: ${path} must be ${expected} (a plan from \`npm run plan -- <stack> --json\`)`,
    );
  };
  if (!isObject(doc)) return fail("the file", "a JSON object");
  if (typeof doc.stack !== "string") fail("stack", "a string");
  if (typeof doc.hourlyUsd !== "number") fail("hourlyUsd", "a number");
  if (!Array.isArray(doc.hosts)) fail("hosts", "a list");
  (doc.hosts as unknown[]).forEach((h, i) => {
    if (!isObject(h) || !Array.isArray(h.gpus)) fail(`hosts[${i}].gpus`, "a list");
    (h as { gpus: unknown[] }).gpus.forEach((g, j) => {
      if (!isObject(g) || typeof g.reservedMiB !== "number") fail(`hosts[${i}].gpus[${j}].reservedMiB`, "a number");
    });
  });
  if (!Array.isArray(doc.services)) fail("services", "a list");
  (doc.services as unknown[]).forEach((s, i) => {
    if (!isObject(s)) return fail(`services[${i}]`, "an object");
    if (typeof s.name !== "string") fail(`services[${i}].name`, "a string");
    if (typeof s.host !== "string") fail(`services[${i}].host`, "a string");
    if (!Array.isArray(s.gpus) || !s.gpus.every((g) => typeof g === "number"))
      fail(`services[${i}].gpus`, "a list of numbers");
    if (typeof s.reservedMiBPerGpu !== "number") fail(`services[${i}].reservedMiBPerGpu`, "a number");
  });
  if (!Array.isArray(doc.violations)) fail("violations", "a list");
  (doc.violations as unknown[]).forEach((v, i) => {
    if (!isObject(v) || typeof v.enforcement !== "string") fail(`violations[${i}].enforcement`, "a string");
  });
  return doc as unknown as BasePlan;
}

const totalReserved = (p: BasePlan) =>
  p.hosts.reduce((sum, h) => sum + h.gpus.reduce((s, g) => s + g.reservedMiB, 0), 0);
const mandatory = (p: BasePlan) => p.violations.filter((v) => v.enforcement === "mandatory").length;
const placement = (s: BasePlan["services"][number]): Placement => ({
  host: s.host,
  gpus: [...s.gpus],
  reservedMiBPerGpu: s.reservedMiBPerGpu,
});
const sameGpus = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((g, i) => g === b[i]);

export function diffPlans(base: BasePlan, head: BasePlan): PlanDiff {
  const baseByName = new Map(base.services.map((s) => [s.name, s]));
  const headByName = new Map(head.services.map((s) => [s.name, s]));
  const services: ServiceChange[] = [];
  // In the head plan's order, then what the base had and the head does not.
  for (const s of head.services) {
    const b = baseByName.get(s.name);
    if (!b) {
      services.push({ service: s.name, kind: "added", base: null, head: placement(s) });
      continue;
    }
    const moved = b.host !== s.host || !sameGpus(b.gpus, s.gpus);
    const resized = b.reservedMiBPerGpu !== s.reservedMiBPerGpu;
    if (moved || resized)
      services.push({
        service: s.name,
        kind: moved && resized ? "moved, resized" : moved ? "moved" : "resized",
        base: placement(b),
        head: placement(s),
      });
  }
  for (const b of base.services)
    if (!headByName.has(b.name)) services.push({ service: b.name, kind: "removed", base: placement(b), head: null });
  return {
    hourlyUsd: { base: base.hourlyUsd, head: head.hourlyUsd },
    reservedMiB: { base: totalReserved(base), head: totalReserved(head) },
    mandatoryViolations: { base: mandatory(base), head: mandatory(head) },
    services,
  };
}
