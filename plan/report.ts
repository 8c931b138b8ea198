/**
 * What the offline plan prints: the JSON contract of DESIGN.md, text for people with the GPU map
 * drawn as bars, and Markdown for a pull-request comment.
 */
import type { FleetPlan, PlannedHost } from "../fleet";
import { formatObservabilityEndpoints, type ObservabilityEndpoint } from "../renderers/observability/endpoints";
import type { Artifact, Unrendered } from "./artifacts";
import type { RegisteredResource } from "./mockPreview";
import type { Placeholder } from "./placeholders";
import type { PlanDiff, Placement } from "./diff";
import { policyFix } from "./fixes";
import { formatNumber as fmt } from "../fleet/format";

export interface Violation {
  readonly policy: string;
  readonly enforcement: "mandatory" | "advisory";
  readonly message: string;
  readonly resource: string | null;
}

export interface PlanReport {
  readonly stack: string;
  readonly hourlyUsd: number;
  readonly hosts: {
    name: string;
    kind: "ec2" | "existing";
    instanceType: string | null;
    hourlyUsd: number | null;
    gpuCount: number;
    interconnect: string;
    instanceChoice?: PlannedHost["instanceChoice"];
    gpus: {
      index: number;
      model: string;
      memoryMiB: number;
      usableMiB: number;
      reservedMiB: number;
      /** What the engines keep outside their reservations, charged when two or more share the GPU. */
      outsideReservationMiB: number;
      /** reservedMiB + outsideReservationMiB: what the budget charges. */
      chargedMiB: number;
      reservations: { service: string; reservedMiB: number; outsideReservationMiB: number }[];
    }[];
  }[];
  readonly services: {
    name: string;
    model: string;
    host: string;
    gpus: number[];
    placedBy: "config" | "planner";
    tensorParallel: number;
    tensorParallelBy: "config" | "planner";
    precision: string;
    engine: string;
    profile: string;
    profileNote: string;
    maxModelLen: number;
    gpuMemoryUtilization: number | null;
    kvCacheDtype: string | null;
    maxNumBatchedTokens: number | null;
    reservedMiBPerGpu: number;
    hostPort: number;
    image: string;
    fits: boolean;
    estimate: { weightsMiBPerGpu: number; kvBytesPerToken: number; overheadMiB: number; maxContextTokens: number };
  }[];
  readonly resources: { type: string; name: string; parent: string | null }[];
  readonly violations: Violation[];
  /** Prometheus and Grafana, when the stack runs them; addresses unknown before EC2 hosts exist are named. */
  readonly observability: ObservabilityEndpoint[] | null;
  /**
   * Provider outputs unknown before `up` that the plan filled with a placeholder token, and the
   * `--out` files that carry each one (plan/placeholders.ts).
   */
  readonly placeholders: { token: string; resource: string; output: string; files: string[] }[];
  /** Files `--out` does not write: a secret input (never written) or one still unknown in a preview. */
  readonly unrendered: Unrendered[];
  /** The region the prices are for (the catalog has one), and a note when aws:region is another. */
  readonly priceRegion?: string;
  readonly priceNote?: string;
}

export interface ArtifactSummary {
  readonly placeholders: readonly Placeholder[];
  readonly artifacts: readonly Artifact[];
  readonly unrendered: readonly Unrendered[];
}

