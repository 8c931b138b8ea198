/**
 * VRAM estimator: what a model needs on each GPU and, separately, what its engine reserves.
 * Budgets charge reservations, not needs: a vLLM instance takes gpu_memory_utilization × total memory
 * whatever the model needs, so two at 0.9 on one GPU cannot both start.
 *
 * vLLM's accounting, as vllm/v1/worker/gpu_worker.py (Worker.init_device, determine_available_memory)
 * and vllm/utils/mem_utils.py (memory_profiling, MemoryProfilingResult) of the V1 engine do it
 * (v0.8 to v0.19; checked against v0.10.1.1 logs on A100s and v0.19.0 logs on H100s in
 * test/fleet/measurements.test.ts):
 *
 *   requested   = gpu_memory_utilization × total memory CUDA reports (not nvidia-smi's figure)
 *   non-KV      = weights + torch peak increase during profile_run (activations: the forward pass or
 *                 the sampler, whose peak depends on the release's top-k/top-p path, VllmSampler)
 *                 + non-torch increase
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
 * Which top-k/top-p implementation vLLM's sampler runs, which decides the memory its profile run peaks at
 * (GPUModelRunner._dummy_sampler_run samples min(max_num_seqs, max_num_batched_tokens) dummy requests with
 * top-k and top-p set, vllm/v1/worker/gpu_model_runner.py). Each leaves its own line in the startup log:
 * - `pytorch-sort`: apply_top_k_top_p sorts the whole vocabulary (vllm/v1/sample/ops/topk_topp_sampler.py);
 *   the path when FlashInfer is absent ("FlashInfer is not available. Falling back to the PyTorch-native
 *   implementation", v0.10.1.1) or off by default (vllm-project/vllm#26859, after v0.11.0) and Triton is
 *   not yet used. The largest, so the default: the estimate never over-promises whatever release runs.
 * - `flashinfer`: flashinfer.sampling.top_k_top_p_sampling_from_logits ("Using FlashInfer for top-p & top-k
 *   sampling": v0.10.1.1's default when FlashInfer is installed; VLLM_USE_FLASHINFER_SAMPLER=1 later).
 * - `triton`: apply_top_k_top_p_triton (vllm-project/vllm#33538), used while FlashInfer is off ("FlashInfer
 *   top-p/top-k sampling is available but disabled by default", v0.19.0).
 */
export type VllmSampler = "pytorch-sort" | "flashinfer" | "triton";
export const VLLM_SAMPLERS: readonly VllmSampler[] = ["pytorch-sort", "flashinfer", "triton"];
/** The path the estimate charges unless told otherwise: the largest, so no release is over-promised. */
export const DEFAULT_VLLM_SAMPLER: VllmSampler = "pytorch-sort";

/**
 * Bytes the sampler holds per dummy request and vocabulary entry at its peak. Every path keeps the 16-bit
 * logits _dummy_sampler_run holds (2 B), Sampler.forward's fp32 copy (4 B) and softmax probabilities (4 B):
 * - flashinfer: + the top-k-masked logits top_k_top_p_sampling_from_logits allocates before its softmax
 *   (4 B) = 14 B. vLLM v0.10.1.1, Qwen2-7B on an A100 (256 requests × 152,064 entries): 0.55 GiB besides
 *   weights and KV cache, non-torch memory included (test/fleet/measurements.test.ts).
 * - triton: + random_sample's exponential noise, torch.empty_like(probs) (4 B) = 14 B, and the kernel's
 *   own buffers (TRITON_SAMPLER_BUFFER_MIB). vLLM v0.19.0 logs "torch peak memory increase: 1.89GiB" for
 *   1,024 × 128,256 entries (Llama 3.1 8B): 14 B each + 80 MiB + the batch's hidden states.
 * - pytorch-sort: + the sort's fp32 values (4 B) and int64 indices (8 B), the index input and radix-sort
 *   buffers torch.sort allocates besides them, masks and the scattered result: 38 B measured. An earlier
 *   V1 release peaks at "4.76 GiB" for Llama 3.1 8B with 1,024 requests (llm-d/llm-d-benchmark
 *   config_explorer/empirical-vllm-memory-results.md): (4.76 GiB − 128 MiB of hidden states) /
 *   (1,024 × 128,256) = 37.9 B; vllm-project/vllm#32558 measures the sort path alone at 1.25 GB for
 *   256 × 131,072 entries (37 B each).
 */
export const SAMPLER_BYTES_PER_VOCAB_ENTRY: Readonly<Record<VllmSampler, number>> = {
  "pytorch-sort": 38,
  flashinfer: 14,
  triton: 14,
};

/**
 * The Triton top-k/top-p kernel gathers each row's outliers into [programs, vocabulary] buffers: "around
 * ~80MiB of extra VRAM" (vllm-project/vllm#33538, the pull request that added it).
 */
