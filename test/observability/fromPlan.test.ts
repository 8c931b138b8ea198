import { describe, expect, it } from "vitest";
import { planFleet } from "../../fleet";
import {
  observabilityInputFromPlan,
  renderPlanRecordingRules,
  resolveObservabilityInput,
} from "../../renderers/observability";
import { devInput } from "./fixtures";
import { validateStackConfig, type RawStackConfig } from "../../stackConfig";

const plan = (raw: Record<string, unknown>) =>
  planFleet(validateStackConfig({ ngcApiKey: "secret", ...raw } as RawStackConfig));

// Pulumi.dev.yaml: one g5.xlarge, Llama 3.1 8B on GPU 0 with an 8k context.
const DEV = {
  hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
  services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 }],
};

describe("observabilityInputFromPlan", () => {
  it("turns the dev stack's plan into the dev input: the ledger's 20,334 MiB reservation and the NIM's port", () => {
    const input = observabilityInputFromPlan(plan(DEV), {
      stack: "dev",
      addresses: { gpu0: "10.0.1.10" },
      iris: devInput.iris,
      vectorizers: devInput.vectorizers,
    });
    expect(input).toEqual({ ...devInput, nimServices: [{ ...devInput.nimServices[0], engine: "nim" }] });
    expect(renderPlanRecordingRules(resolveObservabilityInput(input))[0]).toEqual({
      record: "gpu_fleet:planned_reservation_mib",
      expr: "vector(20334)",
      labels: { host: "gpu0", gpu: "0", services: "llm" },
    });
  });

  it("marks a model without a NIM as served by vLLM, and carries SSH settings and options", () => {
    const input = observabilityInputFromPlan(
      plan({
        hosts: [{ name: "dgx", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } }],
        services: [
          { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "dgx", gpus: [2, 3] },
          { name: "ocr", model: "rednote-hilab/dots.ocr", host: "dgx", gpus: [4] },
        ],
      }),
      {
        stack: "a100",
        addresses: { dgx: "10.0.0.5" },
        sshAddresses: { dgx: "bastion.example" },
        sshUsers: { dgx: "admin" },
        retentionDays: 30,
      },
    );
    expect(input.nimServices.map((s) => [s.name, s.engine, s.address])).toEqual([
      ["llm", "nim", "10.0.0.5"],
      ["ocr", "vllm", "10.0.0.5"],
    ]);
    expect(input.hosts[0]).toMatchObject({
      name: "dgx",
      address: "10.0.0.5",
      sshAddress: "bastion.example",
      sshUser: "admin",
    });
    expect(input.hosts[0].gpus.map((g) => [g.index, g.reservations.map((r) => r.service).join(",")])).toEqual([
      [0, ""],
      [1, ""],
      [2, "llm"],
      [3, "llm"],
      [4, "ocr"],
      [5, ""],
      [6, ""],
      [7, ""],
    ]);
    expect(input.retentionDays).toBe(30);
  });

  it("names the host whose address is missing", () => {
    expect(() => observabilityInputFromPlan(plan(DEV), { stack: "dev", addresses: {} })).toThrow(
      'observability: no address for host "gpu0"; addresses has none.',
    );
  });
});
