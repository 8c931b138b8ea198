/**
 * VRAM estimator: what a model needs on each GPU and, separately, what its engine reserves.
 * Budgets charge reservations, not needs: a vLLM instance takes gpu_memory_utilization × total memory
 * whatever the model needs, so two at 0.9 on one GPU cannot both start.
 *
 * vLLM's accounting, as vllm/v1/worker/gpu_worker.py (Worker.init_device, determine_available_memory)
 * and vllm/utils/mem_utils.py (memory_profiling, MemoryProfilingResult) of the V1 engine do it
 * (v0.8 to v0.19; the numbers are checked against v0.19.0 logs in test/fleet/measurements.test.ts):
 *
 *   requested   = gpu_memory_utilization × total memory CUDA reports (not nvidia-smi's figure)
 *   non-KV      = weights + torch peak increase during profile_run (activations) + non-torch increase
 *   KV cache    = requested − non-KV, in whole blocks of 16 tokens × per-token bytes of every layer
 *
 * and outside `requested`: the CUDA context (and, at TP ≥ 2, NCCL's communicators, created before the
 * baseline snapshot) and the CUDA graph pool, captured after the KV cache is allocated
 * (Worker.compile_or_warm_up_model). Those two only matter when engines share a GPU.
 */
import { GpuModel } from "./catalog/gpus";
import { Engine, ModelSpec, findOptimizedProfile } from "./catalog/models";
import { BYTES_PER_PARAM, KV_BYTES_PER_ELEMENT, KvCacheDtype, Precision } from "./catalog/precision";
import { formatNumber as fmt } from "./format";

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** vLLM's default --gpu-memory-utilization (vllm/engine/arg_utils.py), which NIM inherits. */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
/** TensorRT-LLM KvCacheConfig.free_gpu_memory_fraction default: 90% of the memory left after weights. */
export const DEFAULT_TRTLLM_KV_FRACTION = 0.9;
/** vLLM allocates KV cache in blocks of 16 tokens (CacheConfig.block_size default). */
export const KV_BLOCK_TOKENS = 16;

/**
 * vLLM's scheduler defaults for `vllm serve` (EngineArgs.get_batch_defaults in vllm/engine/arg_utils.py,
 * OPENAI_API_SERVER usage context): GPUs with at least 70 GiB that are not A100s get 8,192 batched
 * tokens and 1,024 sequences, every other GPU 2,048 and 256. The v0.19.0 H100 logs say "Defaulting
 * max_num_batched_tokens to 8192" and "Defaulting max_num_seqs to 1024".
 */
export function vllmBatchDefaults(gpu: GpuModel): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const large = gpu.cudaTotalMiB * MIB >= 70 * GIB && !gpu.name.startsWith("A100");
  return large ? { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 } : { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
}

/**
 * TensorRT-LLM's build defaults (trtllm-build --max_num_tokens 8192, --max_batch_size 256): the runtime
 * sizes its activation buffers for them before the KV cache takes its fraction of what is left.
 */
export const TRTLLM_BATCH_DEFAULTS = { maxNumBatchedTokens: 8192, maxNumSeqs: 256 } as const;

/**
 * Bytes the sampler holds per request and vocabulary entry at its peak in profile_run
 * (GPUModelRunner._dummy_sampler_run over min(max_num_seqs, max_num_batched_tokens) requests): fp32
 * logits plus the sampler's transient copies (temperature-scaled logits, probabilities, top-k/top-p sort
 * values and indices). Measured: vLLM v0.19.0 peaks at 1.89 GiB for Llama 3.1 8B with 1,024 requests
 * (about 15 B per entry after the forward pass), an earlier V1 release at 4.76 GiB (about 39 B,
 * llm-d/llm-d-benchmark config_explorer/empirical-vllm-memory-results.md). 32 B keeps the KV cache
 * within 2% of the earlier release and within 8% of v0.19.0 (test/fleet/measurements.test.ts).
 */
export const SAMPLER_BYTES_PER_VOCAB_ENTRY = 32;

/**
 * Memory the engine allocates outside torch during profiling (mem_utils: non_torch_increase): cuBLAS
 * workspaces and attention-backend buffers at TP 1 — vLLM v0.19.0 logs "non-torch forward increase
 * memory: 0.25GiB" — plus NCCL and custom all-reduce buffers at TP ≥ 2: 2.07 to 2.21 GiB per GPU in the
 * same logs at TP 2 and 4 (vllm-project/vllm#2031 first found NCCL memory escaping the profile).
 */
export const NON_TORCH_MIB = { single: 288, tensorParallel: 2304 } as const;

