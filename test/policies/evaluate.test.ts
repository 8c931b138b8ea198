/**
 * evaluatePolicies: the pack without the engine, as the offline plan runs it over what the stack
 * registered under the mock runtime (unknowns as `pulumi.unknown`, secrets as signature objects).
 */
import { unknown as pulumiUnknown } from "@pulumi/pulumi/output";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { CHECKS, COST_CHECK } from "../../fleet/checks";
import { EvaluatedResource, evaluatePolicies, resolvePolicyConfig } from "../../policies/evaluate";
import { gpuHostsHaveLedgers } from "../../policies/gpuHostsHaveLedgers";
import { maximumHourlyCost } from "../../policies/maximumHourlyCost";
import { POLICIES } from "../../policies/pack";
import {
  a100Ledger,
  a100Stack,
  changeLedger,
  dataVolume,
  ec2Instance,
  ledgerCommand,
  planLedgers,
  securityGroup,
  service,
} from "./fixtures";
import { UNKNOWN_STRING, advisory, mandatory, runStackPolicy } from "./helpers";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const replace = (stack: EvaluatedResource[], resource: EvaluatedResource) =>
  stack.map((r) => (r.name === resource.name ? resource : r));

describe("the pack's policies", () => {
  it("are the fleet checks, the security policies and the cost ceiling, each with a full-sentence description", () => {
    expect(POLICIES.map((p) => [p.name, p.enforcementLevel])).toEqual([
      [CHECKS.placed, "mandatory"],
      [CHECKS.devicesExist, "mandatory"],
      [CHECKS.tensorParallel, "mandatory"],
      [CHECKS.precision, "mandatory"],
      [CHECKS.gpuBudget, "mandatory"],
      [CHECKS.fixedFractions, "mandatory"],
      [CHECKS.modelFits, "mandatory"],
      [CHECKS.pcieTensorParallel, "advisory"],
      ["ec2-instance-imdsv2-required", "mandatory"],
      ["ebs-volumes-encrypted", "mandatory"],
      ["security-group-no-public-ingress", "mandatory"],
      ["no-plaintext-secrets", "mandatory"],
      ["gpu-hosts-have-ledgers", "mandatory"],
      ["kubernetes-fleet-fits", "mandatory"],
      [COST_CHECK, "advisory"],
    ]);
    for (const p of POLICIES) {
      expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description).toMatch(/^[A-Z].*\.$/);
    }
  });
});

