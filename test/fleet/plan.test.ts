/**
 * planFleet end to end from validated stack config: the dev stack, a100 layouts on EC2 and on an
 * existing machine, over-budget maps, instanceType "auto", cost and its advisory.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FleetPlan, HostLedgerDocument, checkHostLedger, parseLedger, planFleet, serializeLedger } from "../../fleet";
import { RawStackConfig, StackConfig, validateStackConfig } from "../../stackConfig";

const config = (raw: Record<string, unknown>): StackConfig =>
  validateStackConfig({ ngcApiKey: "secret", ...raw } as RawStackConfig);
const findings = (plan: FleetPlan) => plan.findings.map((f) => `${f.check} [${f.enforcement}] ${f.host}: ${f.message}`);
/** index usable reserved headroom service:MiB,… — one line per GPU. */
const gpuMap = (plan: FleetPlan, host = 0) =>
  plan.hosts[host].ledger.map((g) =>
    // `+N`: what the engine keeps outside its reservation, charged because it shares the GPU.
    `${g.index} ${g.usableMiB} ${g.reservedMiB} ${g.headroomMiB} ${g.reservations.map((r) => `${r.service}:${r.reservedMiB}${r.outsideReservationMiB > 0 ? `+${r.outsideReservationMiB}` : ""}`).join(",")}`.trimEnd(),
  );

// Pulumi.dev.yaml as issue 2 describes it: one g5.xlarge, Llama 3.1 8B on GPU 0 with an 8k context.
const DEV_LLM = { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 };
const DEV = { hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }], services: [DEV_LLM] };

describe("the dev stack", () => {
  const plan = planFleet(config(DEV));

  it("plans with no findings at $1.006/h", () => {
    expect(plan.findings).toEqual([]);
    expect(plan.hourlyUsd).toBe(1.006);
  });

  it("reserves floor(0.9 × 22,594 MiB that CUDA reports) = 20,334 MiB of the 21,876 usable on GPU 0: 1,542 MiB headroom", () => {
    expect(plan.hosts[0].ledger).toEqual([
      {
        index: 0,
        model: "A10G",
        memoryMiB: 23028,
        usableMiB: 21876,
        reservedMiB: 20334,
        // A lone engine is charged its reservation only.
        outsideReservationMiB: 0,
        chargedMiB: 20334,
        headroomMiB: 1542,
        reservations: [{ service: "llm", reservedMiB: 20334, outsideReservationMiB: 0 }],
      },
    ]);
  });

  it("describes the host", () => {
    expect(plan.hosts[0]).toMatchObject({
      name: "gpu0",
      kind: "ec2",
      instanceType: "g5.xlarge",
      hourlyUsd: 1.006,
      gpuCount: 1,
      interconnect: "single",
    });
    expect(plan.hosts[0].gpu.name).toBe("A10G");
    expect(plan.hosts[0].instanceChoice).toBeUndefined();
  });

  it("plans the service on the generic vLLM profile with an 8k context", () => {
    const s = plan.services[0];
    expect(s).toMatchObject({
      name: "llm",
      model: "meta/llama-3.1-8b-instruct",
      kind: "llm",
      host: "gpu0",
      gpus: [0],
      placedBy: "config",
      tensorParallel: 1,
      precision: "bf16",
      maxModelLen: 8192,
      gpuMemoryUtilization: 0.9,
      reservedMiBPerGpu: 20334,
      hostPort: 8000,
    });
    expect(s.serving.image).toBe("nvcr.io/nim/meta/llama-3.1-8b-instruct:latest");
    expect(s.estimate).toMatchObject({
      engine: "vllm",
      profile: "generic-vllm",
      profileNote: "generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
      weightsMiBPerGpu: 15317,
      kvBytesPerToken: 131072,
      overheadMiB: 1510,
      maxContextTokens: 28048,
      fits: true,
    });
  });

  it("writes this ledger document to the host", () => {
    const expected: HostLedgerDocument = {
      kind: "gpu-fleet/host-ledger",
      version: 1,
      host: "gpu0",
      gpuModel: "A10G",
      computeCapability: 8.6,
      nvidiaSmiName: "NVIDIA A10G",
      gpuCount: 1,
      memoryMiB: 23028,
      cudaTotalMiB: 22594,
      interconnect: "single",
      safetyMarginFraction: 0.05,
      hourlyUsd: 1.006,
      services: [
        {
          name: "llm",
          model: "meta/llama-3.1-8b-instruct",
          gpus: [0],
          tensorParallel: 1,
          precision: "bf16",
          engine: "vllm",
          gpuMemoryUtilization: 0.9,
          reservedMiBPerGpu: 20334,
          outsideReservationMiBPerGpu: 1632,
          kvCacheDtype: "auto",
          maxNumBatchedTokens: 2048,
          weightsMiBPerGpu: 15317,
          overheadMiB: 1510,
          kvBytesPerTokenPerGpu: 131072,
          maxModelLen: 8192,
        },
      ],
      gpus: plan.hosts[0].ledger,
    };
    expect(plan.hosts[0].ledgerDocument).toEqual(expected);
  });

  it("without maxModelLen the model's 131,072-token default does not fit one A10G", () => {
    const unbounded = planFleet(config({ ...DEV, services: [{ ...DEV_LLM, maxModelLen: undefined }] }));
    expect(findings(unbounded)).toEqual([
      'model-fits-reservation [mandatory] gpu0: service "llm" (meta/llama-3.1-8b-instruct) on host "gpu0" GPU 0 needs 33,211 MiB per GPU (weights 15,317 + overhead 1,510 + KV for 131,072 tokens 16,384) but its reservation is 20,334 MiB: over by 12,877 MiB; set maxModelLen <= 28,048 or give it more GPUs',
    ]);
    expect(unbounded.services[0].estimate.reason).toBe(
      "does not fit: weights 15,317 MiB + overhead 1,510 MiB + KV 16,384 MiB for 131,072 tokens exceed the 20,334 MiB reservation per GPU, whose KV cache holds 28,048 tokens; set maxModelLen <= 28,048 or use more GPUs",
    );
  });

  it("with the planner placing the service, it lands on GPU 0 the same way", () => {
    const placed = planFleet(config({ ...DEV, services: [{ ...DEV_LLM, gpus: undefined }] }));
    expect(placed.services[0]).toMatchObject({ gpus: [0], placedBy: "planner", reservedMiBPerGpu: 20334 });
    expect(gpuMap(placed)).toEqual(["0 21876 20334 1542 llm:20334"]);
  });
});

