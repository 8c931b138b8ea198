/**
 * The VRAM estimator against published measurements. vLLM's "Loading model weights took X GB" is
 * torch memory after loading divided by 2^30 (GiB), and includes one rotary-embedding cos/sin cache
 * buffer of max_position_embeddings × rotary_dim in the model dtype (vLLM RotaryEmbedding,
 * shared by all layers through get_rope's cache). The estimator counts parameters only (the cache is
 * within its engine overhead), so the logs are reproduced as weights + that buffer.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_GPU_MEMORY_UTILIZATION,
  DEFAULT_TRTLLM_KV_FRACTION,
  FIXED_ENGINE_OVERHEAD_MIB,
  NON_TORCH_MIB,
  GPU_MODELS,
  GpuModelName,
  KV_BLOCK_TOKENS,
  MIB,
  Precision,
  chooseEngine,
  estimate,
  findModel,
  kvBytesPerToken,
  kvBytesPerTokenPerGpu,
  weightsBytes,
} from "../../fleet";

const GIB = 2 ** 30;
const model = (id: string) => findModel(id)!;
const run = (
  id: string,
  gpu: GpuModelName,
  tensorParallel: number,
  precision: Precision,
  extra: { maxModelLen?: number; gpuMemoryUtilization?: number; engine?: "vllm" | "trtllm" | "fixed" } = {},
) => estimate({ model: model(id), gpu: GPU_MODELS[gpu], tensorParallel, precision, ...extra });

describe("weights reproduce vLLM startup logs", () => {
  it.each([
    // vllm-project/vllm#12330 (meta-llama/Meta-Llama-3-8B on one A100 40GB): "Loading model weights took 14.9595 GB".
    // 2 × 8,030,261,248 B = 14.9575 GiB + rope cache 8,192 × 128 × 2 B (2 MiB) = 14.9595.
    ["meta/llama3-8b-instruct", "bf16", 16_060_522_496, 8192, "14.9595"],
    // vllm-project/vllm#7514 (Mistral-7B-Instruct-v0.3): "Loading model weights took 13.5083 GB".
    // 2 × 7,248,023,552 B = 13.5005 GiB + rope cache 32,768 × 128 × 2 B (8 MiB) = 13.5083 (v0.2's
    // 32,000-token vocabulary would give 13.4966: the log confirms v0.3's 32,768).
    ["mistralai/mistral-7b-instruct-v0.3", "bf16", 14_496_047_104, 32768, "13.5083"],
    // Public vLLM v0.6.3 benchmark_throughput log of meta-llama/Llama-2-7b-chat-hf (dtype float16,
    // max_seq_len 4096): "Loading model weights took 12.5523 GB". 2 × 6,738,415,616 B = 12.5513 GiB + 1 MiB.
    ["meta/llama-2-7b-chat", "fp16", 13_476_831_232, 4096, "12.5523"],
  ] as const)(
    "%s %s: %i bytes; + rope cache for %i positions = %s GiB",
    (id, precision, bytes, ropePositions, logged) => {
      const m = model(id);
      expect(weightsBytes(m, precision)).toBe(bytes);
      expect(m.maxContextTokens).toBe(ropePositions);
      const ropeCacheBytes = ropePositions * m.headDim * 2;
      expect(((bytes + ropeCacheBytes) / GIB).toFixed(4)).toBe(logged);
      expect(run(id, "A100-SXM4-80GB", 1, precision).weightsMiBPerGpu).toBe(Math.ceil(bytes / MIB));
    },
  );

  it("Llama 3.1 8B: Llama 3 8B's 14.9575 GiB of BF16 weights + a 131,072-position rope cache = the logged 14.9888 GB", () => {
    // github.com/oracle-samples/oci-data-science-ai-samples ai-quick-actions/troubleshooting-tips.md
    // (Llama 3.1 8B on one 24 GB A10): "Loading model weights took 14.9888 GB". 14.9575 GiB + 131,072 ×
    // 128 × 2 B (32 MiB, held by the 1,024 MiB engine overhead) = 14.9888.
    const m = model("meta/llama-3.1-8b-instruct");
    expect(weightsBytes(m, "bf16")).toBe(2 * 8_030_261_248);
    expect((weightsBytes(m, "bf16") / GIB).toFixed(4)).toBe("14.9575");
    expect(((weightsBytes(m, "bf16") + m.maxContextTokens * m.headDim * 2) / GIB).toFixed(4)).toBe("14.9888");
    expect(run("meta/llama-3.1-8b-instruct", "A10G", 1, "bf16").weightsMiBPerGpu).toBe(15317);
  });

  it("vllm#12330's KV cache: 5,691 blocks × 16 tokens × 131,072 B/token = 11.12 GiB, 11.12× concurrency at 8,192 tokens", () => {
    // Same log: "the rest of the memory reserved for KV Cache is 11.12GiB", "# GPU blocks: 5691",
    // "Maximum concurrency for 8192 tokens per request: 11.12x".
    const perToken = kvBytesPerToken(model("meta/llama3-8b-instruct"));
    expect(perToken).toBe(131072);
    expect(((5691 * KV_BLOCK_TOKENS * perToken) / GIB).toFixed(2)).toBe("11.12");
    expect(((5691 * KV_BLOCK_TOKENS) / 8192).toFixed(2)).toBe("11.12");
  });

  it("vllm#12330's reservation is total × gpu_memory_utilization: 39.50 GiB × 0.90 = 35.55 GiB", () => {
    // "the current vLLM instance can use total_gpu_memory (39.50GiB) x gpu_memory_utilization (0.90) = 35.55GiB"
    expect(DEFAULT_GPU_MEMORY_UTILIZATION).toBe(0.9);
    expect((39.5 * DEFAULT_GPU_MEMORY_UTILIZATION).toFixed(2)).toBe("35.55");
  });

  it("Llama-2-7b log: 16-token blocks give its 78.85× concurrency (20,186 blocks at 4,096 tokens)", () => {
    // Same Llama-2-7b-chat-hf log: "# GPU blocks: 20186", "Maximum concurrency for 4096 tokens per request: 78.85x".
    expect(KV_BLOCK_TOKENS).toBe(16);
    expect(((20186 * KV_BLOCK_TOKENS) / 4096).toFixed(2)).toBe("78.85");
  });
});

describe("mixed-precision checkpoints", () => {
  // github.com/llm-d/llm-d-benchmark config_explorer capacity_planner.py, model_params_by_dtype:
  // {"BF16": 70553706496} or {"BF16": 2109382656, "F8_E4M3": 68451041280} (Llama 70B, BF16 and FP8).
  const PUBLISHED_BF16 = 2_109_382_656;
  const PUBLISHED_F8 = 68_451_041_280;

  it("Llama 3.1 70B BF16 is 70,553,706,496 × 2 bytes = 134,571 MiB", () => {
    expect(weightsBytes(model("meta/llama-3.1-70b-instruct"), "bf16")).toBe(141_107_412_992);
    expect(run("meta/llama-3.1-70b-instruct", "H100-SXM5-80GB", 1, "bf16").weightsMiBPerGpu).toBe(134571);
  });

  it("Llama 3.1 70B FP8 keeps the published 2,109,382,656 BF16 parameters and stores the rest as F8", () => {
    const m = model("meta/llama-3.1-70b-instruct");
    expect(m.unquantizedParams).toBe(PUBLISHED_BF16);
    expect(weightsBytes(m, "fp8")).toBe(PUBLISHED_BF16 * 2 + (m.params - PUBLISHED_BF16));
    expect(weightsBytes(m, "fp8")).toBe(72_663_089_152);
    expect(run("meta/llama-3.1-70b-instruct", "H100-SXM5-80GB", 1, "fp8").weightsMiBPerGpu).toBe(69297);
  });

  it("…which is 6,717,440 bytes (6.4 MiB) under the published FP8 checkpoint: its per-channel weight scales", () => {
    // The published BF16 count includes one scale per output channel of every linear layer,
    // 80 layers × (q 8192 + k 1024 + v 1024 + o 8192 + gate 28672 + up 28672 + down 8192) = 6,717,440,
    // which the BF16 checkpoint (the catalog's params) does not have; the F8 count is every linear weight.
    const m = model("meta/llama-3.1-70b-instruct");
    const scales = 80 * (8192 + 1024 + 1024 + 8192 + 28672 + 28672 + 8192);
    expect(scales).toBe(6_717_440);
    expect(PUBLISHED_BF16 + PUBLISHED_F8 - m.params).toBe(scales);
    expect(PUBLISHED_BF16 * 2 + PUBLISHED_F8 - weightsBytes(m, "fp8")).toBe(scales);
    // Small against the 288 MiB of non-torch memory even a single-GPU estimate adds.
    expect(scales / MIB).toBeLessThan(NON_TORCH_MIB.single / 40);
  });
});

describe("weights by precision", () => {
  // bf16/fp16 2 B, fp8 1 B, int4 0.5 B + one 16-bit scale per group of 128 = 0.515625 B; embeddings
  // and LM head stay 16-bit, and Meta's 405B FP8 checkpoint keeps attention and its outer blocks in
  // BF16 too (the catalog's mixedPrecision). Encoders are never quantized (all parameters stay 16-bit).
  it.each([
    ["meta/llama-3.1-8b-instruct", 15317, 15317, 8661, 5437],
    ["meta/llama-3.1-70b-instruct", 134571, 134571, 69297, 37681],
    ["meta/llama-3.1-405b-instruct", 774104, 774104, 464600, 205524],
    ["meta/llama-2-7b-chat", 12853, 12853, 6677, 3685],
    ["mistralai/mistral-7b-instruct-v0.3", 13825, 13825, 7169, 3945],
    ["rednote-hilab/dots.ocr", 5723, 5723, 3307, 2136],
    ["microsoft/DialoGPT-medium", 677, 677, 388, 248],
    ["nvidia/nv-embedqa-e5-v5", 640, 640, 640, 640],
    ["nvidia/nv-rerankqa-mistral-4b-v3", 6907, 6907, 6907, 6907],
    ["openai/whisper-large-v3", 2944, 2944, 2944, 2944],
    ["sentence-transformers/all-MiniLM-L6-v2", 44, 44, 44, 44],
  ] as const)("%s: bf16 %i, fp16 %i, fp8 %i, int4 %i MiB", (id, bf16, fp16, fp8, int4) => {
    const mib = (p: Precision) => Math.ceil(weightsBytes(model(id), p) / MIB);
    expect([mib("bf16"), mib("fp16"), mib("fp8"), mib("int4")]).toEqual([bf16, fp16, fp8, int4]);
  });

  it("Llama 3.1 8B int4 = 1,050,673,152 × 2 + 6,979,588,096 × 0.515625 bytes", () => {
    expect(weightsBytes(model("meta/llama-3.1-8b-instruct"), "int4")).toBe(
      1_050_673_152 * 2 + 6_979_588_096 * 0.515625,
    );
  });

  it.each([
    [1, 15317],
    [2, 7659],
    [4, 3830],
    [8, 1915],
  ])("Llama 3.1 8B bf16 split over TP %i: %i MiB per GPU (rounded up)", (tp, mib) => {
    expect(run("meta/llama-3.1-8b-instruct", "H100-SXM5-80GB", tp, "bf16").weightsMiBPerGpu).toBe(mib);
  });
});

describe("KV cache bytes per token", () => {
  it.each([
    // 2 × layers × KV heads per GPU × head dim × 2 bytes; whole model first, then per GPU.
    ["meta/llama-3.1-8b-instruct", 1, 131072, 131072],
    ["meta/llama-3.1-8b-instruct", 2, 131072, 65536],
    ["meta/llama-3.1-8b-instruct", 4, 131072, 32768],
    ["meta/llama-3.1-8b-instruct", 8, 131072, 16384],
    ["meta/llama-3.1-70b-instruct", 2, 327680, 163840],
    ["meta/llama-3.1-70b-instruct", 8, 327680, 40960],
    // 405B: 8 KV heads; at TP 8 one per GPU, and with more GPUs than KV heads vLLM replicates: still one.
    ["meta/llama-3.1-405b-instruct", 16, 516096, 64512],
    ["meta/llama-3.1-405b-instruct", 8, 516096, 64512],
    ["rednote-hilab/dots.ocr", 1, 28672, 28672],
    ["rednote-hilab/dots.ocr", 2, 28672, 14336],
    ["rednote-hilab/dots.ocr", 4, 28672, 14336],
    ["rednote-hilab/dots.ocr", 6, 28672, 14336],
    // Llama 2 7B is MHA: 32 KV heads.
    ["meta/llama-2-7b-chat", 1, 524288, 524288],
    ["meta/llama-2-7b-chat", 4, 524288, 131072],
    ["microsoft/DialoGPT-medium", 1, 98304, 98304],
    ["openai/whisper-large-v3", 1, 163840, 163840],
    // Encoders: no KV cache at any TP.
    ["nvidia/nv-embedqa-e5-v5", 1, 0, 0],
    ["nvidia/nv-embedqa-e5-v5", 2, 0, 0],
    ["nvidia/nv-rerankqa-mistral-4b-v3", 1, 0, 0],
    ["sentence-transformers/all-MiniLM-L6-v2", 1, 0, 0],
  ] as const)("%s at TP %i: %i B/token for the model, %i B/token per GPU", (id, tp, whole, perGpu) => {
    expect(kvBytesPerToken(model(id))).toBe(whole);
    expect(kvBytesPerTokenPerGpu(model(id), tp)).toBe(perGpu);
    expect(run(id, "A100-SXM4-80GB", tp, "fp16")).toMatchObject({
      kvBytesPerToken: whole,
      kvBytesPerTokenPerGpu: perGpu,
    });
  });

  it("does not change with the weights' precision (the KV cache stays 16-bit)", () => {
    const perGpu = (["bf16", "fp16", "fp8", "int4"] as const).map(
      (p) => run("meta/llama-3.1-8b-instruct", "H100-SXM5-80GB", 1, p).kvBytesPerToken,
    );
    expect(perGpu).toEqual([131072, 131072, 131072, 131072]);
  });
});

describe("the engine's reservation", () => {
  it.each([
    // vLLM: floor(gpu_memory_utilization × the total CUDA reports) on every GPU of the instance.
    ["A10G", undefined, 20334], // floor(0.9 × 22,594 = 20,334.6)
    ["L4", undefined, 20315], // floor(0.9 × 22,573 = 20,315.7)
    ["L40S", undefined, 40631], // floor(0.9 × 45,146 = 40,631.4)
    ["A100-SXM4-40GB", undefined, 36397], // floor(0.9 × 40,442 = 36,397.8)
    ["A100-SXM4-80GB", undefined, 73036], // floor(0.9 × 81,152 = 73,036.8)
    ["H100-SXM5-80GB", undefined, 72976], // floor(0.9 × 81,085 = 72,976.5)
    ["A10G", 0.5, 11297],
    ["A10G", 0.95, 21464], // floor(21,464.3)
    ["H100-SXM5-80GB", 0.3, 24325], // floor(24,325.5)
  ] as const)("vLLM on %s at %s: %i MiB", (gpu, util, reserved) => {
    const e = run("mistralai/mistral-7b-instruct-v0.3", gpu, 1, "fp16", { gpuMemoryUtilization: util });
    expect(e.engine).toBe("vllm");
    expect(e.reservedMiBPerGpu).toBe(reserved);
  });

  it("vLLM reserves the same fraction whatever the model needs (DialoGPT-medium and Llama 2 on one A10G)", () => {
    expect(run("microsoft/DialoGPT-medium", "A10G", 1, "fp16").reservedMiBPerGpu).toBe(20334);
    expect(run("meta/llama-2-7b-chat", "A10G", 1, "fp16").reservedMiBPerGpu).toBe(20334);
  });

  it.each([
    // TensorRT-LLM: weights + overhead + free_gpu_memory_fraction (0.9) of what CUDA reports free after them.
    // Overhead at TP ≥ 2: activation buffers for 8,192 tokens / 256 requests (256 × 128,256 × 38 B + 8,192
    // hidden states × 4,096 × 4 B = 1,318 MiB) + NCCL ring buffers on a GPU without NVSwitch multicast
    // (544) + CUDA context and communicators (1,600) = 3,462 MiB.
    // A10G ×2 fp16 (NIM throughput profile): 7,659 + 3,462 + floor(0.9 × (22,594 − 7,659 − 3,462)) = 21,446.
    [2, undefined, 7659, 21446],
    // A10G ×4 (latency profile): 3,830 + 3,462 + floor(0.9 × 15,302 = 13,771.8) = 21,063.
    [4, undefined, 3830, 21063],
    // A lower KV fraction: 7,659 + 3,462 + floor(0.5 × 11,473) = 16,857.
    [2, 0.5, 7659, 16857],
  ] as const)("TensorRT-LLM on A10G ×%i at %s: weights %i, reserved %i MiB", (tp, fraction, weights, reserved) => {
    expect(DEFAULT_TRTLLM_KV_FRACTION).toBe(0.9);
    const e = run("meta/llama-3.1-8b-instruct", "A10G", tp, "fp16", { gpuMemoryUtilization: fraction });
    expect(e).toMatchObject({
      engine: "trtllm",
      profile: "optimized-trtllm",
      weightsMiBPerGpu: weights,
      activationMiB: 1318,
      nonTorchMiB: 2144,
      overheadMiB: 3462,
      outsideReservationMiBPerGpu: 0,
      reservedMiBPerGpu: reserved,
    });
  });

  it("a fixed encoder engine reserves weights + overhead + KV, or a cap when one is given", () => {
    expect(run("nvidia/nv-embedqa-e5-v5", "A100-SXM4-80GB", 1, "fp16").reservedMiBPerGpu).toBe(640 + 1024);
    // whisper: 2,944 + 1,024 + ceil(448 × 163,840 B) = 70 MiB.
    expect(run("openai/whisper-large-v3", "A100-SXM4-80GB", 1, "fp16").reservedMiBPerGpu).toBe(4038);
    expect(
      run("nvidia/nv-embedqa-e5-v5", "A100-SXM4-80GB", 1, "fp16", { gpuMemoryUtilization: 0.1 }).reservedMiBPerGpu,
    ).toBe(8115); // floor(0.1 × 81,152)
  });

  it("charges encoders a fixed 1,024 MiB (CUDA context + batch workspace) and nothing outside", () => {
    expect(FIXED_ENGINE_OVERHEAD_MIB).toBe(1024);
    expect(run("nvidia/nv-embedqa-e5-v5", "A10G", 1, "fp16")).toMatchObject({
      activationMiB: 0,
      nonTorchMiB: 1024,
      overheadMiB: 1024,
      outsideReservationMiBPerGpu: 0,
      maxNumBatchedTokens: 0,
    });
  });
});

describe("serving profile (NIM support matrix)", () => {
  // docs.nvidia.com/nim/large-language-models/latest/support-matrix.html: Llama 3.1 8B Instruct's
  // optimized FP16 profiles need 2× A10G (throughput) or 4× A10G (latency); on one A10G NIM falls back
  // to a generic vLLM profile.
  it.each([
    [
      "A10G",
      "bf16",
      1,
      undefined,
      "vllm",
      "generic-vllm",
      "generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
    ],
    [
      "A10G",
      "fp16",
      2,
      undefined,
      "trtllm",
      "optimized-trtllm",
      "optimized TensorRT-LLM throughput profile (A10G ×2, fp16)",
    ],
    [
      "A10G",
      "bf16",
      4,
      undefined,
      "trtllm",
      "optimized-trtllm",
      "optimized TensorRT-LLM latency profile (A10G ×4, fp16)",
    ],
    [
      "A10G",
      "fp16",
      8,
      undefined,
      "vllm",
      "generic-vllm",
      "generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
    ],
    [
      "A10G",
      "fp16",
      1,
      "trtllm",
      "trtllm",
      "optimized-trtllm",
      "TensorRT-LLM requested, but NIM ships no optimized profile for A10G ×1 fp16",
    ],
    [
      "H100-SXM5-80GB",
      "fp8",
      1,
      undefined,
      "trtllm",
      "optimized-trtllm",
      "optimized TensorRT-LLM throughput profile (H100-SXM5-80GB ×1, fp8)",
    ],
    [
      "H100-SXM5-80GB",
      "int4",
      1,
      undefined,
      "vllm",
      "generic-vllm",
      "generic vLLM profile (optimized fp8 profiles for H100-SXM5-80GB need ×1 or ×2; optimized fp16 profiles for H100-SXM5-80GB need ×1 or ×2)",
    ],
    [
      "A100-SXM4-80GB",
      "bf16",
      2,
      undefined,
      "trtllm",
      "optimized-trtllm",
      "optimized TensorRT-LLM latency profile (A100-SXM4-80GB ×2, fp16)",
    ],
    ["L4", "bf16", 1, undefined, "vllm", "generic-vllm", "generic vLLM profile (no optimized profile for L4)"],
  ] as const)("llama-3.1-8b on %s %s ×%i (engine %s) → %s, %s", (gpu, precision, tp, engine, chosen, profile, note) => {
    const e = run("meta/llama-3.1-8b-instruct", gpu, tp, precision, { engine });
    expect(e).toMatchObject({ engine: chosen, profile, profileNote: note });
  });

  it.each([
    ["microsoft/DialoGPT-medium", "vllm", "generic-vllm", "vLLM"],
    [
      "mistralai/mistral-7b-instruct-v0.3",
      "vllm",
      "generic-vllm",
      "generic vLLM profile (no optimized profile for A10G)",
    ],
    ["nvidia/nv-embedqa-e5-v5", "fixed", "fixed", "encoder engine: weights plus a fixed workspace"],
    ["openai/whisper-large-v3", "fixed", "fixed", "encoder engine: weights plus a fixed workspace"],
  ] as const)("%s → %s (%s): %s", (id, engine, profile, note) => {
    expect(chooseEngine({ model: model(id), gpu: GPU_MODELS.A10G, tensorParallel: 1, precision: "fp16" })).toEqual({
      engine,
      profile,
      note,
    });
  });
});

describe("the dev case: Llama 3.1 8B on one A10G, bf16", () => {
  // Reservation floor(0.9 × 22,594 CUDA MiB) = 20,334. Overhead: the sampler's peak for vLLM's A10G
  // defaults on its sort path (256 requests × 128,256 vocabulary × 38 B + 2,048 tokens × 4,096 × 4 B =
  // 1,222 MiB) + 288 MiB non-torch = 1,510. KV: 20,334 − 15,317 − 1,510 = 3,507 MiB × 2^20 / 131,072 =
  // 28,056 → 28,048 tokens (whole 16-token blocks of 2 MiB: 1,753 blocks).
  it("does not fit the model's default 131,072-token context", () => {
    const e = run("meta/llama-3.1-8b-instruct", "A10G", 1, "bf16");
    expect(e).toEqual({
      model: "meta/llama-3.1-8b-instruct",
      gpu: "A10G",
      precision: "bf16",
      tensorParallel: 1,
      engine: "vllm",
      profile: "generic-vllm",
      profileNote: "generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
      weightsMiBPerGpu: 15317,
      kvCacheDtype: "auto",
      kvBytesPerToken: 131072,
      kvBytesPerTokenPerGpu: 131072,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
      activationMiB: 1222,
      nonTorchMiB: 288,
      overheadMiB: 1510,
      cudaTotalMiB: 22594,
      reservedMiBPerGpu: 20334,
      // CUDA context 544 + graph pool 512 + 18 × 32 layers.
      outsideReservationMiBPerGpu: 1632,
      kvCacheTokens: 28048,
      maxContextTokens: 28048,
      requestedContextTokens: 131072,
      fits: false,
      reason:
        "does not fit: weights 15,317 MiB + overhead 1,510 MiB + KV 16,384 MiB for 131,072 tokens exceed the 20,334 MiB reservation per GPU, whose KV cache holds 28,048 tokens; set maxModelLen <= 28,048 or use more GPUs",
    });
  });

  it.each([
    [
      8192,
      true,
      "fits: weights 15,317 MiB + overhead 1,510 MiB + KV 1,024 MiB for 8,192 tokens within the 20,334 MiB reservation per GPU (KV cache holds 28,048 tokens)",
    ],
    [
      28048,
      true,
      "fits: weights 15,317 MiB + overhead 1,510 MiB + KV 3,506 MiB for 28,048 tokens within the 20,334 MiB reservation per GPU (KV cache holds 28,048 tokens)",
    ],
    [
      28049,
      false,
      "does not fit: weights 15,317 MiB + overhead 1,510 MiB + KV 3,508 MiB for 28,049 tokens exceed the 20,334 MiB reservation per GPU, whose KV cache holds 28,048 tokens; set maxModelLen <= 28,048 or use more GPUs",
    ],
  ])("with maxModelLen %i: fits %s", (maxModelLen, fits, reason) => {
    const e = run("meta/llama-3.1-8b-instruct", "A10G", 1, "bf16", { maxModelLen });
    expect(e).toMatchObject({
      fits,
      reason,
      maxContextTokens: 28048,
      requestedContextTokens: maxModelLen,
      reservedMiBPerGpu: 20334,
    });
  });

  it("agrees with vLLM on a 24 GB A10: 131,072 tokens do not fit, and its bound is the more cautious one", () => {
    // oracle-samples/oci-data-science-ai-samples ai-quick-actions/troubleshooting-tips.md, Llama 3.1 8B on
    // one A10: "total_gpu_memory (22.07GiB) x gpu_memory_utilization (0.90) = 19.86GiB", "model weights take
    // 14.99GiB; non_torch_memory takes 0.05GiB; PyTorch activation peak memory takes 0.22GiB; the rest of
    // the memory reserved for KV Cache is 4.60GiB", "# CUDA blocks: 2356", "The model's max seq len (131072)
    // is larger than the maximum number of tokens that can be stored in KV cache (37696)".
    expect(2356 * KV_BLOCK_TOKENS).toBe(37696);
    expect(((37696 * kvBytesPerToken(model("meta/llama-3.1-8b-instruct"))) / GIB).toFixed(2)).toBe("4.60");
    const e = run("meta/llama-3.1-8b-instruct", "A10G", 1, "bf16");
    expect(e.fits).toBe(false);
    // The same 19.86 GiB reservation (20,334 MiB = 19.857 GiB); 28,048 tokens against that V0 engine's
    // 37,696: V1's profile run holds the sampler's copies for 256 requests (1,222 MiB charged here on the
    // sort path, 0.22 GiB of activation in V0) — see test/fleet/measurements.test.ts for V1's own logs.
    expect((e.reservedMiBPerGpu / 1024).toFixed(2)).toBe("19.86");
    expect(e.maxContextTokens).toBe(28048);
    expect(37696 - e.maxContextTokens).toBe(9648);
  });

  it("fits the full context on two A10G with the optimized throughput profile", () => {
    const e = run("meta/llama-3.1-8b-instruct", "A10G", 2, "bf16");
    // KV budget 21,446 − 7,659 − 3,462 = 10,325 MiB at 65,536 B/token per GPU = 165,200 tokens, capped at 131,072.
    expect(e).toMatchObject({
      engine: "trtllm",
      reservedMiBPerGpu: 21446,
      kvCacheTokens: 165200,
      maxContextTokens: 131072,
      fits: true,
    });
  });
});

describe("the largest context", () => {
  it.each([
    // Rounded down to whole 16-token KV blocks, capped at the model's maximum context.
    // Reservation − weights − overhead (activation peak + non-torch) in whole 16-token blocks, capped at the
    // model's maximum context.
    // Mistral on A10G: (20,334 − 13,825 − 624) = 5,885 MiB / 131,072 B = 47,080 → 47,072 tokens → capped at 32,768.
    ["mistralai/mistral-7b-instruct-v0.3", "A10G", 1, "bf16", undefined, 32768],
    // Llama 2 on A10G: (20,334 − 12,853 − 617) = 6,864 MiB / 524,288 B = 13,728 tokens → capped at 4,096.
    ["meta/llama-2-7b-chat", "A10G", 1, "fp16", undefined, 4096],
    // Llama 2 on T4: (13,546 − 12,853 − 617) = 76 MiB: 9 blocks of 8 MiB = 144 tokens.
    ["meta/llama-2-7b-chat", "T4", 1, "fp16", undefined, 144],
    // Llama 3.1 8B on L4 at 0.5: 11,286 − 15,317 < 0.
    ["meta/llama-3.1-8b-instruct", "L4", 1, "bf16", 0.5, 0],
    // Llama 3.1 8B at 0.85 on A10G: floor(19,204.9) − 15,317 − 1,510 = 2,377 MiB: 1,188 blocks of 2 MiB = 19,008 tokens.
    ["meta/llama-3.1-8b-instruct", "A10G", 1, "bf16", 0.85, 19008],
    // Llama 3.1 70B bf16 on 2× A100 80GB: (73,036 − 67,286 − 1,798) = 3,952 MiB / 163,840 B = 25,292.8 → 25,280
    // (the A100 has no NVSwitch multicast: NCCL's ring buffers, 544 MiB non-torch per GPU at TP 2).
    ["meta/llama-3.1-70b-instruct", "A100-SXM4-80GB", 2, "bf16", undefined, 25280],
    // Llama 3.1 70B fp8 on 1× H100: 72,976 − 69,297 − 5,304 < 0: the H100 sampler peak (1,024 requests) leaves nothing.
    ["meta/llama-3.1-70b-instruct", "H100-SXM5-80GB", 1, "fp8", undefined, 0],
    // Llama 3.1 405B fp8 on 8× H100: (72,976 − 58,075 − 7,576) = 7,325 MiB / 64,512 B = 119,063 → 119,056 tokens,
    // below the model's 131,072 on the sort path's sampler peak (1,024 requests × 128,256 × 38 B).
    ["meta/llama-3.1-405b-instruct", "H100-SXM5-80GB", 8, "fp8", undefined, 119056],
  ] as const)("%s on %s ×%i %s (utilization %s): %i tokens", (id, gpu, tp, precision, util, tokens) => {
    const e = run(id, gpu, tp, precision, { gpuMemoryUtilization: util });
    expect(e.maxContextTokens).toBe(tokens);
    expect(tokens % KV_BLOCK_TOKENS).toBe(0);
  });

  it("a model whose weights exceed the reservation says so and suggests more GPUs", () => {
    // Llama 3.1 70B bf16 on one H100: 134,571 MiB of weights.
    const e = run("meta/llama-3.1-70b-instruct", "H100-SXM5-80GB", 1, "bf16");
    expect(e).toMatchObject({ fits: false, maxContextTokens: 0 });
    expect(e.reason).toBe(
      "does not fit: weights 134,571 MiB + overhead 5,304 MiB exceed the 72,976 MiB reservation per GPU; use more GPUs (tensor parallelism), a lower precision or a larger GPU",
    );
  });
});

describe("encoder models (no KV cache)", () => {
  it.each([
    ["nvidia/nv-embedqa-e5-v5", 640, 1664, 512],
    ["nvidia/nv-rerankqa-mistral-4b-v3", 6907, 7931, 512],
    ["sentence-transformers/all-MiniLM-L6-v2", 44, 1068, 512],
  ] as const)(
    "%s: weights %i MiB, reserves %i MiB, holds its %i-token maximum and fits",
    (id, weights, reserved, tokens) => {
      const e = run(id, "A10G", 1, "fp16");
      expect(e).toMatchObject({
        engine: "fixed",
        profile: "fixed",
        weightsMiBPerGpu: weights,
        kvBytesPerToken: 0,
        kvBytesPerTokenPerGpu: 0,
        overheadMiB: 1024,
        reservedMiBPerGpu: reserved,
        maxContextTokens: tokens,
        requestedContextTokens: tokens,
        fits: true,
        reason: `fits: weights ${weights.toLocaleString("en-US")} MiB + overhead 1,024 MiB + KV 0 MiB for 512 tokens within the ${reserved.toLocaleString("en-US")} MiB reservation per GPU (holds 512 tokens)`,
      });
    },
  );

  it("does not fit a cap below weights + overhead", () => {
    // 0.05 × 22,594 = 1,129 MiB < 7,931 MiB.
    const e = run("nvidia/nv-rerankqa-mistral-4b-v3", "A10G", 1, "fp16", { gpuMemoryUtilization: 0.05 });
    expect(e).toMatchObject({ reservedMiBPerGpu: 1129, maxContextTokens: 0, fits: false });
    expect(e.reason).toBe(
      "does not fit: weights 6,907 MiB + overhead 1,024 MiB exceed the 1,129 MiB reservation per GPU; use more GPUs (tensor parallelism), a lower precision or a larger GPU",
    );
  });

  it("whisper's decoder cache is sized in whole 16-token blocks (maxModelLen 100 → 112 tokens, 18 MiB)", () => {
    const e = run("openai/whisper-large-v3", "A10G", 1, "fp16", { maxModelLen: 100 });
    expect(e).toMatchObject({ reservedMiBPerGpu: 2944 + 1024 + 18, maxContextTokens: 112, fits: true });
  });
});

describe("determinism", () => {
  it("gives the same estimate for the same input", () => {
    const a = run("meta/llama-3.1-70b-instruct", "A100-SXM4-80GB", 2, "bf16", { maxModelLen: 8192 });
    const b = run("meta/llama-3.1-70b-instruct", "A100-SXM4-80GB", 2, "bf16", { maxModelLen: 8192 });
    expect(a).toEqual(b);
    expect(a.fits).toBe(true);
  });
});
