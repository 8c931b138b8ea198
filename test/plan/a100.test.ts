import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/runCli";

// The layout of the 8x A100 node this stack replaces, in models and precisions that fit.
const A100_MAP = [
  { index: 0, reservedMiB: 4038, reservations: [{ service: "asr", reservedMiB: 4038 }] },
  {
    index: 1,
    reservedMiB: 9595,
    reservations: [
      { service: "embed", reservedMiB: 1664 },
      { service: "rerank", reservedMiB: 7931 },
    ],
  },
  { index: 2, reservedMiB: 73036, reservations: [{ service: "llm", reservedMiB: 73036 }] },
  { index: 3, reservedMiB: 73036, reservations: [{ service: "llm", reservedMiB: 73036 }] },
  { index: 4, reservedMiB: 73036, reservations: [{ service: "ocr", reservedMiB: 73036 }] },
  { index: 5, reservedMiB: 0, reservations: [] },
  { index: 6, reservedMiB: 0, reservations: [] },
  { index: 7, reservedMiB: 0, reservations: [] },
].map((g) => ({
  ...g,
  model: "A100-SXM4-80GB",
  memoryMiB: 81920,
  usableMiB: 77824,
  // No two vLLM engines share a GPU here (GPU 1's are encoders): nothing is charged outside the reservations.
  outsideReservationMiB: 0,
  chargedMiB: g.reservedMiB,
  reservations: g.reservations.map((r) => ({ ...r, outsideReservationMiB: 0 })),
}));

describe("the a100 stack", () => {
  let report: any;
  beforeAll(() => {
    const r = runCli("cli/plan.ts", ["a100", "--json"]);
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
  });

  it("plans the documents' GPU distribution on a p4de.24xlarge", () => {
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0]).toMatchObject({
      name: "a100",
      kind: "ec2",
      instanceType: "p4de.24xlarge",
      hourlyUsd: 27.44705,
      interconnect: "nvswitch",
    });
    expect(report.hosts[0].gpus).toEqual(A100_MAP);
    expect(report.violations).toEqual([]);
  });

  it("runs the 70B LLM with tensor parallelism 2 at a context that fits, since A100s have no fp8", () => {
    const llm = report.services.find((s: any) => s.name === "llm");
    expect(llm).toMatchObject({ gpus: [2, 3], tensorParallel: 2, precision: "bf16", maxModelLen: 8192, fits: true });
    expect(llm.estimate).toEqual({
      weightsMiBPerGpu: 67286,
      kvBytesPerToken: 327680,
      overheadMiB: 1798,
      maxContextTokens: 25280,
    });
  });

  it("targets an existing on-prem 8x A100 machine by config with the same map", () => {
    const yaml = readFileSync(join(ROOT, "Pulumi.a100.yaml"), "utf8").replace(
      "      instanceType: p4de.24xlarge\n      dataVolumeSizeGiB: 2000\n",
      "      existing: { address: 10.0.0.5, user: ubuntu, gpu: A100-SXM4-80GB, gpuCount: 8, dataDir: /data }\n",
    );
    const path = join(mkdtempSync(join(tmpdir(), "gpu-fleet-a100-")), "Pulumi.onprem.yaml");
    writeFileSync(path, yaml);
    const r = runCli("cli/plan.ts", [path, "--json"]);
    expect(r.code).toBe(0);
    const onprem = JSON.parse(r.stdout);
    expect(onprem.hosts[0]).toMatchObject({
      name: "a100",
      kind: "existing",
      instanceType: null,
      hourlyUsd: null,
      interconnect: "nvswitch",
    });
    expect(onprem.hosts[0].gpus).toEqual(A100_MAP);
    expect(onprem.resources.filter((r: any) => r.type.startsWith("aws:"))).toEqual([]);
  });

  it("renders the GPU map as Markdown for a pull request", () => {
    const r = runCli("cli/plan.ts", ["a100", "--format", "md"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "| 1 | embed (1,664), rerank (7,931) | nvidia/nv-embedqa-e5-v5, nvidia/nv-rerankqa-mistral-4b-v3 | 9,595 | 77,824 | 68,229 |",
    );
    expect(r.stdout).toContain("| 5 | spare | — | 0 | 77,824 | 77,824 |");
  });
});