// The layout of the documents we replace, on 8× A100 80GB, with models and precisions that fit:
// ASR on GPU 0, embeddings + reranker on GPU 1, Llama 3.1 70B TP 2 on GPUs 2–3 with an 8k context,
// OCR on GPU 4, GPUs 5–7 spare.
const a100Services = (host: string, llm: Record<string, unknown> = { maxModelLen: 8192 }) => [
  { name: "asr", model: "openai/whisper-large-v3", host, gpus: [0] },
  { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host, gpus: [1] },
  { name: "rerank", model: "nvidia/nv-rerankqa-mistral-4b-v3", host, gpus: [1] },
  { name: "llm", model: "meta/llama-3.1-70b-instruct", host, gpus: [2, 3], ...llm },
  { name: "ocr", model: "rednote-hilab/dots.ocr", host, gpus: [4] },
];
const A100_MAP = [
  // whisper 2,944 + 1,024 + 70 (448 tokens × 163,840 B) = 4,038
  "0 77824 4038 73786 asr:4038",
  // e5 640 + 1,024 = 1,664; reranker 6,907 + 1,024 = 7,931
  "1 77824 9595 68229 embed:1664,rerank:7931",
  // vLLM: floor(0.9 × 80,281 MiB that CUDA reports) = 73,036 on each of its GPUs
  "2 77824 73036 4788 llm:73036",
  "3 77824 73036 4788 llm:73036",
  "4 77824 73036 4788 ocr:73036",
  "5 77824 0 77824",
  "6 77824 0 77824",
  "7 77824 0 77824",
];
const EXISTING_DGX = {
  name: "dgx",
  existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 },
};

