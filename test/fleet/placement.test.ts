/**
 * Automatic placement (issue 3 §2, §4): tables of fleets whose best answer is known, then property
 * tests — placement never exceeds a budget, pinned services never move, same input gives same output.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlacementRequest, PlacementResult, planFleet, placeServices } from "../../fleet";
import { validateStackConfig } from "../../stackConfig";

const A100 = 77824; // usable MiB of an A100 80GB after the 5% margin: floor(81,920 × 0.95)
const req = (service: string, reservedMiBPerGpu: number, tensorParallel = 1): PlacementRequest => ({
  service,
  reservedMiBPerGpu,
  tensorParallel,
});
const placed = (r: PlacementResult) =>
  r.ok ? Object.fromEntries([...r.gpus.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) : r;

describe("placeServices: fleets with known best answers", () => {
  it.each<[string, number[], PlacementRequest[], Record<string, number[]>]>([
    ["one service on eight empty GPUs takes the lowest index", Array(8).fill(A100), [req("llm", 73728)], { llm: [0] }],
    [
      "best fit: the GPU with the least headroom that still holds it",
      [A100, 10000, A100],
      [req("embed", 8000)],
      { embed: [1] },
    ],
    [
      "a service that fits nowhere but the empty GPU goes there",
      [5000, 9000, A100],
      [req("rerank", 9001)],
      { rerank: [2] },
    ],
    [
      "a tensor-parallel group takes the tightest GPUs that hold it",
      [4000, 76160, A100, A100, A100],
      [req("llm", 73728, 2)],
      { llm: [1, 2] },
    ],
    [
      "largest first: the small service joins the large one and keeps a whole GPU free",
      [A100, A100],
      [req("small", 1000), req("big", 70000)],
      { big: [0], small: [0] },
    ],
    [
      // The layout of the documents we replace, with nothing pinned: the TP-2 LLM first, then OCR,
      // then the reranker; ASR and embeddings fill the gaps beside the LLM. Four GPUs stay free.
      "the a100 layout placed automatically on eight A100 80GB",
      Array(8).fill(A100),
      [req("asr", 4038), req("embed", 1664), req("rerank", 7931), req("llm", 73728, 2), req("ocr", 73728)],
      { asr: [0], embed: [1], llm: [0, 1], ocr: [2], rerank: [3] },
    ],
    [
      "wider groups go first even when smaller per GPU",
      [40000, 40000, 40000],
      [req("wide", 20000, 2), req("narrow", 39000)],
      { narrow: [2], wide: [0, 1] },
    ],
    [
      "equal reservations are placed in name order",
      [21876, 21876],
      [req("b", 20725), req("a", 20725)],
      { a: [0], b: [1] },
    ],
    ["a zero reservation goes to the fullest GPU", [100, 0, 50], [req("zero", 0)], { zero: [1] }],
    ["nothing to place", [A100], [], {}],
    ["a reservation equal to the headroom fits exactly", [21876], [req("llm", 21876)], { llm: [0] }],
  ])("%s", (_name, headroom, requests, expected) => {
    expect(placed(placeServices(headroom, requests))).toEqual(expected);
  });

  it.each<[string, number[], PlacementRequest[], PlacementResult]>([
    [
      "two vLLM engines at 0.9 on one A10G: the second cannot be placed",
      [21876],
      [req("b", 20725), req("a", 20725)],
      {
        ok: false,
        service: "b",
        reason: "needs 1 GPU(s) with 20,725 MiB free each; 0 have that much (most free on one GPU: 1,151 MiB)",
      },
    ],
    [
      "more tensor parallelism than GPUs",
      [A100, A100],
      [req("llm", 60000, 4)],
      {
        ok: false,
        service: "llm",
        reason: "needs 4 GPU(s) with 60,000 MiB free each; 2 have that much (most free on one GPU: 77,824 MiB)",
      },
    ],
    [
      "a pinned service already fills the GPU (negative headroom)",
      [-500],
      [req("embed", 1664)],
      {
        ok: false,
        service: "embed",
        reason: "needs 1 GPU(s) with 1,664 MiB free each; 0 have that much (most free on one GPU: -500 MiB)",
      },
    ],
    [
      // Best-fit-decreasing is a heuristic: {3,3,2,2} on each GPU would fit, but the four 3s go
      // 3+3+3 on GPU 0 first and the last 2 finds 1 MiB on each GPU. Recorded so a change is seen.
      "best-fit-decreasing misses a packing that exists (two GPUs of 10, four 3s and four 2s)",
      [10, 10],
      [req("a", 3), req("b", 3), req("c", 3), req("d", 3), req("e", 2), req("f", 2), req("g", 2), req("h", 2)],
      {
        ok: false,
        service: "h",
        reason: "needs 1 GPU(s) with 2 MiB free each; 0 have that much (most free on one GPU: 1 MiB)",
      },
    ],
  ])("%s", (_name, headroom, requests, expected) => {
    expect(placeServices(headroom, requests)).toEqual(expected);
  });

  it("does not modify the headroom it is given", () => {
    const headroom = [A100, A100];
    placeServices(headroom, [req("llm", 73728, 2)]);
    expect(headroom).toEqual([A100, A100]);
  });
});

// Fleets: 1–8 GPUs, up to 10 uniquely named requests of TP 1–4. Tight fleets (a few MiB per GPU)
// make reservations that equal or just exceed a GPU's headroom common; wide ones have real sizes.
const fleetOf = (maxMiB: number) =>
  fc.record({
    headroom: fc.array(fc.integer({ min: -Math.ceil(maxMiB / 10), max: maxMiB }), { minLength: 1, maxLength: 8 }),
    requests: fc.uniqueArray(
      fc.record({
        service: fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/),
        tensorParallel: fc.integer({ min: 1, max: 4 }),
        reservedMiBPerGpu: fc.integer({ min: 0, max: maxMiB }),
      }),
      { maxLength: 10, selector: (r) => r.service },
    ),
  });
const fleetArb = fc.oneof(fleetOf(12), fleetOf(81920));

describe("placeServices properties", () => {
  it("never exceeds a GPU's headroom and gives every service exactly its TP distinct devices", () => {
    let placedFleets = 0;
    fc.assert(
      fc.property(fleetArb, ({ headroom, requests }) => {
        const result = placeServices(headroom, requests);
        if (!result.ok) {
          expect(requests.map((r) => r.service)).toContain(result.service);
          expect(result.reason).toMatch(
            /^needs \d+ GPU\(s\) with [\d,]+ MiB free each; \d+ have that much \(most free on one GPU: -?[\d,]+ MiB\)$/,
          );
          return;
        }
        expect([...result.gpus.keys()].sort()).toEqual(requests.map((r) => r.service).sort());
        const used = headroom.map(() => 0);
        for (const r of requests) {
          const devices = result.gpus.get(r.service)!;
          expect(devices).toHaveLength(r.tensorParallel);
          expect(new Set(devices).size).toBe(r.tensorParallel);
          expect([...devices].sort((a, b) => a - b)).toEqual(devices);
          for (const d of devices) {
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThan(headroom.length);
            used[d] += r.reservedMiBPerGpu;
          }
        }
        // A GPU that received services holds them all; a GPU with negative headroom receives none.
        const receiving = new Set(requests.flatMap((r) => result.gpus.get(r.service)!));
        for (const d of receiving) expect(used[d]).toBeLessThanOrEqual(headroom[d]);
        placedFleets++;
      }),
      { numRuns: 300, seed: 20261125 },
    );
    // The generator must produce fleets that place, or the property says nothing.
    expect(placedFleets).toBeGreaterThan(30);
  });

  it("gives the same answer for the same fleet, whatever the order of the requests", () => {
    fc.assert(
      fc.property(
        fleetArb.chain((f) =>
          fc.tuple(
            fc.constant(f),
            fc.shuffledSubarray(f.requests, { minLength: f.requests.length, maxLength: f.requests.length }),
          ),
        ),
        ([{ headroom, requests }, shuffled]) => {
          const first = placed(placeServices(headroom, requests));
          expect(placed(placeServices(headroom, requests))).toEqual(first);
          expect(placed(placeServices(headroom, shuffled))).toEqual(first);
        },
      ),
      { numRuns: 300, seed: 20261125 },
    );
  });
});

// Whole fleets through validation and planFleet on one p4de.24xlarge (8× A100 80GB, NVSwitch).
// Llama 3.1 8B (32 attention heads, 8 KV heads: TP 1, 2, 4) on vLLM reserves its gpuMemoryUtilization
// of each GPU's CUDA total and keeps its CUDA context and graphs outside, charged when engines share a GPU.
const FRACTIONS = [0.05, 0.1, 0.2, 0.3, 0.5];
const serviceArb = fc.record({
  pinned: fc.boolean(),
  tp: fc.constantFrom(1, 2, 4),
  fraction: fc.constantFrom(...FRACTIONS),
  devices: fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7], { minLength: 4, maxLength: 4 }),
});
const fleetConfigArb = fc.array(serviceArb, { minLength: 1, maxLength: 10 }).map((services) =>
  validateStackConfig({
    hosts: [{ name: "dgx", instanceType: "p4de.24xlarge" }],
    services: services.map((s, i) => ({
      name: `svc-${i}`,
      model: "meta/llama-3.1-8b-instruct",
      host: "dgx",
      maxModelLen: 4096,
      gpuMemoryUtilization: s.fraction,
      ...(s.pinned ? { gpus: [...s.devices.slice(0, s.tp)].sort((a, b) => a - b) } : { tensorParallel: s.tp }),
    })),
    ngcApiKey: "secret",
  }),
);

describe("planFleet properties", () => {
  it("never moves a pinned service, and places the others only where they fit", () => {
    let plannerPlaced = 0;
    fc.assert(
      fc.property(fleetConfigArb, (config) => {
        const plan = planFleet(config);
        const placementFailed = plan.findings.some((f) => f.check === "automatic-placement");
        plan.services.forEach((s, i) => {
          const wanted = config.services[i];
          if (wanted.gpus) {
            expect(s.gpus).toEqual(wanted.gpus);
            expect(s.placedBy).toBe("config");
          } else {
            expect(s.placedBy).toBe("planner");
            if (!placementFailed) expect(s.gpus).toHaveLength(wanted.tensorParallel!);
          }
        });
        // Placement adds only where headroom is left: a GPU over budget is over because of pinned services.
        if (!placementFailed) {
          const pinnedOnly = plan.hosts[0].ledger.map((g) =>
            g.reservations
              .filter((r) => config.services.find((s) => s.name === r.service)!.gpus)
              .reduce((sum, r) => sum + r.reservedMiB, 0),
          );
          plan.hosts[0].ledger.forEach((g, d) => {
            if (g.headroomMiB < 0) expect(g.reservedMiB).toBe(pinnedOnly[d]);
          });
          if (config.services.some((s) => !s.gpus)) plannerPlaced++;
        }
      }),
      { numRuns: 150, seed: 20261125 },
    );
    expect(plannerPlaced).toBeGreaterThan(20);
  });

  it("plans the same fleet the same way twice", () => {
    fc.assert(
      fc.property(fleetConfigArb, (config) => {
        expect(planFleet(config)).toEqual(planFleet(config));
      }),
      { numRuns: 50, seed: 20261125 },
    );
  });
});

describe("placeServices: engines that keep memory outside their reservations", () => {
  // vLLM engines keep their CUDA context and graph pool outside the reservation; sharing a GPU charges it.
  const vllm = (service: string, reservedMiBPerGpu: number, outside: number): PlacementRequest => ({
    service,
    reservedMiBPerGpu,
    tensorParallel: 1,
    outsideReservationMiBPerGpu: outside,
  });

  it("does not join a GPU whose headroom holds the reservation but not both engines' outside memory", () => {
    // GPU 0 holds a pinned 40,140 MiB engine that keeps 1,632 MiB outside (headroom 37,684): the newcomer's
    // 36,929 fits that alone, but with 1,632 + 1,488 MiB outside the two reservations it does not.
    const r = placeServices([A100 - 40140, A100], [vllm("small", 36929, 1488)], [[1632], []]);
    expect(placed(r)).toEqual({ small: [1] });
  });

  it("joins it when the outside memory fits too", () => {
    const r = placeServices([A100 - 40140, A100], [vllm("small", 30000, 1488)], [[1632], []]);
    expect(placed(r)).toEqual({ small: [0] });
  });

  it("says what it needs when nothing holds it", () => {
    const r = placeServices([A100 - 40140], [vllm("small", 36929, 1488)], [[1632]]);
    expect(r).toEqual({
      ok: false,
      service: "small",
      reason: "needs 1 GPU(s) with 36,929 MiB free each; 0 have that much (most free on one GPU: 37,684 MiB)",
    });
  });
});
