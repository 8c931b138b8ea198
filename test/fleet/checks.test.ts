/**
 * The checks of fleet/checks.ts on host ledger documents — what the policy pack reads from a
 * resource's inputs. A passing fixture (the dev stack's ledger), then one change per failing case.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHECKS,
  INSTANCE_TYPES,
  MODELS,
  planFleet,
  COST_CHECK,
  HostLedgerDocument,
  LEDGER_KIND,
  LEDGER_VERSION,
  LedgerService,
  checkDevicesExist,
  checkFixedFractions,
  checkGpuBudget,
  checkHostLedger,
  checkHourlyCost,
  checkModelFits,
  checkPcieTensorParallel,
  checkPrecision,
  checkTensorParallel,
  parseLedger,
  serializeLedger,
  serviceNeedMiB,
} from "../../fleet";
import { validateStackConfig } from "../../stackConfig";

const LLM: LedgerService = {
  name: "llm",
  model: "meta/llama-3.1-8b-instruct",
  gpus: [0],
  tensorParallel: 1,
  precision: "bf16",
  engine: "vllm",
  gpuMemoryUtilization: 0.9,
  reservedMiBPerGpu: 20725,
  outsideReservationMiBPerGpu: 1632,
  kvCacheDtype: "auto",
  maxNumBatchedTokens: 2048,
  weightsMiBPerGpu: 15317,
  overheadMiB: 1024,
  kvBytesPerTokenPerGpu: 131072,
  maxModelLen: 8192,
};

/** The dev stack's ledger: one g5.xlarge (A10G, 23,028 MiB), service "llm" on GPU 0. */
const devLedger = (): HostLedgerDocument => ({
  kind: LEDGER_KIND,
  version: LEDGER_VERSION,
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
  services: [{ ...LLM }],
  gpus: [
    {
      index: 0,
      model: "A10G",
      memoryMiB: 23028,
      usableMiB: 21876,
      reservedMiB: 20725,
      outsideReservationMiB: 0,
      chargedMiB: 20725,
      headroomMiB: 1151,
      reservations: [{ service: "llm", reservedMiB: 20725, outsideReservationMiB: 0 }],
    },
  ],
});
/** Four PCIe A10G (g5.12xlarge) with the given services. */
const g512 = (...services: LedgerService[]): HostLedgerDocument => ({
  ...devLedger(),
  gpuCount: 4,
  interconnect: "pcie",
  hourlyUsd: 5.672,
  services,
  gpus: [],
});
const change = (services: Partial<LedgerService>[], doc: Partial<HostLedgerDocument> = {}): HostLedgerDocument => ({
  ...devLedger(),
  ...doc,
  services: services.map((s) => ({ ...LLM, ...s })),
});
const messages = (findings: readonly { check: string; enforcement: string; host: string; message: string }[]) =>
  findings.map((f) => `${f.check} [${f.enforcement}] ${f.message}`);

describe("the passing fixture", () => {
  it("the dev stack's ledger passes every check", () => {
    expect(checkHostLedger(devLedger())).toEqual([]);
  });

  it("its service needs 15,317 + 1,024 + 8,192 × 131,072 B (1,024 MiB) = 17,365 MiB of its 20,725", () => {
    expect(serviceNeedMiB(LLM)).toBe(17365);
  });

  it("names the checks as the policy pack does", () => {
    expect(CHECKS).toEqual({
      gpuBudget: "gpu-memory-budget",
      devicesExist: "pinned-devices-exist",
      fixedFractions: "fixed-fraction-engines-fit",
      tensorParallel: "tensor-parallel-matches-devices",
      precision: "precision-supported-by-gpu",
      modelFits: "model-fits-reservation",
      pcieTensorParallel: "tensor-parallel-over-pcie",
      placed: "automatic-placement",
    });
    expect(COST_CHECK).toBe("maximum-hourly-cost");
  });
});

