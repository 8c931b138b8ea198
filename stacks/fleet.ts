/**
 * The stack program: plan the fleet from config, then one GpuHost per host and one NimService per
 * service. During `pulumi up` (not preview) a plan with mandatory findings stops the program before
 * anything is registered; during preview every resource is registered so the policy pack and the
 * offline plan report the same findings.
 */
import * as pulumi from "@pulumi/pulumi";
import { GpuHost, NimService, ObservabilityStack } from "../components";
import { FleetPlan, NAMESPACE, planFleet } from "../fleet";
import { loadStackConfig } from "./config";

export interface FleetOutputs {
  readonly plan: FleetPlan;
  readonly hosts: ReadonlyMap<string, GpuHost>;
  readonly services: ReadonlyMap<string, NimService>;
  readonly observability?: ObservabilityStack;
}

export function deployFleet(): FleetOutputs {
  const stack = loadStackConfig();
  const plan = planFleet(stack);
  const blocking = plan.findings.filter((f) => f.enforcement === "mandatory");
  if (blocking.length > 0) {
    const text = blocking.map((f) => `[${f.check}] ${f.message}`).join("\n");
    if (!pulumi.runtime.isDryRun()) {
      throw new Error(`the GPU plan has ${blocking.length} mandatory finding(s); nothing was created:\n${text}`);
    }
    pulumi.log.warn(`the GPU plan has ${blocking.length} mandatory finding(s); \`pulumi up\` will refuse to create anything:\n${text}`);
  }
  for (const f of plan.findings.filter((f) => f.enforcement === "advisory")) pulumi.log.warn(`[${f.check}] ${f.message}`);

  const config = new pulumi.Config(NAMESPACE);
  const sshPrivateKey = config.requireSecret("sshPrivateKey");
  const sshPublicKey = config.get("sshPublicKey");
  const ngcApiKey = config.getSecret("ngcApiKey");

  const hosts = new Map(
    plan.hosts.map((host) => [host.name, new GpuHost(host.name, { plan: host, sshPrivateKey, sshPublicKey })] as const),
  );
  const services = new Map(
    plan.services
      .filter((s) => s.gpus.length > 0)
      .map((s) => [s.name, new NimService(s.name, { host: hosts.get(s.host)!, service: s, ngcApiKey })] as const),
  );
  const observability = stack.observability.enabled
    ? new ObservabilityStack("observability", {
        plan,
        hosts: [...hosts.values()],
        grafanaAdminPassword: config.requireSecret("grafanaAdminPassword"),
        observabilityHost: stack.observability.host,
        bind: stack.observability.bind,
        retentionDays: stack.observability.retentionDays,
      })
    : undefined;
  return { plan, hosts, services, observability };
}

/** Stack outputs: endpoints and the GPU map, nothing secret. */
export function stackOutputs(fleet: FleetOutputs) {
  return {
    hourlyUsd: fleet.plan.hourlyUsd,
    endpoints: Object.fromEntries([...fleet.services].map(([name, svc]) => [name, svc.endpoint])),
    observability: fleet.observability?.endpoints,
    gpuMap: fleet.plan.hosts.map((h) => ({
      host: h.name,
      instanceType: h.instanceType,
      gpus: h.ledger.map((g) => ({ index: g.index, model: g.model, reservedMiB: g.reservedMiB, usableMiB: g.usableMiB, services: g.reservations.map((r) => r.service) })),
    })),
  };
}
