/**
 * The estimator against published vLLM startup logs. Each row names the log, the setting it ran and
 * what vLLM printed; the estimate must put the weights within 3% of "Model loading took X GiB" and the
 * KV cache pool ("GPU KV cache size: N tokens") never more than 2% above the published figure and not
 * more than 8% below it. The estimate's own numbers are asserted exactly as well, so a change to the
 * memory model shows up here with its effect on every published case.
 *
 * The v0.19.0 logs were added to github.com/llm-d-incubation/llm-d-planner by its pull request #205
 * ("Validate capacity planner accuracy and compile extensive report with next steps",
 * https://github.com/llm-d-incubation/llm-d-planner/pull/205), under accuracy/results/v0.19.0/logs/ at
 * commit d3121e059da88662db39a926a3ead964be97359b; every run is `vllm serve` with
 * --gpu-memory-utilization 0.95, --max-model-len 8192 and vLLM's H100 defaults (max_num_batched_tokens
 * 8192, max_num_seqs 1024). That release samples with its Triton top-k/top-p kernel ("FlashInfer top-p/top-k
 * sampling is available but disabled by default").
 *
 * The A100 logs are vLLM v0.10.1.1 (`vllm serve Qwen2-7B-Instruct --max-model-len 16384`, bf16, vLLM's
 * A100 defaults "Chunked prefill is enabled with max_num_batched_tokens=2048" and 256 sequences) in
 * github.com/dennislee22/vLLM-benchmarking log/ at commit b474d1e053c35c9aef8c02aae4efbc0d8675f033: one
 * A100 80GB at 0.25 and 0.5, two at TP 2 ("Custom allreduce is disabled because your platform lacks GPU
 * P2P capability"), all "Using FlashInfer for top-p & top-k sampling"; and two A100 40GB on two nodes
 * (Ray) at TP 2, where "FlashInfer is not available. Falling back to the PyTorch-native implementation".
 *
 * Not found: a V1 (v0.8+) startup log on an A10G/A10 or an L4, and one at tensor parallelism 8, with the
 * setting stated (searched vLLM, llm-d, kvcached, KAITO issues and public repositories' logs).
 */
import { describe, expect, it } from "vitest";
import {
  GIB,
  GPU_MODELS,
  GPU_MODEL_NAMES,
  GpuModelName,
  KvCacheDtype,
  MIB,
  MODELS,
  Precision,
  VllmSampler,
  estimate,
  findModel,
  kvBytesPerTokenPerGpu,
  sharedGpuChargeMiB,
  weightsBytes,
} from "../../fleet";

const PLANNER_LOGS =
  "https://github.com/llm-d-incubation/llm-d-planner/blob/d3121e059da88662db39a926a3ead964be97359b/accuracy/results/v0.19.0/logs/";
const A100_LOGS = "https://github.com/dennislee22/vLLM-benchmarking/blob/b474d1e053c35c9aef8c02aae4efbc0d8675f033/log/";
const LLM_D_BENCHMARK =
  "https://github.com/llm-d/llm-d-benchmark/blob/main/config_explorer/empirical-vllm-memory-results.md";

interface Measurement {
  readonly source: string;
  readonly model: string;
  readonly gpu: GpuModelName;
  readonly tensorParallel: number;
  readonly precision: Precision;
  readonly kvCacheDtype: KvCacheDtype;
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number;
  /** The top-k/top-p path the release logs (see VllmSampler in fleet/estimator.ts). */
  readonly vllmSampler: VllmSampler;
  /** "Model loading took X GiB" (per GPU). */
  readonly weightsGiB: number;
  /** "GPU KV cache size: N tokens" (per replica). */
  readonly kvCacheTokens: number;
  /** What the estimator says, exactly. */
  readonly estimated: { readonly weightsMiBPerGpu: number; readonly kvCacheTokens: number };
}

// The llm-d-benchmark table reports "Available KV cache memory" in GiB, not tokens; its pool in tokens is
// that memory in whole 16-token blocks of the model's per-GPU bytes per token, as vLLM allocates it.
const tokensOf = (gib: number, bytesPerTokenPerGpu: number) =>
  Math.floor((gib * GIB) / (16 * bytesPerTokenPerGpu)) * 16;

