/**
 * The per-GPU ledger: for every device of a host, which service reserves how much, what is usable
 * after the safety margin, and the headroom left. The same ledger is written to the host, where a
 * preflight compares it with nvidia-smi, and read by the policy pack.
 */
import { sharedGpuChargeMiB } from "./estimator";
import { formatNumber as fmt } from "./format";

/** Memory kept free on every GPU for the driver, other processes and fragmentation. */
export const DEFAULT_SAFETY_MARGIN_FRACTION = 0.05;

export interface Reservation {
  readonly service: string;
  readonly reservedMiB: number;
  /**
   * What the engine keeps outside its reservation (vLLM's CUDA context and CUDA graph pool), charged
   * only when the GPU is shared with another engine; 0 on a GPU it has alone.
   */
  readonly outsideReservationMiB: number;
}

export interface LedgerGpu {
  readonly index: number;
  readonly model: string;
  readonly memoryMiB: number;
  readonly usableMiB: number;
  /** The sum of the reservations. */
  readonly reservedMiB: number;
  /** The sum of the reservations' outside charges (0 unless two or more engines share the GPU). */
  readonly outsideReservationMiB: number;
  /** What the GPU is charged: reservations plus, when shared, what each engine keeps outside its own. */
  readonly chargedMiB: number;
  /** usableMiB − chargedMiB. */
  readonly headroomMiB: number;
  readonly reservations: readonly Reservation[];
}

export interface ServiceClaim {
  readonly service: string;
  readonly gpus: readonly number[];
  readonly reservedMiBPerGpu: number;
  /** The estimate's outsideReservationMiBPerGpu (0 for engines that keep nothing outside). Default: 0. */
  readonly outsideReservationMiBPerGpu?: number;
}

export function usableMiB(memoryMiB: number, safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION): number {
  return Math.floor(memoryMiB * (1 - safetyMarginFraction));
}

/**
 * Engines sharing a GPU are charged their reservations and what each keeps outside it
 * (estimator.ts sharedGpuChargeMiB: the next engine's start-up check no longer finds that memory free);
 * a lone engine is charged its reservation only.
 */
export function buildLedger(
  gpuModel: string,
  memoryMiB: number,
  gpuCount: number,
  claims: readonly ServiceClaim[],
  safetyMarginFraction = DEFAULT_SAFETY_MARGIN_FRACTION,
): LedgerGpu[] {
  const usable = usableMiB(memoryMiB, safetyMarginFraction);
  return Array.from({ length: gpuCount }, (_, index) => {
    const here = claims.filter((c) => c.gpus.includes(index));
    const engines = here.map((c) => ({
      reservedMiBPerGpu: c.reservedMiBPerGpu,
      outsideReservationMiBPerGpu: c.outsideReservationMiBPerGpu ?? 0,
    }));
    const shared = here.length >= 2;
    const reservations = here.map((c, i) => ({
      service: c.service,
      reservedMiB: c.reservedMiBPerGpu,
      outsideReservationMiB: shared ? engines[i].outsideReservationMiBPerGpu : 0,
    }));
    const reservedMiB = reservations.reduce((sum, r) => sum + r.reservedMiB, 0);
    const chargedMiB = sharedGpuChargeMiB(engines);
    return {
      index,
      model: gpuModel,
      memoryMiB,
      usableMiB: usable,
      reservedMiB,
      outsideReservationMiB: chargedMiB - reservedMiB,
      chargedMiB,
      headroomMiB: usable - chargedMiB,
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

/** One message per over-budget GPU, naming the host, the GPU, every service, the shared-GPU charges and the excess. */
export function overBudgetMessage(host: string, over: OverBudget): string {
  const { gpu, overMiB } = over;
  const who = gpu.reservations.map((r) => `${r.service} ${fmt(r.reservedMiB)} MiB`).join(" + ");
  const outside = gpu.reservations.filter((r) => r.outsideReservationMiB > 0);
  const total =
    outside.length === 0
      ? `${who} = ${fmt(gpu.reservedMiB)} MiB reserved`
      : `${who} reserved + CUDA context and graphs outside the reservations (shared GPU) ${outside
          .map((r) => `${r.service} ${fmt(r.outsideReservationMiB)} MiB`)
          .join(" + ")} = ${fmt(gpu.chargedMiB)} MiB charged`;
  return `host "${host}" GPU ${gpu.index} (${gpu.model}) is over budget by ${fmt(overMiB)} MiB: ${total}, ${fmt(gpu.usableMiB)} MiB usable of ${fmt(gpu.memoryMiB)} MiB`;
}
