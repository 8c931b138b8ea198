/**
 * Checks that the GPUs nvidia-smi reports are the GPUs the catalog promises: the count, the name
 * and the memory. A host with the wrong GPUs fails here, before any container is started on a plan
 * made for other hardware.
 */
import { ScriptOptions, scriptPrelude, shInt, shQuote } from "../shell";

export interface GpuExpectation {
  readonly host: string;
  /** As nvidia-smi prints it, e.g. "NVIDIA A10G". */
  readonly nvidiaSmiName: string;
  readonly gpuCount: number;
  readonly memoryMiB: number;
}

/** Drivers report a few MiB more or less across versions; more than 2% off means other hardware. */
export const MEMORY_TOLERANCE_FRACTION = 0.02;

export function renderGpuVerifyScript(expect: GpuExpectation, options: ScriptOptions = {}): string {
  const minMiB = Math.floor(expect.memoryMiB * (1 - MEMORY_TOLERANCE_FRACTION));
  const maxMiB = Math.ceil(expect.memoryMiB * (1 + MEMORY_TOLERANCE_FRACTION));
  return `${scriptPrelude(`verify the GPUs of host "${expect.host}"`, options)}expected_name=${shQuote(expect.nvidiaSmiName)}
expected_count=${shInt(expect.gpuCount, "gpuCount")}
host=${shQuote(expect.host)}
report="$(nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits)" || fail "nvidia-smi cannot query the GPUs"
count="$(printf '%s\\n' "$report" | grep -c .)"
[ "$count" -eq "$expected_count" ] || fail "host $host reports $count GPU(s); the plan expects $expected_count x $expected_name"
while IFS=, read -r index name memory; do
  name="\${name# }"; memory="\${memory// /}"
  [ "$name" = "$expected_name" ] || fail "GPU $index is \\"$name\\"; the plan expects \\"$expected_name\\""
  if [ "$memory" -lt ${shInt(minMiB, "memoryMiB")} ] || [ "$memory" -gt ${shInt(maxMiB, "memoryMiB")} ]; then
    fail "GPU $index reports $memory MiB; the plan expects ${shInt(expect.memoryMiB, "memoryMiB")} MiB for $expected_name"
  fi
done <<< "$report"
log "verified $count x $expected_name"
`;
}
