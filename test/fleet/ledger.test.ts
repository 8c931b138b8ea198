import { describe, expect, it } from "vitest";
import {
  DEFAULT_SAFETY_MARGIN_FRACTION,
  ServiceClaim,
  buildLedger,
  overBudgetGpus,
  overBudgetMessage,
  usableMiB,
} from "../../fleet";

describe("usable memory after the safety margin", () => {
  it.each([
    // floor(memory × (1 − margin)), driver-reported MiB.
    [23028, undefined, 21876], // A10G: floor(21,876.6)
    [23034, undefined, 21882], // L4: floor(21,882.3)
    [15360, undefined, 14592], // T4
    [46068, undefined, 43764], // L40S: floor(43,764.6)
    [40960, undefined, 38912], // A100 40GB
    [81920, undefined, 77824], // A100 80GB
    [81559, undefined, 77481], // H100: floor(77,481.05)
    [81920, 0, 81920],
    [81920, 0.1, 73728],
    [23028, 0.2, 18422], // floor(18,422.4)
  ])("%i MiB at margin %s → %i MiB usable", (memory, margin, usable) => {
    expect(usableMiB(memory, margin)).toBe(usable);
  });

  it("defaults to a 5% margin", () => {
    expect(DEFAULT_SAFETY_MARGIN_FRACTION).toBe(0.05);
  });
});

describe("buildLedger", () => {
  type Row = [index: number, reservedMiB: number, headroomMiB: number, services: string[]];
  it.each<[string, string, number, number, ServiceClaim[], number | undefined, Row[]]>([
    [
      "the dev stack: one vLLM service on one A10G",
      "A10G",
      23028,
      1,
      [{ service: "llm", gpus: [0], reservedMiBPerGpu: 20725 }],
      undefined,
      [[0, 20725, 1151, ["llm"]]],
    ],
    ["an empty GPU", "A10G", 23028, 1, [], undefined, [[0, 0, 21876, []]]],
    [
      "tensor parallelism charges every pinned GPU",
      "A100-SXM4-80GB",
      81920,
      4,
      [{ service: "llm", gpus: [2, 3], reservedMiBPerGpu: 73728 }],
      undefined,
      [
        [0, 0, 77824, []],
        [1, 0, 77824, []],
        [2, 73728, 4096, ["llm"]],
        [3, 73728, 4096, ["llm"]],
      ],
    ],
    [
      "two services sharing GPU 1, in claim order",
      "A100-SXM4-80GB",
      81920,
      2,
      [
        { service: "embed", gpus: [1], reservedMiBPerGpu: 1664 },
        { service: "rerank", gpus: [1], reservedMiBPerGpu: 7931 },
        { service: "asr", gpus: [0], reservedMiBPerGpu: 4038 },
      ],
      undefined,
      [
        [0, 4038, 73786, ["asr"]],
        [1, 9595, 68229, ["embed", "rerank"]],
      ],
    ],
    [
      "two vLLM engines at 0.9 on one A10G go negative",
      "A10G",
      23028,
      1,
      [
        { service: "a", gpus: [0], reservedMiBPerGpu: 20725 },
        { service: "b", gpus: [0], reservedMiBPerGpu: 20725 },
      ],
      undefined,
      [[0, 41450, -19574, ["a", "b"]]],
    ],
    [
      "a custom margin of 0",
      "H100-SXM5-80GB",
      81559,
      1,
      [{ service: "llm", gpus: [0], reservedMiBPerGpu: 73403 }],
      0,
      [[0, 73403, 8156, ["llm"]]],
    ],
    [
      "claims on devices the host lacks are ignored by the ledger",
      "A10G",
      23028,
      1,
      [{ service: "x", gpus: [3], reservedMiBPerGpu: 100 }],
      undefined,
      [[0, 0, 21876, []]],
    ],
  ])("%s", (_name, model, memory, count, claims, margin, rows) => {
    const ledger = buildLedger(model, memory, count, claims, margin);
    const usable = usableMiB(memory, margin);
    expect(ledger.map((g) => [g.index, g.reservedMiB, g.headroomMiB, g.reservations.map((r) => r.service)])).toEqual(
      rows,
    );
    for (const g of ledger) {
      expect(g).toMatchObject({ model, memoryMiB: memory, usableMiB: usable });
      expect(g.headroomMiB).toBe(g.usableMiB - g.reservedMiB);
      expect(g.reservedMiB).toBe(g.reservations.reduce((s, r) => s + r.reservedMiB, 0));
    }
  });

  it("records each reservation with its MiB", () => {
    expect(buildLedger("A10G", 23028, 1, [{ service: "llm", gpus: [0], reservedMiBPerGpu: 20725 }])).toEqual([
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
    ]);
  });

  // Two engines like those of test/fleet/measurements.test.ts "engines sharing a GPU" (Llama 2 7B and
  // DialoGPT): reserving 40,140 and 36,929 MiB, keeping 1,632 and 1,488 MiB outside their reservations.
  const CHAT: ServiceClaim = {
    service: "chat",
    gpus: [0, 1],
    reservedMiBPerGpu: 40140,
    outsideReservationMiBPerGpu: 1632,
  };
  const SMALL: ServiceClaim = {
    service: "small",
    gpus: [1],
    reservedMiBPerGpu: 36929,
    outsideReservationMiBPerGpu: 1488,
  };

  it("charges a lone engine its reservation only, engines sharing a GPU what each keeps outside it too", () => {
    expect(buildLedger("A100-SXM4-80GB", 81920, 2, [CHAT, SMALL])).toEqual([
      {
        index: 0,
        model: "A100-SXM4-80GB",
        memoryMiB: 81920,
        usableMiB: 77824,
        reservedMiB: 40140,
        outsideReservationMiB: 0,
        chargedMiB: 40140,
        headroomMiB: 37684,
        reservations: [{ service: "chat", reservedMiB: 40140, outsideReservationMiB: 0 }],
      },
      {
        index: 1,
        model: "A100-SXM4-80GB",
        memoryMiB: 81920,
        usableMiB: 77824,
        // 40,140 + 36,929 = 77,069 fit the 77,824 usable; + 1,632 + 1,488 = 80,189 do not.
        reservedMiB: 77069,
        outsideReservationMiB: 3120,
        chargedMiB: 80189,
        headroomMiB: -2365,
        reservations: [
          { service: "chat", reservedMiB: 40140, outsideReservationMiB: 1632 },
          { service: "small", reservedMiB: 36929, outsideReservationMiB: 1488 },
        ],
      },
    ]);
  });

  it("an engine that keeps nothing outside (an encoder) adds nothing, but makes the vLLM engine's count", () => {
    const embed: ServiceClaim = {
      service: "embed",
      gpus: [0],
      reservedMiBPerGpu: 1664,
      outsideReservationMiBPerGpu: 0,
    };
    const [gpu] = buildLedger("A100-SXM4-80GB", 81920, 1, [{ ...CHAT, gpus: [0] }, embed]);
    expect([gpu.reservedMiB, gpu.outsideReservationMiB, gpu.chargedMiB, gpu.headroomMiB]).toEqual([
      41804, 1632, 43436, 34388,
    ]);
  });
});