describe("evaluatePolicies", () => {
  it("finds nothing in the a100 stack", () => {
    expect(evaluatePolicies(a100Stack())).toEqual([]);
  });

  it("reports each broken stack with policy, level, exact message and resource", () => {
    const overBudget = changeLedger(a100Ledger(), (d) => {
      service(d, "ocr").gpus = [1];
    });
    const stack = replace(a100Stack(overBudget), {
      ...dataVolume(),
      props: { ...dataVolume().props, encrypted: false },
    });
    expect(evaluatePolicies(replace(stack, securityGroup("dgx", ["0.0.0.0/0"])))).toEqual([
      {
        policy: "security-group-no-public-ingress",
        enforcement: "mandatory",
        message:
          'security group "dgx-sg" ingress[0] opens port 22 (SSH) over tcp to 0.0.0.0/0; allow only the addresses that need it (for SSH, gpu-fleet:hosts[].sshAllowedCidrs) — GPU hosts serve nothing to the whole internet',
        resource: "dgx-sg",
      },
      {
        policy: "ebs-volumes-encrypted",
        enforcement: "mandatory",
        message:
          'EBS volume "dgx-data" is not encrypted (encrypted is false); set encrypted: true — the disk holds model caches, vector data and the NGC key file',
        resource: "dgx-data",
      },
      {
        policy: "gpu-memory-budget",
        enforcement: "mandatory",
        message:
          'host "dgx" GPU 1 (A100-SXM4-80GB) is over budget by 6,367 MiB: embed 1,664 MiB + rerank 7,931 MiB + ocr 73,036 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) ocr 1,560 MiB = 84,191 MiB charged, 77,824 MiB usable of 81,920 MiB',
        resource: "dgx-ledger",
      },
    ]);
  });

  it("reports a device out of range and a plaintext key", () => {
    const outOfRange = changeLedger(a100Ledger(), (d) => {
      service(d, "ocr").gpus = [8];
    });
    const leaky = a100Stack(outOfRange).map((r) =>
      r.name === "llm-container"
        ? { ...r, props: { ...r.props, environment: { NGC_API_KEY: secret("nvapi-" + "k".repeat(64)) } } }
        : r,
    );
    expect(evaluatePolicies(leaky)).toEqual([
      {
        policy: CHECKS.devicesExist,
        enforcement: "mandatory",
        message: 'service "ocr" is pinned to GPU 8, which does not exist on host "dgx" (8 × A100-SXM4-80GB: GPU 0-7)',
        resource: "dgx-ledger",
      },
      {
        policy: "no-plaintext-secrets",
        enforcement: "mandatory",
        message:
          'resource "llm-container" (command:remote:Command) input environment.NGC_API_KEY holds an NGC API key (nvapi-…) in plain text; deliver the key only on the stdin of a *-ngc-key command, from the secret gpu-fleet:ngcApiKey, and read it on the host from the 0600 file that command writes',
        resource: "llm-container",
      },
    ]);
  });

  it("sees a preview as the mock runtime delivers it: pulumi.unknown ledger fails mandatory, unknown addresses do not", () => {
    const preview = a100Stack().map((r) => ({
      ...r,
      props: Object.fromEntries(
        Object.entries(r.props).map(([k, v]) => [
          k,
          k === "connection" || k === "ami" || (r.name === "dgx-ledger" && k === "stdin")
            ? pulumiUnknown
            : k === "stdin"
              ? secret(v)
              : v,
        ]),
      ),
    }));
    const unknownLedger = (subject: string) =>
      `ledger of dgx-ledger is unknown at preview; ${subject} cannot be checked. The host ledger must be computed from config alone, never from another resource's outputs`;
    expect(evaluatePolicies(preview)).toEqual([
      {
        policy: CHECKS.placed,
        enforcement: "mandatory",
        message: unknownLedger("the placement of the host's services"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.devicesExist,
        enforcement: "mandatory",
        message: unknownLedger("pinned devices"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.tensorParallel,
        enforcement: "mandatory",
        message: unknownLedger("tensor parallelism"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.precision,
        enforcement: "mandatory",
        message: unknownLedger("precision support"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.gpuBudget,
        enforcement: "mandatory",
        message: unknownLedger("the GPU budget"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.fixedFractions,
        enforcement: "mandatory",
        message: unknownLedger("fixed-fraction reservations"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.modelFits,
        enforcement: "mandatory",
        message: unknownLedger("whether each model fits its reservation"),
        resource: "dgx-ledger",
      },
      {
        policy: CHECKS.pcieTensorParallel,
        enforcement: "advisory",
        message: unknownLedger("the GPU interconnect"),
        resource: "dgx-ledger",
      },
    ]);
  });

  it("applies policy config as the CLI does: levels by string or object, disabled, settings", () => {
    const pcie = changeLedger(a100Ledger(), (d) => {
      d.interconnect = "pcie";
    });
    const message =
      'service "llm" on host "dgx" runs tensor parallelism 2 over PCIe-only A100-SXM4-80GB GPUs [2, 3]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)';
    const cost = "the stack costs $27.447/h on demand, above the maximum of $20.000/h (gpu-fleet:maxHourlyUsd)";
    const stack = a100Stack(pcie);
    expect(evaluatePolicies(stack)).toEqual([
      { policy: CHECKS.pcieTensorParallel, enforcement: "advisory", message, resource: "dgx-ledger" },
    ]);
    expect(
      evaluatePolicies(stack, { [CHECKS.pcieTensorParallel]: "mandatory", [COST_CHECK]: { maxHourlyUsd: 20 } }),
    ).toEqual([
      { policy: CHECKS.pcieTensorParallel, enforcement: "mandatory", message, resource: "dgx-ledger" },
      { policy: COST_CHECK, enforcement: "advisory", message: cost, resource: null },
    ]);
    expect(
      evaluatePolicies(stack, {
        [CHECKS.pcieTensorParallel]: { enforcementLevel: "disabled" },
        [COST_CHECK]: { enforcementLevel: "mandatory", maxHourlyUsd: 20 },
      }),
    ).toEqual([{ policy: COST_CHECK, enforcement: "mandatory", message: cost, resource: null }]);
  });

  it.each([
    [undefined, { level: "advisory", settings: {} }],
    ["mandatory", { level: "mandatory", settings: {} }],
    ["remediate", { level: "mandatory", settings: {} }],
    ["disabled", { level: "disabled", settings: {} }],
    [{ maxHourlyUsd: 5 }, { level: "advisory", settings: { maxHourlyUsd: 5 } }],
    [
      { enforcementLevel: "mandatory", maxHourlyUsd: 5 },
      { level: "mandatory", settings: { maxHourlyUsd: 5 } },
    ],
  ] as const)("resolvePolicyConfig(%j)", (entry, expected) => {
    expect(resolvePolicyConfig(COST_CHECK, "advisory", entry === undefined ? {} : { [COST_CHECK]: entry })).toEqual(
      expected,
    );
  });
});

describe("maximum-hourly-cost", () => {
  /** Three hosts from one real plan: p4de ($27.44705/h), g5.12xlarge ($5.672/h) and an existing machine (no price). */
  const threeHosts = () =>
    planLedgers({
      ngcApiKey: "secret",
      hosts: [
        { name: "dgx", instanceType: "p4de.24xlarge" },
        { name: "edge", instanceType: "g5.12xlarge" },
        { name: "lab", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } },
      ],
      services: [],
    });

  it("passes without a limit, and under it", () => {
    expect(runStackPolicy(maximumHourlyCost, a100Stack())).toEqual([]);
    expect(runStackPolicy(maximumHourlyCost, a100Stack(), { maxHourlyUsd: 27.45 })).toEqual([]);
  });

  it("sums hourlyUsd over every ledger; existing machines cost nothing here", () => {
    const [dgx, edge, lab] = threeHosts();
    const resources = [ledgerCommand(dgx), ledgerCommand(edge), ledgerCommand(lab), securityGroup()];
    expect(runStackPolicy(maximumHourlyCost, resources, { maxHourlyUsd: 30 })).toEqual(
      advisory("the stack costs $33.119/h on demand, above the maximum of $30.000/h (gpu-fleet:maxHourlyUsd)"),
    );
  });

  it("says it cannot check a ledger unknown at preview, and still sums the others", () => {
    const [dgx, edge] = threeHosts();
    const unknownEdge = { ...ledgerCommand(edge), props: { ...ledgerCommand(edge).props, stdin: UNKNOWN_STRING } };
    expect(runStackPolicy(maximumHourlyCost, [ledgerCommand(dgx), unknownEdge], { maxHourlyUsd: 20 })).toEqual(
      advisory(
        "ledger of edge-ledger is unknown at preview; the hourly cost cannot be checked. The host ledger must be computed from config alone, never from another resource's outputs",
        "the stack costs $27.447/h on demand, above the maximum of $20.000/h (gpu-fleet:maxHourlyUsd)",
      ),
    );
  });
});

describe("gpu-hosts-have-ledgers", () => {
  const policy = gpuHostsHaveLedgers;
  const missing = (instance: string, type: string, host: string) =>
    `EC2 instance "${instance}" (${type}) has no host ledger: no command:remote:Command carries a gpu-fleet/host-ledger document for host "${host}", so none of the GPU checks can run; create GPU hosts with GpuHost, which registers "${host}-ledger"`;
  const withoutLedger = () => a100Stack().filter((r) => r.name !== "dgx-ledger");

  it("passes the a100 stack, whose instance and ledger name the same host", () => {
    expect(runStackPolicy(policy, a100Stack())).toEqual([]);
  });

  it("fails a GPU instance with no ledger — otherwise every GPU check would pass with nothing to check", () => {
    expect(runStackPolicy(policy, withoutLedger())).toEqual(mandatory(missing("dgx-instance", "p4de.24xlarge", "dgx")));
  });

  it("fails a ledger for another host, matching by the gpu-fleet:host tag, else by the instance name", () => {
    const other = planLedgers({
      ngcApiKey: "secret",
      hosts: [{ name: "edge", instanceType: "g5.xlarge" }],
      services: [],
    })[0];
    const untagged = {
      ...ec2Instance("gpu7"),
      props: { ...ec2Instance("gpu7").props, instanceType: "g6e.xlarge", tags: {} },
    };
    expect(runStackPolicy(policy, [...withoutLedger(), ledgerCommand(other), untagged])).toEqual(
      mandatory(missing("dgx-instance", "p4de.24xlarge", "dgx"), missing("gpu7-instance", "g6e.xlarge", "gpu7")),
    );
  });

  it("ignores instances outside the GPU families, and leaves an unreadable ledger to the GPU policies", () => {
    const web = { ...ec2Instance("web"), props: { ...ec2Instance("web").props, instanceType: "m7i.large" } };
    const unreadable = {
      ...ledgerCommand(a100Ledger()),
      props: { ...ledgerCommand(a100Ledger()).props, stdin: UNKNOWN_STRING },
    };
    expect(runStackPolicy(policy, [...withoutLedger(), unreadable, web])).toEqual([]);
  });

  it("stays mandatory when the instance type is unknown at preview", () => {
    const unknownType = withoutLedger().map((r) =>
      r.name === "dgx-instance" ? { ...r, props: { ...r.props, instanceType: UNKNOWN_STRING } } : r,
    );
    expect(runStackPolicy(policy, unknownType)).toEqual(
      mandatory(
        'EC2 instance "dgx-instance": instanceType is unknown at preview, so it cannot be told whether it is a GPU host that needs a ledger; set a literal instance type',
      ),
    );
  });
});
