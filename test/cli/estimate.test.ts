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
      kvBytesPerToken: 131072,
      kvBytesPerTokenPerGpu: 131072,
      overheadMiB: 1024,
      reservedMiBPerGpu: 20725,
      gpuMemoryMiB: 23028,
      maxContextTokens: 35072,
      requestedContextTokens: 131072,
      fits: false,
      reason:
        "does not fit: weights 15,317 MiB + overhead 1,024 MiB + KV 16,384 MiB for 131,072 tokens exceed the 20,725 MiB reservation per GPU, which holds 35,072 tokens; set maxModelLen <= 35,072 or use more GPUs",
    });
  });

  it.each([
    [
      ["--model", "meta/llama-3.1-70b-instruct", "--gpu", "H100-SXM5-80GB", "--tp", "2", "--precision", "fp8"],
      { weightsMiBPerGpu: 34649, kvBytesPerTokenPerGpu: 163840, reservedMiBPerGpu: 73403, fits: true },
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--tp", "2"],
      {
        engine: "trtllm",
        profile: "optimized-trtllm",
        weightsMiBPerGpu: 7659,
        kvBytesPerTokenPerGpu: 65536,
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
      { reservedMiBPerGpu: 21876, maxContextTokens: 44272, fits: true },
    ],
    [
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "T4"],
      { precision: "fp16", weightsMiBPerGpu: 15317, fits: false },
    ],
    // 70B FP8 at TP 2: (2,109,382,656 × 2 B + 68,444,323,840 × 1 B) / 2 GPUs = 34,648.4 MiB → 34,649.
    // 0.95 × 23,028 = 21,876 MiB; (21,876 − 15,317 − 1,024) MiB / 128 KiB per token = 44,280 → 44,272 in 16-token blocks.
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
      ["--model", "meta/llama-3.1-8b-instruct", "--gpu", "A10G", "--precision", "int8"],
      "--precision int8: expected one of bf16, fp16, fp8, int4",
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
      ["--model", "nvidia/nv-embedqa-e5-v5", "--gpu", "A10G", "--engine", "vllm"],
      "--engine vllm: nvidia/nv-embedqa-e5-v5 (kind: embedding) is served by a fixed-memory engine",
    ],
  ])("rejects %j", (argv, message) => {
    expect(() => runEstimate(argv)).toThrow(new EstimateUsageError(message));
  });

  it("exits 2 with usage on invalid input", () => {
    const r = runCli("cli/estimate.ts", ["--model", "nope", "--gpu", "A10G"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[1]).toBe(
      "usage: npm run estimate -- --model M --gpu G [--tp N] [--precision P] [--max-model-len L] [--gpu-memory-utilization U] [--engine vllm|trtllm] [--json]",
    );
  });
});