describe("a100 layouts", () => {
  it("on a p4de.24xlarge: no findings, the GPU map above, $27.44705/h", () => {
    const plan = planFleet(
      config({ hosts: [{ name: "node", instanceType: "p4de.24xlarge" }], services: a100Services("node") }),
    );
    expect(plan.findings).toEqual([]);
    expect(gpuMap(plan)).toEqual(A100_MAP);
    expect(plan.hourlyUsd).toBe(27.44705);
    expect(plan.hosts[0]).toMatchObject({
      kind: "ec2",
      instanceType: "p4de.24xlarge",
      interconnect: "nvswitch",
      gpuCount: 8,
    });
    expect(
      plan.services.map((s) => [
        s.name,
        s.precision,
        s.estimate.engine,
        s.gpuMemoryUtilization,
        s.maxModelLen,
        s.estimate.maxContextTokens,
        s.hostPort,
      ]),
    ).toEqual([
      ["asr", "fp16", "fixed", null, 448, 448, 8000],
      ["embed", "fp16", "fixed", null, 512, 512, 8001],
      ["rerank", "fp16", "fixed", null, 512, 512, 8002],
      // (73,036 − 67,286 − 1,798) MiB / 163,840 B per token per GPU = 10,214 → 25,280 tokens.
      ["llm", "bf16", "vllm", 0.9, 8192, 25280, 8003],
      ["ocr", "bf16", "vllm", 0.9, 131072, 131072, 8004],
    ]);
  });

  it("on an existing 8× A100 SXM machine: the same map, NVSwitch, no EC2 cost", () => {
    const plan = planFleet(config({ hosts: [EXISTING_DGX], services: a100Services("dgx") }));
    expect(plan.findings).toEqual([]);
    expect(gpuMap(plan)).toEqual(A100_MAP);
    expect(plan.hourlyUsd).toBe(0);
    expect(plan.hosts[0]).toMatchObject({
      kind: "existing",
      instanceType: null,
      hourlyUsd: null,
      interconnect: "nvswitch",
    });
    expect(plan.hosts[0].ledgerDocument).toMatchObject({
      hourlyUsd: null,
      nvidiaSmiName: "NVIDIA A100-SXM4-80GB",
      memoryMiB: 81920,
    });
  });

  it.each([
    ["A10G", 4, "pcie"],
    ["L40S", 1, "single"],
    ["H100-SXM5-80GB", 8, "nvswitch"],
  ])("an existing %s ×%i machine is taken as %s", (gpu, gpuCount, interconnect) => {
    const plan = planFleet(
      config({
        hosts: [{ name: "box", existing: { address: "box.internal", user: "ubuntu", gpu, gpuCount } }],
        services: [],
      }),
    );
    expect(plan.hosts[0]).toMatchObject({ interconnect, gpuCount });
  });

  it("the original map's LLM at its default 128k context does not fit two A100s", () => {
    const plan = planFleet(
      config({ hosts: [{ name: "node", instanceType: "p4de.24xlarge" }], services: a100Services("node", {}) }),
    );
    expect(findings(plan)).toEqual([
      'model-fits-reservation [mandatory] node: service "llm" (meta/llama-3.1-70b-instruct) on host "node" GPU 2, 3 needs 89,564 MiB per GPU (weights 67,286 + overhead 1,798 + KV for 131,072 tokens 20,480) but its reservation is 73,036 MiB: over by 16,528 MiB; set maxModelLen <= 25,280 or give it more GPUs',
    ]);
  });

  it("the same services placed automatically keep four GPUs spare", () => {
    const unpinned = a100Services("node").map(({ gpus, ...s }) => ({ ...s, tensorParallel: gpus.length }));
    const plan = planFleet(config({ hosts: [{ name: "node", instanceType: "p4de.24xlarge" }], services: unpinned }));
    expect(plan.findings).toEqual([]);
    expect(plan.services.map((s) => [s.name, s.gpus, s.placedBy])).toEqual([
      ["asr", [3], "planner"],
      ["embed", [2], "planner"],
      ["rerank", [3], "planner"],
      ["llm", [0, 1], "planner"],
      ["ocr", [2], "planner"],
    ]);
    // Beside the 70B engine (73,036 + its CUDA context and graphs outside the reservation, 1,600 + 512 +
    // 18 × 80 layers = 3,552) even the small e5 (1,664) would take 78,252 MiB of the 77,824 usable, so the
    // planner puts it beside the OCR engine (73,036 + 1,560 + 1,664 = 76,260).
    expect(gpuMap(plan)).toEqual([
      "0 77824 73036 4788 llm:73036",
      "1 77824 73036 4788 llm:73036",
      "2 77824 74700 1564 embed:1664,ocr:73036+1560",
      "3 77824 11969 65855 asr:4038,rerank:7931",
      "4 77824 0 77824",
      "5 77824 0 77824",
      "6 77824 0 77824",
      "7 77824 0 77824",
    ]);
  });
});

