// Builds the observability input from the fleet plan, so every target and every planned
// reservation comes from the same plan that placed the services: nothing is listed twice.

import type { FleetPlan } from "../../fleet";
import type { HostInput, IrisInput, NimServiceInput, ObservabilityInput, VectorizerInput } from "./targets";

export interface PlanObservabilityOptions extends Omit<
  ObservabilityInput,
  "stack" | "hosts" | "nimServices" | "iris" | "vectorizers"
> {
  readonly stack: string;
  /** Each host's private address, by host name (GpuHost.privateAddress once resolved). */
  readonly addresses: Readonly<Record<string, string>>;
  /** Where operators SSH to, by host name, when it is not the private address. */
  readonly sshAddresses?: Readonly<Record<string, string>>;
  /** SSH user by host name (default `ubuntu`). */
  readonly sshUsers?: Readonly<Record<string, string>>;
  readonly iris?: readonly IrisInput[];
  readonly vectorizers?: readonly VectorizerInput[];
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

export function observabilityInputFromPlan(plan: FleetPlan, options: PlanObservabilityOptions): ObservabilityInput {
  const { addresses, sshAddresses, sshUsers, ...settings } = options;
  const hosts: HostInput[] = plan.hosts.map((h) => ({
    name: h.name,
    address: addressOf(addresses, h.name),
    ...(sshAddresses?.[h.name] !== undefined ? { sshAddress: sshAddresses[h.name] } : {}),
    ...(sshUsers?.[h.name] !== undefined ? { sshUser: sshUsers[h.name] } : {}),
    // The ledger is the plan's per-GPU budget: the reservations the alerts hold the GPUs to.
    gpus: h.ledger.map((g) => ({
      index: g.index,
      model: g.model,
      memoryMiB: g.memoryMiB,
      reservations: g.reservations.map((r) => ({ service: r.service, reservedMiB: r.reservedMiB })),
    })),
  }));
  const nimServices: NimServiceInput[] = plan.services.map((s) => ({
    name: s.name,
    host: s.host,
    address: addressOf(addresses, s.host),
    port: s.hostPort,
    // Models without a NIM run on vLLM's OpenAI server, which serves /metrics with vllm: names.
    engine: s.serving.nim ? "nim" : "vllm",
  }));
  return { ...settings, hosts, nimServices };
}