describe("one change per failing case", () => {
  it.each<[string, HostLedgerDocument, string[]]>([
    [
      "a device the host does not have",
      change([{ gpus: [3] }]),
      [
        'pinned-devices-exist [mandatory] service "llm" is pinned to GPU 3, which does not exist on host "gpu0" (1 × A10G: GPU 0 only)',
      ],
    ],
    [
      "a device past the end of a 4-GPU host",
      g512({
        ...LLM,
        gpus: [3, 4],
        tensorParallel: 2,
        reservedMiBPerGpu: 10000,
        weightsMiBPerGpu: 7659,
        kvBytesPerTokenPerGpu: 65536,
      }),
      [
        'pinned-devices-exist [mandatory] service "llm" is pinned to GPU 4, which does not exist on host "gpu0" (4 × A10G: GPU 0-3)',
        'tensor-parallel-over-pcie [advisory] service "llm" on host "gpu0" runs tensor parallelism 2 over PCIe-only A10G GPUs [3, 4]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)',
      ],
    ],
    [
      "tensor parallelism that disagrees with the devices",
      change([{ tensorParallel: 2 }]),
      [
        'tensor-parallel-matches-devices [mandatory] service "llm" on host "gpu0" has tensor parallelism 2 but is pinned to 1 GPU(s) [0]; they must be equal',
      ],
    ],
    [
      "bf16 on a T4",
      change([{ precision: "bf16" }], { gpuModel: "T4", computeCapability: 7.5, memoryMiB: 15360 }),
      // The reservation (20,725) is larger than a T4 too: the budget check says so as well.
      [
        'precision-supported-by-gpu [mandatory] service "llm" on host "gpu0" uses bf16, which T4 (compute capability 7.5) does not support; bf16 needs 8.0; use fp16',
        'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (T4) is over budget by 6,133 MiB: llm 20,725 MiB = 20,725 MiB reserved, 14,592 MiB usable of 15,360 MiB',
      ],
    ],
    [
      "fp8 on an A10G (compute capability 8.6 < 8.9)",
      change([{ precision: "fp8", weightsMiBPerGpu: 8661 }]),
      [
        'precision-supported-by-gpu [mandatory] service "llm" on host "gpu0" uses fp8, which A10G (compute capability 8.6) does not support; fp8 needs 8.9',
      ],
    ],
    [
      "int4 on a V100",
      change([{ precision: "int4", weightsMiBPerGpu: 5437, reservedMiBPerGpu: 14000 }], {
        gpuModel: "V100-SXM2-16GB",
        computeCapability: 7.0,
        memoryMiB: 16384,
      }),
      [
        'precision-supported-by-gpu [mandatory] service "llm" on host "gpu0" uses int4, which V100-SXM2-16GB (compute capability 7.0) does not support; int4 needs 7.5',
      ],
    ],
    [
      "an fp8 KV cache on a T4 (compute capability 7.5 < 8.0)",
      change(
        [
          {
            precision: "fp16",
            kvCacheDtype: "fp8",
            reservedMiBPerGpu: 13546,
            weightsMiBPerGpu: 8000,
            kvBytesPerTokenPerGpu: 65536,
          },
        ],
        {
          gpuModel: "T4",
          computeCapability: 7.5,
          memoryMiB: 15360,
        },
      ),
      [
        'precision-supported-by-gpu [mandatory] service "llm" on host "gpu0" uses kvCacheDtype fp8, which T4 (compute capability 7.5) cannot run: vLLM\'s fp8 KV cache needs 8.0; use kvCacheDtype auto',
      ],
    ],
    [
      "a reservation over the usable memory",
      change([{ reservedMiBPerGpu: 22000, gpuMemoryUtilization: null, engine: "trtllm" }]),
      [
        'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (A10G) is over budget by 124 MiB: llm 22,000 MiB = 22,000 MiB reserved, 21,876 MiB usable of 23,028 MiB',
      ],
    ],
    [
      "a larger safety margin",
      change([{}], { safetyMarginFraction: 0.2 }),
      [
        'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (A10G) is over budget by 2,303 MiB: llm 20,725 MiB = 20,725 MiB reserved, 18,422 MiB usable of 23,028 MiB',
      ],
    ],
    [
      "two vLLM engines whose fractions sum to 1.00",
      change([
        {},
        {
          name: "small",
          model: "microsoft/DialoGPT-medium",
          gpuMemoryUtilization: 0.1,
          reservedMiBPerGpu: 2302,
          // CUDA context 544 + graph pool 512 + 18 × 24 layers.
          outsideReservationMiBPerGpu: 1488,
          weightsMiBPerGpu: 677,
          kvBytesPerTokenPerGpu: 98304,
          maxModelLen: 1024,
        },
      ]),
      [
        'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (A10G) is over budget by 4,271 MiB: llm 20,725 MiB + small 2,302 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB + small 1,488 MiB = 26,147 MiB charged, 21,876 MiB usable of 23,028 MiB',
        // (1.00 − 0.95) × the 22,594 MiB CUDA reports, which the fractions multiply.
        'fixed-fraction-engines-fit [mandatory] host "gpu0" GPU 0 (A10G): vLLM engines llm 0.9 + small 0.1 reserve 1.00 of the GPU, more than the usable 0.95; they cannot all start (over by 1,130 MiB)',
      ],
    ],
    [
      "a context the reservation cannot hold (the dev stack without maxModelLen)",
      change([{ maxModelLen: 131072 }]),
      [
        'model-fits-reservation [mandatory] service "llm" (meta/llama-3.1-8b-instruct) on host "gpu0" GPU 0 needs 32,725 MiB per GPU (weights 15,317 + overhead 1,024 + KV for 131,072 tokens 16,384) but its reservation is 20,725 MiB: over by 12,000 MiB; set maxModelLen <= 35,072 or give it more GPUs',
      ],
    ],
    [
      "weights larger than the reservation",
      change([{ model: "meta/llama-3.1-70b-instruct", weightsMiBPerGpu: 134571, kvBytesPerTokenPerGpu: 327680 }]),
      [
        'model-fits-reservation [mandatory] service "llm" (meta/llama-3.1-70b-instruct) on host "gpu0" GPU 0 needs 138,155 MiB per GPU (weights 134,571 + overhead 1,024 + KV for 8,192 tokens 2,560) but its reservation is 20,725 MiB: over by 117,430 MiB; give it more GPUs, a lower precision or a larger GPU',
      ],
    ],
    [
      "tensor parallelism over PCIe (advisory only)",
      g512({
        ...LLM,
        gpus: [0, 1],
        tensorParallel: 2,
        engine: "trtllm",
        gpuMemoryUtilization: null,
        reservedMiBPerGpu: 21593,
        weightsMiBPerGpu: 7659,
        kvBytesPerTokenPerGpu: 65536,
      }),
      [
        'tensor-parallel-over-pcie [advisory] service "llm" on host "gpu0" runs tensor parallelism 2 over PCIe-only A10G GPUs [0, 1]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)',
      ],
    ],
  ])("%s", (_name, doc, expected) => {
    const findings = checkHostLedger(doc);
    expect(messages(findings)).toEqual(expected);
    expect(findings.every((f) => f.host === "gpu0")).toBe(true);
  });

  it("the same TP-2 service on NVSwitch has no advisory", () => {
    const doc = {
      ...g512({
        ...LLM,
        gpus: [0, 1],
        tensorParallel: 2,
        reservedMiBPerGpu: 20725,
        weightsMiBPerGpu: 7659,
        kvBytesPerTokenPerGpu: 65536,
      }),
      interconnect: "nvswitch" as const,
    };
    expect(checkPcieTensorParallel(doc)).toEqual([]);
    expect(checkHostLedger(doc)).toEqual([]);
  });

  it("recomputes the budget from the services, not from the document's own per-GPU sums", () => {
    // A second service added without updating doc.gpus (which still says 1,151 MiB of headroom).
    const doc = change([
      {},
      {
        name: "embed",
        model: "nvidia/nv-embedqa-e5-v5",
        engine: "fixed",
        gpuMemoryUtilization: null,
        reservedMiBPerGpu: 1664,
        outsideReservationMiBPerGpu: 0,
        kvCacheDtype: null,
        maxNumBatchedTokens: null,
        weightsMiBPerGpu: 640,
        kvBytesPerTokenPerGpu: 0,
        maxModelLen: 512,
      },
    ]);
    expect(doc.gpus[0].headroomMiB).toBe(1151);
    expect(messages(checkGpuBudget(doc))).toEqual([
      // Sharing the GPU with the encoder, the vLLM engine's CUDA context and graphs (1,632 MiB) count too.
      'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (A10G) is over budget by 2,145 MiB: llm 20,725 MiB + embed 1,664 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB = 24,021 MiB charged, 21,876 MiB usable of 23,028 MiB',
    ]);
    // Only vLLM engines reserve a fixed fraction: the encoder does not count there.
    expect(checkFixedFractions(doc)).toEqual([]);
  });

  it("a vLLM fraction sum equal to the usable share passes the fractions (0.5 + 0.45 = 0.95), not the budget", () => {
    const doc = change([
      { gpuMemoryUtilization: 0.5, reservedMiBPerGpu: 11514 },
      {
        name: "chat",
        model: "microsoft/DialoGPT-medium",
        gpuMemoryUtilization: 0.45,
        reservedMiBPerGpu: 10362,
        outsideReservationMiBPerGpu: 1488,
        weightsMiBPerGpu: 677,
        kvBytesPerTokenPerGpu: 98304,
        maxModelLen: 1024,
      },
    ]);
    expect(checkFixedFractions(doc)).toEqual([]);
    // The reservations fill the 21,876 usable MiB exactly; what each engine keeps outside its own does not fit.
    expect(messages(checkGpuBudget(doc))).toEqual([
      'gpu-memory-budget [mandatory] host "gpu0" GPU 0 (A10G) is over budget by 3,120 MiB: llm 11,514 MiB + chat 10,362 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB + chat 1,488 MiB = 24,996 MiB charged, 21,876 MiB usable of 23,028 MiB',
    ]);
    // Without the outside memory (engines that keep none) the same reservations pass.
    const bare = change([
      { gpuMemoryUtilization: 0.5, reservedMiBPerGpu: 11514, outsideReservationMiBPerGpu: 0 },
      { name: "chat", gpuMemoryUtilization: 0.45, reservedMiBPerGpu: 10362, outsideReservationMiBPerGpu: 0 },
    ]);
    expect(checkGpuBudget(bare)).toEqual([]);
  });

  it("reports in a stable order: devices, TP, precision, budget, fractions, fit, PCIe", () => {
    const doc: HostLedgerDocument = {
      ...g512(
        {
          ...LLM,
          name: "a",
          gpus: [0, 7],
          tensorParallel: 2,
          precision: "fp8",
          reservedMiBPerGpu: 20725,
          weightsMiBPerGpu: 4331,
          kvBytesPerTokenPerGpu: 65536,
          maxModelLen: 131072,
        },
        { ...LLM, name: "b", gpus: [0], tensorParallel: 1, maxModelLen: 131072 },
      ),
    };
    expect(findingsChecks(checkHostLedger(doc))).toEqual([
      "pinned-devices-exist",
      "precision-supported-by-gpu",
      "gpu-memory-budget",
      "fixed-fraction-engines-fit",
      "model-fits-reservation",
      "tensor-parallel-over-pcie",
    ]);
    expect(checkDevicesExist(doc)).toHaveLength(1);
    expect(checkTensorParallel(doc)).toEqual([]);
    expect(checkPrecision(doc)).toHaveLength(1);
    expect(checkModelFits(doc).map((f) => f.message.slice(0, 12))).toEqual(['service "b" ']);
  });
});

