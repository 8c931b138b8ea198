/**
 * `npm run plan -- eks` as a user runs it: the node-group GPU map with replicas, HPA range and $/h
 * from min to max nodes, and the hidden fleets of issue 13 refused with exit 1, naming the service.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyFix } from "../../plan/fixes";
import { ROOT, runCli } from "../helpers/runCli";

const plan = (...args: string[]) => runCli("cli/plan.ts", args);
const EKS = readFileSync(join(ROOT, "Pulumi.eks.yaml"), "utf8");

/** Pulumi.eks.yaml with one edit, as a stack file of its own. */
function edited(name: string, from: string, to: string): string {
  expect(EKS).toContain(from);
  const path = join(mkdtempSync(join(tmpdir(), "gpu-fleet-eks-")), `Pulumi.${name}.yaml`);
  writeFileSync(path, EKS.replace(from, to));
  return path;
}

describe("npm run plan -- eks", () => {
  it("prints the node-group GPU map, replicas, the HPA range and $/h min-max with no violation: exit 0", () => {
    const r = plan("eks");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        `gpu-fleet plan — stack eks (${join(ROOT, "Pulumi.eks.yaml")}) on EKS`,
        "node group gpu: g5.xlarge (1 × A10G, 23,028 MiB), 1-3 nodes, needs 1-3, $1.006-3.018/h",
        "  llm (meta/llama-2-7b-chat): 1 GPU/pod, 20,334 MiB reserved per GPU, maxModelLen 4,096, model cache 100 GiB per replica (EBS), HPA 1-3 on num_requests_running",
        "cost: $1.006/h to $3.018/h on demand",
        "resources: 37",
        "policy violations: none",
        "",
      ].join("\n"),
    );
    expect(r.code).toBe(0);
  });

  it("reports the same map as JSON", () => {
    const r = plan("eks", "--json");
    const report = JSON.parse(r.stdout);
    expect(report.runtime).toBe("kubernetes");
    expect(report.hourlyUsd).toEqual({ min: 1.006, max: 3.018 });
    expect(report.violations).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("refuses a 70B model on the g5.xlarge node group with exit 1, naming the service", () => {
    const r = plan(edited("big", "model: meta/llama-2-7b-chat", "model: meta/llama-3.1-70b-instruct"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^ {2}\[mandatory\] kubernetes-fleet-fits: \[model-fits-reservation\] service "llm" \(meta\/llama-3\.1-70b-instruct\) on a node of node group "gpu" GPU 0 needs [\d,]+ MiB per GPU .* give it more GPUs, a lower precision or a larger GPU$/m,
    );
  });

  it("refuses an HPA maxReplicas the node group cannot hold with exit 1, naming the service", () => {
    const r = plan(edited("wide", "maxReplicas: 3", "maxReplicas: 5"));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `  [mandatory] kubernetes-fleet-fits: [kubernetes-hpa-max-schedulable] service "llm" has HPA maxReplicas 5 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 3; raise maxSize to 5 or lower maxReplicas to 3`,
    );
  });

  it("reads as a pull-request comment like a host stack's: verdict, GPU map, each violation with its fix", () => {
    const r = plan(edited("wide", "maxReplicas: 3", "maxReplicas: 5"), "--format", "md");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        "## gpu-fleet plan: `wide` (EKS)",
        "",
        "❌ 37 resources · 1 mandatory violation",
        "",
        "```",
        "node group gpu: g5.xlarge (1 × A10G, 23,028 MiB), 1-3 nodes, needs 1-3, $1.006-3.018/h",
        "  llm (meta/llama-2-7b-chat): 1 GPU/pod, 20,334 MiB reserved per GPU, maxModelLen 4,096, model cache 100 GiB per replica (EBS), HPA 1-5 on num_requests_running",
        "cost: $1.006/h to $3.018/h on demand",
        "```",
        "",
        "### Policy violations",
        "",
        '- **mandatory** `kubernetes-fleet-fits`: [kubernetes-hpa-max-schedulable] service "llm" has HPA maxReplicas 5 × 1 GPU, but node group "gpu" (maxSize 3 × 1 A10G per node) can schedule 3; raise maxSize to 5 or lower maxReplicas to 3',
        `  - Fix: ${policyFix("kubernetes-fleet-fits")}.`,
        "",
      ].join("\n"),
    );
  });

  it("refuses invalid eks config with exit 2 before anything is registered", () => {
    const r = plan(edited("bad", "maxSize: 3", "maxSize: 0"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^invalid stack config .*Pulumi\.bad\.yaml:\n {2}gpu-fleet:eks\.nodeGroups\[0\]\.maxSize: /,
    );
  });
});
