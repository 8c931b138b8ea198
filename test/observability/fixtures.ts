// Inputs the observability tests render: a two-host fixture with every kind of target, the dev
// stack (one g5.xlarge), and the 8× A100 node of the design's system 4.
import type { ObservabilityInput } from "../../renderers/observability/input";

/** Two hosts, every exporter kind; gpu1 has one reserved and one spare GPU. */
export const fixtureInput: ObservabilityInput = {
  stack: "fixture",
  hosts: [
    {
      name: "gpu0",
      address: "10.0.1.10",
      gpus: [{ index: 0, model: "A10G", memoryMiB: 23028, reservations: [{ service: "llm", reservedMiB: 20334 }] }],
    },
    {
      name: "gpu1",
      address: "10.0.1.11",
      sshUser: "admin",
      gpus: [
        {
          index: 0,
          model: "L4",
          memoryMiB: 23034,
          reservations: [
            { service: "embed", reservedMiB: 6144 },
            { service: "rerank", reservedMiB: 4096 },
          ],
        },
        { index: 1, model: "L4", memoryMiB: 23034, reservations: [] },
      ],
    },
  ],
  nimServices: [
    { name: "llm", host: "gpu0", address: "10.0.1.10", port: 8000 },
    { name: "embed", host: "gpu1", address: "10.0.1.11", port: 8001 },
    { name: "rerank", host: "gpu1", address: "10.0.1.11", port: 8002 },
  ],
  iris: [{ host: "gpu1", address: "10.0.1.11", port: 52773 }],
  vectorizers: [{ name: "vectorizer", host: "gpu1", address: "10.0.1.11", port: 9464 }],
};

/** The dev stack: one g5.xlarge 'gpu0' with one A10G (23,028 MiB), llm reserving 20,334 MiB. */
export const devInput: ObservabilityInput = {
  stack: "dev",
  hosts: [
    {
      name: "gpu0",
      address: "10.0.1.10",
      gpus: [{ index: 0, model: "A10G", memoryMiB: 23028, reservations: [{ service: "llm", reservedMiB: 20334 }] }],
    },
  ],
  nimServices: [{ name: "llm", host: "gpu0", address: "10.0.1.10", port: 8000 }],
  iris: [{ host: "gpu0", address: "10.0.1.10", port: 52773 }],
  vectorizers: [{ name: "vectorizer", host: "gpu0", address: "10.0.1.10", port: 9464 }],
};

const A100_MIB = 81920;
/** 90 % memory limits, as the 8× A100 design sets them. */
const NINETY_PERCENT = Math.floor(A100_MIB * 0.9);

/** The 8× A100 SXM 80 GB node: ASR on 0, embeddings on 1, the LLM with TP 2 on 2–3, OCR on 4, 5–7 spare. */
export const a100Input: ObservabilityInput = {
  stack: "a100",
  hosts: [
    {
      name: "dgx",
      address: "10.0.0.5",
      gpus: Array.from({ length: 8 }, (_, index) => ({
        index,
        model: "A100-SXM4-80GB",
        memoryMiB: A100_MIB,
        reservations:
          index === 0
            ? [{ service: "asr", reservedMiB: 16384 }]
            : index === 1
              ? [{ service: "embed", reservedMiB: 8192 }]
              : index === 2 || index === 3
                ? [{ service: "llm", reservedMiB: NINETY_PERCENT }]
                : index === 4
                  ? [{ service: "ocr", reservedMiB: 12288 }]
                  : [],
      })),
    },
  ],
  nimServices: [
    { name: "asr", host: "dgx", address: "10.0.0.5", port: 8000 },
    { name: "embed", host: "dgx", address: "10.0.0.5", port: 8001 },
    { name: "llm", host: "dgx", address: "10.0.0.5", port: 8002 },
    // dots.ocr has no NIM: the fleet serves it with vLLM's OpenAI server.
    { name: "ocr", host: "dgx", address: "10.0.0.5", port: 8003, engine: "vllm" },
  ],
  vectorizers: [{ name: "vectorizer", host: "dgx", address: "10.0.0.5", port: 9464 }],
};

export const ALL_INPUTS = { fixture: fixtureInput, dev: devInput, a100: a100Input } as const;