export const TRITON_SAMPLER_BUFFER_MIB = 80;

/**
 * Memory the engine allocates outside torch during profiling (mem_utils: non_torch_increase): cuBLAS
 * workspaces and attention-backend buffers at TP 1 — vLLM v0.19.0 logs "non-torch forward increase
 * memory: 0.25GiB" — and communication buffers at TP ≥ 2 (vllm-project/vllm#2031 first found NCCL
 * memory escaping the profile):
 * - GPUs with NVSwitch multicast (H100 SXM, GpuModel.nvlinkMulticast), whose NCCL NVLS and vLLM
 *   symmetric-memory all-reduce buffers need it: 2.07 to 2.21 GiB per GPU in the v0.19.0 logs at TP 2
 *   and 4 (an earlier release logged 0.55 GiB at TP 2 there: the larger figure is kept).
 * - Other GPUs: the TP 1 figure plus NCCL's ring buffers, NCCL_BUFFSIZE (4 MiB) for each direction of up
 *   to 32 channels = 256 MiB. vLLM v0.10.1.1 at TP 2 on A100s without P2P leaves 0.16 to 0.21 GiB besides
 *   its sampler peak (test/fleet/measurements.test.ts).
 */
export const NON_TORCH_MIB = { single: 288, tensorParallel: 2304, tensorParallelNoMulticast: 288 + 256 } as const;

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
  /** vLLM's top-k/top-p implementation (see VllmSampler); `pytorch-sort`, the largest, when unset. */
  readonly vllmSampler?: VllmSampler;
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
 * - sampler: requests × vocabulary × SAMPLER_BYTES_PER_VOCAB_ENTRY of the sampler path (logits are
 *   gathered whole on every rank, so tensor parallelism does not split them), the Triton kernel's buffers
 *   on that path, plus the batch's 16-bit hidden and residual streams (tokens × hidden × 2 × 2 B) kept for it;
 * - forward: per token the hidden and residual streams and the MLP's gate/up output and activation
 *   (3 × intermediate / TP), 2 B each — what grows when max_num_batched_tokens is raised.
 */
export function activationPeakMiB(
  model: ModelSpec,
  tensorParallel: number,
  tokens: number,
  seqs: number,
  vllmSampler: VllmSampler = DEFAULT_VLLM_SAMPLER,
): number {
  const requests = Math.min(seqs, tokens);
  const buffers = vllmSampler === "triton" ? TRITON_SAMPLER_BUFFER_MIB * MIB : 0;
  const sampler =
    requests * model.vocabSize * SAMPLER_BYTES_PER_VOCAB_ENTRY[vllmSampler] + buffers + tokens * model.hiddenSize * 4;
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
  vllmSampler: VllmSampler | undefined,
) {
  const tp = tensorParallel >= 2 ? "tensorParallel" : "single";
  const nonTorchMiB =
    tensorParallel < 2
      ? NON_TORCH_MIB.single
      : gpu.nvlinkMulticast
        ? NON_TORCH_MIB.tensorParallel
        : NON_TORCH_MIB.tensorParallelNoMulticast;
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
  // TensorRT-LLM is charged vLLM's largest sampler path: its own sampler is not modelled separately.
  const sampler = engine === "vllm" ? vllmSampler : undefined;
  const activationMiB = activationPeakMiB(model, tensorParallel, tokens, defaults.maxNumSeqs, sampler);
  const contextMiB = CUDA_CONTEXT_MIB[tp];
  if (engine === "trtllm")
    return {
      maxNumBatchedTokens: tokens,
      maxNumSeqs: defaults.maxNumSeqs,
      activationMiB,
      nonTorchMiB: nonTorchMiB + contextMiB,
      outsideMiB: 0,
    };
  const graphsMiB = CUDA_GRAPH_MIB.base + CUDA_GRAPH_MIB.perLayer * model.layers;
  return {
    maxNumBatchedTokens: tokens,
    maxNumSeqs: defaults.maxNumSeqs,
    activationMiB,
    nonTorchMiB,
    outsideMiB: contextMiB + graphsMiB,
  };
}

export function estimate(input: EstimateInput): Estimate {
  const { model, gpu, tensorParallel, precision } = input;
  const kvCacheDtype = input.kvCacheDtype ?? "auto";
  const { engine, profile, note } = chooseEngine(input);
  const weightsMiBPerGpu = Math.ceil(weightsBytes(model, precision) / tensorParallel / MIB);
  const kvPerGpu = kvBytesPerTokenPerGpu(model, tensorParallel, kvCacheDtype);
  const o = engineOverheads(engine, model, gpu, tensorParallel, input.maxNumBatchedTokens, input.vllmSampler);
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