export function buildReport(
  stack: string,
  plan: FleetPlan,
  resources: readonly RegisteredResource[],
  violations: readonly Violation[],
  observability: ObservabilityEndpoint[] | null,
  artifacts: ArtifactSummary = { placeholders: [], artifacts: [], unrendered: [] },
): PlanReport {
  return {
    stack,
    hourlyUsd: plan.hourlyUsd,
    hosts: plan.hosts.map((h) => ({
      name: h.name,
      kind: h.kind,
      instanceType: h.instanceType,
      hourlyUsd: h.hourlyUsd,
      gpuCount: h.gpuCount,
      interconnect: h.interconnect,
      ...(h.instanceChoice ? { instanceChoice: h.instanceChoice } : {}),
      gpus: h.ledger.map((g) => ({
        index: g.index,
        model: g.model,
        memoryMiB: g.memoryMiB,
        usableMiB: g.usableMiB,
        reservedMiB: g.reservedMiB,
        outsideReservationMiB: g.outsideReservationMiB,
        chargedMiB: g.chargedMiB,
        reservations: g.reservations.map((r) => ({
          service: r.service,
          reservedMiB: r.reservedMiB,
          outsideReservationMiB: r.outsideReservationMiB,
        })),
      })),
    })),
    services: plan.services.map((s) => ({
      name: s.name,
      model: s.model,
      host: s.host,
      gpus: [...s.gpus],
      placedBy: s.placedBy,
      tensorParallel: s.tensorParallel,
      tensorParallelBy: s.tensorParallelBy,
      precision: s.precision,
      engine: s.estimate.engine,
      profile: s.estimate.profile,
      profileNote: s.estimate.profileNote,
      maxModelLen: s.maxModelLen,
      gpuMemoryUtilization: s.gpuMemoryUtilization,
      kvCacheDtype: s.kvCacheDtype,
      maxNumBatchedTokens: s.maxNumBatchedTokens,
      reservedMiBPerGpu: s.reservedMiBPerGpu,
      hostPort: s.hostPort,
      image: s.serving.image,
      // A service without GPUs runs nowhere: it does not "fit", whatever its estimate says.
      fits: s.estimate.fits && s.gpus.length > 0,
      estimate: {
        weightsMiBPerGpu: s.estimate.weightsMiBPerGpu,
        kvBytesPerToken: s.estimate.kvBytesPerToken,
        overheadMiB: s.estimate.overheadMiB,
        maxContextTokens: s.estimate.maxContextTokens,
      },
    })),
    resources: resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent })),
    violations: [...violations],
    observability,
    placeholders: artifacts.placeholders.map((p) => ({
      token: p.token,
      resource: p.resource,
      output: p.output,
      files: artifacts.artifacts.filter((a) => a.content.includes(p.token)).map((a) => a.path),
    })),
    unrendered: [...artifacts.unrendered],
  };
}

const BAR_WIDTH = 40;

/**
 * One GPU as a bar of BAR_WIDTH cells over its whole memory: each service's reservation in its own
 * fill, `·` usable headroom, `|` where usable memory ends, `!` reservations past it.
 */
export function gpuBar(memoryMiB: number, usableMiB: number, reservations: readonly { reservedMiB: number }[]): string {
  const fills = ["█", "▓", "▒", "▚", "▞"];
  const cell = memoryMiB / BAR_WIDTH;
  const usableCells = Math.floor(usableMiB / cell);
  const cells: string[] = [];
  let used = 0;
  reservations.forEach((r, i) => {
    const end = Math.round((used + r.reservedMiB) / cell);
    while (cells.length < Math.min(end, BAR_WIDTH))
      cells.push(cells.length >= usableCells ? "!" : fills[i % fills.length]);
    used += r.reservedMiB;
  });
  while (cells.length < BAR_WIDTH) cells.push(cells.length >= usableCells ? " " : "·");
  const overflow = used > memoryMiB ? "!!" : "";
  return `[${cells.slice(0, usableCells).join("")}|${cells.slice(usableCells).join("")}]${overflow}`;
}

/** The bar's segments: each reservation, then the shared-GPU charges outside them. */
function chargeSegments(g: PlanReport["hosts"][number]["gpus"][number]): { reservedMiB: number }[] {
  return [
    ...g.reservations,
    ...g.reservations.filter((r) => r.outsideReservationMiB > 0).map((r) => ({ reservedMiB: r.outsideReservationMiB })),
  ];
}

