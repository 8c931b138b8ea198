/**
 * The stack program: plan the fleet from config, then one GpuHost per host, one NimService per
 * placed service, IRIS and the vectorizer when `gpu-fleet:rag` is set, and the ObservabilityStack. During `pulumi up` (not preview) a plan with mandatory findings stops the program before
 * anything is registered; during preview every resource is registered so the policy pack and the
 * offline plan report the same findings.
 */
import * as pulumi from "@pulumi/pulumi";
import { GpuHost, IrisVectorDb, NimService, ObservabilityStack, VectorizerJob } from "../components";
import { FleetPlan, NAMESPACE, planFleet } from "../fleet";
import { RagConfig } from "../stackConfig";
import { loadStackConfig, refuseMandatoryFindings } from "./config";

export interface FleetOutputs {
  readonly plan: FleetPlan;
  readonly hosts: ReadonlyMap<string, GpuHost>;
  readonly services: ReadonlyMap<string, NimService>;
  readonly observability?: ObservabilityStack;
  readonly rag?: { readonly store: IrisVectorDb; readonly job: VectorizerJob };
}

export function deployFleet(): FleetOutputs {
  const stack = loadStackConfig();
  const plan = planFleet(stack);
  refuseMandatoryFindings(plan.findings);
  // Each GpuHost warns about its own ledger's advisory findings; the stack only about stack-wide ones (cost).
  for (const f of plan.findings.filter((f) => f.enforcement === "advisory" && f.host === ""))
    pulumi.log.warn(`[${f.check}] ${f.message}`);

  const config = new pulumi.Config(NAMESPACE);
  const sshPrivateKey = config.requireSecret("sshPrivateKey");
  const sshPublicKey = config.get("sshPublicKey");
  const ngcApiKey = config.getSecret("ngcApiKey");

  // The components take the plan's flat args: each host re-checks the fit on the ledger it writes.
  const hosts = new Map(
    plan.hosts.map((h) => [h.name, new GpuHost(h.name, { ...h.args, sshPrivateKey, sshPublicKey })] as const),
  );
  const services = new Map(
    [...hosts.values()].flatMap((host) =>
      host.services
        .filter((s) => s.gpus.length > 0)
        .map((s) => [s.name, new NimService(s.name, { host, service: s.name, ngcApiKey })] as const),
    ),
  );
  const rag =
    stack.rag && services.get(stack.rag.embeddingService) ? deployRag(stack.rag, hosts, services, config) : undefined;

  const observability = stack.observability.enabled
    ? new ObservabilityStack("observability", {
        hosts: [...hosts.values()],
        services: [...services.values()],
        grafanaAdminPassword: config.requireSecret("grafanaAdminPassword"),
        observabilityHost: stack.observability.host,
        bind: stack.observability.bind,
        retentionDays: stack.observability.retentionDays,
        iris: rag ? [{ name: "iris", host: stack.rag!.host, port: rag.store.webPort }] : [],
        vectorizers: rag ? [{ name: "vectorizer", host: stack.rag!.host, port: rag.job.metricsPort }] : [],
      })
    : undefined;
  return { plan, hosts, services, observability, rag };
}

/** IRIS as the vector store and the vectorizer feeding it through the embedding service. */
function deployRag(
  rag: RagConfig,
  hosts: ReadonlyMap<string, GpuHost>,
  services: ReadonlyMap<string, NimService>,
  config: pulumi.Config,
) {
  const host = hosts.get(rag.host)!;
  const embed = services.get(rag.embeddingService)!;
  const store = new IrisVectorDb("iris", {
    host,
    password: config.requireSecret("irisPassword"),
    embeddingModel: embed.model,
    table: rag.table,
  });
  const job = new VectorizerJob("vectorizer", {
    host,
    corpusDir: rag.corpusDir,
    embeddingsEndpoint: pulumi.interpolate`${embed.endpoint}/v1`,
    embeddingModel: embed.model,
    store,
    batchSize: rag.batchSize,
    concurrency: rag.concurrency,
    waitFor: embed.ready,
  });
  return { store, job };
}

/** Stack outputs: endpoints and the GPU map, nothing secret; parts the stack does not run are left out. */
export function stackOutputs(fleet: FleetOutputs) {
  return {
    ...(fleet.observability ? { observability: fleet.observability.endpoints } : {}),
    ...(fleet.rag ? { ingested: fleet.rag.job.ingested } : {}),
    hourlyUsd: fleet.plan.hourlyUsd,
    endpoints: Object.fromEntries([...fleet.services].map(([name, svc]) => [name, svc.endpoint])),
    gpuMap: fleet.plan.hosts.map((h) => ({
      host: h.name,
      instanceType: h.instanceType,
      gpus: h.ledger.map((g) => ({
        index: g.index,
        model: g.model,
        reservedMiB: g.reservedMiB,
        usableMiB: g.usableMiB,
        services: g.reservations.map((r) => r.service),
      })),
    })),
  };
}
