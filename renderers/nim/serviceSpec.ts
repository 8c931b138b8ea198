/**
 * From a planned service to the container that runs it. The plan says what the service is (model,
 * devices, reservation); this says how it runs on a Docker host. A Kubernetes renderer can take the
 * same planned service later.
 */
import type { GpuModel, PlannedService } from "../../fleet";
import { DEFAULT_HOST_PATHS, HostPaths } from "../shell";
import { ContainerSpec, DEFAULT_READY_TIMEOUT_SECONDS } from "../container/container";

/** NIM's documented cache location inside the container. */
export const NIM_CACHE_MOUNT = "/opt/nim/.cache";
const HF_CACHE_MOUNT = "/root/.cache/huggingface";

export function secretEnvFilePath(service: string, paths: HostPaths = DEFAULT_HOST_PATHS): string {
  return `${paths.configDir}/nim/${service}.env`;
}

/**
 * NIM's docker examples use --shm-size=16GB; multi-GPU engines exchange tensors through /dev/shm
 * (NCCL), single-GPU encoders need little.
 */
export function shmSizeFor(service: PlannedService): string {
  return service.kind === "embedding" || service.kind === "reranker" ? "2g" : "16g";
}

/**
 * Settings NIM reads from its environment (NIM for LLMs configuration reference).
 *
 * NIM has no variable of its own for vLLM's KV-cache dtype or batched-token budget; it hands the
 * engine vLLM arguments through NIM_PASSTHROUGH_ARGS, "parsed as CLI-style arguments" in vLLM's CLI
 * format, above the NIM_* variables in priority (docs.nvidia.com/nim/large-language-models/latest/
 * reference/advanced-configuration.html, "Passthrough Arguments"); "values in NIM_PASSTHROUGH_ARGS ...
 * must use arguments supported by the engine in your image" (…/reference/environment-variables.html).
 * `--kv-cache-dtype` and `--max-num-batched-tokens` are vLLM engine arguments (vllm/engine/arg_utils.py).
 * Only vLLM-engine services carry them (config.ts refuses them for encoders and TensorRT-LLM).
 */
export function nimEnvironment(service: PlannedService): Record<string, string> {
  if (service.kind === "embedding" || service.kind === "reranker") return {};
  const env: Record<string, string> = {
    NIM_TENSOR_PARALLEL_SIZE: String(service.tensorParallel),
    NIM_MAX_MODEL_LEN: String(service.maxModelLen),
  };
  if (service.estimate.engine === "vllm" && service.gpuMemoryUtilization !== null) {
    env.NIM_GPU_MEMORY_UTILIZATION = String(service.gpuMemoryUtilization);
  }
  if (service.estimate.engine === "vllm" && service.vllmArgs.length > 0) {
    env.NIM_PASSTHROUGH_ARGS = service.vllmArgs.join(" ");
  }
  if (service.tensorParallel > 1) {
    // NCCL over /dev/shm and NVLink; log only warnings so failures are visible without noise.
    env.NCCL_DEBUG = "WARN";
  }
  return env;
}

/** vLLM and TEI take their settings as flags. */
export function engineArgs(service: PlannedService): string[] {
  const { serving } = service;
  if (serving.nim || !serving.modelRepo) return [];
  if (service.kind === "embedding") return ["--model-id", serving.modelRepo];
  const args = [
    "--model",
    serving.modelRepo,
    "--tensor-parallel-size",
    String(service.tensorParallel),
    "--max-model-len",
    String(service.maxModelLen),
  ];
  if (service.gpuMemoryUtilization !== null)
    args.push("--gpu-memory-utilization", String(service.gpuMemoryUtilization));
  return [...args, ...service.vllmArgs, ...(serving.extraArgs ?? [])];
}

/** The host a container runs on, as far as its spec needs it (a PlannedHost is one). */
export interface ContainerHost {
  readonly name: string;
  readonly bindAddress: string;
  readonly gpu: Pick<GpuModel, "nvidiaSmiName" | "memoryMiB">;
}

export function containerSpecFor(
  service: PlannedService,
  host: ContainerHost,
  options: { paths?: HostPaths; readyTimeoutSeconds?: number } = {},
): ContainerSpec {
  const paths = options.paths ?? DEFAULT_HOST_PATHS;
  return {
    service: service.name,
    host: host.name,
    image: service.serving.image,
    nim: service.serving.nim,
    containerPort: service.serving.containerPort,
    hostPort: service.hostPort,
    healthPath: service.serving.healthPath,
    bindAddress: host.bindAddress,
    gpus: service.gpus,
    env: service.serving.nim ? nimEnvironment(service) : {},
    args: engineArgs(service),
    secretEnvFile: service.serving.nim ? secretEnvFilePath(service.name, paths) : undefined,
    volumes: [
      {
        hostPath: `${paths.dataDir}/nim-cache/${service.name}`,
        containerPath: service.serving.nim ? NIM_CACHE_MOUNT : HF_CACHE_MOUNT,
      },
    ],
    shmSize: shmSizeFor(service),
    readyTimeoutSeconds: options.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
    preflight: {
      nvidiaSmiName: host.gpu.nvidiaSmiName,
      memoryMiB: host.gpu.memoryMiB,
      reservedMiBPerGpu: service.reservedMiBPerGpu,
    },
  };
}
