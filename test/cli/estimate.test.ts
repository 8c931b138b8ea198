import { describe, expect, it } from "vitest";
import { EstimateUsageError, runEstimate } from "../../cli/estimate";
import { runCli } from "../helpers/runCli";

describe("npm run estimate", () => {
  it("prints the contract's JSON for the dev case (one A10G, default context: does not fit, exit 1)", () => {
    const r = runCli("cli/estimate.ts", ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "a10g", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
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
      vllmSampler: "pytorch-sort",
      activationMiB: 1222,
      nonTorchMiB: 288,
      overheadMiB: 1510,
      reservedMiBPerGpu: 20334,
      outsideReservationMiBPerGpu: 1632,
      gpuMemoryMiB: 23028,
      cudaTotalMiB: 22594,
      kvCacheTokens: 28048,
      maxContextTokens: 28048,
      requestedContextTokens: 131072,
      fits: false,
      reason:
        "does not fit: weights 15,317 MiB + overhead 1,510 MiB + KV 16,384 MiB for 131,072 tokens exceed the 20,334 MiB reservation per GPU, whose KV cache holds 28,048 tokens; set maxModelLen <= 28,048 or use more GPUs",
    });
  });

  it("says both the KV cache pool and the largest context in text", () => {
    const { text } = runEstimate(["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-model-len", "8192"]);
    expect(text).toBe(
      [
        "meta/llama-3.1-8b-instruct on 1 × A10G (23,028 MiB each), bf16",
        "  generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
        "  weights 15,317 MiB/GPU, overhead 1,510 MiB (activation peak 1,222 for 2,048 batched tokens and 256 sequences on the pytorch-sort sampler + non-torch 288), KV 131,072 B/token at auto (131,072 per GPU)",
        "  reserves 20,334 MiB/GPU of the 22,594 MiB CUDA reports, + 1,632 MiB outside it (CUDA context and graphs)",
        "  KV cache: 28,048 tokens per replica; the largest context that fits: 28,048 tokens",
        "  fits: weights 15,317 MiB + overhead 1,510 MiB + KV 1,024 MiB for 8,192 tokens within the 20,334 MiB reservation per GPU (KV cache holds 28,048 tokens)",
        "",
      ].join("\n"),
    );
  });

  it("the pool is uncapped: two A10G hold 165,200 tokens, one sequence at most the model's 131,072", () => {
    expect(runEstimate(["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--tp", "2"]).text).toContain(
      "  KV cache: 165,200 tokens per replica; the largest context that fits: 131,072 tokens\n",
    );
  });

  it.each([
    [
      ["--model", "meta/llama-3.1-70b-instruct", "--gpu", "H100-SXM5-80GB", "--tp", "2", "--precision", "fp8"],
      {
        weightsMiBPerGpu: 34649,
        kvBytesPerTokenPerGpu: 163840,
        reservedMiBPerGpu: 72976,
        kvCacheTokens: 198432,
        fits: true,
      },
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--tp", "2"],
      {
        engine: "trtllm",
        profile: "optimized-trtllm",
        weightsMiBPerGpu: 7659,
        kvBytesPerTokenPerGpu: 65536,
        outsideReservationMiBPerGpu: 0,
        kvCacheTokens: 165200,
        fits: true,
      },
    ],
    [
      [
        "--model",
        "meta/llama-3.1-8b-instruct",
        "--gpu",
        "A10G",
        "--max-model-len",
        "8192",
        "--gpu-memory-utilization",
        "0.95",
      ],
      { reservedMiBPerGpu: 21464, kvCacheTokens: 37088, maxContextTokens: 37088, fits: true },
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "T4"],
      { precision: "fp16", weightsMiBPerGpu: 15317, kvCacheTokens: 0, fits: false },
    ],
    // --kv-cache-dtype fp8 halves the bytes per token: 3,507 MiB of KV budget hold 56,112 tokens, not 28,048.
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--kv-cache-dtype", "fp8"],
      { kvCacheDtype: "fp8", kvBytesPerToken: 65536, kvCacheTokens: 56112, maxContextTokens: 56112, fits: false },
    ],
    // A larger chunked-prefill budget: 8,192 tokens add hidden streams to the sampler peak (1,318 MiB) …
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-num-batched-tokens", "8192"],
      { maxNumBatchedTokens: 8192, activationMiB: 1318, kvCacheTokens: 27280 },
    ],
    // … and 65,536 make the forward pass the peak: 65,536 × (2 × 4,096 + 3 × 14,336) × 2 B = 6,400 MiB.
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-num-batched-tokens", "65536"],
      { maxNumBatchedTokens: 65536, activationMiB: 6400, kvCacheTokens: 0, fits: false },
    ],
    // v0.19's Triton top-k/top-p path: 256 × 128,256 × 14 B + 80 MiB + 2,048 × 4,096 × 4 B = 550.4 → 551 MiB
    // (the sort path's 38 B make it 1,222), so the same reservation holds 33,424 tokens.
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-model-len", "8192", "--vllm-sampler", "triton"],
      { vllmSampler: "triton", activationMiB: 551, kvCacheTokens: 33424, fits: true },
    ],
    // int8 (W8A8) on an L4: 1,050,673,152 × 2 B + 6,979,588,096 × 1 B = 8,661 MiB.
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "L4", "--precision", "int8"],
      { precision: "int8", weightsMiBPerGpu: 8661, reservedMiBPerGpu: 20315, kvCacheTokens: 81152 },
    ],
    // 70B FP8 at TP 2: (2,109,382,656 × 2 B + 68,444,323,840 × 1 B) / 2 GPUs = 34,648.4 MiB → 34,649.
    // 0.95 × 22,594 = 21,464 MiB; (21,464 − 15,317 − 1,510) MiB / 128 KiB per token = 37,096 → 37,088 in 16-token blocks.
  ])("estimate %j", (argv, expected) => {
    expect(runEstimate([...argv, "--json"]).output).toMatchObject(expected);
  });

  it.each([
    [["--gpu", "A10G"], "--model is required"],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "B200"],
      "--gpu B200: unknown GPU; known: T4, V100-SXM2-16GB, A10G, L4, L40S, A100-SXM4-40GB, A100-SXM4-80GB, H100-SXM5-80GB",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--tp", "3"],
      "--tp 3: meta/llama-3.1-8b-instruct has 32 attention heads, which 3 GPUs cannot split evenly",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "T4", "--precision", "bf16"],
      "--precision bf16: T4 (compute capability 7.5) does not support it; bf16 needs 8.0",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--precision", "int2"],
      "--precision int2: expected one of bf16, fp16, fp8, int8, int4",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "V100-SXM2-16GB", "--precision", "int8"],
      "--precision int8: V100-SXM2-16GB (compute capability 7.0) does not support it; int8 needs 7.5",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--kv-cache-dtype", "fp16"],
      "--kv-cache-dtype fp16: expected one of auto, fp8",
    ],
    [
      ["--model", "nvidia/nv-embedqa-e5-v5", "--gpu", "A10G", "--kv-cache-dtype", "fp8"],
      "--kv-cache-dtype fp8: nvidia/nv-embedqa-e5-v5 (kind: embedding) is served by a fixed-memory engine",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-num-batched-tokens", "8"],
      "--max-num-batched-tokens 8: expected a whole number from 256 to 1048576",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-num-batched-tokens", "2k"],
      "--max-num-batched-tokens 2k: expected a whole number from 256 to 1048576",
    ],
    [
      ["--model", "openai/whisper-large-v3", "--gpu", "A10G", "--max-num-batched-tokens", "4096"],
      "--max-num-batched-tokens 4096: openai/whisper-large-v3 (kind: asr) is served by a fixed-memory engine",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--max-model-len", "200000"],
      "--max-model-len 200000: expected a whole number from 1 to 131072",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--gpu-memory-utilization", "1.5"],
      "--gpu-memory-utilization 1.5: expected a fraction greater than 0 and at most 1",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--tensor-parallel", "2"],
      "unknown argument --tensor-parallel; allowed: --model, --gpu, --tp, --precision, --max-model-len, --gpu-memory-utilization, --engine, --kv-cache-dtype, --max-num-batched-tokens, --vllm-sampler, --json",
    ],
    [["--model", "meta/llama-3.1-8b-instruct", "--gpu"], "--gpu needs a value"],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--vllm-sampler", "sort"],
      "--vllm-sampler sort: expected one of pytorch-sort, flashinfer, triton",
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "H100-SXM5-80GB", "--max-num-batched-tokens", "512"],
      "--max-num-batched-tokens 512: expected a whole number from 1024 to 1048576",
    ],
    [
      ["--model", "meta/llama-2-7b-chat", "--gpu", "T4", "--kv-cache-dtype", "fp8"],
      "--kv-cache-dtype fp8: T4 (compute capability 7.5) cannot run it; vLLM's fp8 KV cache needs 8.0 or later",
    ],
    [
      ["--model", "nvidia/nv-embedqa-e5-v5", "--gpu", "A10G", "--engine", "vllm"],
      "--engine vllm: nvidia/nv-embedqa-e5-v5 (kind: embedding) is served by a fixed-memory engine",
    ],
    [
      ["--model", "nvidia/nv-embedqa-e5-v5", "--gpu", "A100-SXM4-80GB", "--tp", "2"],
      "--tp 2: nvidia/nv-embedqa-e5-v5 (kind: embedding) is served by a fixed-memory engine, which runs the whole model on one GPU",
    ],
    [
      ["--model", "nvidia/nv-embedqa-e5-v5", "--gpu", "A10G", "--precision", "int4"],
      "--precision int4: nvidia/nv-embedqa-e5-v5 (kind: embedding) is served by a fixed-memory engine, which takes bf16 or fp16",
    ],
  ])("rejects %j", (argv, message) => {
    expect(() => runEstimate(argv)).toThrow(new EstimateUsageError(message));
  });

  it("exits 2 with usage on invalid input", () => {
    const r = runCli("cli/estimate.ts", ["--model", "nope", "--gpu", "A10G"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[1]).toBe(
      "usage: npm run estimate -- --model M --gpu G [--tp N] [--precision P] [--max-model-len L] [--gpu-memory-utilization U] [--engine vllm|trtllm] [--kv-cache-dtype auto|fp8] [--max-num-batched-tokens T] [--vllm-sampler pytorch-sort|flashinfer|triton] [--json]",
    );
  });
});