describe("over-budget maps", () => {
  it("two vLLM engines at 0.9 on one A10G: the budget and the fixed fractions both fail", () => {
    const plan = planFleet(
      config({
        ...DEV,
        services: [
          DEV_LLM,
          { name: "chat", model: "mistralai/mistral-7b-instruct-v0.3", host: "gpu0", gpus: [0], maxModelLen: 8192 },
        ],
      }),
    );
    expect(findings(plan)).toEqual([
      // Each 32-layer engine keeps 544 + 512 + 18 × 32 = 1,632 MiB outside its reservation.
      'gpu-memory-budget [mandatory] gpu0: host "gpu0" GPU 0 (A10G) is over budget by 22,056 MiB: llm 20,334 MiB + chat 20,334 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB + chat 1,632 MiB = 43,932 MiB charged, 21,876 MiB usable of 23,028 MiB',
      // (1.80 − 0.95) × the 22,594 MiB CUDA reports, which the fractions multiply.
      'fixed-fraction-engines-fit [mandatory] gpu0: host "gpu0" GPU 0 (A10G): vLLM engines llm 0.9 + chat 0.9 reserve 1.80 of the GPU, more than the usable 0.95; they cannot all start (over by 19,205 MiB)',
    ]);
    expect(gpuMap(plan)).toEqual(["0 21876 40668 -22056 llm:20334+1632,chat:20334+1632"]);
  });

  it("explicit fractions that overflow a shared A100 by 1%", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "node", instanceType: "p4de.24xlarge" }],
        services: [
          { name: "chat", model: "meta/llama-2-7b-chat", host: "node", gpus: [3], gpuMemoryUtilization: 0.5 },
          { name: "small", model: "microsoft/DialoGPT-medium", host: "node", gpus: [3], gpuMemoryUtilization: 0.46 },
        ],
      }),
    );
    expect(findings(plan)).toEqual([
      // 0.5 and 0.46 × the 81,152 MiB CUDA reports (40,576 + 37,329 = 77,905 MiB) already pass the 77,824
      // usable; with what each engine keeps outside its reservation (CUDA context 544 + graph pools 512 +
      // 18 × 32 layers and 512 + 18 × 24: 1,632 and 1,488 MiB) they take 81,025 MiB.
      'gpu-memory-budget [mandatory] node: host "node" GPU 3 (A100-SXM4-80GB) is over budget by 3,201 MiB: chat 40,576 MiB + small 37,329 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) chat 1,632 MiB + small 1,488 MiB = 81,025 MiB charged, 77,824 MiB usable of 81,920 MiB',
      // (0.96 − 0.95) × 81,152 MiB.
      'fixed-fraction-engines-fit [mandatory] node: host "node" GPU 3 (A100-SXM4-80GB): vLLM engines chat 0.5 + small 0.46 reserve 0.96 of the GPU, more than the usable 0.95; they cannot all start (over by 812 MiB)',
    ]);
    expect(gpuMap(plan)).toEqual([
      "0 77824 0 77824",
      "1 77824 0 77824",
      "2 77824 0 77824",
      "3 77824 77905 -3201 chat:40576+1632,small:37329+1488",
      "4 77824 0 77824",
      "5 77824 0 77824",
      "6 77824 0 77824",
      "7 77824 0 77824",
    ]);
  });

  it("a service the planner cannot place is named, with what it needs", () => {
    const plan = planFleet(
      config({
        ...DEV,
        services: [
          { ...DEV_LLM, gpus: undefined },
          { ...DEV_LLM, name: "llm2", gpus: undefined },
        ],
      }),
    );
    // Only the service that fits nowhere gets no GPUs (it stays in the ledger, so the policies see it too).
    expect(findings(plan)).toEqual([
      'automatic-placement [mandatory] gpu0: service "llm2" cannot be placed on host "gpu0": needs 1 GPU(s) with 20,334 MiB free each; 0 have that much (most free on one GPU: 1,542 MiB)',
    ]);
    expect(plan.services.map((s) => s.gpus)).toEqual([[0], []]);
    expect(plan.hosts[0].ledgerDocument.services.map((s) => [s.name, s.gpus, s.unplacedReason])).toEqual([
      ["llm", [0], undefined],
      ["llm2", [], "needs 1 GPU(s) with 20,334 MiB free each; 0 have that much (most free on one GPU: 1,542 MiB)"],
    ]);
    expect(gpuMap(plan)).toEqual(["0 21876 20334 1542 llm:20334"]);
  });

  it("precisions the GPU cannot run, and TP over PCIe as an advisory", () => {
    const plan = planFleet(
      config({
        hosts: [
          { name: "t4", instanceType: "g4dn.xlarge" },
          { name: "node", instanceType: "p4de.24xlarge" },
          { name: "pcie", instanceType: "g5.12xlarge" },
        ],
        services: [
          {
            name: "chat",
            model: "microsoft/DialoGPT-medium",
            host: "t4",
            gpus: [0],
            precision: "bf16",
            gpuMemoryUtilization: 0.5,
          },
          { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "node", gpus: [0], precision: "fp8" },
          { name: "tp", model: "meta/llama-3.1-8b-instruct", host: "pcie", gpus: [0, 1] },
        ],
      }),
    );
    expect(findings(plan)).toEqual([
      'precision-supported-by-gpu [mandatory] t4: service "chat" on host "t4" uses bf16, which T4 (compute capability 7.5) does not support; bf16 needs 8.0; use fp16',
      'precision-supported-by-gpu [mandatory] node: service "llm" on host "node" uses fp8, which A100-SXM4-80GB (compute capability 8.0) does not support; fp8 needs 8.9',
      'tensor-parallel-over-pcie [advisory] pcie: service "tp" on host "pcie" runs tensor parallelism 2 over PCIe-only A10G GPUs [0, 1]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)',
    ]);
    // Two A10G run NIM's optimized TensorRT-LLM throughput profile: 7,659 + 3,462 + floor(0.9 × 11,473).
    expect(plan.services[2]).toMatchObject({ reservedMiBPerGpu: 21446, gpuMemoryUtilization: null });
    expect(plan.services[2].estimate.engine).toBe("trtllm");
    expect(gpuMap(plan, 2)).toEqual([
      "0 21876 21446 430 tp:21446",
      "1 21876 21446 430 tp:21446",
      "2 21876 0 21876",
      "3 21876 0 21876",
    ]);
  });

  it("a bf16 model on a T4 is served as fp16 unless bf16 is asked for", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "t4", instanceType: "g4dn.xlarge" }],
        services: [{ name: "ocr", model: "rednote-hilab/dots.ocr", host: "t4", maxModelLen: 8192 }],
      }),
    );
    expect(plan.services[0]).toMatchObject({ precision: "fp16", gpus: [0], reservedMiBPerGpu: 13546 });
    expect(plan.findings).toEqual([]);
  });
});

