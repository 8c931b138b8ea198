/**
 * The host ledger document: the per-GPU ledger plus the facts about each service that the checks need.
 * It is written to the host (/etc/gpu-fleet/ledger.json) by a real child resource, so the policy pack
 * sees it (component args never reach the engine) and the host preflight compares it with nvidia-smi.
 */
import { Interconnect } from "./catalog/instances";
import { Engine } from "./catalog/models";
import { KvCacheDtype, Precision } from "./catalog/precision";
import { LedgerGpu } from "./ledger";

export const LEDGER_KIND = "gpu-fleet/host-ledger";
export const LEDGER_VERSION = 1;

export interface LedgerService {
  readonly name: string;
  readonly model: string;
  readonly gpus: readonly number[];
  readonly tensorParallel: number;
  readonly precision: Precision;
  readonly engine: Engine;
  /** The fraction handed to the engine (vLLM gpu_memory_utilization); null when the engine takes none. */
  readonly gpuMemoryUtilization: number | null;
  readonly reservedMiBPerGpu: number;
  /** CUDA context and graph pool outside the reservation (vLLM), charged when the GPU is shared. */
  readonly outsideReservationMiBPerGpu: number;
  /** The engine's KV-cache dtype (vLLM --kv-cache-dtype); null for encoders, which keep no KV cache. */
  readonly kvCacheDtype: KvCacheDtype | null;
  /** The token budget the estimate's activation peak is sized for; null for encoders. */
  readonly maxNumBatchedTokens: number | null;
  readonly weightsMiBPerGpu: number;
  readonly overheadMiB: number;
  readonly kvBytesPerTokenPerGpu: number;
  readonly maxModelLen: number;
  /** Why the planner found no GPUs for it (then `gpus` is empty and `pulumi up` refuses the host). */
  readonly unplacedReason?: string;
}

export interface HostLedgerDocument {
  readonly kind: typeof LEDGER_KIND;
  readonly version: typeof LEDGER_VERSION;
  readonly host: string;
  readonly gpuModel: string;
  /** Compute capability of the GPU model, for the precision check. */
  readonly computeCapability: number;
  readonly nvidiaSmiName: string;
  readonly gpuCount: number;
  readonly memoryMiB: number;
  /** The memory CUDA reports per GPU, which vLLM's gpu_memory_utilization multiplies. */
  readonly cudaTotalMiB: number;
  readonly interconnect: Interconnect;
  readonly safetyMarginFraction: number;
  readonly hourlyUsd: number | null;
  readonly services: readonly LedgerService[];
  readonly gpus: readonly LedgerGpu[];
}

export function serializeLedger(doc: HostLedgerDocument): string {
  return JSON.stringify(doc);
}

/** Returns the document if `text` is a host ledger, undefined otherwise (other stdin payloads). */
export function parseLedger(text: unknown): HostLedgerDocument | undefined {
  if (typeof text !== "string" || !text.includes(LEDGER_KIND)) return undefined;
  try {
    const doc = JSON.parse(text) as HostLedgerDocument;
    return doc && doc.kind === LEDGER_KIND && doc.version === LEDGER_VERSION ? doc : undefined;
  } catch {
    return undefined;
  }
}