const MEASUREMENTS: readonly Measurement[] = [
  {
    // "Model loading took 14.99 GiB", "Available KV cache memory: 58.11 GiB", "GPU KV cache size: 476,016 tokens"
    source: `${PLANNER_LOGS}meta-llama-llama-3-1-8b---h100-80gb--tp1pp1dp1--8192.log`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 1,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 14.99,
    kvCacheTokens: 476_016,
    estimated: { weightsMiBPerGpu: 15317, kvCacheTokens: 475_696 },
  },
  {
    // "Model loading took 7.51 GiB", "non-torch forward increase memory: 2.07GiB", "GPU KV cache size: 1,044,688 tokens"
    source: `${PLANNER_LOGS}meta-llama-llama-3-1-8b---h100-80gb--tp2pp1dp1--8192.log`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 2,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 7.51,
    kvCacheTokens: 1_044_688,
    estimated: { weightsMiBPerGpu: 7659, kvCacheTokens: 1_041_680 },
  },
  {
    // "Model loading took 3.77 GiB", "non-torch forward increase memory: 2.13GiB", "GPU KV cache size: 2,209,792 tokens"
    source: `${PLANNER_LOGS}meta-llama-llama-3-1-8b---h100-80gb--tp4pp1dp1--8192.log`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 4,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 3.77,
    kvCacheTokens: 2_209_792,
    estimated: { weightsMiBPerGpu: 3830, kvCacheTokens: 2_205_888 },
  },
  {
    // --kv-cache-dtype fp8: the same 58.11 GiB hold "GPU KV cache size: 952,032 tokens"
    source: `${PLANNER_LOGS}meta-llama---h100-80gb--tp1pp1dp1--8192-dtbf16-kvfp8.log`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 1,
    precision: "bf16",
    kvCacheDtype: "fp8",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 14.99,
    kvCacheTokens: 952_032,
    estimated: { weightsMiBPerGpu: 15317, kvCacheTokens: 951_408 },
  },
  {
    // RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8: "Model loading took 8.49 GiB", "GPU KV cache size: 529,200 tokens"
    source: `${PLANNER_LOGS}w8a8-redhatai-llam--h100-80gb--tp1pp1dp1--8192-dtf16.log`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 1,
    precision: "int8",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 8.49,
    kvCacheTokens: 529_200,
    estimated: { weightsMiBPerGpu: 8661, kvCacheTokens: 528_944 },
  },
  {
    // RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic (Llama 3.1 70B's architecture): "Model loading took 33.88 GiB",
    // "GPU KV cache size: 244,304 tokens"
    source: `${PLANNER_LOGS}fp8dyn-llama-3-3-70b--h100-80gb--tp2pp1dp1--8192.log`,
    model: "meta/llama-3.1-70b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 2,
    precision: "fp8",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 33.88,
    kvCacheTokens: 244_304,
    estimated: { weightsMiBPerGpu: 34649, kvCacheTokens: 243_104 },
  },
  {
    // Same checkpoint at TP 4: "Model loading took 16.96 GiB", "GPU KV cache size: 708,992 tokens"
    source: `${PLANNER_LOGS}fp8dyn-llama-3-3-70b--h100-80gb--tp4pp1dp1--8192.log`,
    model: "meta/llama-3.1-70b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 4,
    precision: "fp8",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 16.96,
    kvCacheTokens: 708_992,
    estimated: { weightsMiBPerGpu: 17325, kvCacheTokens: 707_968 },
  },
  {
    // redhatai/Llama-3.3-70B-Instruct-quantized.w8a8: "Model loading took 33.88 GiB", "GPU KV cache size: 244,304 tokens"
    source: `${PLANNER_LOGS}redhatai-llama-3-3-70b-i--h100-80gb--tp2pp1dp1--8192.log`,
    model: "meta/llama-3.1-70b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 2,
    precision: "int8",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.95,
    maxModelLen: 8192,
    vllmSampler: "triton",
    weightsGiB: 33.88,
    kvCacheTokens: 244_304,
    estimated: { weightsMiBPerGpu: 34649, kvCacheTokens: 243_104 },
  },
  {
    // An earlier V1 release (vllm/vllm-openai:latest of January 2026, after FlashInfer sampling went opt-in in
    // vllm-project/vllm#26859 and before the Triton kernel of #33538: the sort path) at the default 0.9
    // ("Desired GPU utilization: 0.9 (71.26 GiB)"), max-model-len 16000, block size 128, whose sampler peaks
    // higher ("Peak activation memory: 4.76 GiB"): "Weight memory: 14.99 GiB", "KV cache memory: 51.38 GiB"
    source: `${LLM_D_BENCHMARK} (5. Llama-3.1-8B-Instruct)`,
    model: "meta/llama-3.1-8b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 1,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.9,
    maxModelLen: 16000,
    vllmSampler: "pytorch-sort",
    weightsGiB: 14.99,
    kvCacheTokens: tokensOf(51.38, 131072),
    estimated: { weightsMiBPerGpu: 15317, kvCacheTokens: 419_856 },
  },
  {
    // Same release, RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic at TP 2: "Weight memory: 33.88 GiB",
    // "KV cache memory: 32.0 GiB"
    source: `${LLM_D_BENCHMARK} (3. Llama-3.3-70B-Instruct-FP8-dynamic (TP=2))`,
    model: "meta/llama-3.1-70b-instruct",
    gpu: "H100-SXM5-80GB",
    tensorParallel: 2,
    precision: "fp8",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.9,
    maxModelLen: 16000,
    vllmSampler: "pytorch-sort",
    weightsGiB: 33.88,
    kvCacheTokens: tokensOf(32.0, 163840),
    estimated: { weightsMiBPerGpu: 34649, kvCacheTokens: 198_432 },
  },
  {
    // "Model loading took 14.2488 GiB", "Available KV cache memory: 5.01 GiB", "GPU KV cache size: 93,872 tokens"
    source: `${A100_LOGS}vllm-7B-1gpuA10080GB-0.25GRAM.log`,
    model: "qwen/qwen2-7b-instruct",
    gpu: "A100-SXM4-80GB",
    tensorParallel: 1,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.25,
    maxModelLen: 16384,
    vllmSampler: "flashinfer",
    weightsGiB: 14.2488,
    kvCacheTokens: 93_872,
    estimated: { weightsMiBPerGpu: 14526, kvCacheTokens: 90_064 },
  },
  {
    // "Model loading took 14.2488 GiB", "Available KV cache memory: 24.83 GiB", "GPU KV cache size: 464,848 tokens"
    source: `${A100_LOGS}vllm-7B-1gpuA10080GB-0.5GRAM.log`,
    model: "qwen/qwen2-7b-instruct",
    gpu: "A100-SXM4-80GB",
    tensorParallel: 1,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.5,
    maxModelLen: 16384,
    vllmSampler: "flashinfer",
    weightsGiB: 14.2488,
    kvCacheTokens: 464_848,
    estimated: { weightsMiBPerGpu: 14526, kvCacheTokens: 461_056 },
  },
  {
    // "Model loading took 7.1217 GiB", "Available KV cache memory: 12.02 GiB", "GPU KV cache size: 450,192 tokens"
    source: `${A100_LOGS}vllm-7B-2gpuA10080GB-0.25GRAM-same-node.log`,
    model: "qwen/qwen2-7b-instruct",
    gpu: "A100-SXM4-80GB",
    tensorParallel: 2,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.25,
    maxModelLen: 16384,
    vllmSampler: "flashinfer",
    weightsGiB: 7.1217,
    kvCacheTokens: 450_192,
    estimated: { weightsMiBPerGpu: 7263, kvCacheTokens: 436_400 },
  },
  {
    // "Model loading took 7.1217 GiB", "Available KV cache memory: 31.83 GiB", "GPU KV cache size: 1,192,160 tokens"
    source: `${A100_LOGS}vllm-7B-2gpuA10080GB-0.5GRAM-same-node.log`,
    model: "qwen/qwen2-7b-instruct",
    gpu: "A100-SXM4-80GB",
    tensorParallel: 2,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.5,
    maxModelLen: 16384,
    vllmSampler: "flashinfer",
    weightsGiB: 7.1217,
    kvCacheTokens: 1_192_160,
    estimated: { weightsMiBPerGpu: 7263, kvCacheTokens: 1_178_368 },
  },
  {
    // A100 40GB, TP 2 over two nodes, the sort path: "Model loading took 7.1217 GiB", "Available KV cache
    // memory: 11.03 GiB", "GPU KV cache size: 412,944 tokens"
    source: `${A100_LOGS}vllm-7B-2gpuA10040GB-0.5GRAM-diff-nodes.log`,
    model: "qwen/qwen2-7b-instruct",
    gpu: "A100-SXM4-40GB",
    tensorParallel: 2,
    precision: "bf16",
    kvCacheDtype: "auto",
    gpuMemoryUtilization: 0.5,
    maxModelLen: 16384,
    vllmSampler: "pytorch-sort",
    weightsGiB: 7.1217,
    kvCacheTokens: 412_944,
    estimated: { weightsMiBPerGpu: 7263, kvCacheTokens: 401_360 },
  },
];

