/**
 * The policy pack as the Pulumi CLI runs it: a separate process started by run-policy-pack, driven
 * over the analyzer gRPC protocol with the resources of the a100 stack and of broken stacks, in the
 * order the CLI calls it (Handshake, GetPluginInfo, ConfigureStack, GetAnalyzerInfo, Configure,
 * Analyze per resource, AnalyzeStack). Every diagnostic is asserted exactly, and equals what
 * evaluatePolicies (the offline plan) reports for the same resources, with the policy's description
 * above the message as the SDK prints it.
 */
import * as grpc from "@grpc/grpc-js";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKS, COST_CHECK } from "../../fleet/checks";
import { EvaluatedResource, PolicyPackConfig, evaluatePolicies } from "../../policies/evaluate";
import { POLICIES } from "../../policies/pack";
import {
  Diagnostic,
  PolicyPackProcess,
  WIRE_UNKNOWN,
  WireResource,
  analyzeRequest,
  analyzeStackRequest,
  diagnosticsOf,
  empty,
  levelName,
  rpc,
  startPolicyPack,
  urnOf,
  wireSecret,
} from "./analyzerProcess";
import { previewProgram } from "../../plan/mockPreview";
import { readStackFile } from "../../plan/stackFile";
import { a100Ledger, a100Stack, changeLedger, dataVolume, ledgerCommand, securityGroup, service } from "./fixtures";

const description = (policy: string) => POLICIES.find((p) => p.name === policy)!.description;

/** The stack as the engine marshals it: SSH connections and the key on stdin are secrets (the components mark them so). */
function onTheWire(resources: readonly EvaluatedResource[]): WireResource[] {
  const components: WireResource[] = [
    { type: "gpu-fleet:index:GpuHost", name: "dgx", props: {} },
    { type: "gpu-fleet:index:NimService", name: "llm", props: {} },
  ];
  return [
    ...components,
    ...resources.map((r) => ({
      type: r.type,
      name: r.name,
      parent: urnOf(r.type.startsWith("aws:") || r.name.startsWith("dgx-") ? components[0] : components[1]),
      props: Object.fromEntries(
        Object.entries(r.props).map(([k, v]) => [
          k,
          k === "connection" || (k === "stdin" && r.name.endsWith("-ngc-key")) ? wireSecret(v) : v,
        ]),
      ),
    })),
  ];
}

/** What the pack must report for these resources: evaluatePolicies' result, as the SDK formats diagnostics. */
function expectedFromPlan(
  resources: readonly EvaluatedResource[],
  config?: PolicyPackConfig,
  only: "resource" | "stack" = "resource",
): Diagnostic[] {
  return evaluatePolicies(resources, config)
    .filter((v) => (only === "stack" ? v.resource === null : v.resource !== null))
    .map((v) => ({
      policy: v.policy,
      enforcement: v.enforcement,
      message: `${description(v.policy)}\n${v.message}`,
      // Resource violations carry no URN (the engine knows which resource it asked about).
      urn: "",
    }));
}

/**
 * What the real a100 stack program (Pulumi.a100.yaml, stacks/fleet.ts) registers under the mock
 * runtime in preview mode — the resources the offline plan hands to evaluatePolicies.
 */
async function registeredA100Stack(): Promise<EvaluatedResource[]> {
  const file = readStackFile("a100", path.resolve(__dirname, "../.."));
  pulumi.runtime.setAllConfig(file.config, file.secretKeys);
  const { deployFleet, stackOutputs } = await import("../../stacks/fleet");
  const preview = await previewProgram(() => stackOutputs(deployFleet()), {
    project: "gpu-fleet",
    stack: file.stack,
    config: file.config,
    secretKeys: file.secretKeys,
  });
  return preview.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
}

/** Mock-runtime inputs as the engine puts them on the wire: pulumi.unknown becomes the sentinel, undefined is dropped. */
function mockInputsOnTheWire(value: unknown): unknown {
  if (pulumi.Output.isInstance(value))
    throw new Error("inputs reach the mock monitor resolved; an Output here means the recorder changed");
  if (pulumi.isUnknown(value)) return WIRE_UNKNOWN;
  if (Array.isArray(value)) return value.map(mockInputsOnTheWire);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, mockInputsOnTheWire(v)]),
  );
}

