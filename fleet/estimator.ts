/**
 * VRAM estimator: what a model needs on each GPU and, separately, what its engine reserves.
 * Budgets charge reservations, not needs: a vLLM instance takes gpu_memory_utilization × total memory
 * whatever the model needs, so two at 0.9 on one GPU cannot both start.
 */
import { GpuModel } from "./catalog/gpus";
import { Engine, ModelSpec, findOptimizedProfile } from "./catalog/models";
import { BYTES_PER_PARAM, Precision } from "./catalog/precision";
import { formatNumber as fmt } from "./format";

export const MIB = 1024 * 1024;

/** vLLM's default --gpu-memory-utilization (vllm/engine/arg_utils.py), which NIM inherits. */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
/** TensorRT-LLM KvCacheConfig.free_gpu_memory_fraction default: 90% of the memory left after weights. */
export const DEFAULT_TRTLLM_KV_FRACTION = 0.9;
/** vLLM allocates KV cache in blocks of 16 tokens (CacheConfig.block_size default). */
export const KV_BLOCK_TOKENS = 16;
/** The KV cache stays 16-bit unless an fp8 KV cache is asked for; weights precision does not change it. */
export const KV_BYTES_PER_ELEMENT = 2;

/**
 * Memory an engine uses besides weights and KV cache: CUDA context, NCCL buffers, activation peak
 * during profiling and CUDA graphs. vllm-project/vllm#13061 logs non-torch memory 0.25 GiB and an
 * activation peak of 0.19 GiB for a 14B model at TP 2; CUDA graphs add a few hundred MiB. 1 GiB covers
 * all three for the models in the catalog. Encoder engines need a comparable workspace for a full
 * batch of 512-token sequences.
 */
export const ENGINE_OVERHEAD_MIB: Readonly<Record<Engine, number>> = { vllm: 1024, trtllm: 1024, fixed: 1024 };

export type ServingProfile = "optimized-trtllm" | "generic-vllm" | "fixed";

export interface EstimateInput {
  readonly model: ModelSpec;
  readonly gpu: GpuModel;
  readonly tensorParallel: number;
  readonly precision: Precision;
  /** Context the service must hold for one sequence; defaults to the model's maximum. */
  readonly maxModelLen?: number;
  /** vLLM: fraction of each GPU reserved; trtllm: KV fraction of free memory; fixed: optional cap. */
  readonly gpuMemoryUtilization?: number;
  readonly engine?: Engine;
}

export interface Estimate {
  readonly model: string;
  readonly gpu: string;
  readonly precision: Precision;
  readonly tensorParallel: number;
  readonly engine: Engine;
  readonly profile: ServingProfile;
  /** Why the profile was chosen, in words a reviewer understands. */
  readonly profileNote: string;
  readonly weightsMiBPerGpu: number;
  /** KV cache bytes per token for the whole model: 2 (K and V) × layers × KV heads × head dim × bytes. */
  readonly kvBytesPerToken: number;
  readonly kvBytesPerTokenPerGpu: number;
  readonly overheadMiB: number;
  readonly reservedMiBPerGpu: number;
  /** The largest context (tokens, one sequence) the reservation holds, capped at the model's maximum. */
  readonly maxContextTokens: number;
  readonly requestedContextTokens: number;
  readonly fits: boolean;
  readonly reason: string;
}

export function weightsBytes(model: ModelSpec, precision: Precision): number {
  const quantized = model.params - model.unquantizedParams;
  return model.unquantizedParams * BYTES_PER_PARAM.bf16 + quantized * BYTES_PER_PARAM[precision];
}

export function kvBytesPerToken(model: ModelSpec): number {
  return 2 * model.layers * model.kvHeads * model.headDim * KV_BYTES_PER_ELEMENT;
}

/** Tensor parallelism splits KV heads across GPUs; with more GPUs than KV heads each GPU keeps one. */
export function kvBytesPerTokenPerGpu(model: ModelSpec, tensorParallel: number): number {
  if (model.kvHeads === 0) return 0;
  const headsPerGpu = Math.max(1, model.kvHeads / tensorParallel);
  return 2 * model.layers * headsPerGpu * model.headDim * KV_BYTES_PER_ELEMENT;
}

