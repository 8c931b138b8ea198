/**
 * What a workload component needs from the machine it runs on. GpuHost provides it; so can a user's own
 * machine (any object with these fields), so NimService, IrisVectorDb, VectorizerJob and the
 * ObservabilityStack never depend on how the host was made.
 */
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { PlannedService } from "../fleet";
import type { HostPaths } from "../renderers/shell";

export interface GpuInventoryEntry {
  readonly index: number;
  /** Catalog GPU model name, e.g. `A10G` or `A100-SXM4-80GB` (fleet/catalog/gpus.ts). */
  readonly model: string;
  readonly memoryMiB: number;
}

export interface GpuHostRef {
  /** Host name: lower-case letters, digits and "-"; it names the host's ledger and its metrics. */
  readonly name: string;
  /** SSH connection the components run their commands over (pass it as a secret: it holds the key). */
  readonly connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The address services on this host are reached at from inside the network. */
  readonly privateAddress: pulumi.Input<string>;
  /** Where gpu-fleet keeps its files on the host. */
  readonly paths: HostPaths;
  /** What containers bind: "private" (the private address) or a specific IPv4 address. */
  readonly bindAddress: string;
  /** Every GPU of the host, all of one model. */
  readonly gpus: readonly GpuInventoryEntry[];
  /** Resources a workload waits for (the host is prepared and its GPUs verified). */
  readonly ready: readonly pulumi.Resource[];
  /**
   * The model services the host placed and checked (GpuHost). A NimService then takes one of them by
   * name; on a host without them, a NimService estimates and checks its own service on `gpus`.
   */
  readonly services?: readonly PlannedService[];
  /** SSH user and port operators reach the host with, for tunnel hints. Default: ubuntu, 22. */
  readonly sshUser?: string;
  readonly sshPort?: number;
}

/** A model service as the ObservabilityStack scrapes and budgets it (NimService provides it). */
export interface ServiceRef {
  readonly serviceName: string;
  /** Name of the GpuHostRef it runs on. */
  readonly hostName: string;
  readonly hostPort: number;
  /** `nim` serves NIM's metric names; `vllm` the upstream OpenAI server's `vllm:` names. */
  readonly metrics: "nim" | "vllm";
  readonly gpus: readonly number[];
  readonly reservedMiBPerGpu: number;
}