const run = (m: Measurement) =>
  estimate({
    model: findModel(m.model)!,
    gpu: GPU_MODELS[m.gpu],
    tensorParallel: m.tensorParallel,
    precision: m.precision,
    kvCacheDtype: m.kvCacheDtype,
    gpuMemoryUtilization: m.gpuMemoryUtilization,
    engine: "vllm",
    maxModelLen: m.maxModelLen,
    vllmSampler: m.vllmSampler,
  });

describe("published vLLM startup logs", () => {
  it.each(
    MEASUREMENTS.map(
      (m) =>
        [
          `${m.model} ×${m.tensorParallel} ${m.precision} kv ${m.kvCacheDtype} at ${m.gpuMemoryUtilization}`,
          m,
        ] as const,
    ),
  )("%s: weights within 3%, KV cache pool within +2% / −8%", (_, m) => {
    const e = run(m);
    expect({ weightsMiBPerGpu: e.weightsMiBPerGpu, kvCacheTokens: e.kvCacheTokens }).toEqual(m.estimated);
    const weightsGiB = weightsBytes(findModel(m.model)!, m.precision) / m.tensorParallel / GIB;
    expect(Math.abs(weightsGiB / m.weightsGiB - 1)).toBeLessThanOrEqual(0.03);
    expect(e.kvCacheTokens).toBeLessThanOrEqual(m.kvCacheTokens * 1.02);
    expect(e.kvCacheTokens).toBeGreaterThanOrEqual(m.kvCacheTokens * 0.92);
  });

  it("covers A100 40GB, A100 80GB and H100, tensor parallelism 1, 2 and 4, the three sampler paths, both KV cache dtypes and bf16, fp8 and int8 weights", () => {
    expect([...new Set(MEASUREMENTS.map((m) => m.gpu))].sort()).toEqual([
      "A100-SXM4-40GB",
      "A100-SXM4-80GB",
      "H100-SXM5-80GB",
    ]);
    expect([...new Set(MEASUREMENTS.map((m) => m.tensorParallel))].sort()).toEqual([1, 2, 4]);
    expect([...new Set(MEASUREMENTS.map((m) => m.vllmSampler))].sort()).toEqual([
      "flashinfer",
      "pytorch-sort",
      "triton",
    ]);
    expect([...new Set(MEASUREMENTS.map((m) => m.kvCacheDtype))].sort()).toEqual(["auto", "fp8"]);
    expect([...new Set(MEASUREMENTS.map((m) => m.precision))].sort()).toEqual(["bf16", "fp8", "int8"]);
    expect(MEASUREMENTS.length).toBe(15);
  });

  it("the llm-d-benchmark pools in tokens: 51.38 GiB at 131,072 B and 32.0 GiB at 163,840 B per token and GPU", () => {
    expect(tokensOf(51.38, 131072)).toBe(420_896);
    expect(tokensOf(32.0, 163840)).toBe(209_712);
    expect(kvBytesPerTokenPerGpu(findModel("meta/llama-3.1-70b-instruct")!, 2)).toBe(163840);
  });
});

