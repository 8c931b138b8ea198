/**
 * npm run estimate -- --model M --gpu G [--tp N] [--precision P] [--max-model-len L]
 *                     [--gpu-memory-utilization U] [--engine vllm|trtllm] [--kv-cache-dtype auto|fp8]
 *                     [--max-num-batched-tokens T] [--vllm-sampler pytorch-sort|flashinfer|triton] [--json]
 *
 * What one model needs and reserves on one kind of GPU, and how many tokens its KV cache pool holds
 * (`kvCacheTokens`, per replica, as vLLM logs "GPU KV cache size: N tokens") beside the largest context
 * one sequence may have (`maxContextTokens`, the pool capped at the model's maximum). Exit 0 when it
 * fits, 1 when it does not (the answer, with `fits: false`, is printed all the same), 2 on invalid input.
 */
import { readFlags } from "./flags";
import {
  Engine,
  GPU_MODEL_NAMES,
  KvCacheDtype,
  MIN_COMPUTE_CAPABILITY,
  MIN_FP8_KV_COMPUTE_CAPABILITY,
  MODELS,
  PRECISIONS,
  estimate,
  findGpuModel,
  findModel,
  formatNumber,
  KV_CACHE_DTYPES,
  isKvCacheDtype,
  isPrecision,
  vllmBatchDefaults,
  DEFAULT_VLLM_SAMPLER,
  VLLM_SAMPLERS,
  VllmSampler,
} from "../fleet";

const USAGE =
  "usage: npm run estimate -- --model M --gpu G [--tp N] [--precision P] [--max-model-len L] [--gpu-memory-utilization U] [--engine vllm|trtllm] [--kv-cache-dtype auto|fp8] [--max-num-batched-tokens T] [--vllm-sampler pytorch-sort|flashinfer|triton] [--json]";

export class EstimateUsageError extends Error {}

const OPTIONS = [
  "--model",
  "--gpu",
  "--tp",
  "--precision",
  "--max-model-len",
  "--gpu-memory-utilization",
  "--engine",
  "--kv-cache-dtype",
  "--max-num-batched-tokens",
  "--vllm-sampler",
];

/** Far above any catalog model's context: a budget beyond it is a typo. */
const MAX_NUM_BATCHED_TOKENS = 1_048_576;

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new EstimateUsageError(`${flag} ${value}: expected a whole number from ${min} to ${max}`);
  return n;
}

