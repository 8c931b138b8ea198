// Builds the observability input from the hosts and the services placed on them, so every target and
// every planned reservation comes from what placed the services: nothing is listed twice. The
// ObservabilityStack calls it with its hosts and services; the offline plan with the fleet plan.

import type { FleetPlan } from "../../fleet";
import type { HostInput, IrisInput, NimServiceInput, ObservabilityInput, VectorizerInput } from "./input";

/** A host as observability needs it: where it is reached and its GPUs. */
export interface ObservedHost {
  readonly name: string;
  readonly address: string;
  readonly sshAddress?: string;
  readonly sshUser?: string;
  readonly gpus: readonly { readonly index: number; readonly model: string; readonly memoryMiB: number }[];
}

/** A model service as observability needs it: its scrape target and its per-GPU reservation. */
export interface ObservedService {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Models without a NIM run on vLLM's OpenAI server, which serves /metrics with vllm: names. */
  readonly engine: "nim" | "vllm";
  readonly gpus: readonly number[];
  readonly reservedMiBPerGpu: number;
}

export interface ObservedFleetOptions extends Omit<
  ObservabilityInput,
  "stack" | "hosts" | "nimServices" | "iris" | "vectorizers"
> {
  readonly stack: string;
  readonly iris?: readonly IrisInput[];
  readonly vectorizers?: readonly VectorizerInput[];
}

export function observabilityInputFrom(
  hosts: readonly ObservedHost[],
  services: readonly ObservedService[],
  options: ObservedFleetOptions,
): ObservabilityInput {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const unknown = services.find((s) => !byName.has(s.host));
  if (unknown) {
    throw new Error(
      `observability: service "${unknown.name}" runs on host "${unknown.host}", which is not among the hosts (${hosts
        .map((h) => `"${h.name}"`)
        .join(", ")}).`,
    );
  }
  const hostInputs: HostInput[] = hosts.map((h) => ({
    name: h.name,
    address: h.address,
    ...(h.sshAddress !== undefined ? { sshAddress: h.sshAddress } : {}),
    ...(h.sshUser !== undefined ? { sshUser: h.sshUser } : {}),
    // The planned per-GPU budget: the reservations the alerts hold the GPUs to.
    gpus: h.gpus.map((g) => ({
      index: g.index,
      model: g.model,
      memoryMiB: g.memoryMiB,
      reservations: services
        .filter((s) => s.host === h.name && s.gpus.includes(g.index))
        .map((s) => ({ service: s.name, reservedMiB: s.reservedMiBPerGpu })),
    })),
  }));
  const nimServices: NimServiceInput[] = services.map((s) => ({
    name: s.name,
    host: s.host,
    address: byName.get(s.host)!.address,
    port: s.port,
    engine: s.engine,
  }));
  return { ...options, hosts: hostInputs, nimServices };
}

export interface PlanObservabilityOptions extends ObservedFleetOptions {
  /** Each host's private address, by host name (GpuHost.privateAddress once resolved). */
  readonly addresses: Readonly<Record<string, string>>;
  /** Where operators SSH to, by host name, when it is not the private address. */
  readonly sshAddresses?: Readonly<Record<string, string>>;
  /** SSH user by host name (default `ubuntu`). */
  readonly sshUsers?: Readonly<Record<string, string>>;
}

function addressOf(addresses: Readonly<Record<string, string>>, host: string): string {
  const address = addresses[host];
  if (address === undefined) {
    throw new Error(
      `observability: no address for host "${host}"; addresses has ${
        Object.keys(addresses)
          .map((h) => `"${h}"`)
          .join(", ") || "none"
      }.`,
    );
  }
  return address;
}

/** The same input from a whole fleet plan (the offline plan renders it before any host exists). */
export function observabilityInputFromPlan(plan: FleetPlan, options: PlanObservabilityOptions): ObservabilityInput {
  const { addresses, sshAddresses, sshUsers, ...settings } = options;
  const hosts: ObservedHost[] = plan.hosts.map((h) => ({
    name: h.name,
    address: addressOf(addresses, h.name),
    ...(sshAddresses?.[h.name] !== undefined ? { sshAddress: sshAddresses[h.name] } : {}),
    ...(sshUsers?.[h.name] !== undefined ? { sshUser: sshUsers[h.name] } : {}),
    gpus: h.ledger,
  }));
  return observabilityInputFrom(hosts, plan.services.map(observedService), settings);
}

/** A planned service as observability sees it. */
export function observedService(s: FleetPlan["services"][number]): ObservedService {
  return {
    name: s.name,
    host: s.host,
    port: s.hostPort,
    engine: s.serving.nim ? "nim" : "vllm",
    gpus: s.gpus,
    reservedMiBPerGpu: s.reservedMiBPerGpu,
  };
}