describe("the pieces of vLLM v0.19.0's accounting, Llama 3.1 8B on one H100", () => {
  // meta-llama-llama-3-1-8b---h100-80gb--tp1pp1dp1--8192.log: "Free memory on device (78.68/79.19 GiB) on
  // startup. Desired GPU memory utilization is (0.95, 75.23 GiB). Actual usage is 14.99 GiB for weight,
  // 1.89 GiB for peak activation, 0.25 GiB for non-torch memory, and 0.91 GiB for CUDAGraph memory."
  const e = run(MEASUREMENTS[0]);

  it("reserves 0.95 × the 81,085 MiB CUDA reports (79.19 GiB), not nvidia-smi's 81,559 MiB", () => {
    expect(e.cudaTotalMiB).toBe(81085);
    expect(e.reservedMiBPerGpu).toBe(77030);
    expect(e.reservedMiBPerGpu).toBeLessThanOrEqual(75.23 * 1024);
  });

  it("charges at least the logged activation peak and non-torch memory inside the reservation", () => {
    // Triton path: 1,024 × 128,256 × 14 B (1,754 MiB) + the kernel's 80 MiB + hidden states (128 MiB).
    expect(e).toMatchObject({ activationMiB: 1962, nonTorchMiB: 288, overheadMiB: 2250 });
    expect(e.activationMiB).toBeGreaterThanOrEqual(1.89 * 1024);
    expect(e.nonTorchMiB).toBeGreaterThanOrEqual(0.25 * 1024);
  });

  it("puts the CUDA context and graph pool outside it: at least the 0.51 GiB used at startup + 0.91 GiB of graphs", () => {
    expect(e.outsideReservationMiBPerGpu).toBe(1632);
    expect(e.outsideReservationMiBPerGpu).toBeGreaterThanOrEqual((79.19 - 78.68 + 0.91) * 1024);
  });

  it("its KV budget is the reservation less weights and overhead, in 16-token blocks of 128 KiB per token", () => {
    const budgetMiB = e.reservedMiBPerGpu - e.weightsMiBPerGpu - e.overheadMiB;
    expect(budgetMiB).toBe(59463);
    expect(e.kvCacheTokens).toBe(Math.floor((budgetMiB * MIB) / (16 * 131072)) * 16);
    // vLLM's own "Available KV cache memory: 58.11 GiB": the estimate keeps 0.04 GiB more in reserve.
    expect((58.11 - (budgetMiB * MIB) / GIB).toFixed(2)).toBe("0.04");
  });
});

