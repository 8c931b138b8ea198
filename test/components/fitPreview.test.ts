/**
 * During a preview the fit guarantee warns instead of refusing: every resource is registered, so the
 * preview and the policy pack show the same findings `pulumi up` would refuse.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MockRecorder, settle, setupMocks } from "../helpers/pulumiMocks";

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");
const warnings: string[] = [];
const spy = vi.spyOn(console, "warn").mockImplementation((m: unknown) => void warnings.push(String(m)));

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks({ preview: true });
  fleet = await import("../../fleet");
  components = await import("../../components");
});
afterAll(() => spy.mockRestore());

describe("a misfit GpuHost during a preview", () => {
  it("registers its children and warns with the same message `up` refuses with", async () => {
    const plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0] }],
      }),
    );
    new components.GpuHost("gpu0", {
      instanceType: "g5.xlarge",
      services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", gpus: [0] }],
      sshPrivateKey: pulumi.secret("key"),
      sshPublicKey: "ssh-ed25519 AAAA test",
    });
    await settle();
    const detail = plan.findings.find((f) => f.check === "model-fits-reservation")!.detail;
    expect(warnings).toEqual([
      `warning: [runtime] [model-fits-reservation] GpuHost "gpu0": services[0] (llm) ${detail} (\`pulumi up\` will refuse this)`,
    ]);
    expect(mocks.registrations.map((r) => r.name)).toContain("gpu0-ledger");
  });
});
