/** Weight and KV-cache precisions the estimator understands, with what each GPU can run. */

/**
 * Weight precisions. `int8` is W8A8 (int8 weights and activations, as vLLM's compressed-tensors
 * CompressedTensorsW8A8Int8 scheme serves e.g. RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8);
 * `int4` is weight-only AWQ/GPTQ.
 */
export type Precision = "bf16" | "fp16" | "fp8" | "int8" | "int4";

export const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp8", "int8", "int4"];

/**
 * Bytes per parameter. int8 keeps one fp32 scale per output channel, which is negligible per parameter
 * (counted with the unquantized embeddings' rounding). int4 (AWQ/GPTQ) stores a 16-bit scale per group
 * of 128 weights: 0.5 + 2/128 bytes per parameter.
 */
export const BYTES_PER_PARAM: Readonly<Record<Precision, number>> = {
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5 + 2 / 128,
};

/**
 * Minimum compute capability: bf16 needs Ampere (8.0); fp8 W8A8 needs Ada/Hopper (8.9); int8 W8A8 runs
 * vLLM's CUTLASS scaled-mm kernels from Turing (7.5: CompressedTensorsW8A8Int8.get_min_capability() is
 * 75 in vllm/model_executor/layers/quantization/compressed_tensors/schemes); int4 kernels run from
 * Turing (7.5).
 */
export const MIN_COMPUTE_CAPABILITY: Readonly<Record<Precision, number>> = {
  bf16: 8.0,
  fp16: 7.0,
  fp8: 8.9,
  int8: 7.5,
  int4: 7.5,
};

export function isPrecision(value: unknown): value is Precision {
  return typeof value === "string" && (PRECISIONS as readonly string[]).includes(value);
}

/**
 * KV-cache precision, vLLM's --kv-cache-dtype: `auto` stores K and V in the model's 16-bit dtype
 * (whatever the weights' quantization), `fp8` in one byte per element (fp8_e4m3), which doubles the
 * tokens the same memory holds (vLLM v0.19.0 logs 476,016 tokens for Llama 3.1 8B at auto and 952,032
 * at fp8 on one H100: test/fleet/measurements.test.ts).
 */
export type KvCacheDtype = "auto" | "fp8";

export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ["auto", "fp8"];

export const KV_BYTES_PER_ELEMENT: Readonly<Record<KvCacheDtype, number>> = { auto: 2, fp8: 1 };

export function isKvCacheDtype(value: unknown): value is KvCacheDtype {
  return typeof value === "string" && (KV_CACHE_DTYPES as readonly string[]).includes(value);
}

/**
 * vLLM's fp8 KV cache needs an attention backend that reads fp8 blocks on the GPU: FlashInfer from
 * compute capability 8.0 (FlashInferBackend.supports_compute_capability in
 * vllm/v1/attention/backends/flashinfer.py, whose supported_kv_cache_dtypes include fp8/fp8_e4m3);
 * FlashAttention only with FA3 on Hopper (vllm/v1/attention/backends/fa_utils.py flash_attn_supports_fp8);
 * the Triton backend needs Triton's fp8e4nv type, from 8.9. Below 8.0 (T4 7.5, V100 7.0) no CUDA backend
 * of the V1 engine stores fp8 K/V, so the engine refuses to start.
 */
export const MIN_FP8_KV_COMPUTE_CAPABILITY = 8.0;