describe("tensor parallelism adds NCCL buffers on both sides of the reservation", () => {
  it.each([
    // (log, logged non-torch GiB, logged startup use GiB, logged CUDA graph GiB)
    [MEASUREMENTS[1], 2.07, 79.19 - 77.66, 0.76],
    [MEASUREMENTS[2], 2.13, 79.19 - 77.64, 0.67],
    [MEASUREMENTS[5], 2.1, 79.19 - 77.66, 1.79],
    [MEASUREMENTS[6], 2.21, 79.19 - 77.64, 1.66],
    [MEASUREMENTS[7], 2.11, 79.19 - 77.66, 1.85],
  ] as const)("%#: non-torch and outside memory cover the log", (m, nonTorchGiB, startupGiB, graphsGiB) => {
    const e = run(m);
    expect(e.nonTorchMiB).toBe(2304);
    expect(e.nonTorchMiB).toBeGreaterThanOrEqual(nonTorchGiB * 1024);
    expect(e.outsideReservationMiBPerGpu).toBeGreaterThanOrEqual((startupGiB + graphsGiB) * 1024);
  });
});

describe("weights of mixed-precision checkpoints", () => {
  it("Meta's Llama 3.1 405B FP8 at TP 8: 57.7520 GB per GPU logged, 56.71 GiB estimated (−1.8%)", () => {
    // vllm-project/vllm#6746 (https://github.com/vllm-project/vllm/issues/6746), 8× H100:
    // "Loading model weights took 57.7520 GB" on every worker.
    const m = findModel("meta/llama-3.1-405b-instruct")!;
    const perGpuGiB = weightsBytes(m, "fp8") / 8 / GIB;
    expect(perGpuGiB.toFixed(2)).toBe("56.71");
    expect(Math.abs(perGpuGiB / 57.752 - 1)).toBeLessThanOrEqual(0.03);
    // Without the catalog's per-tensor split (everything but the embeddings in F8) it would be 47.7 GiB.
    const allF8 = (m.unquantizedParams * 2 + (m.params - m.unquantizedParams)) / 8 / GIB;
    expect(allF8.toFixed(2)).toBe("47.74");
  });
});

