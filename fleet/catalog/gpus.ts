/**
 * GPU models: memory as the driver reports it (nvidia-smi `memory.total`, MiB), never the marketing
 * size, because that is what the engines divide up. Compute capability decides which precisions run.
 */

export type GpuModelName =
  "T4" | "V100-SXM2-16GB" | "A10G" | "L4" | "L40S" | "A100-SXM4-40GB" | "A100-SXM4-80GB" | "H100-SXM5-80GB";

export interface GpuModel {
  readonly name: GpuModelName;
  /** The name `nvidia-smi --query-gpu=name` prints; the host verification compares against it. */
  readonly nvidiaSmiName: string;
  /** `nvidia-smi --query-gpu=memory.total` in MiB. */
  readonly memoryMiB: number;
  /**
   * Total memory as CUDA reports it (`torch.cuda.mem_get_info()[1]`, cudaMemGetInfo), in MiB: less than
   * nvidia-smi's figure by what the driver keeps. vLLM multiplies gpu_memory_utilization by this
   * (vllm/v1/worker/gpu_worker.py init_device: requested_memory = init_snapshot.total_memory ×
   * gpu_memory_utilization). Logs print it in GiB with two decimals; the catalog takes the low end of
   * that rounding so the reservation is never overstated.
   */
  readonly cudaTotalMiB: number;
  readonly cudaTotalSource: string;
  /**
   * NVSwitch multicast (NVLink SHARP), which NCCL's NVLS algorithm and vLLM's symmetric-memory all-reduce
   * use: only the HGX H100 (third-generation NVSwitch) here. Decides the communication buffers vLLM
   * keeps outside torch at TP ≥ 2 (estimator NON_TORCH_MIB).
   */
  readonly nvlinkMulticast: boolean;
  /** CUDA compute capability: bf16 needs >= 8.0, fp8 needs >= 8.9 (Ada/Hopper). */
  readonly computeCapability: number;
  readonly source: string;
}

const SMI_LOGS = "public nvidia-smi logs collected in shared/data/instances.json";

export const GPU_MODELS: Readonly<Record<GpuModelName, GpuModel>> = {
  T4: {
    name: "T4",
    nvidiaSmiName: "Tesla T4",
    memoryMiB: 15360,
    cudaTotalMiB: 15052,
    cudaTotalSource:
      "derived: nvidia-smi total less 2%, the largest gap measured on the GPUs with published CUDA totals (A10G 1.9%, A100 40GB 1.3%, H100 0.6%); no published figure found",
    nvlinkMulticast: false,
    computeCapability: 7.5,
    source: `${SMI_LOGS} ('NVIDIA T4, 15360 MiB')`,
  },
  "V100-SXM2-16GB": {
    name: "V100-SXM2-16GB",
    nvidiaSmiName: "Tesla V100-SXM2-16GB",
    memoryMiB: 16384,
    cudaTotalMiB: 16056,
    cudaTotalSource:
      "derived: nvidia-smi total less 2%, the largest gap measured on the GPUs with published CUDA totals (A10G 1.9%, A100 40GB 1.3%, H100 0.6%); no published figure found",
    nvlinkMulticast: false,
    computeCapability: 7.0,
    source: "AWS P3 launch blog (16 GiB per GPU); shared/data/instances.json p3.2xlarge",
  },
  A10G: {
    name: "A10G",
    nvidiaSmiName: "NVIDIA A10G",
    memoryMiB: 23028,
    cudaTotalMiB: 22594,
    cudaTotalSource:
      "oracle-samples/oci-data-science-ai-samples ai-quick-actions/troubleshooting-tips.md, vLLM on one A10: 'total_gpu_memory (22.07GiB)'; 22.065 GiB = 22,594 MiB",
    nvlinkMulticast: false,
    computeCapability: 8.6,
    source: `${SMI_LOGS} ('NVIDIA A10G, 23028 MiB')`,
  },
  L4: {
    name: "L4",
    nvidiaSmiName: "NVIDIA L4",
    memoryMiB: 23034,
    cudaTotalMiB: 22573,
    cudaTotalSource:
      "derived: nvidia-smi total less 2%, the largest gap measured on the GPUs with published CUDA totals (A10G 1.9%, A100 40GB 1.3%, H100 0.6%); no published figure found",
    nvlinkMulticast: false,
    computeCapability: 8.9,
    source: `${SMI_LOGS} ('NVIDIA L4, 23034 MiB')`,
  },
  L40S: {
    name: "L40S",
    nvidiaSmiName: "NVIDIA L40S",
    memoryMiB: 46068,
    cudaTotalMiB: 45146,
    cudaTotalSource:
      "derived: nvidia-smi total less 2%, the largest gap measured on the GPUs with published CUDA totals (A10G 1.9%, A100 40GB 1.3%, H100 0.6%); no published figure found",
    nvlinkMulticast: false,
    computeCapability: 8.9,
    source: `${SMI_LOGS} ('NVIDIA L40S, 46068 MiB')`,
  },
  "A100-SXM4-40GB": {
    name: "A100-SXM4-40GB",
    nvidiaSmiName: "NVIDIA A100-SXM4-40GB",
    memoryMiB: 40960,
    cudaTotalMiB: 40442,
    cudaTotalSource:
      "github.com/vllm-project/vllm/issues/12330 (A100 40GB): 'total_gpu_memory (39.50GiB)'; 39.495 GiB = 40,442 MiB",
    nvlinkMulticast: false,
    computeCapability: 8.0,
    source: "shared/data/instances.json p4d.24xlarge (vram_per_gpu_nvidia_smi_mib 40960)",
  },
  "A100-SXM4-80GB": {
    name: "A100-SXM4-80GB",
    nvidiaSmiName: "NVIDIA A100-SXM4-80GB",
    memoryMiB: 81920,
    cudaTotalMiB: 81152,
    cudaTotalSource:
      "github.com/ovg-project/kvcached/issues/110 (vLLM v0.9.2, A100 80GB): 'Free memory on device (67.24/79.25 GiB) on startup is less than desired GPU memory utilization (0.9, 71.33 GiB)'; 71.33 / 0.9 puts the total at 79.25 GiB or more = 81,152 MiB",
    nvlinkMulticast: false,
    computeCapability: 8.0,
    source: `${SMI_LOGS} (A100-80GB 81920 MiB)`,
  },
  "H100-SXM5-80GB": {
    name: "H100-SXM5-80GB",
    nvidiaSmiName: "NVIDIA H100 80GB HBM3",
    memoryMiB: 81559,
    cudaTotalMiB: 81085,
    cudaTotalSource:
      "github.com/llm-d-incubation/llm-d-planner accuracy/results/v0.19.0/logs (vLLM v0.19.0 on H100 80GB HBM3): 'Free memory on device (78.68/79.19 GiB)'; 79.185 GiB = 81,085 MiB",
    nvlinkMulticast: true,
    computeCapability: 9.0,
    source: `${SMI_LOGS} ('NVIDIA H100 80GB HBM3, 81559 MiB')`,
  },
};

export const GPU_MODEL_NAMES = Object.keys(GPU_MODELS) as GpuModelName[];

/** Case-insensitive lookup, as the estimate CLI and stack config promise. */
export function findGpuModel(name: string): GpuModel | undefined {
  const wanted = name.toLowerCase();
  return GPU_MODEL_NAMES.map((n) => GPU_MODELS[n]).find((g) => g.name.toLowerCase() === wanted);
}
