/**
 * The GPU policies read the host ledger from the stdin of `<host>-ledger` and run the fleet checks on
 * it. Each runs through its SDK-facing validateResource with inputs wrapped as the engine wraps them.
 */
import { describe, expect, it } from "vitest";
import { CHECKS } from "../../fleet/checks";

import { fixedFractionEnginesFit } from "../../policies/fixedFractionEnginesFit";
import { gpuMemoryBudget } from "../../policies/gpuMemoryBudget";
import { modelFitsReservation } from "../../policies/modelFitsReservation";
import { pinnedDevicesExist } from "../../policies/pinnedDevicesExist";
import { FleetResourcePolicy } from "../../policies/policy";
import { precisionSupportedByGpu } from "../../policies/precisionSupportedByGpu";
import { tensorParallelMatchesDevices } from "../../policies/tensorParallelMatchesDevices";
import { tensorParallelOverPcie } from "../../policies/tensorParallelOverPcie";
import { A100_CONFIG, a100Ledger, changeLedger, ledgerCommand, ngcKeyCommand, planLedgers, service } from "./fixtures";
import { UNKNOWN_STRING, advisory, mandatory, runResourcePolicy } from "./helpers";
import { RawStackConfig } from "../../stackConfig";

const GPU_POLICIES: [FleetResourcePolicy, string, string][] = [
  [gpuMemoryBudget, CHECKS.gpuBudget, "the GPU budget"],
  [pinnedDevicesExist, CHECKS.devicesExist, "pinned devices"],
  [fixedFractionEnginesFit, CHECKS.fixedFractions, "fixed-fraction reservations"],
  [tensorParallelMatchesDevices, CHECKS.tensorParallel, "tensor parallelism"],
  [precisionSupportedByGpu, CHECKS.precision, "precision support"],
  [modelFitsReservation, CHECKS.modelFits, "whether each model fits its reservation"],
  [tensorParallelOverPcie, CHECKS.pcieTensorParallel, "the GPU interconnect"],
];

