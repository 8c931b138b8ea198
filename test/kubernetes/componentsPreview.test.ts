import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { MockRecorder, settle, setupMocks } from "../helpers/pulumiMocks";

let mocks: MockRecorder;
let kc: typeof import("../../components/kubernetes");
let fk: typeof import("../../fleet/kubernetes");

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks({ preview: true });
  kc = await import("../../components/kubernetes");
  fk = await import("../../fleet/kubernetes");
});

describe("during a preview a misfit is a warning, so the preview shows everything", () => {
  it("a 70B model on the g5.xlarge node group registers its objects and warns with what `up` will refuse", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const cluster = {
      provider: undefined as any,
      nodeGroups: [fk.resolveNodeGroup({ name: "gpu", maxSize: 2 })],
      storageClassName: "gp3",
      ready: [],
    };
    new kc.KubernetesNimService("big", {
      cluster,
      namespace: { name: "nim", ready: [] },
      model: "meta/llama-3.1-70b-instruct",
      cache: { sizeGiB: 200 },
    });
    await settle();
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      '[model-fits-reservation] KubernetesNimService "big" needs 177,073 MiB per GPU (weights 134,571 + overhead 1,542 + KV for 131,072 tokens 40,960) but its reservation is 20,334 MiB: over by 156,739 MiB; give it more GPUs, a lower precision or a larger GPU (`pulumi up` will refuse this)',
    ]);
    expect(mocks.registrations.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "gpu-fleet:index:KubernetesNimService big",
        "kubernetes:core/v1:ConfigMap big-ledger",
        "kubernetes:core/v1:Service big",
        "kubernetes:apps/v1:StatefulSet big",
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor big-monitor",
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule big-alerts",
      ].sort(),
    );
    // The ledger the policy pack will check is there, with the misfit in it.
    const ledger = JSON.parse(mocks.byName("big-ledger").inputs.data["ledger.json"]);
    expect([ledger.services[0].weightsMiBPerGpu, ledger.services[0].reservedMiBPerGpu]).toEqual([134571, 20334]);
    warn.mockRestore();
  });
});
