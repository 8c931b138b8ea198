/**
 * The checks that make a GPU map safe, computed from a host ledger document alone. The offline plan
 * runs them on the ledgers it builds; the policy pack runs the same functions on the ledger it finds
 * in a resource's inputs — one implementation, two callers.
 */
import { MIN_COMPUTE_CAPABILITY, MIN_FP8_KV_COMPUTE_CAPABILITY } from "./catalog/precision";
import { KV_BLOCK_TOKENS, MIB } from "./estimator";
import { HostLedgerDocument, LedgerService } from "./hostLedger";
import { buildLedger, overBudgetGpus, overBudgetMessage } from "./ledger";
import { formatNumber as fmt } from "./format";

export type Enforcement = "mandatory" | "advisory";

export interface Finding {
  /** The policy name that reports it (kebab-case, as in the policy pack). */
  readonly check: string;
  readonly enforcement: Enforcement;
  readonly message: string;
  readonly host: string;
  /** The service it is about, when it is about one; `detail` is then the message without its subject. */
  readonly service?: string;
  readonly detail?: string;
}

/** A finding about one service: `message` names it for the plan and policies, `detail` for a component's args. */
function aboutService(
  check: string,
  enforcement: Enforcement,
  host: string,
  service: string,
  subject: string,
  detail: string,
): Finding {
  return { check, enforcement, host, service, detail, message: `${subject} ${detail}` };
}

export const CHECKS = {
  gpuBudget: "gpu-memory-budget",
  devicesExist: "pinned-devices-exist",
  fixedFractions: "fixed-fraction-engines-fit",
  tensorParallel: "tensor-parallel-matches-devices",
  precision: "precision-supported-by-gpu",
  modelFits: "model-fits-reservation",
  pcieTensorParallel: "tensor-parallel-over-pcie",
  placed: "automatic-placement",
} as const;

/** Services the planner could not place stay in the ledger with no GPUs: `pulumi up` refuses them. */
export function checkPlaced(doc: HostLedgerDocument): Finding[] {
  return doc.services
    .filter((s) => s.gpus.length === 0)
    .map((s) =>
      aboutService(
        CHECKS.placed,
        "mandatory",
        doc.host,
        s.name,
        `service "${s.name}"`,
        `cannot be placed on host "${doc.host}": ${s.unplacedReason ?? "it has no GPUs"}`,
      ),
    );
}

/** The services that hold GPUs; an unplaced one has its own finding and nothing else to check. */
const placed = (doc: HostLedgerDocument) => doc.services.filter((s) => s.gpus.length > 0);

export function checkGpuBudget(doc: HostLedgerDocument): Finding[] {
  // Recompute from the services rather than trusting the ledger's own sums.
  const ledger = buildLedger(
    doc.gpuModel,
    doc.memoryMiB,
    doc.gpuCount,
    doc.services.map((s) => ({
      service: s.name,
      gpus: s.gpus,
      reservedMiBPerGpu: s.reservedMiBPerGpu,
      outsideReservationMiBPerGpu: s.outsideReservationMiBPerGpu,
    })),
    doc.safetyMarginFraction,
  );
  return overBudgetGpus(ledger).map((over) => ({
    check: CHECKS.gpuBudget,
    enforcement: "mandatory",
    host: doc.host,
    message: overBudgetMessage(doc.host, over),
  }));
}

export function checkDevicesExist(doc: HostLedgerDocument): Finding[] {
  return doc.services.flatMap((s) =>
    s.gpus
      .filter((d) => !Number.isInteger(d) || d < 0 || d >= doc.gpuCount)
      .map((d) =>
        aboutService(
          CHECKS.devicesExist,
          "mandatory",
          doc.host,
          s.name,
          `service "${s.name}"`,
          `is pinned to GPU ${d}, which does not exist on host "${doc.host}" (${doc.gpuCount} × ${doc.gpuModel}: GPU 0${doc.gpuCount > 1 ? `-${doc.gpuCount - 1}` : " only"})`,
        ),
      ),
  );
}

/**
 * Engines that reserve a fixed fraction of the whole GPU (vLLM) each take that fraction of total
 * memory at start; their fractions on one GPU must sum to no more than the usable share. The fraction
 * multiplies the total CUDA reports (cudaTotalMiB), as the estimator's reservation does, so the excess
 * is stated in MiB of that total.
 */
export function checkFixedFractions(doc: HostLedgerDocument): Finding[] {
  const findings: Finding[] = [];
  for (let gpu = 0; gpu < doc.gpuCount; gpu++) {
    const fixed = doc.services.filter(
      (s) => s.gpus.includes(gpu) && s.engine === "vllm" && s.gpuMemoryUtilization !== null,
    );
    if (fixed.length < 2) continue;
    const total = fixed.reduce((sum, s) => sum + (s.gpuMemoryUtilization ?? 0), 0);
    const allowed = 1 - doc.safetyMarginFraction;
    if (total > allowed + 1e-9) {
      const overMiB = Math.ceil((total - allowed) * doc.cudaTotalMiB);
      findings.push({
        check: CHECKS.fixedFractions,
        enforcement: "mandatory",
        host: doc.host,
        message: `host "${doc.host}" GPU ${gpu} (${doc.gpuModel}): vLLM engines ${fixed.map((s) => `${s.name} ${s.gpuMemoryUtilization}`).join(" + ")} reserve ${total.toFixed(2)} of the GPU, more than the usable ${allowed.toFixed(2)}; they cannot all start (over by ${fmt(overMiB)} MiB)`,
      });
    }
  }
  return findings;
}