/**
 * The CUDA context (and at TP ≥ 2 the NCCL communicators) that exist before vLLM's baseline snapshot:
 * v0.19.0 on an H100 starts with "Free memory on device (78.68/79.19 GiB)" at TP 1 (0.51 GiB used) and
 * 77.64–77.66 GiB at TP 2 and 4 (1.55 GiB used). Outside the reservation.
 */
export const CUDA_CONTEXT_MIB = { single: 544, tensorParallel: 1600 } as const;

/**
 * The CUDA graph pool, captured after the KV cache is allocated, so outside the reservation: vLLM
 * v0.19.0 "Graph capturing finished …, took 0.91 GiB" (Llama 3.1 8B, 32 layers) and 1.79–1.85 GiB
 * (Llama 3.3 70B, 80 layers) for its 51 FULL and 51 PIECEWISE capture sizes: 512 MiB + 18 MiB per
 * layer covers both.
 */
export const CUDA_GRAPH_MIB = { base: 512, perLayer: 18 } as const;

/**
 * Encoder engines (Triton/TensorRT, ONNX, text-embeddings-inference) keep no KV cache: weights, the CUDA
 * context (512 MiB) and a workspace for a full batch of 512-token sequences (512 MiB).
 */
export const FIXED_ENGINE_OVERHEAD_MIB = 1024;

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
  /** vLLM --kv-cache-dtype; `auto` (16-bit) when unset. */
  readonly kvCacheDtype?: KvCacheDtype;
  /** vLLM --max-num-batched-tokens (chunked-prefill budget); vLLM's default for the GPU when unset. */
  readonly maxNumBatchedTokens?: number;
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
  readonly kvCacheDtype: KvCacheDtype;
  /** KV cache bytes per token for the whole model: 2 (K and V) × layers × KV heads × head dim × bytes. */
  readonly kvBytesPerToken: number;
  readonly kvBytesPerTokenPerGpu: number;
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
  /** Peak activation memory of vLLM's profile run (torch peak increase), per GPU. */
  readonly activationMiB: number;
  /** Memory allocated outside torch inside the reservation (workspaces; NCCL buffers at TP ≥ 2). */
  readonly nonTorchMiB: number;
  /** Everything inside the reservation besides weights and KV cache: what the KV budget loses. */
  readonly overheadMiB: number;
  /** The memory CUDA reports per GPU, which gpu_memory_utilization multiplies. */
  readonly cudaTotalMiB: number;
  readonly reservedMiBPerGpu: number;
  /** CUDA context and CUDA graph pool: outside the reservation, charged when engines share a GPU. */
  readonly outsideReservationMiBPerGpu: number;
  /** The KV cache pool one replica allocates (vLLM's "GPU KV cache size: N tokens"), not capped. */
  readonly kvCacheTokens: number;
  /** The largest context (tokens, one sequence) the reservation holds, capped at the model's maximum. */
  readonly maxContextTokens: number;
  readonly requestedContextTokens: number;
  readonly fits: boolean;
  readonly reason: string;
}

/** Bytes of the checkpoint at a precision: its 16-bit parameters at 2 bytes, the rest at the precision's. */
export function weightsBytes(model: ModelSpec, precision: Precision): number {
  const quantized = model.mixedPrecision?.[precision]?.quantizedParams ?? model.params - model.unquantizedParams;
  return (model.params - quantized) * BYTES_PER_PARAM.bf16 + quantized * BYTES_PER_PARAM[precision];
}

export function kvBytesPerToken(model: ModelSpec, kvCacheDtype: KvCacheDtype = "auto"): number {
  return 2 * model.layers * model.kvHeads * model.headDim * KV_BYTES_PER_ELEMENT[kvCacheDtype];
}

/** Tensor parallelism splits KV heads across GPUs; with more GPUs than KV heads each GPU keeps one. */
export function kvBytesPerTokenPerGpu(
  model: ModelSpec,
  tensorParallel: number,
  kvCacheDtype: KvCacheDtype = "auto",
): number {
  if (model.kvHeads === 0) return 0;
  const headsPerGpu = Math.max(1, model.kvHeads / tensorParallel);
  return 2 * model.layers * headsPerGpu * model.headDim * KV_BYTES_PER_ELEMENT[kvCacheDtype];
}