describe('instanceType "auto"', () => {
  it("picks the cheapest type that holds the dev service: g6.xlarge (L4, $0.8048/h), after rejecting the T4", () => {
    const plan = planFleet(config({ ...DEV, hosts: [{ name: "gpu0", instanceType: "auto" }] }));
    expect(plan.findings).toEqual([]);
    expect(plan.hourlyUsd).toBe(0.8048);
    expect(plan.hosts[0]).toMatchObject({ instanceType: "g6.xlarge", hourlyUsd: 0.8048 });
    expect(plan.hosts[0].instanceChoice).toEqual({
      chosen: "g6.xlarge",
      rejected: [
        {
          instanceType: "g4dn.xlarge",
          // The T4 has no bf16: the model is served as fp16, and 15,317 MiB of weights exceed floor(0.9 × 15,360).
          reason:
            'service "llm" (meta/llama-3.1-8b-instruct) on host "gpu0" GPU 0 needs 17,851 MiB per GPU (weights 15,317 + overhead 1,510 + KV for 8,192 tokens 1,024) but its reservation is 13,546 MiB: over by 4,305 MiB; give it more GPUs, a lower precision or a larger GPU',
        },
      ],
    });
    // L4: floor(0.9 × 22,573 MiB that CUDA reports) = 20,315 of floor(0.95 × 23,034) = 21,882.
    expect(gpuMap(plan)).toEqual(["0 21882 20315 1567 llm:20315"]);
  });

  it("a 70B model at TP 2 needs a p4de.24xlarge; each cheaper type is rejected with its reason", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "auto" }],
        services: [
          { name: "llm", model: "meta/llama-3.1-70b-instruct", host: "gpu0", tensorParallel: 2, maxModelLen: 8192 },
        ],
      }),
    );
    const tooSmall = (reserved: string, over: string) =>
      `service "llm" (meta/llama-3.1-70b-instruct) on host "gpu0" GPU 0, 1 needs 70,364 MiB per GPU (weights 67,286 + overhead 1,798 + KV for 8,192 tokens 1,280) but its reservation is ${reserved} MiB: over by ${over} MiB; give it more GPUs, a lower precision or a larger GPU`;
    const oneGpu = 'service "llm" needs 2 GPUs; it has 1';
    expect(plan.hosts[0].instanceChoice).toEqual({
      chosen: "p4de.24xlarge",
      rejected: [
        // Cheapest first: $0.526, 0.8048, 1.006, 1.212, 1.861, 3.06, 5.672, 16.288, 21.957642.
        { instanceType: "g4dn.xlarge", reason: oneGpu },
        { instanceType: "g6.xlarge", reason: oneGpu },
        { instanceType: "g5.xlarge", reason: oneGpu },
        { instanceType: "g5.2xlarge", reason: oneGpu },
        { instanceType: "g6e.xlarge", reason: oneGpu },
        { instanceType: "p3.2xlarge", reason: oneGpu },
        { instanceType: "g5.12xlarge", reason: tooSmall("20,334", "50,030") },
        { instanceType: "g5.48xlarge", reason: tooSmall("20,334", "50,030") },
        { instanceType: "p4d.24xlarge", reason: tooSmall("36,397", "33,967") },
      ],
    });
    expect(plan.findings).toEqual([]);
    expect(plan.services[0]).toMatchObject({ gpus: [0, 1], placedBy: "planner" });
    expect(plan.hourlyUsd).toBe(27.44705);
  });

  it("a service pinned to GPU 3 rules out the single-GPU types", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "auto" }],
        services: [{ name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [3] }],
      }),
    );
    const pinned = 'service "embed" is pinned to GPU 3; it has 1';
    expect(plan.hosts[0].instanceChoice).toEqual({
      chosen: "g5.12xlarge",
      rejected: ["g4dn.xlarge", "g6.xlarge", "g5.xlarge", "g5.2xlarge", "g6e.xlarge", "p3.2xlarge"].map(
        (instanceType) => ({ instanceType, reason: pinned }),
      ),
    });
    expect(gpuMap(plan)).toEqual([
      "0 21876 0 21876",
      "1 21876 0 21876",
      "2 21876 0 21876",
      "3 21876 1664 20212 embed:1664",
    ]);
  });

  it("when nothing holds the services, the plan says so and shows the largest type's findings", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "auto" }],
        services: [{ name: "llm", model: "meta/llama-3.1-405b-instruct", host: "gpu0", tensorParallel: 8 }],
      }),
    );
    expect(findings(plan)).toEqual([
      'instance-type-auto [mandatory] gpu0: no catalog instance type holds the services of host "gpu0"; cheapest rejections: g4dn.xlarge (service "llm" needs 8 GPUs; it has 1); g6.xlarge (service "llm" needs 8 GPUs; it has 1); g5.xlarge (service "llm" needs 8 GPUs; it has 1)',
      // 405B bf16 over 8 H100: 96,763 MiB of weights per GPU.
      'model-fits-reservation [mandatory] gpu0: service "llm" (meta/llama-3.1-405b-instruct) on host "gpu0" GPU 0, 1, 2, 3, 4, 5, 6, 7 needs 112,403 MiB per GPU (weights 96,763 + overhead 7,576 + KV for 131,072 tokens 8,064) but its reservation is 72,976 MiB: over by 39,427 MiB; give it more GPUs, a lower precision or a larger GPU',
    ]);
    expect(plan.hosts[0].instanceChoice?.chosen).toBeNull();
    expect(plan.hosts[0].instanceChoice?.rejected.map((r) => r.instanceType)).toEqual([
      "g4dn.xlarge",
      "g6.xlarge",
      "g5.xlarge",
      "g5.2xlarge",
      "g6e.xlarge",
      "p3.2xlarge",
      "g5.12xlarge",
      "g5.48xlarge",
      "p4d.24xlarge",
      "p4de.24xlarge",
      "p5.48xlarge",
    ]);
    expect(plan.hosts[0].instanceType).toBe("p5.48xlarge");
  });

  it("the same 405B model at fp8 with a 64k context fits 8 H100 (p5.48xlarge)", () => {
    // At its full 131,072 tokens it is 739 MiB short (the KV cache holds 119,056): the estimate charges
    // the sampler's largest peak (the PyTorch sort path), which vLLM releases on Triton sampling stay below.
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "auto" }],
        services: [
          {
            name: "llm",
            model: "meta/llama-3.1-405b-instruct",
            host: "gpu0",
            tensorParallel: 8,
            precision: "fp8",
            maxModelLen: 65536,
          },
        ],
      }),
    );
    expect(plan.findings).toEqual([]);
    expect(plan.hosts[0].instanceChoice?.chosen).toBe("p5.48xlarge");
    // p4de (A100) is rejected for fp8, not for memory.
    expect(plan.hosts[0].instanceChoice?.rejected.find((r) => r.instanceType === "p4de.24xlarge")?.reason).toBe(
      'service "llm" on host "gpu0" uses fp8, which A100-SXM4-80GB (compute capability 8.0) does not support; fp8 needs 8.9',
    );
  });
});