/** NIM picks a pre-built TensorRT-LLM engine when one matches the GPUs; otherwise a generic vLLM profile. */
export function chooseEngine(input: EstimateInput): { engine: Engine; profile: ServingProfile; note: string } {
  const { model, gpu, precision, tensorParallel } = input;
  if (model.engine === "fixed")
    return { engine: "fixed", profile: "fixed", note: "encoder engine: weights plus a fixed workspace" };
  const optimized = findOptimizedProfile(model, gpu.name, precision, tensorParallel);
  const engine = input.engine ?? (optimized && model.serving.nim ? "trtllm" : "vllm");
  if (engine === "trtllm") {
    const note = optimized
      ? `optimized TensorRT-LLM ${optimized.profile} profile (${gpu.name} ×${tensorParallel}, ${optimized.precision})`
      : `TensorRT-LLM requested, but NIM ships no optimized profile for ${gpu.name} ×${tensorParallel} ${precision}`;
    return { engine, profile: "optimized-trtllm", note };
  }
  const others = model.optimizedProfiles.filter((p) => p.gpu === gpu.name);
  // One clause per precision: H100 has fp8 and fp16 profiles, each at ×1 and ×2.
  const byPrecision = [...new Set(others.map((p) => p.precision))].map(
    (precision) =>
      `optimized ${precision} profiles for ${gpu.name} need ${others
        .filter((p) => p.precision === precision)
        .map((p) => `×${p.tensorParallel}`)
        .join(" or ")}`,
  );
  const note =
    others.length > 0
      ? `generic vLLM profile (${byPrecision.join("; ")})`
      : model.serving.nim
        ? `generic vLLM profile (no optimized profile for ${gpu.name})`
        : "vLLM";
  return { engine, profile: "generic-vllm", note };
}

export function estimate(input: EstimateInput): Estimate {
  const { model, gpu, tensorParallel, precision } = input;
  const { engine, profile, note } = chooseEngine(input);
  const weightsMiBPerGpu = Math.ceil(weightsBytes(model, precision) / tensorParallel / MIB);
  const kvPerGpu = kvBytesPerTokenPerGpu(model, tensorParallel);
  const overheadMiB = ENGINE_OVERHEAD_MIB[engine];
  const requestedContextTokens = input.maxModelLen ?? model.maxContextTokens;
  // The KV cache is allocated in whole blocks, so a context needs its token count rounded up to a block.
  const needForContextMiB = (tokens: number) =>
    Math.ceil((Math.ceil(tokens / KV_BLOCK_TOKENS) * KV_BLOCK_TOKENS * kvPerGpu) / MIB);
  const needMiB = weightsMiBPerGpu + overheadMiB + needForContextMiB(requestedContextTokens);

  let reservedMiBPerGpu: number;
  if (engine === "vllm") {
    reservedMiBPerGpu = Math.floor((input.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION) * gpu.memoryMiB);
  } else if (engine === "trtllm") {
    const free = gpu.memoryMiB - weightsMiBPerGpu - overheadMiB;
    const fraction = input.gpuMemoryUtilization ?? DEFAULT_TRTLLM_KV_FRACTION;
    reservedMiBPerGpu = weightsMiBPerGpu + overheadMiB + Math.max(0, Math.floor(free * fraction));
  } else {
    reservedMiBPerGpu =
      input.gpuMemoryUtilization !== undefined ? Math.floor(input.gpuMemoryUtilization * gpu.memoryMiB) : needMiB;
  }

  const kvBudgetMiB = reservedMiBPerGpu - weightsMiBPerGpu - overheadMiB;
  let maxContextTokens: number;
  // An encoder keeps no KV cache: weights and overhead filling the reservation exactly still fit.
  if (kvPerGpu === 0) maxContextTokens = kvBudgetMiB >= 0 ? model.maxContextTokens : 0;
  else if (kvBudgetMiB <= 0) maxContextTokens = 0;
  else {
    const tokens = Math.floor((kvBudgetMiB * MIB) / kvPerGpu);
    maxContextTokens = Math.min(model.maxContextTokens, Math.floor(tokens / KV_BLOCK_TOKENS) * KV_BLOCK_TOKENS);
  }
  const fits = maxContextTokens > 0 && maxContextTokens >= requestedContextTokens;

  const needs = `weights ${fmt(weightsMiBPerGpu)} MiB + overhead ${fmt(overheadMiB)} MiB + KV ${fmt(needForContextMiB(requestedContextTokens))} MiB for ${fmt(requestedContextTokens)} tokens`;
  let reason: string;
  if (fits) {
    reason = `fits: ${needs} within the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU (holds ${fmt(maxContextTokens)} tokens)`;
  } else if (kvBudgetMiB <= 0) {
    reason = `does not fit: weights ${fmt(weightsMiBPerGpu)} MiB + overhead ${fmt(overheadMiB)} MiB exceed the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU; use more GPUs (tensor parallelism), a lower precision or a larger GPU`;
  } else {
    reason = `does not fit: ${needs} exceed the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU, which holds ${fmt(maxContextTokens)} tokens; set maxModelLen <= ${fmt(maxContextTokens)} or use more GPUs`;
  }

  return {
    model: model.id,
    gpu: gpu.name,
    precision,
    tensorParallel,
    engine,
    profile,
    profileNote: note,
    weightsMiBPerGpu,
    kvBytesPerToken: kvBytesPerToken(model),
    kvBytesPerTokenPerGpu: kvPerGpu,
    overheadMiB,
    reservedMiBPerGpu,
    maxContextTokens,
    requestedContextTokens,
    fits,
    reason,
  };
}