/** The a100 config with one service changed (undefined removes a setting). */
function withService(name: string, change: Record<string, unknown>): RawStackConfig {
  const services = (A100_CONFIG.services as Record<string, unknown>[]).map((s) => {
    if (s.name !== name) return s;
    const changed: Record<string, unknown> = { ...s, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete changed[k];
    return changed;
  });
  return { ...A100_CONFIG, services };
}

const ledgerOf = (config: RawStackConfig) => ledgerCommand(planLedgers(config)[0]);

describe.each(GPU_POLICIES)("%s", (policy, name, subject) => {
  it("is named after the fleet check it runs, with a full-sentence description", () => {
    expect(policy.name).toBe(name);
    expect(policy.description).toMatch(/^[A-Z].*\.$/);
    expect(policy.enforcementLevel).toBe(name === CHECKS.pcieTensorParallel ? "advisory" : "mandatory");
  });

  it("passes the a100 ledger (ASR 0, embeddings + reranker 1, LLM TP2 on 2-3, OCR 4)", () => {
    expect(runResourcePolicy(policy, ledgerCommand(a100Ledger()))).toEqual([]);
  });

  it("fails, at its own level, when the ledger is unknown at preview", () => {
    const preview = {
      ...ledgerCommand(a100Ledger()),
      props: { ...ledgerCommand(a100Ledger()).props, stdin: UNKNOWN_STRING, connection: UNKNOWN_STRING },
    };
    expect(runResourcePolicy(policy, preview)).toEqual([
      {
        enforcement: policy.enforcementLevel,
        message: `ledger of dgx-ledger is unknown at preview; ${subject} cannot be checked. The host ledger must be computed from config alone, never from another resource's outputs`,
      },
    ]);
  });

  it("passes a known ledger whose connection is unknown at preview (an EC2 host's address)", () => {
    const preview = {
      ...ledgerCommand(a100Ledger()),
      props: { ...ledgerCommand(a100Ledger()).props, connection: UNKNOWN_STRING, triggers: [UNKNOWN_STRING] },
    };
    expect(runResourcePolicy(policy, preview)).toEqual([]);
  });

  it("fails when a command named like a ledger carries something else", () => {
    expect(runResourcePolicy(policy, ledgerCommand('{"kind":"gpu-fleet/host-ledger","version":2}'))).toEqual([
      {
        enforcement: policy.enforcementLevel,
        message: `dgx-ledger is named like a host ledger but its stdin is not a gpu-fleet/host-ledger document (version 1); ${subject} cannot be checked`,
      },
    ]);
  });

  it("checks a ledger document on any command, and ignores other commands", () => {
    expect(runResourcePolicy(policy, ledgerCommand(a100Ledger(), "dgx-gpu-map"))).toEqual([]);
    expect(runResourcePolicy(policy, ngcKeyCommand("llm"))).toEqual([]);
    expect(runResourcePolicy(policy, { ...ngcKeyCommand("llm"), props: { stdin: UNKNOWN_STRING } })).toEqual([]);
  });
});

describe("one change per failing case, exact messages", () => {
  it("gpu-memory-budget: OCR moved onto the embeddings GPU overflows it, with its CUDA context and graphs", () => {
    // dots.ocr's vLLM engine keeps 544 + 512 + 18 × 28 layers = 1,560 MiB outside its reservation: charged
    // once it shares the GPU with the two encoders (which keep nothing outside theirs).
    expect(runResourcePolicy(gpuMemoryBudget, ledgerOf(withService("ocr", { gpus: [1] })))).toEqual(
      mandatory(
        'host "dgx" GPU 1 (A100-SXM4-80GB) is over budget by 6,367 MiB: embed 1,664 MiB + rerank 7,931 MiB + ocr 73,036 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) ocr 1,560 MiB = 84,191 MiB charged, 77,824 MiB usable of 81,920 MiB',
      ),
    );
  });

  it("gpu-memory-budget: two vLLM engines whose reservations fit a GPU, but not with what each keeps outside them", () => {
    // test/fleet/measurements.test.ts "engines sharing a GPU": 40,576 + 36,518 = 77,094 MiB of reservations
    // fit the 77,824 usable; 1,632 + 1,488 MiB of CUDA context and graph pools outside them do not.
    const config: RawStackConfig = {
      ...A100_CONFIG,
      services: [
        ...(A100_CONFIG.services as Record<string, unknown>[]),
        {
          name: "chat",
          model: "meta/llama-2-7b-chat",
          host: "dgx",
          gpus: [6],
          gpuMemoryUtilization: 0.5,
          maxModelLen: 2048,
        },
        { name: "small", model: "microsoft/DialoGPT-medium", host: "dgx", gpus: [6], gpuMemoryUtilization: 0.45 },
      ],
    };
    expect(runResourcePolicy(gpuMemoryBudget, ledgerOf(config))).toEqual(
      mandatory(
        'host "dgx" GPU 6 (A100-SXM4-80GB) is over budget by 2,390 MiB: chat 40,576 MiB + small 36,518 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) chat 1,632 MiB + small 1,488 MiB = 80,214 MiB charged, 77,824 MiB usable of 81,920 MiB',
      ),
    );
  });

  it("pinned-devices-exist: a ledger pinning the LLM to GPUs 7-8 of an 8-GPU host", () => {
    const doc = changeLedger(a100Ledger(), (d) => {
      service(d, "llm").gpus = [7, 8];
    });
    expect(runResourcePolicy(pinnedDevicesExist, ledgerCommand(doc))).toEqual(
      mandatory('service "llm" is pinned to GPU 8, which does not exist on host "dgx" (8 × A100-SXM4-80GB: GPU 0-7)'),
    );
  });

  it("fixed-fraction-engines-fit: OCR moved onto an LLM GPU, two vLLM engines at 0.9", () => {
    expect(runResourcePolicy(fixedFractionEnginesFit, ledgerOf(withService("ocr", { gpus: [3] })))).toEqual(
      mandatory(
        'host "dgx" GPU 3 (A100-SXM4-80GB): vLLM engines llm 0.9 + ocr 0.9 reserve 1.80 of the GPU, more than the usable 0.95; they cannot all start (over by 68,980 MiB)',
      ),
    );
  });

  it("tensor-parallel-matches-devices: a ledger saying TP 4 on two devices", () => {
    const doc = changeLedger(a100Ledger(), (d) => {
      service(d, "llm").tensorParallel = 4;
    });
    expect(runResourcePolicy(tensorParallelMatchesDevices, ledgerCommand(doc))).toEqual(
      mandatory(
        'service "llm" on host "dgx" has tensor parallelism 4 but is pinned to 2 GPU(s) [2, 3]; they must be equal',
      ),
    );
  });

  it("precision-supported-by-gpu: fp8 on an A100", () => {
    expect(runResourcePolicy(precisionSupportedByGpu, ledgerOf(withService("llm", { precision: "fp8" })))).toEqual(
      mandatory(
        'service "llm" on host "dgx" uses fp8, which A100-SXM4-80GB (compute capability 8.0) does not support; fp8 needs 8.9',
      ),
    );
  });

  it("precision-supported-by-gpu: bf16 on a T4 says to use fp16", () => {
    const t4 = planLedgers({
      ngcApiKey: "secret",
      hosts: [{ name: "t4", instanceType: "g4dn.xlarge" }],
      services: [{ name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "t4", gpus: [0], precision: "bf16" }],
    })[0];
    expect(runResourcePolicy(precisionSupportedByGpu, ledgerCommand(t4))).toEqual(
      mandatory(
        'service "embed" on host "t4" uses bf16, which T4 (compute capability 7.5) does not support; bf16 needs 8.0; use fp16',
      ),
    );
  });

  it("model-fits-reservation: the 70B LLM at its full 128k context", () => {
    expect(runResourcePolicy(modelFitsReservation, ledgerOf(withService("llm", { maxModelLen: undefined })))).toEqual(
      mandatory(
        'service "llm" (meta/llama-3.1-70b-instruct) on host "dgx" GPU 2, 3 needs 89,564 MiB per GPU (weights 67,286 + overhead 1,798 + KV for 131,072 tokens 20,480) but its reservation is 73,036 MiB: over by 16,528 MiB; set maxModelLen <= 25,280 or give it more GPUs',
      ),
    );
  });

  it("tensor-parallel-over-pcie: the same map on PCIe-only GPUs is advisory", () => {
    const doc = changeLedger(a100Ledger(), (d) => {
      d.interconnect = "pcie";
    });
    expect(runResourcePolicy(tensorParallelOverPcie, ledgerCommand(doc))).toEqual(
      advisory(
        'service "llm" on host "dgx" runs tensor parallelism 2 over PCIe-only A100-SXM4-80GB GPUs [2, 3]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)',
      ),
    );
  });
});
