/**
 * The per-GPU ledger: for every device of a host, which service reserves how much, what is usable
 * after the safety margin, and the headroom left. The same ledger is written to the host, where a
 * preflight compares it with nvidia-smi, and read by the policy pack.
 */
import { formatNumber as fmt } from "./format";

/** Memory kept free on every GPU for the driver, other processes and fragmentation. */
export const DEFAULT_SAFETY_MARGIN_FRACTION = 0.05;

export interface Reservation {
  readonly service: string;
  readonly reservedMiB: number;
}

export interface LedgerGpu {
  readonly index: number;
  readonly model: string;
  readonly memoryMiB: number;
  readonly usableMiB: number;
  readonly reservedMiB: number;
  readonly headroomMiB: number;
  readonly reservations: readonly Reservation[];
}

export interface ServiceClaim {
  readonly service: string;
  readonly gpus: readonly number[];
  readonly reservedMiBPerGpu: number;
}

export function usableMiB(memoryMiB: number, safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION): number {
  return Math.floor(memoryMiB * (1 - safetyMarginFraction));
}

export function buildLedger(
  gpuModel: string,
  memoryMiB: number,
  gpuCount: number,
  claims: readonly ServiceClaim[],
  safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION,
): LedgerGpu[] {
  const usable = usableMiB(memoryMiB, safetyMarginFraction);
  return Array.from({ length: gpuCount }, (_, index) => {
    const reservations = claims
      .filter((c) => c.gpus.includes(index))
      .map((c) => ({ service: c.service, reservedMiB: c.reservedMiBPerGpu }));
    const reservedMiB = reservations.reduce((sum, r) => sum + r.reservedMiB, 0);
    return {
      index,
      model: gpuModel,
      memoryMiB,
      usableMiB: usable,
      reservedMiB,
      headroomMiB: usable - reservedMiB,
      reservations,
    };
  });
}

export interface OverBudget {
  readonly gpu: LedgerGpu;
  readonly overMiB: number;
}

export function overBudgetGpus(ledger: readonly LedgerGpu[]): OverBudget[] {
  return ledger.filter((g) => g.headroomMiB < 0).map((gpu) => ({ gpu, overMiB: -gpu.headroomMiB }));
}

/** One message per over-budget GPU, naming the host, the GPU, every service and the excess. */
export function overBudgetMessage(host: string, over: OverBudget): string {
  const { gpu, overMiB } = over;
  const who = gpu.reservations.map((r) => `${r.service} ${fmt(r.reservedMiB)} MiB`).join(" + ");
  return `host "${host}" GPU ${gpu.index} (${gpu.model}) is over budget by ${fmt(overMiB)} MiB: ${who} = ${fmt(gpu.reservedMiB)} MiB reserved, ${fmt(gpu.usableMiB)} MiB usable of ${fmt(gpu.memoryMiB)} MiB`;
}