export function runEstimate(argv: readonly string[]): { output: Record<string, unknown>; text: string } {
  const { values, json } = readFlags(argv, OPTIONS, EstimateUsageError);
  const modelId = values.get("--model");
  const gpuName = values.get("--gpu");
  if (!modelId) throw new EstimateUsageError("--model is required");
  if (!gpuName) throw new EstimateUsageError("--gpu is required");
  const model = findModel(modelId);
  if (!model)
    throw new EstimateUsageError(`--model ${modelId}: unknown model; known: ${MODELS.map((m) => m.id).join(", ")}`);
  const gpu = findGpuModel(gpuName);
  if (!gpu) throw new EstimateUsageError(`--gpu ${gpuName}: unknown GPU; known: ${GPU_MODEL_NAMES.join(", ")}`);
  const tp = values.has("--tp") ? wholeNumber("--tp", values.get("--tp")!, 1, 16) : 1;
  if (model.attentionHeads % tp !== 0)
    throw new EstimateUsageError(
      `--tp ${tp}: ${model.id} has ${model.attentionHeads} attention heads, which ${tp} GPUs cannot split evenly`,
    );
  // As a service's gpus/tensorParallel and precision (fleet/config.ts): encoders neither split nor quantize.
  if (tp > 1 && model.engine === "fixed")
    throw new EstimateUsageError(
      `--tp ${tp}: ${model.id} (kind: ${model.kind}) is served by a fixed-memory engine, which runs the whole model on one GPU`,
    );
  const precisionArg = values.get("--precision");
  if (precisionArg !== undefined && !isPrecision(precisionArg))
    throw new EstimateUsageError(`--precision ${precisionArg}: expected one of ${PRECISIONS.join(", ")}`);
  if (precisionArg !== undefined && model.engine === "fixed" && precisionArg !== "bf16" && precisionArg !== "fp16")
    throw new EstimateUsageError(
      `--precision ${precisionArg}: ${model.id} (kind: ${model.kind}) is served by a fixed-memory engine, which takes bf16 or fp16`,
    );
  const precision =
    precisionArg ??
    (model.defaultPrecision === "bf16" && gpu.computeCapability < MIN_COMPUTE_CAPABILITY.bf16
      ? "fp16"
      : model.defaultPrecision);
  if (gpu.computeCapability < MIN_COMPUTE_CAPABILITY[precision]) {
    throw new EstimateUsageError(
      `--precision ${precision}: ${gpu.name} (compute capability ${gpu.computeCapability.toFixed(1)}) does not support it; ${precision} needs ${MIN_COMPUTE_CAPABILITY[precision].toFixed(1)}`,
    );
  }
  const maxModelLen = values.has("--max-model-len")
    ? wholeNumber("--max-model-len", values.get("--max-model-len")!, 1, model.maxContextTokens)
    : undefined;
  let gpuMemoryUtilization: number | undefined;
  if (values.has("--gpu-memory-utilization")) {
    const raw = values.get("--gpu-memory-utilization")!;
    gpuMemoryUtilization = Number(raw);
    if (!/^(0?\.\d+|1(\.0+)?)$/.test(raw) || gpuMemoryUtilization <= 0)
      throw new EstimateUsageError(`--gpu-memory-utilization ${raw}: expected a fraction greater than 0 and at most 1`);
  }
  const engineArg = values.get("--engine");
  if (engineArg !== undefined && engineArg !== "vllm" && engineArg !== "trtllm")
    throw new EstimateUsageError(`--engine ${engineArg}: expected vllm or trtllm`);
  if (engineArg !== undefined && model.engine === "fixed")
    throw new EstimateUsageError(
      `--engine ${engineArg}: ${model.id} (kind: ${model.kind}) is served by a fixed-memory engine`,
    );

  const kvArg = values.get("--kv-cache-dtype");
  if (kvArg !== undefined && !isKvCacheDtype(kvArg))
    throw new EstimateUsageError(`--kv-cache-dtype ${kvArg}: expected one of ${KV_CACHE_DTYPES.join(", ")}`);
  if (kvArg !== undefined && model.engine === "fixed")
    throw new EstimateUsageError(
      `--kv-cache-dtype ${kvArg}: ${model.id} (kind: ${model.kind}) is served by a fixed-memory engine`,
    );
  const batchedArg = values.get("--max-num-batched-tokens");
  if (batchedArg !== undefined && model.engine === "fixed")
    throw new EstimateUsageError(
      `--max-num-batched-tokens ${batchedArg}: ${model.id} (kind: ${model.kind}) is served by a fixed-memory engine`,
    );
  if (kvArg === "fp8" && gpu.computeCapability < MIN_FP8_KV_COMPUTE_CAPABILITY)
    throw new EstimateUsageError(
      `--kv-cache-dtype fp8: ${gpu.name} (compute capability ${gpu.computeCapability.toFixed(1)}) cannot run it; vLLM's fp8 KV cache needs ${MIN_FP8_KV_COMPUTE_CAPABILITY.toFixed(1)} or later`,
    );
  // The same floor as a service's maxNumBatchedTokens (fleet/config.ts): vLLM refuses fewer batched
  // tokens than max_num_seqs, its default for this GPU.
  const maxNumBatchedTokens =
    batchedArg !== undefined
      ? wholeNumber("--max-num-batched-tokens", batchedArg, vllmBatchDefaults(gpu).maxNumSeqs, MAX_NUM_BATCHED_TOKENS)
      : undefined;

  // The top-k/top-p path of the vLLM release the engine runs (fleet/estimator.ts VllmSampler): the
  // plan always charges pytorch-sort, the largest; a what-if for a known release may name its own.
  const samplerArg = values.get("--vllm-sampler");
  if (samplerArg !== undefined && !(VLLM_SAMPLERS as readonly string[]).includes(samplerArg))
    throw new EstimateUsageError(`--vllm-sampler ${samplerArg}: expected one of ${VLLM_SAMPLERS.join(", ")}`);
  const vllmSampler = samplerArg as VllmSampler | undefined;

  const e = estimate({
    model,
    gpu,
    tensorParallel: tp,
    precision,
    maxModelLen,
    gpuMemoryUtilization,
    engine: engineArg as Engine | undefined,
    kvCacheDtype: kvArg as KvCacheDtype | undefined,
    maxNumBatchedTokens,
    vllmSampler,
  });
  const sampler = e.engine === "vllm" ? (vllmSampler ?? DEFAULT_VLLM_SAMPLER) : null;
  const output = {
    model: e.model,
    gpu: e.gpu,
    precision: e.precision,
    tensorParallel: e.tensorParallel,
    engine: e.engine,
    profile: e.profile,
    profileNote: e.profileNote,
    weightsMiBPerGpu: e.weightsMiBPerGpu,
    kvCacheDtype: e.kvCacheDtype,
    kvBytesPerToken: e.kvBytesPerToken,
    kvBytesPerTokenPerGpu: e.kvBytesPerTokenPerGpu,
    maxNumBatchedTokens: e.maxNumBatchedTokens,
    maxNumSeqs: e.maxNumSeqs,
    vllmSampler: sampler,
    activationMiB: e.activationMiB,
    nonTorchMiB: e.nonTorchMiB,
    overheadMiB: e.overheadMiB,
    reservedMiBPerGpu: e.reservedMiBPerGpu,
    outsideReservationMiBPerGpu: e.outsideReservationMiBPerGpu,
    gpuMemoryMiB: gpu.memoryMiB,
    cudaTotalMiB: e.cudaTotalMiB,
    kvCacheTokens: e.kvCacheTokens,
    maxContextTokens: e.maxContextTokens,
    requestedContextTokens: e.requestedContextTokens,
    fits: e.fits,
    reason: e.reason,
  };
  const text = json
    ? JSON.stringify(output, null, 2) + "\n"
    : [
        `${e.model} on ${e.tensorParallel} × ${e.gpu} (${formatNumber(gpu.memoryMiB)} MiB each), ${e.precision}`,
        `  ${e.profileNote}`,
        `  weights ${formatNumber(e.weightsMiBPerGpu)} MiB/GPU, overhead ${formatNumber(e.overheadMiB)} MiB (${overheadWords(e, sampler)}), KV ${formatNumber(e.kvBytesPerToken)} B/token at ${e.kvCacheDtype} (${formatNumber(e.kvBytesPerTokenPerGpu)} per GPU)`,
        `  reserves ${formatNumber(e.reservedMiBPerGpu)} MiB/GPU of the ${formatNumber(gpu.cudaTotalMiB)} MiB CUDA reports${e.outsideReservationMiBPerGpu > 0 ? `, + ${formatNumber(e.outsideReservationMiBPerGpu)} MiB outside it (CUDA context and graphs)` : ""}`,
        `  KV cache: ${formatNumber(e.kvCacheTokens)} tokens per replica; the largest context that fits: ${formatNumber(e.maxContextTokens)} tokens`,
        `  ${e.reason}`,
        "",
      ].join("\n");
  return { output, text };
}

/** What the overhead is made of, in the estimate's own terms. */
function overheadWords(
  e: {
    engine: Engine;
    activationMiB: number;
    nonTorchMiB: number;
    maxNumBatchedTokens: number;
    maxNumSeqs: number;
  },
  sampler: VllmSampler | null,
): string {
  if (e.engine === "fixed") return "CUDA context and encoder workspace";
  const nonTorch = e.engine === "trtllm" ? "CUDA context, NCCL and runtime buffers" : "non-torch";
  return `activation peak ${formatNumber(e.activationMiB)} for ${formatNumber(e.maxNumBatchedTokens)} batched tokens and ${formatNumber(e.maxNumSeqs)} sequences${sampler ? ` on the ${sampler} sampler` : ""} + ${nonTorch} ${formatNumber(e.nonTorchMiB)}`;
}

if (require.main === module) {
  try {
    const { output, text } = runEstimate(process.argv.slice(2));
    process.stdout.write(text);
    process.exit(output.fits ? 0 : 1);
  } catch (e) {
    if (e instanceof EstimateUsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw e;
  }
}