const findingsChecks = (findings: readonly { check: string }[]) => findings.map((f) => f.check);

describe("hourly cost", () => {
  it.each<[number, number | undefined, string[]]>([
    [1.006, undefined, []],
    [1.006, 1.006, []],
    [1.006, 2, []],
    [1.006, 1, ["the stack costs $1.006/h on demand, above the maximum of $1.000/h (gpu-fleet:maxHourlyUsd)"]],
    [27.44705, 20, ["the stack costs $27.447/h on demand, above the maximum of $20.000/h (gpu-fleet:maxHourlyUsd)"]],
  ])("$%d/h against a maximum of %s", (cost, max, expected) => {
    const findings = checkHourlyCost(cost, max);
    expect(findings.map((f) => f.message)).toEqual(expected);
    expect(
      findings.every((f) => f.check === "maximum-hourly-cost" && f.enforcement === "advisory" && f.host === ""),
    ).toBe(true);
  });
});

describe("the ledger document on the host", () => {
  it("round-trips through serializeLedger and parseLedger", () => {
    const doc = devLedger();
    expect(parseLedger(serializeLedger(doc))).toEqual(doc);
  });

  it.each([
    ["another stdin payload", "NGC_API_KEY=…"],
    ["not a string", 42],
    ["a ledger of another version", JSON.stringify({ ...devLedger(), version: 2 })],
    ["broken JSON that mentions the kind", `{"kind":"${LEDGER_KIND}",`],
  ])("ignores %s", (_name, text) => {
    expect(parseLedger(text)).toBeUndefined();
  });
});

