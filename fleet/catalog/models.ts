/**
 * Model catalog: the architecture facts the VRAM estimator needs, each entry with its source.
 * Facts were researched into shared/data/models.json; the project carries its own copy here because
 * users do not have that folder. Parameter counts are computed from the published dimensions and
 * checked against vLLM's "Loading model weights took … GB" startup logs (see test/fleet/estimator.test.ts).
 */
import { GpuModelName } from "./gpus";
import { Precision } from "./precision";

export type ModelKind = "llm" | "embedding" | "reranker" | "asr" | "ocr";

/**
 * How the serving engine takes GPU memory — the thing budgets must charge:
 * - `vllm`: reserves gpu_memory_utilization × total memory per GPU, whatever the model needs.
 * - `trtllm`: loads weights, then takes its KV-cache fraction of the memory left free.
 * - `fixed`: encoder engines (Triton/TensorRT, ONNX) take weights plus a bounded workspace.
 */
export type Engine = "vllm" | "trtllm" | "fixed";

/** A TensorRT-LLM profile NIM ships pre-built for a GPU; anything else falls back to generic vLLM. */
export interface OptimizedProfile {
  readonly gpu: GpuModelName;
  readonly precision: Precision;
  readonly tensorParallel: number;
  readonly profile: "throughput" | "latency";
}

export interface ServingImage {
  /** Container image; NIMs from nvcr.io need the NGC API key. */
  readonly image: string;
  readonly containerPort: number;
  readonly healthPath: string;
  /** True for NVIDIA NIM containers (NGC_API_KEY, /opt/nim/.cache, NIM_* settings). */
  readonly nim: boolean;
  /** For engines other than NIM: the Hugging Face repository they load, and extra flags. */
  readonly modelRepo?: string;
  readonly extraArgs?: readonly string[];
}

export interface ModelSpec {
  readonly id: string;
  readonly kind: ModelKind;
  /** All parameters of the checkpoint. */
  readonly params: number;
  /**
   * Parameters that stay 16-bit when the rest is quantized (token embeddings and LM head), so fp8 and
   * int4 checkpoints mix dtypes: e.g. Llama-3.1-70B FP8 = 2.1 B BF16 + 68.4 B F8_E4M3 (llm-d capacity planner).
   */
  readonly unquantizedParams: number;
  /**
   * Checkpoints that keep more than the embeddings in 16 bits at a precision: how many parameters the
   * published checkpoint stores at that precision (the rest is 16-bit), with its source. Without an entry,
   * everything but `unquantizedParams` is stored at the precision.
   */
  readonly mixedPrecision?: Partial<Record<Precision, { readonly quantizedParams: number; readonly source: string }>>;
  readonly layers: number;
  /** Residual stream width (d_model): the activation of every batched token. */
  readonly hiddenSize: number;
  /** MLP width (gate/up projection output per branch). */
  readonly intermediateSize: number;
  /** Token vocabulary: the logits row the sampler holds per request. */
  readonly vocabSize: number;
  readonly attentionHeads: number;
  /** KV heads of the attention that is cached per generated token (0 for encoders: no KV cache). */
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxContextTokens: number;
  readonly defaultPrecision: Precision;
  readonly engine: Engine;
  /** Output dimension of an embedding model (the vector column's size). */
  readonly embeddingDim?: number;
  readonly optimizedProfiles: readonly OptimizedProfile[];
  readonly serving: ServingImage;
  readonly source: string;
  /** Facts that are computed or recalled rather than read from a published config. */
  readonly uncertain?: string;
}

const nimImage = (repo: string): ServingImage => ({
  image: `nvcr.io/nim/${repo}:latest`,
  containerPort: 8000,
  healthPath: "/v1/health/ready",
  nim: true,
});
// Models without a NIM run on vLLM's OpenAI-compatible server (same API, /health for readiness).
const vllmImage = (modelRepo: string, extraArgs: string[] = []): ServingImage => ({
  image: "vllm/vllm-openai:v0.8.5",
  containerPort: 8000,
  healthPath: "/health",
  nim: false,
  modelRepo,
  extraArgs,
});

/** Untied token embeddings + LM head of a decoder: vocab × hidden × 2. */
const untiedEmbeddings = (vocab: number, hidden: number) => vocab * hidden * 2;

const NIM_LLM_SUPPORT_MATRIX = "docs.nvidia.com/nim/large-language-models/latest/support-matrix.html";

/**
 * Llama 3.1 8B Instruct optimized configurations, NIM support matrix: H100 FP8/FP16 TP1 throughput and
 * TP2 latency, A100 80GB FP16 TP1/TP2, L40S FP16 TP1/TP2, A10G FP16 TP2 throughput and TP4 latency.
 * No optimized profile exists for one A10G: NIM falls back to a generic vLLM profile there.
 */
