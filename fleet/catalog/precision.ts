/** Weight and KV-cache precisions the estimator understands, with what each GPU can run. */

export type Precision = "bf16" | "fp16" | "fp8" | "int4";

export const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp8", "int4"];

/**
 * Bytes per parameter. int4 (AWQ/GPTQ) stores a 16-bit scale per group of 128 weights:
 * 0.5 + 2/128 bytes per parameter.
 */
export const BYTES_PER_PARAM: Readonly<Record<Precision, number>> = {
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int4: 0.5 + 2 / 128,
};

/** Minimum compute capability: bf16 needs Ampere (8.0), fp8 needs Ada/Hopper (8.9); int4 kernels run from Turing (7.5). */
export const MIN_COMPUTE_CAPABILITY: Readonly<Record<Precision, number>> = {
  bf16: 8.0,
  fp16: 7.0,
  fp8: 8.9,
  int4: 7.5,
};

export function isPrecision(value: unknown): value is Precision {
  return typeof value === "string" && (PRECISIONS as readonly string[]).includes(value);
}