describe("cost", () => {
  const twoHosts = {
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }, { name: "node", instanceType: "p4de.24xlarge" }, EXISTING_DGX],
    services: [DEV_LLM],
  };

  it("sums the on-demand price of every EC2 host; existing machines cost nothing here", () => {
    // 1.006 + 27.44705 = 28.45305
    const plan = planFleet(config(twoHosts));
    expect(plan.hourlyUsd).toBe(28.45305);
    expect(plan.hosts.map((h) => h.hourlyUsd)).toEqual([1.006, 27.44705, null]);
    expect(plan.findings).toEqual([]);
  });

  it.each([
    [
      20,
      [
        "maximum-hourly-cost [advisory] : the stack costs $28.453/h on demand, above the maximum of $20.000/h (gpu-fleet:maxHourlyUsd)",
      ],
    ],
    [28.45305, []],
    [30, []],
  ])("with maxHourlyUsd %d", (maxHourlyUsd, expected) => {
    expect(findings(planFleet(config({ ...twoHosts, maxHourlyUsd })))).toEqual(expected);
  });

  it("a cost advisory does not hide mandatory findings", () => {
    const plan = planFleet(config({ ...DEV, services: [{ ...DEV_LLM, maxModelLen: undefined }], maxHourlyUsd: 0.5 }));
    expect(plan.findings.map((f) => [f.check, f.enforcement])).toEqual([
      ["model-fits-reservation", "mandatory"],
      ["maximum-hourly-cost", "advisory"],
    ]);
  });
});

describe("ports, order and determinism", () => {
  it("numbers host ports from 8000 per host, skipping ports set in config", () => {
    const plan = planFleet(
      config({
        hosts: [
          { name: "node", instanceType: "p4de.24xlarge" },
          { name: "gpu0", instanceType: "g5.xlarge" },
        ],
        services: [
          { name: "a", model: "nvidia/nv-embedqa-e5-v5", host: "node" },
          { name: "b", model: "nvidia/nv-embedqa-e5-v5", host: "node", port: 8000 },
          { name: "c", model: "nvidia/nv-embedqa-e5-v5", host: "node" },
          { ...DEV_LLM },
        ],
      }),
    );
    expect(plan.services.map((s) => [s.name, s.host, s.hostPort])).toEqual([
      ["a", "node", 8001],
      ["b", "node", 8000],
      ["c", "node", 8002],
      ["llm", "gpu0", 8000],
    ]);
  });

  it("lists services in config order whatever the host order", () => {
    const plan = planFleet(
      config({
        hosts: [
          { name: "node", instanceType: "p4de.24xlarge" },
          { name: "gpu0", instanceType: "g5.xlarge" },
        ],
        services: [{ ...DEV_LLM }, { name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "node" }],
      }),
    );
    expect(plan.services.map((s) => s.name)).toEqual(["llm", "embed"]);
    expect(plan.hosts.map((h) => h.name)).toEqual(["node", "gpu0"]);
  });

  it("plans the same config the same way", () => {
    const raw = {
      hosts: [{ name: "node", instanceType: "p4de.24xlarge" }],
      services: a100Services("node").map(({ gpus, ...s }) => ({ ...s, tensorParallel: gpus.length })),
    };
    expect(planFleet(config(raw))).toEqual(planFleet(config(raw)));
  });
});

