import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/runCli";

// bench:plan measures; this only checks that what it measures still works: a generated fleet plans
// cleanly and the bare baseline registers as many resources. No timing is asserted.
describe("the bench:plan worker", () => {
  it("plans one generated p4de.24xlarge node with a service on every GPU, with no mandatory violation", () => {
    const r = runCli("bench/planFleetWorker.ts", ["plan", "1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // GpuHost and its 11 children, 8 NimServices (component, key, container), ObservabilityStack and its 6
    expect(JSON.parse(r.stdout).resources).toBe(12 + 8 * 3 + 7);
  });

  it("registers the same number of bare resources for the baseline", () => {
    const r = runCli("bench/planFleetWorker.ts", ["bare", "43"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).resources).toBe(43);
  });
});