describe("vLLM's V0 engine (before v0.8) keeps less besides weights; the estimate stays below it", () => {
  // oracle-samples/oci-data-science-ai-samples ai-quick-actions/troubleshooting-tips.md
  // (https://github.com/oracle-samples/oci-data-science-ai-samples/blob/main/ai-quick-actions/troubleshooting-tips.md):
  // "total_gpu_memory (22.07GiB) x gpu_memory_utilization (0.90) = 19.86GiB", "model weights take 14.99GiB;
  // non_torch_memory takes 0.05GiB; PyTorch activation peak memory takes 0.22GiB", "# CUDA blocks: 2356".
  // V0 has no profile-run sampler (V1's GPUModelRunner._dummy_sampler_run over 256 requests of a
  // 128,256-token vocabulary); no V1 log on an A10G or A10 was found, so the V1 paths are shown against it.
  const onA10G = (vllmSampler?: VllmSampler) =>
    estimate({
      model: findModel("meta/llama-3.1-8b-instruct")!,
      gpu: GPU_MODELS.A10G,
      tensorParallel: 1,
      precision: "bf16",
      maxModelLen: 8192,
      vllmSampler,
    });

  it("Llama 3.1 8B on one 24 GB A10: V0 logged 37,696 tokens, the V1 model's sort path (the default) gives 28,048", () => {
    const e = onA10G();
    expect(e).toMatchObject({
      cudaTotalMiB: 22594,
      reservedMiBPerGpu: 20334,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
      activationMiB: 1222,
      kvCacheTokens: 28048,
    });
    expect((20334 / 1024).toFixed(2)).toBe("19.86");
    expect(e.kvCacheTokens).toBeLessThan(2356 * 16);
  });

  it("the FlashInfer and Triton paths keep 33,000 to 34,000 tokens, still below V0", () => {
    expect([onA10G("flashinfer"), onA10G("triton")].map((e) => [e.activationMiB, e.kvCacheTokens])).toEqual([
      [471, 34064],
      [551, 33424],
    ]);
    expect(onA10G("flashinfer").kvCacheTokens).toBeLessThan(2356 * 16);
  });
});

describe("engines sharing a GPU", () => {
  const on = (id: string, gpuMemoryUtilization: number) =>
    estimate({
      model: findModel(id)!,
      gpu: GPU_MODELS["A100-SXM4-80GB"],
      tensorParallel: 1,
      precision: "fp16",
      gpuMemoryUtilization,
      maxModelLen: 2048,
    });

  it("a lone engine is charged its reservation; two add what each keeps outside it", () => {
    const chat = on("meta/llama-2-7b-chat", 0.5);
    const small = on("microsoft/DialoGPT-medium", 0.45);
    // floor(0.5 × 81,152) = 40,576 and floor(0.45 × 81,152) = 36,518; outside: CUDA context 544 + graph
    // pools 512 + 18 × 32 layers (1,088) and 512 + 18 × 24 (944).
    expect([chat.reservedMiBPerGpu, chat.outsideReservationMiBPerGpu]).toEqual([40576, 1632]);
    expect([small.reservedMiBPerGpu, small.outsideReservationMiBPerGpu]).toEqual([36518, 1488]);
    expect(sharedGpuChargeMiB([chat])).toBe(40576);
    expect(sharedGpuChargeMiB([chat, small])).toBe(40576 + 36518 + 1632 + 1488);
    // 80,214 MiB: more than the 77,824 MiB usable of an A100 80GB, which the reservations alone (77,094) are not.
    expect(sharedGpuChargeMiB([chat, small])).toBe(80214);
  });

  it("encoders and TensorRT-LLM keep nothing outside their footprint", () => {
    expect(on("nvidia/nv-embedqa-e5-v5", 0.1).outsideReservationMiBPerGpu).toBe(0);
    const trt = estimate({
      model: findModel("meta/llama-3.1-8b-instruct")!,
      gpu: GPU_MODELS.A10G,
      tensorParallel: 2,
      precision: "fp16",
    });
    expect([trt.engine, trt.outsideReservationMiBPerGpu]).toEqual(["trtllm", 0]);
  });
});

describe("the catalog's CUDA totals and architecture facts", () => {
  it("every GPU's CUDA total is below nvidia-smi's, by at most the 2% the derived ones assume", () => {
    for (const name of GPU_MODEL_NAMES) {
      const g = GPU_MODELS[name];
      expect(g.cudaTotalMiB, name).toBeLessThan(g.memoryMiB);
      expect(g.cudaTotalMiB, name).toBeGreaterThanOrEqual(Math.floor(g.memoryMiB * 0.98));
      expect(g.cudaTotalSource.length, name).toBeGreaterThan(20);
    }
    // Published: A10G 22.07 GiB, A100 40GB 39.50 GiB, A100 80GB 79.25 GiB, H100 79.19 GiB, each at the low
    // end of its rounding.
    expect(
      (["A10G", "A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB"] as const).map((n) => GPU_MODELS[n].cudaTotalMiB),
    ).toEqual([22594, 40442, 81152, 81085]);
  });

  it("every model served by vLLM or TensorRT-LLM has the dimensions the activation peak needs", () => {
    for (const m of MODELS.filter((x) => x.engine !== "fixed")) {
      expect(m.hiddenSize * m.intermediateSize * m.vocabSize, m.id).toBeGreaterThan(0);
      expect(m.hiddenSize % m.attentionHeads, m.id).toBe(0);
    }
  });
});