const LLAMA_31_8B_PROFILES: OptimizedProfile[] = [
  { gpu: "H100-SXM5-80GB", precision: "fp8", tensorParallel: 1, profile: "throughput" },
  { gpu: "H100-SXM5-80GB", precision: "fp8", tensorParallel: 2, profile: "latency" },
  { gpu: "H100-SXM5-80GB", precision: "fp16", tensorParallel: 1, profile: "throughput" },
  { gpu: "H100-SXM5-80GB", precision: "fp16", tensorParallel: 2, profile: "latency" },
  { gpu: "A100-SXM4-80GB", precision: "fp16", tensorParallel: 1, profile: "throughput" },
  { gpu: "A100-SXM4-80GB", precision: "fp16", tensorParallel: 2, profile: "latency" },
  { gpu: "L40S", precision: "fp16", tensorParallel: 1, profile: "throughput" },
  { gpu: "L40S", precision: "fp16", tensorParallel: 2, profile: "latency" },
  { gpu: "A10G", precision: "fp16", tensorParallel: 2, profile: "throughput" },
  { gpu: "A10G", precision: "fp16", tensorParallel: 4, profile: "latency" },
];

export const MODELS: readonly ModelSpec[] = [
  {
    id: "meta/llama-3.1-8b-instruct",
    kind: "llm",
    params: 8_030_261_248,
    unquantizedParams: untiedEmbeddings(128256, 4096),
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    vocabSize: 128256,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    maxContextTokens: 131072,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: LLAMA_31_8B_PROFILES,
    serving: nimImage("meta/llama-3.1-8b-instruct"),
    source:
      "github.com/meta-llama/llama-models models/llama3_1/api/sku_list.py (dim 4096, 32 layers, 32 heads, 8 KV heads, vocab 128256, context 131072); huggingface.co/meta-llama/Llama-3.1-8B-Instruct config.json; profiles: " +
      NIM_LLM_SUPPORT_MATRIX,
  },
  {
    id: "meta/llama3-8b-instruct",
    kind: "llm",
    params: 8_030_261_248,
    unquantizedParams: untiedEmbeddings(128256, 4096),
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    vocabSize: 128256,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    maxContextTokens: 8192,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: nimImage("meta/llama3-8b-instruct"),
    source:
      "GGUF metadata of Meta-Llama-3-8B-Instruct in github.com/ollama/ollama issue #4139 (context_length 8192, block_count 32, head_count_kv 8); huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct config.json",
  },
  {
    id: "meta/llama-3.1-70b-instruct",
    kind: "llm",
    params: 70_553_706_496,
    unquantizedParams: 2_109_382_656,
    layers: 80,
    hiddenSize: 8192,
    intermediateSize: 28672,
    vocabSize: 128256,
    attentionHeads: 64,
    kvHeads: 8,
    headDim: 128,
    maxContextTokens: 131072,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: nimImage("meta/llama-3.1-70b-instruct"),
    source:
      "github.com/meta-llama/llama-models sku_list.py (dim 8192, 80 layers, 64 heads, 8 KV heads); parameter split BF16 2,109,382,656 + F8_E4M3 68,451,041,280 from github.com/llm-d/llm-d-benchmark config_explorer capacity_planner.py",
  },
  {
    id: "meta/llama-3.1-405b-instruct",
    kind: "llm",
    params: 405_853_388_800,
    unquantizedParams: untiedEmbeddings(128256, 16384),
    mixedPrecision: {
      // Meta's FP8 checkpoint quantizes only the feed-forward layers, and not those of the first and last
      // of the 126 blocks: 124 × 3 × 16,384 × 53,248 = 324,538,466,304 F8 parameters; attention,
      // embeddings, norms and the two outer blocks stay BF16.
      fp8: {
        quantizedParams: 124 * 3 * 16384 * 53248,
        source:
          "The Llama 3 Herd of Models (arXiv 2407.21783) §6.2 FP8 quantization: FP8 for most parameters and activations of the feedforward layers, not self-attention, and not in the first and last Transformer layers; matches vllm-project/vllm#6746 'Loading model weights took 57.7520 GB' per GPU at TP 8 within 2%",
      },
    },
    layers: 126,
    hiddenSize: 16384,
    intermediateSize: 53248,
    vocabSize: 128256,
    attentionHeads: 128,
    kvHeads: 8,
    headDim: 128,
    maxContextTokens: 131072,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: nimImage("meta/llama-3.1-405b-instruct"),
    source:
      "github.com/meta-llama/llama-models models/llama3_1/api/sku_list.py (dim 16384, 126 layers, 128 heads, 8 KV heads, ffn_dim_multiplier 1.2, multiple_of 4096 -> 53248, vocab 128256); params computed from these dims",
    uncertain: "parameter count computed from the dimensions, not read from a checkpoint index",
  },
  {
    id: "meta/llama-2-7b-chat",
    kind: "llm",
    params: 6_738_415_616,
    unquantizedParams: untiedEmbeddings(32000, 4096),
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 11008,
    vocabSize: 32000,
    attentionHeads: 32,
    kvHeads: 32,
    headDim: 128,
    maxContextTokens: 4096,
    defaultPrecision: "fp16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: nimImage("meta/llama-2-7b-chat"),
    source:
      "github.com/RahulSChand/gpu_poor public/all_configs.json (hidden 4096, intermediate 11008, 32 heads, 32 layers, vocab 32000; MHA: 32 KV heads); vLLM log 'Loading model weights took 12.5523 GB'",
  },
  {
    id: "mistralai/mistral-7b-instruct-v0.3",
    kind: "llm",
    params: 7_248_023_552,
    unquantizedParams: untiedEmbeddings(32768, 4096),
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    vocabSize: 32768,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    maxContextTokens: 32768,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: nimImage("mistralai/mistral-7b-instruct-v0.3"),
    source:
      "Mistral-7B dims (dim 4096, 32 layers, head_dim 128, 32 heads, 8 KV heads) in github.com/riccardomusmeci/mlx-llm; vocab 32768; vLLM log 'Loading model weights took 13.5083 GB' (vllm-project/vllm#7514); huggingface.co/mistralai/Mistral-7B-Instruct-v0.3 config.json",
    uncertain: "max_position_embeddings 32768 recalled from the HF config",
  },
  {
    // 28 × (q 3584² + 3584 bias, k and v 3584 × 512 + 512 bias, o 3584², MLP 3 × 3584 × 18944, two norms
    // 2 × 3584) + final norm 3584 + untied embeddings and LM head 2 × 152064 × 3584 = 7,615,616,512:
    // 14.19 GiB in bf16 against vLLM v0.10.1.1's "Model loading took 14.2488 GiB" (dennislee22/vLLM-benchmarking).
    id: "qwen/qwen2-7b-instruct",
    kind: "llm",
    params: 7_615_616_512,
    unquantizedParams: untiedEmbeddings(152064, 3584),
    layers: 28,
    hiddenSize: 3584,
    intermediateSize: 18944,
    vocabSize: 152064,
    attentionHeads: 28,
    kvHeads: 4,
    headDim: 128,
    maxContextTokens: 32768,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: vllmImage("Qwen/Qwen2-7B-Instruct"),
    source:
      "huggingface.co/Qwen/Qwen2-7B-Instruct config.json (hidden_size 3584, intermediate_size 18944, 28 layers, 28 heads, 4 KV heads, vocab_size 152064, max_position_embeddings 32768, tie_word_embeddings false), as quoted in public repositories' Qwen2 fixtures; params computed from these dims",
  },
  {
    id: "nvidia/nv-embedqa-e5-v5",
    kind: "embedding",
    params: 335_141_888,
    unquantizedParams: 335_141_888,
    layers: 24,
    hiddenSize: 1024,
    intermediateSize: 4096,
    vocabSize: 30522,
    attentionHeads: 16,
    kvHeads: 0,
    headDim: 64,
    maxContextTokens: 512,
    defaultPrecision: "fp16",
    engine: "fixed",
    embeddingDim: 1024,
    optimizedProfiles: [],
    serving: nimImage("nvidia/nv-embedqa-e5-v5"),
    source:
      "docs.nvidia.com/nim/nemo-retriever/text-embedding/1.9.0/support-matrix.html (512 max tokens, 335M params, 1024-d); docs.api.nvidia.com/nim/reference/nvidia-nv-embedqa-e5-v5 (E5-Large, 24 layers)",
  },
  {
    id: "nvidia/nv-rerankqa-mistral-4b-v3",
    kind: "reranker",
    params: 3_620_868_096,
    unquantizedParams: 3_620_868_096,
    layers: 16,
    hiddenSize: 4096,
    intermediateSize: 14336,
    vocabSize: 32000,
    attentionHeads: 32,
    kvHeads: 0,
    headDim: 128,
    maxContextTokens: 512,
    defaultPrecision: "fp16",
    engine: "fixed",
    optimizedProfiles: [],
    serving: nimImage("nvidia/nv-rerankqa-mistral-4b-v3"),
    source:
      "docs.api.nvidia.com/nim/reference/nvidia-rerank-qa-mistral-4b (Mistral-7B-v0.1, first 16 layers); reranking NIM support matrix 1.4.0 (512 max tokens); params computed for 16 Mistral layers + embeddings",
    uncertain: "parameter count derived, not published",
  },
  {
    id: "openai/whisper-large-v3",
    kind: "asr",
    params: 1_543_490_560,
    unquantizedParams: 1_543_490_560,
    layers: 32,
    hiddenSize: 1280,
    intermediateSize: 5120,
    vocabSize: 51866,
    attentionHeads: 20,
    // Decoder self-attention is the cache that grows per generated token (MHA: 20 KV heads).
    kvHeads: 20,
    headDim: 64,
    maxContextTokens: 448,
    defaultPrecision: "fp16",
    engine: "fixed",
    optimizedProfiles: [],
    serving: nimImage("openai/whisper-large-v3"),
    source:
      "huggingface.co/openai/whisper-large-v3 config.json (d_model 1280, 32 encoder + 32 decoder layers, 20 heads, max_target_positions 448) as mirrored in public conversion scripts",
    uncertain: "exact parameter count from the model card (OpenAI: large = 1550M)",
  },
  {
    id: "sentence-transformers/all-MiniLM-L6-v2",
    kind: "embedding",
    params: 22_713_216,
    unquantizedParams: 22_713_216,
    layers: 6,
    hiddenSize: 384,
    intermediateSize: 1536,
    vocabSize: 30522,
    attentionHeads: 12,
    kvHeads: 0,
    headDim: 32,
    maxContextTokens: 512,
    // The checkpoint is fp32; serving engines cast encoders to fp16.
    defaultPrecision: "fp16",
    engine: "fixed",
    embeddingDim: 384,
    optimizedProfiles: [],
    serving: {
      image: "ghcr.io/huggingface/text-embeddings-inference:1.5",
      containerPort: 80,
      healthPath: "/health",
      nim: false,
      modelRepo: "sentence-transformers/all-MiniLM-L6-v2",
    },
    source:
      "huggingface.co/sentence-transformers/all-MiniLM-L6-v2 config.json (hidden 384, 6 layers, 12 heads, max_pos 512); params computed",
  },
  {
    id: "microsoft/DialoGPT-medium",
    kind: "llm",
    params: 354_823_168,
    // GPT-2 ties the LM head to the token embeddings.
    unquantizedParams: 50257 * 1024,
    layers: 24,
    hiddenSize: 1024,
    intermediateSize: 4096,
    vocabSize: 50257,
    attentionHeads: 16,
    kvHeads: 16,
    headDim: 64,
    maxContextTokens: 1024,
    defaultPrecision: "fp16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: vllmImage("microsoft/DialoGPT-medium"),
    source:
      "github.com/RahulSChand/gpu_poor public/all_configs.json (n_embd 1024, n_head 16, n_layer 24, vocab 50257); params computed (GPT-2 medium)",
    uncertain: "n_positions 1024 is the GPT-2 default",
  },
  {
    id: "rednote-hilab/dots.ocr",
    kind: "ocr",
    params: 3_000_000_000,
    unquantizedParams: untiedEmbeddings(151936, 1536),
    layers: 28,
    hiddenSize: 1536,
    intermediateSize: 8960,
    vocabSize: 151936,
    attentionHeads: 12,
    kvHeads: 2,
    headDim: 128,
    maxContextTokens: 131072,
    defaultPrecision: "bf16",
    engine: "vllm",
    optimizedProfiles: [],
    serving: vllmImage("rednote-hilab/dots.ocr", ["--trust-remote-code"]),
    source:
      "github.com/rednote-hilab/dots.ocr README ('3B': 1.2B vision encoder + 1.7B Qwen2-style LM: 28 layers, 12 heads, 2 KV heads, head_dim 128) and demo/launch_model_vllm.sh (vLLM, --gpu-memory-utilization 0.9, TP 1)",
    uncertain: "LM dims from a third-party port's DotsOCRConfig; total params rounded ('3B')",
  },
];

export function findModel(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}

/** The NIM optimized profile that serves this model on these GPUs, if NVIDIA ships one. */
export function findOptimizedProfile(
  model: ModelSpec,
  gpu: GpuModelName,
  precision: Precision,
  tensorParallel: number,
): OptimizedProfile | undefined {
  // NIM's FP16 engines serve bf16 checkpoints: the support matrix lists them as FP16.
  const wanted = precision === "bf16" ? "fp16" : precision;
  return model.optimizedProfiles.find(
    (p) => p.gpu === gpu && p.precision === wanted && p.tensorParallel === tensorParallel,
  );
}
