/**
 * What the offline plan prints for an EKS stack: the node-group GPU map (stacks/eks.ts draws it), the
 * advisories, the resource count and the violations, in the same words and sections as a host stack's
 * report (plan/report.ts) so a pull-request comment reads the same for either runtime.
 */
import type { Finding } from "../fleet";
import { Violation, violationMarkdown, violationText, violationVerdict } from "./report";

export interface KubernetesReportText {
  readonly stack: string;
  /** The node-group GPU map as lines (renderKubernetesGpuMap). */
  readonly gpuMap: readonly string[];
  readonly advisories: readonly Finding[];
  readonly resourceCount: number;
  readonly violations: readonly Violation[];
}

export function renderKubernetesText(report: KubernetesReportText, source: string): string {
  return (
    [
      `gpu-fleet plan — stack ${report.stack} (${source}) on EKS`,
      ...report.gpuMap,
      ...report.advisories.map((f) => `advisory [${f.check}] ${f.message}`),
      `resources: ${report.resourceCount}`,
      ...violationText(report.violations),
    ].join("\n") + "\n"
  );
}

export function renderKubernetesMarkdown(report: KubernetesReportText): string {
  const { mandatory, verdict } = violationVerdict(report.violations);
  return (
    [
      `## gpu-fleet plan: \`${report.stack}\` (EKS)`,
      "",
      `${mandatory > 0 ? "❌" : "✅"} ${report.resourceCount} resources · ${verdict}`,
      "",
      "```",
      ...report.gpuMap,
      ...report.advisories.map((f) => `advisory [${f.check}] ${f.message}`),
      "```",
      "",
      ...violationMarkdown(report.violations),
    ].join("\n") + "\n"
  );
}