/**
 * The activation peak of the profile run, per GPU. vLLM runs the model over max_num_batched_tokens
 * dummy tokens, then the sampler over min(max_num_seqs, max_num_batched_tokens) requests; the peak is
 * the larger of the two phases:
 * - sampler: requests × vocabulary × SAMPLER_BYTES_PER_VOCAB_ENTRY (logits are gathered whole on every
 *   rank, so tensor parallelism does not split them), plus the batch's 16-bit hidden and residual
 *   streams (tokens × hidden × 2 × 2 B) kept for it;
 * - forward: per token the hidden and residual streams and the MLP's gate/up output and activation
 *   (3 × intermediate / TP), 2 B each — what grows when max_num_batched_tokens is raised.
 */
export function activationPeakMiB(model: ModelSpec, tensorParallel: number, tokens: number, seqs: number): number {
  const requests = Math.min(seqs, tokens);
  const sampler = requests * model.vocabSize * SAMPLER_BYTES_PER_VOCAB_ENTRY + tokens * model.hiddenSize * 4;
  const forward = tokens * (2 * model.hiddenSize + (3 * model.intermediateSize) / tensorParallel) * 2;
  return Math.ceil(Math.max(sampler, forward) / MIB);
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

/** KV tokens a budget holds: whole 16-token blocks of the per-GPU bytes per token (vLLM's num_gpu_blocks). */
export function kvTokensForBudget(kvBudgetMiB: number, kvBytesPerTokenPerGpu: number): number {
  if (kvBytesPerTokenPerGpu === 0 || kvBudgetMiB <= 0) return 0;
  const blockBytes = KV_BLOCK_TOKENS * kvBytesPerTokenPerGpu;
  return Math.floor((kvBudgetMiB * MIB) / blockBytes) * KV_BLOCK_TOKENS;
}

/**
 * Per engine, what sits inside the reservation besides weights and KV cache (`overheadMiB`), what sits
 * outside it, and the batch sizes the activation peak is computed for.
 * - vllm: activation peak + non-torch memory inside; CUDA context + graph pool outside.
 * - trtllm (TensorRT-LLM's executor, tensorrt_llm/llmapi KvCacheConfig): weights, runtime activation
 *   buffers for max_num_tokens, NCCL buffers and the CUDA context are taken first; the KV cache then
 *   takes free_gpu_memory_fraction of what CUDA reports free. All of it is the engine's, so nothing is
 *   outside; CUDA graphs are off by default in its C++ runtime.
 * - fixed: the encoder workspace, nothing outside.
 */
function engineOverheads(
  engine: Engine,
  model: ModelSpec,
  gpu: GpuModel,
  tensorParallel: number,
  maxNumBatchedTokens: number | undefined,
) {
  const tp = tensorParallel >= 2 ? "tensorParallel" : "single";
  if (engine === "fixed")
    return {
      maxNumBatchedTokens: 0,
      maxNumSeqs: 0,
      activationMiB: 0,
      nonTorchMiB: FIXED_ENGINE_OVERHEAD_MIB,
      outsideMiB: 0,
    };
  const defaults = engine === "vllm" ? vllmBatchDefaults(gpu) : TRTLLM_BATCH_DEFAULTS;
  const tokens = maxNumBatchedTokens ?? defaults.maxNumBatchedTokens;
  const activationMiB = activationPeakMiB(model, tensorParallel, tokens, defaults.maxNumSeqs);
  const contextMiB = CUDA_CONTEXT_MIB[tp];
  if (engine === "trtllm")
    return {
      maxNumBatchedTokens: tokens,
      maxNumSeqs: defaults.maxNumSeqs,
      activationMiB,
      nonTorchMiB: NON_TORCH_MIB[tp] + contextMiB,
      outsideMiB: 0,
    };
  const graphsMiB = CUDA_GRAPH_MIB.base + CUDA_GRAPH_MIB.perLayer * model.layers;
  return {
    maxNumBatchedTokens: tokens,
    maxNumSeqs: defaults.maxNumSeqs,
    activationMiB,
    nonTorchMiB: NON_TORCH_MIB[tp],
    outsideMiB: contextMiB + graphsMiB,
  };
}

export function estimate(input: EstimateInput): Estimate {
  const { model, gpu, tensorParallel, precision } = input;
  const kvCacheDtype = input.kvCacheDtype ?? "auto";
  const { engine, profile, note } = chooseEngine(input);
  const weightsMiBPerGpu = Math.ceil(weightsBytes(model, precision) / tensorParallel / MIB);
  const kvPerGpu = kvBytesPerTokenPerGpu(model, tensorParallel, kvCacheDtype);
  const o = engineOverheads(engine, model, gpu, tensorParallel, input.maxNumBatchedTokens);
  const overheadMiB = o.activationMiB + o.nonTorchMiB;
  const requestedContextTokens = input.maxModelLen ?? model.maxContextTokens;
  // The KV cache is allocated in whole blocks, so a context needs its token count rounded up to a block.
  const needForContextMiB = (tokens: number) =>
    Math.ceil((Math.ceil(tokens / KV_BLOCK_TOKENS) * KV_BLOCK_TOKENS * kvPerGpu) / MIB);
  const needMiB = weightsMiBPerGpu + overheadMiB + needForContextMiB(requestedContextTokens);

  let reservedMiBPerGpu: number;
  if (engine === "vllm") {
    reservedMiBPerGpu = Math.floor((input.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION) * gpu.cudaTotalMiB);
  } else if (engine === "trtllm") {
    const free = gpu.cudaTotalMiB - weightsMiBPerGpu - overheadMiB;
    const fraction = input.gpuMemoryUtilization ?? DEFAULT_TRTLLM_KV_FRACTION;
    reservedMiBPerGpu = weightsMiBPerGpu + overheadMiB + Math.max(0, Math.floor(free * fraction));
  } else {
    reservedMiBPerGpu =
      input.gpuMemoryUtilization !== undefined ? Math.floor(input.gpuMemoryUtilization * gpu.cudaTotalMiB) : needMiB;
  }

  const kvBudgetMiB = reservedMiBPerGpu - weightsMiBPerGpu - overheadMiB;
  const kvCacheTokens = kvTokensForBudget(kvBudgetMiB, kvPerGpu);
  let maxContextTokens: number;
  // An encoder keeps no KV cache: weights and overhead filling the reservation exactly still fit.
  if (kvPerGpu === 0) maxContextTokens = kvBudgetMiB >= 0 ? model.maxContextTokens : 0;
  else maxContextTokens = Math.min(model.maxContextTokens, kvCacheTokens);
  const fits = maxContextTokens > 0 && maxContextTokens >= requestedContextTokens;

  const needs = `weights ${fmt(weightsMiBPerGpu)} MiB + overhead ${fmt(overheadMiB)} MiB + KV ${fmt(needForContextMiB(requestedContextTokens))} MiB for ${fmt(requestedContextTokens)} tokens`;
  const holds = kvPerGpu > 0 ? `KV cache holds ${fmt(kvCacheTokens)} tokens` : `holds ${fmt(maxContextTokens)} tokens`;
  let reason: string;
  if (fits) {
    reason = `fits: ${needs} within the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU (${holds})`;
  } else if (kvBudgetMiB <= 0) {
    reason = `does not fit: weights ${fmt(weightsMiBPerGpu)} MiB + overhead ${fmt(overheadMiB)} MiB exceed the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU; use more GPUs (tensor parallelism), a lower precision or a larger GPU`;
  } else {
    reason = `does not fit: ${needs} exceed the ${fmt(reservedMiBPerGpu)} MiB reservation per GPU, whose KV cache holds ${fmt(kvCacheTokens)} tokens; set maxModelLen <= ${fmt(maxContextTokens)} or use more GPUs`;
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
    kvCacheDtype,
    kvBytesPerToken: kvBytesPerToken(model, kvCacheDtype),
    kvBytesPerTokenPerGpu: kvPerGpu,
    maxNumBatchedTokens: o.maxNumBatchedTokens,
    maxNumSeqs: o.maxNumSeqs,
    activationMiB: o.activationMiB,
    nonTorchMiB: o.nonTorchMiB,
    overheadMiB,
    cudaTotalMiB: gpu.cudaTotalMiB,
    reservedMiBPerGpu,
    outsideReservationMiBPerGpu: o.outsideMiB,
    kvCacheTokens,
    maxContextTokens,
    requestedContextTokens,
    fits,
    reason,
  };
}

/**
 * What engines sharing one GPU take together: their reservations and, once more than one shares it,
 * the memory each keeps outside its reservation (CUDA context, graph pool), which the next engine's
 * start-up check no longer finds free (vLLM refuses to start when free memory is below its
 * gpu_memory_utilization × total: gpu_worker.py init_device). A lone engine's outside memory stays
 * within the GPU's safety margin. For the ledger to charge when services share a GPU.
 */
export function sharedGpuChargeMiB(
  engines: readonly Pick<Estimate, "reservedMiBPerGpu" | "outsideReservationMiBPerGpu">[],
): number {
  const reserved = engines.reduce((sum, e) => sum + e.reservedMiBPerGpu, 0);
  if (engines.length < 2) return reserved;
  return reserved + engines.reduce((sum, e) => sum + e.outsideReservationMiBPerGpu, 0);
}