function hostHeading(h: PlanReport["hosts"][number]): string {
  const g = h.gpus[0];
  const what = h.kind === "ec2" ? `ec2 ${h.instanceType}` : "existing machine";
  const price = h.hourlyUsd === null ? "" : `, $${h.hourlyUsd.toFixed(3)}/h`;
  return `host ${h.name} — ${what} (${h.gpuCount} × ${g?.model ?? "?"}, ${fmt(g?.memoryMiB ?? 0)} MiB each, ${h.interconnect})${price}`;
}

export function renderText(report: PlanReport, source: string): string {
  const lines: string[] = [];
  lines.push(`gpu-fleet plan — stack ${report.stack} (${source})`);
  lines.push(`on-demand cost: $${report.hourlyUsd.toFixed(3)}/h`);
  if (report.priceNote) lines.push(`warning: ${report.priceNote}`);
  for (const h of report.hosts) {
    lines.push("", hostHeading(h));
    if (h.instanceChoice) {
      lines.push(`  instanceType auto → ${h.instanceChoice.chosen ?? "nothing fits"}`);
      for (const r of h.instanceChoice.rejected) lines.push(`    rejected ${r.instanceType}: ${r.reason}`);
    }
    for (const g of h.gpus) {
      const who = g.reservations.length
        ? g.reservations.map((r) => `${r.service} ${fmt(r.reservedMiB)}`).join(" + ")
        : "spare";
      lines.push(
        `  GPU ${g.index} ${gpuBar(g.memoryMiB, g.usableMiB, chargeSegments(g))} ${fmt(g.chargedMiB)}/${fmt(g.usableMiB)} MiB  ${who}`,
      );
      // Engines sharing a GPU: what each keeps outside its reservation is charged too (fleet/ledger.ts).
      for (const r of g.reservations.filter((x) => x.outsideReservationMiB > 0))
        lines.push(`    ${r.service}: CUDA context + graphs (shared GPU) ${fmt(r.outsideReservationMiB)} MiB`);
    }
  }
  lines.push("", "services");
  for (const s of report.services) {
    lines.push(
      `  ${s.name}: ${s.model} on ${s.host} GPU [${s.gpus.join(", ")}]${s.placedBy === "planner" ? " (placed by the planner)" : ""}, TP ${s.tensorParallel}${s.tensorParallelBy === "planner" ? " (chosen by the planner: the smallest group that fits)" : ""}, ${s.precision}, port ${s.hostPort}`,
    );
    lines.push(`    ${s.profileNote}`);
    if (s.kvCacheDtype !== null && s.maxNumBatchedTokens !== null)
      lines.push(`    KV cache ${s.kvCacheDtype}, ${fmt(s.maxNumBatchedTokens)} batched tokens per step`);
    lines.push(
      `    weights ${fmt(s.estimate.weightsMiBPerGpu)} MiB/GPU + overhead ${fmt(s.estimate.overheadMiB)} MiB, KV ${fmt(s.estimate.kvBytesPerToken)} B/token; reserves ${fmt(s.reservedMiBPerGpu)} MiB/GPU, holds ${fmt(s.estimate.maxContextTokens)} tokens; maxModelLen ${fmt(s.maxModelLen)} ${s.fits ? "fits" : "DOES NOT FIT"}`,
    );
  }
  if (report.observability) {
    lines.push("", "observability");
    lines.push(
      ...formatObservabilityEndpoints(report.observability)
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  lines.push(...placeholderLines(report));
  const counts = new Map<string, number>();
  for (const r of report.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  lines.push("", `resources: ${report.resources.length} (${[...counts].map(([t, n]) => `${n} ${t}`).join(", ")})`);
  lines.push("", ...violationText(report.violations));
  return lines.join("\n") + "\n";
}

/** The violations as the text report ends: a header, then one line each. */
export function violationText(violations: readonly Violation[]): string[] {
  if (violations.length === 0) return ["policy violations: none"];
  return [
    "policy violations:",
    ...violations.map((v) => `  [${v.enforcement}] ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`),
  ];
}

/** The violations as a Markdown section, each with its fix. */
export function violationMarkdown(violations: readonly Violation[]): string[] {
  const lines = ["### Policy violations", ""];
  if (violations.length === 0) lines.push("None.");
  for (const v of violations) {
    lines.push(`- **${v.enforcement}** \`${v.policy}\`${v.resource ? ` on \`${v.resource}\`` : ""}: ${v.message}`);
    const fix = policyFix(v.policy);
    if (fix) lines.push(`  - Fix: ${fix}.`);
  }
  return lines;
}

/** `2 mandatory violations, 1 advisory violation`, or `no policy violations`. */
export function violationVerdict(violations: readonly Violation[]): { mandatory: number; verdict: string } {
  const mandatory = violations.filter((v) => v.enforcement === "mandatory").length;
  const advisory = violations.length - mandatory;
  const verdict =
    violations.length === 0
      ? "no policy violations"
      : `${plural(mandatory, "mandatory violation")}${advisory ? `, ${plural(advisory, "advisory violation")}` : ""}`;
  return { mandatory, verdict };
}

function filesCount(n: number): string {
  return n === 0 ? "no file" : n === 1 ? "1 file" : `${n} files`;
}

/** What `--out` fills in and what it leaves out: the placeholders, then the files it does not write. */
function placeholderLines(report: PlanReport): string[] {
  const lines: string[] = [];
  if (report.placeholders.length > 0) {
    lines.push("", "placeholders (known only after `pulumi up`; every `--out` file carries them as written here)");
    for (const p of report.placeholders)
      lines.push(`  ${p.token}: ${p.output} of ${p.resource}, in ${filesCount(p.files.length)}`);
  }
  if (report.unrendered.length > 0) {
    lines.push("", "not written by --out");
    for (const u of report.unrendered)
      lines.push(
        `  ${u.path}: ${u.input} of ${u.resource} ${u.reason === "secret" ? "is a secret, never written" : "is unknown until the resources it depends on exist"}`,
      );
  }
  return lines;
}

const usd = (n: number) => `$${n.toFixed(3)}/h`;
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

/** `+1,664 MiB`, `-$1.006/h`, or `no change`. */
function delta(base: number, head: number, show: (n: number) => string): string {
  const d = Math.round((head - base) * 1e6) / 1e6;
  if (d === 0) return "no change";
  return `${d > 0 ? "+" : "-"}${show(Math.abs(d))}`;
}

function placementText(p: Placement | null): string {
  return p ? `${p.host} GPU ${p.gpus.join(", ") || "none"}, ${fmt(p.reservedMiBPerGpu)} MiB/GPU` : "—";
}

/** The changes against the base plan, as Markdown lines. */
function diffLines(diff: PlanDiff): string[] {
  const lines = [
    "",
    "### Changes against the base plan",
    "",
    "| | Base | This plan | Change |",
    "|---|---:|---:|---:|",
    `| On-demand cost | ${usd(diff.hourlyUsd.base)} | ${usd(diff.hourlyUsd.head)} | ${delta(diff.hourlyUsd.base, diff.hourlyUsd.head, usd)} |`,
    `| Reserved GPU memory | ${fmt(diff.reservedMiB.base)} MiB | ${fmt(diff.reservedMiB.head)} MiB | ${delta(diff.reservedMiB.base, diff.reservedMiB.head, (n) => `${fmt(n)} MiB`)} |`,
    `| Mandatory violations | ${diff.mandatoryViolations.base} | ${diff.mandatoryViolations.head} | ${delta(diff.mandatoryViolations.base, diff.mandatoryViolations.head, String)} |`,
    "",
  ];
  if (diff.services.length === 0) lines.push("No service added, removed, moved or resized.");
  else {
    lines.push("| Service | Change | Base | This plan |", "|---|---|---|---|");
    for (const c of diff.services)
      lines.push(`| ${c.service} | ${c.kind} | ${placementText(c.base)} | ${placementText(c.head)} |`);
  }
  return lines;
}

/**
 * The plan as a pull-request comment: the cost and verdict first, the GPU map per host, the
 * services, every violation with its fix, the changes against the base plan when one is given, and
 * (folded) what `--out` fills with placeholders or leaves out.
 */
export function renderMarkdown(report: PlanReport, diff?: PlanDiff): string {
  const { mandatory, verdict } = violationVerdict(report.violations);
  const gpus = report.hosts.reduce((n, h) => n + h.gpus.length, 0);
  const reserved = report.hosts.reduce((n, h) => n + h.gpus.reduce((m, g) => m + g.reservedMiB, 0), 0);
  const lines: string[] = [
    `## gpu-fleet plan: \`${report.stack}\``,
    "",
    `${mandatory > 0 ? "❌" : "✅"} **${usd(report.hourlyUsd)}** on demand · ${plural(report.hosts.length, "host")}, ${plural(gpus, "GPU")} · ${plural(report.services.length, "service")} · ${fmt(reserved)} MiB reserved · ${verdict}`,
    ...(report.priceNote ? ["", `> **Warning:** ${report.priceNote}`] : []),
  ];
  if (diff) lines.push(...diffLines(diff));
  for (const h of report.hosts) {
    lines.push(
      "",
      `### ${hostHeading(h)}`,
      "",
      "| GPU | Service | Model | Reserved MiB | Usable MiB | Headroom MiB |",
      "|---|---|---|---:|---:|---:|",
    );
    for (const g of h.gpus) {
      const services =
        g.reservations
          .map(
            (r) =>
              `${r.service} (${fmt(r.reservedMiB)}${r.outsideReservationMiB > 0 ? ` + ${fmt(r.outsideReservationMiB)} CUDA context + graphs, shared GPU` : ""})`,
          )
          .join(", ") || "spare";
      const models =
        [...new Set(g.reservations.map((r) => report.services.find((s) => s.name === r.service)?.model ?? "?"))].join(
          ", ",
        ) || "—";
      const headroom = g.usableMiB - g.chargedMiB;
      lines.push(
        `| ${g.index} | ${services} | ${models} | ${fmt(g.reservedMiB)} | ${fmt(g.usableMiB)} | ${headroom < 0 ? `**${fmt(headroom)}**` : fmt(headroom)} |`,
      );
    }
  }
  lines.push(
    "",
    "### Services",
    "",
    "| Service | Host | GPUs | TP | Precision | Profile | Reserved MiB/GPU | Max context | Fits |",
    "|---|---|---|---:|---|---|---:|---:|---|",
  );
  for (const s of report.services) {
    lines.push(
      `| ${s.name} | ${s.host} | ${s.gpus.join(", ") || "none"}${s.placedBy === "planner" ? " (planner)" : ""} | ${s.tensorParallel}${s.tensorParallelBy === "planner" ? " (planner)" : ""} | ${s.precision} | ${s.profileNote} | ${fmt(s.reservedMiBPerGpu)} | ${fmt(s.maxModelLen)} of ${fmt(s.estimate.maxContextTokens)} | ${s.fits ? "yes" : "**no**"} |`,
    );
  }
  lines.push("", ...violationMarkdown(report.violations));
  const used = report.placeholders.filter((p) => p.files.length > 0);
  if (used.length > 0 || report.unrendered.length > 0) {
    lines.push(
      "",
      `<details><summary>--out: ${[
        used.length > 0
          ? `${plural(used.length, "placeholder")} for values known only after <code>pulumi up</code>`
          : "",
        report.unrendered.length > 0 ? `${plural(report.unrendered.length, "file")} not written` : "",
      ]
        .filter((x) => x !== "")
        .join(", ")}</summary>`,
      "",
    );
    for (const p of used)
      lines.push(`- \`${p.token}\`: ${p.output} of \`${p.resource}\`, in ${filesCount(p.files.length)}`);
    for (const u of report.unrendered)
      lines.push(
        `- \`${u.path}\` not written: ${u.input} of \`${u.resource}\` is ${u.reason === "secret" ? "a secret" : "unknown until up"}`,
      );
    lines.push("", "</details>");
  }
  return lines.join("\n") + "\n";
}
