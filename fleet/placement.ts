/**
 * Automatic placement: services without `gpus` get devices whose headroom holds their reservation.
 * Pinned services never move. Deterministic: the same fleet always gives the same map.
 */
import { formatNumber } from "./format";

export interface PlacementRequest {
  readonly service: string;
  readonly tensorParallel: number;
  readonly reservedMiBPerGpu: number;
  /** What the engine keeps outside its reservation, charged when it shares a GPU (ledger.ts). Default: 0. */
  readonly outsideReservationMiBPerGpu?: number;
}

export type PlacementResult =
  | { readonly ok: true; readonly gpus: ReadonlyMap<string, readonly number[]> }
  | { readonly ok: false; readonly service: string; readonly reason: string };

/**
 * Largest first (tensor-parallel groups, then reservation, then name), each onto the devices with the
 * least headroom that still hold it (best fit), which keeps whole GPUs free for later large services.
 * On one host every device shares the same interconnect, so any set of devices is as good for tensor
 * parallelism as any other; PCIe-only hosts are flagged by an advisory check, not by placement.
 */
export function placeServices(
  headroomMiB: readonly number[],
  requests: readonly PlacementRequest[],
  occupants: readonly (readonly number[])[] = [],
): PlacementResult {
  const headroom = [...headroomMiB];
  // Per GPU, the outside-reservation memory of each engine already on it (pinned, or placed here).
  const on = headroom.map((_, i) => [...(occupants[i] ?? [])]);
  // Joining a GPU charges the newcomer's outside memory, and the lone occupant's too (buildLedger).
  const cost = (req: PlacementRequest, d: number) => {
    const others = on[d];
    if (others.length === 0) return req.reservedMiBPerGpu;
    return req.reservedMiBPerGpu + (req.outsideReservationMiBPerGpu ?? 0) + (others.length === 1 ? others[0] : 0);
  };
  const order = [...requests].sort(
    (a, b) =>
      b.tensorParallel - a.tensorParallel ||
      b.reservedMiBPerGpu - a.reservedMiBPerGpu ||
      (a.service < b.service ? -1 : a.service > b.service ? 1 : 0),
  );
  const placed = new Map<string, number[]>();
  for (const req of order) {
    const candidates = headroom
      .map((free, index) => ({ free, index, cost: cost(req, index) }))
      .filter((d) => d.free >= d.cost)
      .sort((a, b) => a.free - b.free || a.index - b.index);
    if (candidates.length < req.tensorParallel) {
      const best = Math.max(...headroom);
      return {
        ok: false,
        service: req.service,
        reason: `needs ${req.tensorParallel} GPU(s) with ${formatNumber(req.reservedMiBPerGpu)} MiB free each; ${candidates.length} have that much (most free on one GPU: ${formatNumber(best)} MiB)`,
      };
    }
    const devices = candidates
      .slice(0, req.tensorParallel)
      .map((d) => d.index)
      .sort((a, b) => a - b);
    for (const d of devices) {
      headroom[d] -= cost(req, d);
      on[d].push(req.outsideReservationMiBPerGpu ?? 0);
    }
    placed.set(req.service, devices);
  }
  return { ok: true, gpus: placed };
}