describe("the ledger document carries what the checks need", () => {
  it.each([
    ["the dev stack", config(DEV)],
    ["two engines at 0.9 on one A10G", config({ ...DEV, services: [DEV_LLM, { ...DEV_LLM, name: "llm2" }] })],
    [
      "the a100 map at the default context",
      config({ hosts: [{ name: "node", instanceType: "p4de.24xlarge" }], services: a100Services("node", {}) }),
    ],
    [
      "TP over PCIe",
      config({
        hosts: [{ name: "pcie", instanceType: "g5.12xlarge" }],
        services: [{ ...DEV_LLM, host: "pcie", gpus: [0, 1], maxModelLen: undefined }],
      }),
    ],
  ])("%s: the checks on the serialized ledger find what the plan found", (_name, stack) => {
    const plan = planFleet(stack);
    // What the policy pack sees: the ledger as written to the host, parsed back.
    const fromLedgers = plan.hosts.flatMap((h) => checkHostLedger(parseLedger(serializeLedger(h.ledgerDocument))!));
    expect(fromLedgers).toEqual(plan.findings);
  });

  it("a larger safety margin shrinks every GPU's usable memory", () => {
    const plan = planFleet(config({ ...DEV, safetyMarginFraction: 0.2 }));
    expect(gpuMap(plan)).toEqual(["0 18422 20334 -1912 llm:20334"]);
    expect(plan.hosts[0].ledgerDocument.safetyMarginFraction).toBe(0.2);
    expect(findings(plan)).toEqual([
      'gpu-memory-budget [mandatory] gpu0: host "gpu0" GPU 0 (A10G) is over budget by 1,912 MiB: llm 20,334 MiB = 20,334 MiB reserved, 18,422 MiB usable of 23,028 MiB',
    ]);
  });
});

describe("the stack files in the repository", () => {
  // The fleet model's part of each stack: hosts, services and whether the NGC key is a secret.
  const stackFile = (stack: string): StackConfig => {
    const file = parse(readFileSync(join(__dirname, "../..", `Pulumi.${stack}.yaml`), "utf8")) as {
      config: Record<string, unknown>;
    };
    const key = file.config["gpu-fleet:ngcApiKey"];
    return validateStackConfig({
      hosts: file.config["gpu-fleet:hosts"],
      services: file.config["gpu-fleet:services"],
      ngcApiKey:
        key === undefined
          ? "missing"
          : typeof key === "object" && key !== null && "secure" in key
            ? "secret"
            : "plaintext",
    });
  };

  it("Pulumi.dev.yaml is the dev stack above: no findings, 20,334 of 21,876 MiB on GPU 0", () => {
    const plan = planFleet(stackFile("dev"));
    expect(plan.findings).toEqual([]);
    expect(gpuMap(plan)).toEqual(["0 21876 20334 1542 llm:20334"]);
    expect(plan).toEqual(planFleet(config(DEV)));
  });

  it("Pulumi.a100.yaml is the a100 layout above: no findings, the same GPU map", () => {
    const plan = planFleet(stackFile("a100"));
    expect(plan.findings).toEqual([]);
    expect(gpuMap(plan)).toEqual(A100_MAP);
    expect(plan.hourlyUsd).toBe(27.44705);
  });
});

describe("an unpinned service without tensorParallel gets the smallest tensor-parallel group that fits", () => {
  const DGX = { name: "dgx", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } };
  const LLM70B = {
    name: "llm",
    model: "meta/llama-3.1-70b-instruct",
    host: "dgx",
    precision: "bf16",
    maxModelLen: 8192,
  };

  it("a bf16 70B on 8× A100 80 GB: TP 1 does not fit, so the planner takes TP 2 and says so", () => {
    const plan = planFleet(config({ hosts: [DGX], services: [LLM70B] }));
    const [llm] = plan.services;
    expect([llm.tensorParallel, llm.tensorParallelBy, llm.gpus, llm.placedBy, llm.estimate.fits]).toEqual([
      2,
      "planner",
      [0, 1],
      "planner",
      true,
    ]);
    expect(plan.findings.filter((f) => f.enforcement === "mandatory")).toEqual([]);
    // The host component receives the choice pinned, so it places and sizes nothing again.
    const { host: _host, ...settings } = LLM70B;
    expect(plan.hosts[0].args.services).toEqual([{ ...settings, gpus: [0, 1], tensorParallel: 2 }]);
  });

  it("an explicit tensorParallel is kept as an override, even when it does not fit", () => {
    const plan = planFleet(config({ hosts: [DGX], services: [{ ...LLM70B, tensorParallel: 1 }] }));
    expect([plan.services[0].tensorParallel, plan.services[0].tensorParallelBy]).toEqual([1, "config"]);
    expect(plan.findings.map((f) => f.check)).toContain("model-fits-reservation");
  });

  it("only sizes the attention heads divide: dots.ocr's 2 KV heads and 12 attention heads rule out TP 3, 5, 7, 8", async () => {
    const { tensorParallelCandidates, findModel } = await import("../../fleet");
    const ocr = findModel("rednote-hilab/dots.ocr")!;
    expect(tensorParallelCandidates(ocr, 8)).toEqual([1, 2, 4, 6]);
    expect(tensorParallelCandidates(findModel("nvidia/nv-embedqa-e5-v5")!, 8)).toEqual([1]);
  });
});

