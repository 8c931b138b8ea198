/**
 * The catalog carries the researched facts of shared/data/ (instances.json, models.json) with their
 * sources. The tables below are copied from those files so the tests run on a clean clone; when the
 * research folder is present, a last block checks that the tables still equal it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DLAMI_SSM_PARAMETER,
  GPU_MODELS,
  GPU_MODEL_NAMES,
  INSTANCE_TYPES,
  MODELS,
  findGpuModel,
  findInstanceType,
  findModel,
  findOptimizedProfile,
  kvBytesPerToken,
} from "../../fleet";

// instances.json: instance_type, GPU, gpu_count, vram_per_gpu_nvidia_smi_mib (driver-reported),
// interconnect, vcpu, ram_gib, us_east_1_on_demand_usd_per_hour (instances.vantage.sh snapshot
// 2026-01-21 via github.com/tsaol/aws-gpu data/all_gpu_instances.js).
const INSTANCES = [
  ["g4dn.xlarge", "T4", 1, 15360, "single", 4, 16, 0.526],
  ["g5.xlarge", "A10G", 1, 23028, "single", 4, 16, 1.006],
  ["g5.2xlarge", "A10G", 1, 23028, "single", 8, 32, 1.212],
  ["g5.12xlarge", "A10G", 4, 23028, "pcie", 48, 192, 5.672],
  ["g5.48xlarge", "A10G", 8, 23028, "pcie", 192, 768, 16.288],
  ["g6.xlarge", "L4", 1, 23034, "single", 4, 16, 0.8048],
  ["g6e.xlarge", "L40S", 1, 46068, "single", 4, 32, 1.861],
  ["p3.2xlarge", "V100-SXM2-16GB", 1, 16384, "single", 8, 61, 3.06],
  ["p4d.24xlarge", "A100-SXM4-40GB", 8, 40960, "nvswitch", 96, 1152, 21.957642],
  ["p4de.24xlarge", "A100-SXM4-80GB", 8, 81920, "nvswitch", 96, 1152, 27.44705],
  ["p5.48xlarge", "H100-SXM5-80GB", 8, 81559, "nvswitch", 192, 2048, 55.04],
] as const;

// Issue 2 §2: the instance types the catalog must hold at least.
const ISSUE_2_INSTANCES = [
  "g4dn.xlarge",
  "g5.xlarge",
  "g5.2xlarge",
  "g5.12xlarge",
  "g5.48xlarge",
  "g6.xlarge",
  "g6e.xlarge",
  "p4d.24xlarge",
  "p4de.24xlarge",
  "p5.48xlarge",
];

// Issue 2 §2: the models the catalog must hold, with their kind.
const ISSUE_2_MODELS = [
  ["meta/llama-3.1-8b-instruct", "llm"],
  ["meta/llama3-8b-instruct", "llm"],
  ["meta/llama-3.1-70b-instruct", "llm"],
  ["meta/llama-3.1-405b-instruct", "llm"],
  ["meta/llama-2-7b-chat", "llm"],
  ["mistralai/mistral-7b-instruct-v0.3", "llm"],
  ["nvidia/nv-embedqa-e5-v5", "embedding"],
  ["nvidia/nv-rerankqa-mistral-4b-v3", "reranker"],
  ["openai/whisper-large-v3", "asr"],
  ["sentence-transformers/all-MiniLM-L6-v2", "embedding"],
  ["microsoft/DialoGPT-medium", "llm"],
  ["rednote-hilab/dots.ocr", "ocr"],
] as const;

// Issue 11: models added for published vLLM startup logs the estimator is checked against
// (test/fleet/measurements.test.ts).
const ISSUE_11_MODELS = [["qwen/qwen2-7b-instruct", "llm"]] as const;

// models.json: params, layers (num_hidden_layers; decoder_layers for whisper, the LM of dots.ocr),
// max context, and the KV cache bytes per token at 16 bits (kv_bytes_per_token_bf16 / _fp16 /
// _fp16_decoder_self_attn; 0 for encoders). 405B is not in models.json: its KV size follows from
// sku_list.py (126 layers, 8 KV heads, head dim 128): 2 × 126 × 8 × 128 × 2 = 516,096.
const MODEL_FACTS = [
  ["meta/llama-3.1-8b-instruct", 8_030_261_248, 32, 131072, 131072],
  ["meta/llama3-8b-instruct", 8_030_261_248, 32, 8192, 131072],
  ["meta/llama-3.1-70b-instruct", 70_553_706_496, 80, 131072, 327680],
  ["meta/llama-3.1-405b-instruct", 405_853_388_800, 126, 131072, 516096],
  ["meta/llama-2-7b-chat", 6_738_415_616, 32, 4096, 524288],
  ["mistralai/mistral-7b-instruct-v0.3", 7_248_023_552, 32, 32768, 131072],
  ["nvidia/nv-embedqa-e5-v5", 335_141_888, 24, 512, 0],
  ["nvidia/nv-rerankqa-mistral-4b-v3", 3_620_868_096, 16, 512, 0],
  ["openai/whisper-large-v3", 1_543_490_560, 32, 448, 163840],
  ["sentence-transformers/all-MiniLM-L6-v2", 22_713_216, 6, 512, 0],
  ["microsoft/DialoGPT-medium", 354_823_168, 24, 1024, 98304],
  ["rednote-hilab/dots.ocr", 3_000_000_000, 28, 131072, 28672],
] as const;

describe("instance catalog", () => {
  it("holds every instance type issue 2 asks for, plus p3.2xlarge, and nothing else", () => {
    expect(INSTANCE_TYPES.map((t) => t.name).sort()).toEqual([...ISSUE_2_INSTANCES, "p3.2xlarge"].sort());
  });

  it.each(INSTANCES)(
    "%s: %s ×%i, %i MiB per GPU, %s, %i vCPU, %i GiB, $%d/h",
    (name, gpu, count, mib, interconnect, vcpu, ram, usd) => {
      const type = findInstanceType(name)!;
      expect(type).toMatchObject({ name, gpu, gpuCount: count, interconnect, vcpu, ramGiB: ram, hourlyUsd: usd });
      // Memory per GPU is what the driver reports, not the marketing size.
      expect(GPU_MODELS[type.gpu].memoryMiB).toBe(mib);
      expect(type.source).toContain("instances.vantage.sh snapshot 2026-01-21");
      if (interconnect !== "single")
        expect(type.source).toContain("gist.github.com/shashankprasanna/10ebe6dc1ba1d8d93db17da4e2cc890e");
    },
  );

  it("marks only the Volta p3.2xlarge as unsupported by the Base OSS NVIDIA driver AMI", () => {
    // instances.json p3.2xlarge notes: "NOT in supported_ec2_instances of the Base OSS Nvidia Driver GPU AMIs".
    expect(INSTANCE_TYPES.filter((t) => !t.baseOssDlami).map((t) => t.name)).toEqual(["p3.2xlarge"]);
  });

  it("uses the Ubuntu 22.04 Base OSS NVIDIA driver GPU AMI parameter from instances.json", () => {
    expect(DLAMI_SSM_PARAMETER).toBe(
      "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id",
    );
  });

  it("returns undefined for an unknown instance type and matches names exactly", () => {
    expect(findInstanceType("g5.4xlarge")).toBeUndefined();
    expect(findInstanceType("G5.XLARGE")).toBeUndefined();
  });
});

describe("GPU catalog", () => {
  // nvidia-smi memory.total as collected in instances.json; compute capability decides bf16 (8.0) and fp8 (8.9).
  it.each([
    ["T4", "Tesla T4", 15360, 7.5],
    ["V100-SXM2-16GB", "Tesla V100-SXM2-16GB", 16384, 7.0],
    ["A10G", "NVIDIA A10G", 23028, 8.6],
    ["L4", "NVIDIA L4", 23034, 8.9],
    ["L40S", "NVIDIA L40S", 46068, 8.9],
    ["A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB", 40960, 8.0],
    ["A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", 81920, 8.0],
    ["H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", 81559, 9.0],
  ] as const)("%s: nvidia-smi %s, %i MiB, compute capability %d", (name, smi, mib, cc) => {
    expect(GPU_MODELS[name]).toMatchObject({ name, nvidiaSmiName: smi, memoryMiB: mib, computeCapability: cc });
    expect(GPU_MODELS[name].source).not.toBe("");
  });

  it("lists exactly the GPU models the instances and existing machines use", () => {
    expect(GPU_MODEL_NAMES).toEqual([
      "T4",
      "V100-SXM2-16GB",
      "A10G",
      "L4",
      "L40S",
      "A100-SXM4-40GB",
      "A100-SXM4-80GB",
      "H100-SXM5-80GB",
    ]);
  });

  it.each([
    ["a10g", "A10G"],
    ["A10G", "A10G"],
    ["a100-sxm4-80gb", "A100-SXM4-80GB"],
    ["h100-sxm5-80GB", "H100-SXM5-80GB"],
    ["t4", "T4"],
  ])("finds %s case-insensitively as %s", (query, name) => {
    expect(findGpuModel(query)?.name).toBe(name);
  });

  it.each(["A100", "H100", "RTX4090", ""])("does not guess a GPU from %j", (query) => {
    expect(findGpuModel(query)).toBeUndefined();
  });
});

describe("model catalog", () => {
  it("holds every model issue 2 asks for and the measurement models of issue 11, and nothing else", () => {
    expect(MODELS.map((m) => m.id).sort()).toEqual([...ISSUE_2_MODELS, ...ISSUE_11_MODELS].map(([id]) => id).sort());
  });

  it.each([...ISSUE_2_MODELS, ...ISSUE_11_MODELS])("%s is a %s model with a source", (id, kind) => {
    const model = findModel(id)!;
    expect(model.kind).toBe(kind);
    expect(model.source.length).toBeGreaterThan(20);
  });

  it.each(MODEL_FACTS)(
    "%s: %i params, %i layers, %i max context, %i KV bytes/token",
    (id, params, layers, maxContext, kvBytes) => {
      const model = findModel(id)!;
      expect(model).toMatchObject({ params, layers, maxContextTokens: maxContext });
      // 2 (K and V) × layers × KV heads × head dim × 2 bytes, from the catalog's dimensions.
      expect(kvBytesPerToken(model)).toBe(kvBytes);
    },
  );

  it.each([
    ["meta/llama-3.1-8b-instruct", 32, 8, 128, "bf16", "vllm"],
    ["meta/llama3-8b-instruct", 32, 8, 128, "bf16", "vllm"],
    ["meta/llama-3.1-70b-instruct", 64, 8, 128, "bf16", "vllm"],
    ["meta/llama-3.1-405b-instruct", 128, 8, 128, "bf16", "vllm"],
    // Llama 2 7B is multi-head attention: as many KV heads as heads (models.json "MHA - no GQA").
    ["meta/llama-2-7b-chat", 32, 32, 128, "fp16", "vllm"],
    ["mistralai/mistral-7b-instruct-v0.3", 32, 8, 128, "bf16", "vllm"],
    // Encoders and the cross-encoder reranker keep no KV cache.
    ["nvidia/nv-embedqa-e5-v5", 16, 0, 64, "fp16", "fixed"],
    ["nvidia/nv-rerankqa-mistral-4b-v3", 32, 0, 128, "fp16", "fixed"],
    // Whisper: the decoder's self-attention is the cache that grows (20 heads, MHA).
    ["openai/whisper-large-v3", 20, 20, 64, "fp16", "fixed"],
    ["sentence-transformers/all-MiniLM-L6-v2", 12, 0, 32, "fp16", "fixed"],
    ["microsoft/DialoGPT-medium", 16, 16, 64, "fp16", "vllm"],
    ["rednote-hilab/dots.ocr", 12, 2, 128, "bf16", "vllm"],
  ] as const)("%s: %i heads, %i KV heads, head dim %i, %s, %s", (id, heads, kvHeads, headDim, precision, engine) => {
    expect(findModel(id)).toMatchObject({
      attentionHeads: heads,
      kvHeads,
      headDim,
      defaultPrecision: precision,
      engine,
    });
  });

  it.each([
    // Untied token embeddings + LM head (vocab × hidden × 2) stay 16-bit in fp8/int4 checkpoints.
    ["meta/llama-3.1-8b-instruct", 128256 * 4096 * 2],
    // llm-d capacity_planner.py: the FP8 checkpoint keeps {"BF16": 2109382656} (github.com/llm-d/llm-d-benchmark).
    ["meta/llama-3.1-70b-instruct", 2_109_382_656],
    ["mistralai/mistral-7b-instruct-v0.3", 32768 * 4096 * 2],
    ["meta/llama-2-7b-chat", 32000 * 4096 * 2],
    // GPT-2 ties the LM head to the token embeddings: one vocab × hidden matrix.
    ["microsoft/DialoGPT-medium", 50257 * 1024],
  ])("%s keeps %i parameters at 16 bits when quantized", (id, unquantized) => {
    expect(findModel(id)!.unquantizedParams).toBe(unquantized);
  });

  it("gives the embedding models their vector sizes (nv-embedqa-e5-v5: 1024, the IRIS VECTOR(DOUBLE,1024) column)", () => {
    expect(findModel("nvidia/nv-embedqa-e5-v5")!.embeddingDim).toBe(1024);
    expect(findModel("sentence-transformers/all-MiniLM-L6-v2")!.embeddingDim).toBe(384);
  });

  it("serves NIM models from nvcr.io with /v1/health/ready and the others from vLLM or TEI", () => {
    expect(MODELS.filter((m) => m.serving.nim).map((m) => m.serving.image)).toEqual([
      "nvcr.io/nim/meta/llama-3.1-8b-instruct:latest",
      "nvcr.io/nim/meta/llama3-8b-instruct:latest",
      "nvcr.io/nim/meta/llama-3.1-70b-instruct:latest",
      "nvcr.io/nim/meta/llama-3.1-405b-instruct:latest",
      "nvcr.io/nim/meta/llama-2-7b-chat:latest",
      "nvcr.io/nim/mistralai/mistral-7b-instruct-v0.3:latest",
      "nvcr.io/nim/nvidia/nv-embedqa-e5-v5:latest",
      "nvcr.io/nim/nvidia/nv-rerankqa-mistral-4b-v3:latest",
      "nvcr.io/nim/openai/whisper-large-v3:latest",
    ]);
    expect(
      MODELS.filter((m) => m.serving.nim).every(
        (m) => m.serving.healthPath === "/v1/health/ready" && m.serving.containerPort === 8000,
      ),
    ).toBe(true);
    expect(findModel("microsoft/DialoGPT-medium")!.serving).toMatchObject({
      image: "vllm/vllm-openai:v0.8.5",
      containerPort: 8000,
      healthPath: "/health",
      nim: false,
    });
    expect(findModel("sentence-transformers/all-MiniLM-L6-v2")!.serving).toMatchObject({
      image: "ghcr.io/huggingface/text-embeddings-inference:1.5",
      containerPort: 80,
      healthPath: "/health",
      nim: false,
    });
  });

  it("marks recalled or computed facts as uncertain", () => {
    expect(MODELS.filter((m) => m.uncertain).map((m) => m.id)).toEqual([
      "meta/llama-3.1-405b-instruct",
      "mistralai/mistral-7b-instruct-v0.3",
      "nvidia/nv-rerankqa-mistral-4b-v3",
      "openai/whisper-large-v3",
      "microsoft/DialoGPT-medium",
      "rednote-hilab/dots.ocr",
    ]);
  });
});

describe("NIM optimized profiles of Llama 3.1 8B Instruct", () => {
  // docs.nvidia.com/nim/large-language-models/latest/support-matrix.html: optimized FP16 profiles need
  // 2× A10G (throughput) or 4× A10G (latency); none for one A10G.
  const llama = findModel("meta/llama-3.1-8b-instruct")!;
  it.each([
    ["A10G", "fp16", 2, "throughput"],
    ["A10G", "fp16", 4, "latency"],
    ["A10G", "bf16", 2, "throughput"],
    ["A10G", "fp16", 1, undefined],
    ["A10G", "fp16", 8, undefined],
    ["H100-SXM5-80GB", "fp8", 1, "throughput"],
    ["H100-SXM5-80GB", "fp8", 2, "latency"],
    ["H100-SXM5-80GB", "bf16", 1, "throughput"],
    ["A100-SXM4-80GB", "fp16", 1, "throughput"],
    ["A100-SXM4-80GB", "fp16", 2, "latency"],
    ["A100-SXM4-40GB", "fp16", 1, undefined],
    ["L40S", "fp16", 1, "throughput"],
    ["L4", "fp16", 1, undefined],
    ["A100-SXM4-80GB", "fp8", 1, undefined],
  ] as const)("%s %s ×%i → %s", (gpu, precision, tp, profile) => {
    expect(findOptimizedProfile(llama, gpu, precision, tp)?.profile).toBe(profile);
  });

  it("is the only model with optimized profiles in the catalog", () => {
    expect(MODELS.filter((m) => m.optimizedProfiles.length > 0).map((m) => m.id)).toEqual([
      "meta/llama-3.1-8b-instruct",
    ]);
  });
});

// The research folder exists only on the project's machines, not in a clone: compare when present.
const DATA = join(__dirname, "../../../shared/data");
describe.runIf(existsSync(join(DATA, "instances.json")))("tables above equal shared/data/", () => {
  it("instances.json: count, driver-reported MiB, vCPU, RAM and price of every catalog instance", () => {
    const data = JSON.parse(readFileSync(join(DATA, "instances.json"), "utf8")) as {
      instances: {
        instance_type: string;
        gpu_count: number;
        vram_per_gpu_nvidia_smi_mib: number;
        vcpu: number;
        ram_gib: number;
        us_east_1_on_demand_usd_per_hour: number;
      }[];
    };
    const fromData = data.instances.map((i) => [
      i.instance_type,
      i.gpu_count,
      i.vram_per_gpu_nvidia_smi_mib,
      i.vcpu,
      i.ram_gib,
      i.us_east_1_on_demand_usd_per_hour,
    ]);
    const fromCatalog = INSTANCE_TYPES.map((t) => [
      t.name,
      t.gpuCount,
      GPU_MODELS[t.gpu].memoryMiB,
      t.vcpu,
      t.ramGiB,
      t.hourlyUsd,
    ]);
    expect(fromCatalog).toEqual(fromData);
    expect(INSTANCES.map((r) => [r[0], r[2], r[3], r[5], r[6], r[7]])).toEqual(fromData);
  });

  it("models.json: params and every kv_bytes_per_token_* of the models it holds", () => {
    const data = JSON.parse(readFileSync(join(DATA, "models.json"), "utf8")) as { models: Record<string, unknown>[] };
    const rows = data.models
      .filter((m) => findModel(m.id as string))
      .map((m) => {
        const kvKey = Object.keys(m).find((k) => k.startsWith("kv_bytes_per_token"))!;
        return [m.id, m.params, m[kvKey]];
      });
    expect(rows).toHaveLength(11);
    const catalog = rows.map(([id]) => {
      const model = findModel(id as string)!;
      return [id, model.params, kvBytesPerToken(model)];
    });
    expect(catalog).toEqual(rows);
    expect(
      MODEL_FACTS.filter(([id]) => id !== "meta/llama-3.1-405b-instruct")
        .map((r) => [r[0], r[1], r[4]])
        .sort(),
    ).toEqual([...rows].sort());
  });
});