let pack: PolicyPackProcess;
let realA100: EvaluatedResource[];

beforeAll(async () => {
  [pack, realA100] = await Promise.all([startPolicyPack(), registeredA100Stack()]);
});

afterAll(async () => {
  await pack?.stop();
});

async function analyzeEach(resources: readonly WireResource[]): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const r of resources)
    out.push(...diagnosticsOf(await rpc<pb.AnalyzeResponse>((cb) => pack.client.analyze(analyzeRequest(r), cb))));
  return out;
}

const analyzeStack = async (resources: readonly WireResource[]) =>
  diagnosticsOf(await rpc<pb.AnalyzeResponse>((cb) => pack.client.analyzeStack(analyzeStackRequest(resources), cb)));

describe("the policy pack process, driven as the Pulumi CLI drives it", () => {
  it("printed its port on stdout and answers GetPluginInfo; Handshake is unimplemented, so the CLI falls back", async () => {
    expect(pack.port).toBeGreaterThan(0);
    const info = await rpc<PluginInfo>((cb) => pack.client.getPluginInfo(empty(), cb));
    expect(info.getVersion()).toBe("1.21.0");
    const handshake = rpc((cb) =>
      pack.client.handshake(
        new pb.AnalyzerHandshakeRequest()
          .setEngineAddress("127.0.0.1:0")
          .setRootDirectory(".")
          .setProgramDirectory("."),
        cb,
      ),
    );
    await expect(handshake).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });

  it("accepts the stack's configuration (ConfigureStack)", async () => {
    const request = new pb.AnalyzerStackConfigureRequest()
      .setStack("a100")
      .setProject("gpu-fleet")
      .setOrganization("organization")
      .setDryRun(true);
    request.getTagsMap().set("gpu-fleet:hosts", "1");
    await expect(rpc((cb) => pack.client.configureStack(request, cb))).resolves.toBeInstanceOf(
      pb.AnalyzerStackConfigureResponse,
    );
  });

  it("describes the pack (GetAnalyzerInfo): name, version from package.json, every policy with its level and config schema", async () => {
    const info = await rpc<pb.AnalyzerInfo>((cb) => pack.client.getAnalyzerInfo(empty(), cb));
    expect([info.getName(), info.getVersion(), info.getSupportsconfig()]).toEqual(["gpu-fleet", "0.1.0", true]);
    expect(
      info.getPoliciesList().map((p) => [p.getName(), p.getDescription(), levelName(p.getEnforcementlevel())]),
    ).toEqual(POLICIES.map((p) => [p.name, p.description, p.enforcementLevel]));
    const cost = info.getPoliciesList().find((p) => p.getName() === COST_CHECK)!;
    expect(cost.getConfigschema()!.getProperties()!.toJavaScript()).toEqual({
      maxHourlyUsd: {
        type: "number",
        exclusiveMinimum: 0,
        description: "Maximum on-demand US dollars per hour for the stack's GPU hosts; no limit when unset.",
      },
    });
  });

  it("finds nothing in the a100 stack (Analyze per resource, then AnalyzeStack)", async () => {
    const wire = onTheWire(a100Stack());
    expect(await analyzeEach(wire)).toEqual([]);
    expect(await analyzeStack(wire)).toEqual([]);
  });

  it("finds nothing in what the real a100 stack program registers in a preview, and agrees with evaluatePolicies", async () => {
    expect(realA100.map((r) => r.name)).toEqual(
      expect.arrayContaining(["a100-instance", "a100-sg", "a100-data", "a100-ledger", "llm-ngc-key", "llm-container"]),
    );
    const wire = realA100.map((r) => ({
      type: r.type,
      name: r.name,
      props: mockInputsOnTheWire(r.props) as Record<string, unknown>,
    }));
    // The preview really has unknowns (the instance address in every SSH connection) and secrets (the key on stdin).
    expect(JSON.stringify(wire)).toContain(WIRE_UNKNOWN);
    expect(wire.find((r) => r.name === "llm-ngc-key")!.props.stdin).toEqual(wireSecret("NGC_API_KEY=[secret]\n"));
    expect(await analyzeEach(wire)).toEqual([]);
    expect(await analyzeStack(wire)).toEqual([]);
    expect(evaluatePolicies(realA100)).toEqual([]);
  });

  it("fails an over-budget GPU and a device out of range on the ledger, mandatory", async () => {
    const broken = changeLedger(a100Ledger(), (d) => {
      service(d, "ocr").gpus = [1];
      service(d, "asr").gpus = [9];
    });
    const resources = [ledgerCommand(broken)];
    const diagnostics = await analyzeEach(onTheWire(resources));
    expect(diagnostics).toEqual([
      {
        policy: CHECKS.devicesExist,
        enforcement: "mandatory",
        message: `${description(CHECKS.devicesExist)}\nservice "asr" is pinned to GPU 9, which does not exist on host "dgx" (8 × A100-SXM4-80GB: GPU 0-7)`,
        urn: "",
      },
      {
        policy: CHECKS.gpuBudget,
        enforcement: "mandatory",
        message: `${description(CHECKS.gpuBudget)}\nhost "dgx" GPU 1 (A100-SXM4-80GB) is over budget by 6,367 MiB: embed 1,664 MiB + rerank 7,931 MiB + ocr 73,036 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) ocr 1,560 MiB = 84,191 MiB charged, 77,824 MiB usable of 81,920 MiB`,
        urn: "",
      },
    ]);
    expect(diagnostics).toEqual(expectedFromPlan(resources));
  });

  it("fails an unencrypted volume, SSH open to 0.0.0.0/0 and a plaintext key — even one marked secret", async () => {
    const resources = [
      securityGroup("dgx", ["0.0.0.0/0"]),
      { ...dataVolume(), props: { ...dataVolume().props, encrypted: false } },
      ...a100Stack()
        .filter((r) => r.name === "llm-container")
        .map((r) => ({
          ...r,
          props: {
            ...r.props,
            create: `docker run -e NGC_API_KEY=nvapi-${"Q".repeat(64)} nvcr.io/nim/meta/llama-3.1-70b-instruct:1.3.3`,
          },
        })),
    ];
    const wire = onTheWire(resources).map((r) =>
      r.name === "llm-container" ? { ...r, props: { ...r.props, create: wireSecret(r.props.create) } } : r,
    );
    const diagnostics = await analyzeEach(wire);
    expect(diagnostics.map((d) => [d.policy, d.enforcement, d.message.split("\n")[1]])).toEqual([
      [
        "security-group-no-public-ingress",
        "mandatory",
        'security group "dgx-sg" ingress[0] opens port 22 (SSH) over tcp to 0.0.0.0/0; allow only the addresses that need it (for SSH, gpu-fleet:hosts[].sshAllowedCidrs) — GPU hosts serve nothing to the whole internet',
      ],
      [
        "ebs-volumes-encrypted",
        "mandatory",
        'EBS volume "dgx-data" is not encrypted (encrypted is false); set encrypted: true — the disk holds model caches, vector data and the NGC key file',
      ],
      [
        "no-plaintext-secrets",
        "mandatory",
        'resource "llm-container" (command:remote:Command) input create holds an NGC API key (nvapi-…) in plain text; deliver the key only on the stdin of a *-ngc-key command, from the secret gpu-fleet:ngcApiKey, and read it on the host from the 0600 file that command writes',
      ],
    ]);
    expect(diagnostics).toEqual(expectedFromPlan(resources));
  });

  it("fails a stack whose GPU instance has no ledger (AnalyzeStack)", async () => {
    const resources = a100Stack().filter((r) => r.name !== "dgx-ledger");
    const diagnostics = await analyzeStack(onTheWire(resources));
    expect(diagnostics).toEqual([
      {
        policy: "gpu-hosts-have-ledgers",
        enforcement: "mandatory",
        message: `${description("gpu-hosts-have-ledgers")}\nEC2 instance "dgx-instance" (p4de.24xlarge) has no host ledger: no command:remote:Command carries a gpu-fleet/host-ledger document for host "dgx", so none of the GPU checks can run; create GPU hosts with GpuHost, which registers "dgx-ledger"`,
        urn: "",
      },
    ]);
    expect(diagnostics).toEqual(expectedFromPlan(resources, undefined, "stack"));
  });

  it("keeps every GPU check failing, never advisory, when a preview cannot see the ledger", async () => {
    const preview = onTheWire(a100Stack()).map((r) =>
      r.name === "dgx-ledger"
        ? { ...r, props: { ...r.props, stdin: WIRE_UNKNOWN, connection: WIRE_UNKNOWN, triggers: [WIRE_UNKNOWN] } }
        : r,
    );
    const diagnostics = await analyzeEach(preview);
    const cannot = (subject: string) =>
      `ledger of dgx-ledger is unknown at preview; ${subject} cannot be checked. The host ledger must be computed from config alone, never from another resource's outputs`;
    expect(diagnostics.map((d) => [d.policy, d.enforcement, d.message.split("\n")[1]])).toEqual([
      [CHECKS.placed, "mandatory", cannot("the placement of the host's services")],
      [CHECKS.devicesExist, "mandatory", cannot("pinned devices")],
      [CHECKS.tensorParallel, "mandatory", cannot("tensor parallelism")],
      [CHECKS.precision, "mandatory", cannot("precision support")],
      [CHECKS.gpuBudget, "mandatory", cannot("the GPU budget")],
      [CHECKS.fixedFractions, "mandatory", cannot("fixed-fraction reservations")],
      [CHECKS.modelFits, "mandatory", cannot("whether each model fits its reservation")],
      [CHECKS.pcieTensorParallel, "advisory", cannot("the GPU interconnect")],
    ]);
    expect(diagnostics.some((d) => d.message.includes("can't run policy"))).toBe(false);
  });

  it("passes a preview where only provider-computed values are unknown (instance address, AMI)", async () => {
    const preview = onTheWire(a100Stack()).map((r) => ({
      ...r,
      props: Object.fromEntries(
        Object.entries(r.props).map(([k, v]) => [
          k,
          k === "connection" || k === "ami" || k === "triggers" ? WIRE_UNKNOWN : v,
        ]),
      ),
    }));
    expect(await analyzeEach(preview)).toEqual([]);
  });

  it("applies policy config (Configure): PCIe tensor parallelism made mandatory, a cost ceiling on the stack", async () => {
    const config: PolicyPackConfig = { [CHECKS.pcieTensorParallel]: "mandatory", [COST_CHECK]: { maxHourlyUsd: 20 } };
    const request = new pb.ConfigureAnalyzerRequest();
    request
      .getPolicyconfigMap()
      .set(
        CHECKS.pcieTensorParallel,
        new pb.PolicyConfig()
          .setEnforcementlevel(pb.EnforcementLevel.MANDATORY)
          .setProperties(Struct.fromJavaScript({})),
      );
    request
      .getPolicyconfigMap()
      .set(
        COST_CHECK,
        new pb.PolicyConfig()
          .setEnforcementlevel(pb.EnforcementLevel.ADVISORY)
          .setProperties(Struct.fromJavaScript({ maxHourlyUsd: 20 })),
      );
    await rpc((cb) => pack.client.configure(request, cb));

    const pcie = a100Stack(
      changeLedger(a100Ledger(), (d) => {
        d.interconnect = "pcie";
      }),
    );
    const wire = onTheWire(pcie);
    const resourceDiagnostics = await analyzeEach(wire);
    expect(resourceDiagnostics.map((d) => [d.policy, d.enforcement])).toEqual([
      [CHECKS.pcieTensorParallel, "mandatory"],
    ]);
    expect(resourceDiagnostics).toEqual(expectedFromPlan(pcie, config));

    const stackDiagnostics = await analyzeStack(wire);
    expect(stackDiagnostics).toEqual([
      {
        policy: COST_CHECK,
        enforcement: "advisory",
        message: `${description(COST_CHECK)}\nthe stack costs $27.447/h on demand, above the maximum of $20.000/h (gpu-fleet:maxHourlyUsd)`,
        urn: "",
      },
    ]);
    expect(stackDiagnostics).toEqual(expectedFromPlan(pcie, config, "stack"));
  });

  it("stop() ends the whole process group: no pack outlives the tests", async () => {
    await pack.stop();
    expect(() => process.kill(-pack.pgid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
  });
});