describe("the checks agree with the estimator", () => {
  it("a maxModelLen within a block of the limit fails the check, as it fails the estimate (whole 16-token blocks)", () => {
    // floor(0.9 × 22,594) = 20,334 MiB − 15,317 − 1,510 = 3,507 MiB of KV = 28,056 tokens, but only 1,753
    // whole blocks of 16 × 131,072 B = 28,048 tokens. vLLM needs whole blocks, so 28,056 cannot start.
    const plan = planFleet(
      validateStackConfig({
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [
          {
            name: "llm",
            model: "meta/llama-3.1-8b-instruct",
            host: "gpu0",
            gpus: [0],
            maxModelLen: 28056,
          },
        ],
        ngcApiKey: "secret",
      }),
    );
    expect(plan.services[0].estimate).toMatchObject({ reservedMiBPerGpu: 20334, maxContextTokens: 28048, fits: false });
    expect(messages(plan.findings)).toEqual([
      'model-fits-reservation [mandatory] service "llm" (meta/llama-3.1-8b-instruct) on host "gpu0" GPU 0 needs 20,335 MiB per GPU (weights 15,317 + overhead 1,510 + KV for 28,056 tokens 3,508) but its reservation is 20,334 MiB: over by 1 MiB; set maxModelLen <= 28,048 or give it more GPUs',
    ]);
  });

  // Any catalog model on any catalog instance at any valid TP and utilization, with a context either
  // anywhere up to the model's maximum or within 24 tokens of what the reservation holds (the edge
  // where rounding matters): the plan's model-fits-reservation finding appears exactly when the
  // estimate says the service does not fit.
  const serviceArb = fc
    .record({
      type: fc.constantFrom(...INSTANCE_TYPES),
      model: fc.constantFrom(...MODELS),
      tpExp: fc.integer({ min: 0, max: 3 }),
      context: fc.oneof(
        fc.record({ fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
        fc.record({ edge: fc.integer({ min: -24, max: 24 }) }),
      ),
      utilization: fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
    })
    .filter(
      ({ type, model, tpExp }) =>
        2 ** tpExp <= type.gpuCount &&
        model.attentionHeads % 2 ** tpExp === 0 &&
        // Encoder engines run on one GPU (a config error otherwise).
        (model.engine !== "fixed" || tpExp === 0),
    );

  it("for every model, GPU, TP, context and utilization", () => {
    let edges = 0;
    fc.assert(
      fc.property(serviceArb, ({ type, model, tpExp, context, utilization }) => {
        const tp = 2 ** tpExp;
        const plan = (maxModelLen: number) =>
          planFleet(
            validateStackConfig({
              hosts: [{ name: "h", instanceType: type.name }],
              services: [
                {
                  name: "s",
                  model: model.id,
                  host: "h",
                  gpus: Array.from({ length: tp }, (_, i) => i),
                  maxModelLen,
                  gpuMemoryUtilization: utilization,
                },
              ],
              ngcApiKey: "secret",
            }),
          );
        const clamp = (n: number) => Math.min(model.maxContextTokens, Math.max(1, n));
        const maxModelLen =
          "fraction" in context
            ? clamp(Math.round(context.fraction * model.maxContextTokens))
            : clamp(plan(1).services[0].estimate.maxContextTokens + context.edge);
        if (!("fraction" in context)) edges++;
        const planned = plan(maxModelLen);
        const flagged = planned.findings.some((f) => f.check === "model-fits-reservation");
        expect(flagged).toBe(!planned.services[0].estimate.fits);
      }),
      { numRuns: 600, seed: 20261125 },
    );
    expect(edges).toBeGreaterThan(100);
  });
});
