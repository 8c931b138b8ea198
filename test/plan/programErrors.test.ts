/**
 * Errors the stack program raises inside an `apply` reach the plan (issue 14 item 8): a stack named
 * `_exist` (a valid Pulumi stack name) on an existing machine, whose addresses are known at preview
 * time, makes the observability renderer refuse the stack label inside an apply. The runtime used to
 * drop that error: the plan printed "policy violations: none", lost three resources and exited 1 with
 * "144 promises were still active".
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/runCli";

function stackFile(stack: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-program-errors-"));
  const path = join(dir, `Pulumi.${stack}.yaml`);
  const dev = readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8");
  const existing = dev.replace(
    "      instanceType: g5.xlarge",
    "      existing: { address: 10.0.0.5, user: ubuntu, gpu: A10G, gpuCount: 1 }",
  );
  expect(existing).not.toBe(dev);
  writeFileSync(path, existing);
  return path;
}

const MESSAGE =
  'observability: stack "_exist" must start with a letter or digit and contain only letters, digits, ".", "_" and "-".';

describe("errors raised inside the program", () => {
  it("are printed, and the plan exits 2 with no report", () => {
    const r = runCli("cli/plan.ts", [stackFile("_exist")]);
    expect(r.stderr).toBe(`the stack program raised an error; nothing would be deployed:\n  ${MESSAGE}\n`);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
  });

  it("the same file under a plain stack name plans cleanly", () => {
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-program-errors-"));
    copyFileSync(stackFile("_exist"), join(dir, "Pulumi.exist.yaml"));
    const r = runCli("cli/plan.ts", [join(dir, "Pulumi.exist.yaml")]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("policy violations: none");
    expect(r.code).toBe(0);
  });
});