describe("vLLM's KV-cache dtype and batched-token budget reach the estimate, the ledger and the engine", () => {
  const dev = (extra: Record<string, unknown>) => planFleet(config({ ...DEV, services: [{ ...DEV_LLM, ...extra }] }));

  it("by default: the estimate's auto KV cache and the A10G's 2,048 batched tokens, no extra vLLM arguments", () => {
    const s = dev({}).services[0];
    expect([s.kvCacheDtype, s.maxNumBatchedTokens, s.vllmArgs, s.estimate.kvCacheTokens]).toEqual([
      "auto",
      2048,
      [],
      28048,
    ]);
  });

  it("kvCacheDtype fp8 doubles the KV cache of the same reservation and is handed to vLLM", () => {
    const plan = dev({ kvCacheDtype: "fp8" });
    const s = plan.services[0];
    // 28,048 tokens at 2 B per element, 56,112 at 1 B (whole 16-token blocks of the same budget).
    expect([s.kvCacheDtype, s.vllmArgs, s.estimate.kvCacheTokens, s.estimate.kvBytesPerToken]).toEqual([
      "fp8",
      ["--kv-cache-dtype", "fp8"],
      56112,
      65536,
    ]);
    expect(plan.hosts[0].ledgerDocument.services[0]).toMatchObject({
      kvCacheDtype: "fp8",
      maxNumBatchedTokens: 2048,
      kvBytesPerTokenPerGpu: 65536,
    });
    expect(plan.findings).toEqual([]);
  });

  it("maxNumBatchedTokens sizes the activation peak and is handed to vLLM", () => {
    const s = dev({ maxNumBatchedTokens: 4096 }).services[0];
    // The forward pass at 4,096 tokens: 4,096 × (2 × 4,096 + 3 × 14,336) × 2 B = 1,254 MiB (the sampler's
    // 256 requests peak lower), 32 MiB more than at 2,048; the KV cache loses those 32 MiB (256 tokens).
    expect([s.maxNumBatchedTokens, s.vllmArgs, s.estimate.activationMiB, s.estimate.kvCacheTokens]).toEqual([
      4096,
      ["--max-num-batched-tokens", "4096"],
      1254,
      27792,
    ]);
  });

  it("on an H100, where NIM would pick its TensorRT-LLM profile, the settings plan the service on vLLM and say so", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "p5.48xlarge" }],
        services: [
          { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], precision: "fp16" },
          {
            name: "batch",
            model: "meta/llama-3.1-8b-instruct",
            host: "gpu0",
            gpus: [1],
            precision: "fp16",
            maxNumBatchedTokens: 16384,
          },
        ],
      }),
    );
    const [plain, batch] = plan.services;
    expect([plain.estimate.engine, plain.maxNumBatchedTokens, plain.vllmArgs]).toEqual(["trtllm", 8192, []]);
    expect([batch.estimate.engine, batch.estimate.profileNote, batch.maxNumBatchedTokens, batch.vllmArgs]).toEqual([
      "vllm",
      "NIM's vLLM engine: maxNumBatchedTokens is a vLLM setting, passed in NIM_PASSTHROUGH_ARGS",
      16384,
      ["--max-num-batched-tokens", "16384"],
    ]);
  });

  it("instanceType auto passes over a T4 for an fp8 KV cache: vLLM cannot run it below compute capability 8.0", () => {
    const plan = planFleet(
      config({
        hosts: [{ name: "gpu0", instanceType: "auto" }],
        services: [
          {
            name: "llm",
            model: "meta/llama-3.1-8b-instruct",
            host: "gpu0",
            maxModelLen: 8192,
            precision: "fp16",
            kvCacheDtype: "fp8",
          },
        ],
      }),
    );
    expect(plan.findings).toEqual([]);
    expect(plan.hosts[0].instanceChoice).toEqual({
      chosen: "g6.xlarge",
      rejected: [
        {
          instanceType: "g4dn.xlarge",
          reason:
            'service "llm" on host "gpu0" uses kvCacheDtype fp8, which T4 (compute capability 7.5) cannot run: vLLM\'s fp8 KV cache needs 8.0; use kvCacheDtype auto',
        },
      ],
    });
  });

  it("encoders carry neither setting", () => {
    const plan = planFleet(
      config({
        ...DEV,
        services: [{ name: "embed", model: "nvidia/nv-embedqa-e5-v5", host: "gpu0", gpus: [0] }],
      }),
    );
    expect([plan.services[0].kvCacheDtype, plan.services[0].maxNumBatchedTokens, plan.services[0].vllmArgs]).toEqual([
      null,
      null,
      [],
    ]);
    expect(plan.hosts[0].ledgerDocument.services[0]).toMatchObject({
      kvCacheDtype: null,
      maxNumBatchedTokens: null,
      outsideReservationMiBPerGpu: 0,
    });
  });
});