describe("over-budget GPUs", () => {
  it("lists only GPUs with negative headroom, with the excess", () => {
    const ledger = buildLedger("A10G", 23028, 4, [
      { service: "a", gpus: [0, 1], reservedMiBPerGpu: 20725 },
      { service: "b", gpus: [1], reservedMiBPerGpu: 1151 },
      { service: "c", gpus: [2], reservedMiBPerGpu: 1152 },
      { service: "d", gpus: [2], reservedMiBPerGpu: 20725 },
    ]);
    // GPU 1: 20,725 + 1,151 = 21,876 = usable exactly (fits); GPU 2: 21,877 is 1 MiB over.
    expect(overBudgetGpus(ledger).map((o) => [o.gpu.index, o.overMiB])).toEqual([[2, 1]]);
  });

  it.each([
    [
      "gpu0",
      buildLedger("A10G", 23028, 1, [
        { service: "llm", gpus: [0], reservedMiBPerGpu: 20725 },
        { service: "llm2", gpus: [0], reservedMiBPerGpu: 20725 },
      ]),
      'host "gpu0" GPU 0 (A10G) is over budget by 19,574 MiB: llm 20,725 MiB + llm2 20,725 MiB = 41,450 MiB reserved, 21,876 MiB usable of 23,028 MiB',
    ],
    [
      "dgx",
      buildLedger("A100-SXM4-80GB", 81920, 8, [
        { service: "embed", gpus: [1], reservedMiBPerGpu: 1664 },
        { service: "llm", gpus: [1, 2], reservedMiBPerGpu: 77000 },
      ]),
      'host "dgx" GPU 1 (A100-SXM4-80GB) is over budget by 840 MiB: embed 1,664 MiB + llm 77,000 MiB = 78,664 MiB reserved, 77,824 MiB usable of 81,920 MiB',
    ],
    [
      "node",
      buildLedger("A100-SXM4-80GB", 81920, 8, [
        { service: "chat", gpus: [3], reservedMiBPerGpu: 40140, outsideReservationMiBPerGpu: 1632 },
        { service: "small", gpus: [3], reservedMiBPerGpu: 36929, outsideReservationMiBPerGpu: 1488 },
      ]),
      'host "node" GPU 3 (A100-SXM4-80GB) is over budget by 2,365 MiB: chat 40,140 MiB + small 36,929 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) chat 1,632 MiB + small 1,488 MiB = 80,189 MiB charged, 77,824 MiB usable of 81,920 MiB',
    ],
  ])("host %s: exact message", (host, ledger, message) => {
    const over = overBudgetGpus(ledger);
    expect(over).toHaveLength(1);
    expect(overBudgetMessage(host, over[0])).toBe(message);
  });
});