export function checkTensorParallel(doc: HostLedgerDocument): Finding[] {
  return placed(doc)
    .filter((s) => s.tensorParallel !== s.gpus.length)
    .map((s) =>
      aboutService(
        CHECKS.tensorParallel,
        "mandatory",
        doc.host,
        s.name,
        `service "${s.name}" on host "${doc.host}"`,
        `has tensor parallelism ${s.tensorParallel} but is pinned to ${s.gpus.length} GPU(s) [${s.gpus.join(", ")}]; they must be equal`,
      ),
    );
}

export function checkPrecision(doc: HostLedgerDocument): Finding[] {
  const gpu = `${doc.gpuModel} (compute capability ${doc.computeCapability.toFixed(1)})`;
  const refuse = (s: HostLedgerDocument["services"][number], detail: string) =>
    aboutService(CHECKS.precision, "mandatory", doc.host, s.name, `service "${s.name}" on host "${doc.host}"`, detail);
  const weights = doc.services
    .filter((s) => doc.computeCapability < MIN_COMPUTE_CAPABILITY[s.precision])
    .map((s) =>
      refuse(
        s,
        `uses ${s.precision}, which ${gpu} does not support; ${s.precision} needs ${MIN_COMPUTE_CAPABILITY[s.precision].toFixed(1)}${s.precision === "bf16" ? "; use fp16" : ""}`,
      ),
    );
  // vLLM's fp8 KV cache needs an attention backend that stores fp8 on the GPU (catalog/precision.ts).
  const kvCache = doc.services
    .filter((s) => s.kvCacheDtype === "fp8" && doc.computeCapability < MIN_FP8_KV_COMPUTE_CAPABILITY)
    .map((s) =>
      refuse(
        s,
        `uses kvCacheDtype fp8, which ${gpu} cannot run: vLLM's fp8 KV cache needs ${MIN_FP8_KV_COMPUTE_CAPABILITY.toFixed(1)}; use kvCacheDtype auto`,
      ),
    );
  return [...weights, ...kvCache];
}

/**
 * Weights, engine overhead and the KV cache for one sequence of maxModelLen must fit the reservation.
 * The cache is allocated in whole 16-token blocks, as the estimator counts it.
 */
export function serviceNeedMiB(s: LedgerService): number {
  const tokens = Math.ceil(s.maxModelLen / KV_BLOCK_TOKENS) * KV_BLOCK_TOKENS;
  return s.weightsMiBPerGpu + s.overheadMiB + Math.ceil((tokens * s.kvBytesPerTokenPerGpu) / MIB);
}

export function checkModelFits(doc: HostLedgerDocument): Finding[] {
  return placed(doc)
    .filter((s) => serviceNeedMiB(s) > s.reservedMiBPerGpu)
    .map((s) => {
      const need = serviceNeedMiB(s);
      const kvBudget = s.reservedMiBPerGpu - s.weightsMiBPerGpu - s.overheadMiB;
      const holds =
        s.kvBytesPerTokenPerGpu > 0 && kvBudget > 0
          ? Math.floor((kvBudget * MIB) / s.kvBytesPerTokenPerGpu / 16) * 16
          : 0;
      const hint =
        holds > 0
          ? `; set maxModelLen <= ${fmt(holds)} or give it more GPUs`
          : "; give it more GPUs, a lower precision or a larger GPU";
      return aboutService(
        CHECKS.modelFits,
        "mandatory",
        doc.host,
        s.name,
        `service "${s.name}" (${s.model}) on host "${doc.host}" GPU ${s.gpus.join(", ")}`,
        `needs ${fmt(need)} MiB per GPU (weights ${fmt(s.weightsMiBPerGpu)} + overhead ${fmt(s.overheadMiB)} + KV for ${fmt(s.maxModelLen)} tokens ${fmt(need - s.weightsMiBPerGpu - s.overheadMiB)}) but its reservation is ${fmt(s.reservedMiBPerGpu)} MiB: over by ${fmt(need - s.reservedMiBPerGpu)} MiB${hint}`,
      );
    });
}

export function checkPcieTensorParallel(doc: HostLedgerDocument): Finding[] {
  if (doc.interconnect === "nvswitch") return [];
  return doc.services
    .filter((s) => s.gpus.length > 1)
    .map((s) =>
      aboutService(
        CHECKS.pcieTensorParallel,
        "advisory",
        doc.host,
        s.name,
        `service "${s.name}" on host "${doc.host}"`,
        `runs tensor parallelism ${s.gpus.length} over PCIe-only ${doc.gpuModel} GPUs [${s.gpus.join(", ")}]; all-reduce traffic will limit throughput (NVLink/NVSwitch hosts avoid this)`,
      ),
    );
}

/** Every check on one host ledger, in a stable order. */
export function checkHostLedger(doc: HostLedgerDocument): Finding[] {
  return [
    ...checkPlaced(doc),
    ...checkDevicesExist(doc),
    ...checkTensorParallel(doc),
    ...checkPrecision(doc),
    ...checkGpuBudget(doc),
    ...checkFixedFractions(doc),
    ...checkModelFits(doc),
    ...checkPcieTensorParallel(doc),
  ];
}

export const COST_CHECK = "maximum-hourly-cost";

export function checkHourlyCost(stackHourlyUsd: number, maxHourlyUsd: number | undefined): Finding[] {
  if (maxHourlyUsd === undefined || stackHourlyUsd <= maxHourlyUsd) return [];
  return [
    {
      check: COST_CHECK,
      enforcement: "advisory",
      host: "",
      message: `the stack costs $${stackHourlyUsd.toFixed(3)}/h on demand, above the maximum of $${maxHourlyUsd.toFixed(3)}/h (gpu-fleet:maxHourlyUsd)`,
    },
  ];
}
