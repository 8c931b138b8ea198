/**
 * One measurement of bench/plan.ts, in a process of its own (Pulumi's mock runtime is process-global):
 *   plan N  — the offline plan of N p4de.24xlarge nodes with a service on every GPU: config
 *             validation, fleet plan, the real stack program under the mock runtime in preview mode,
 *             and the policy checks over what it registered;
 *   bare R  — registering R plain resources under the same mock runtime, the floor any plan pays.
 * Prints one JSON line: { resources, seconds }.
 */
import * as pulumi from "@pulumi/pulumi";
import { previewProgram } from "../plan/mockPreview";
import { OFFLINE_SECRET_PLACEHOLDER } from "../plan/stackFile";
import { planViolations } from "../plan/violations";

export function generatedFleetConfig(nodes: number): Record<string, string> {
  const hosts = Array.from({ length: nodes }, (_, n) => ({ name: `node${n}`, instanceType: "p4de.24xlarge" }));
  const services = hosts.flatMap((h, n) =>
    Array.from({ length: 8 }, (_, g) => ({
      name: `llm-${n}-${g}`,
      model: "meta/llama-3.1-8b-instruct",
      host: h.name,
      gpus: [g],
    })),
  );
  return {
    "aws:region": "us-east-1",
    "gpu-fleet:hosts": JSON.stringify(hosts),
    "gpu-fleet:services": JSON.stringify(services),
    "gpu-fleet:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC bench",
    "gpu-fleet:ngcApiKey": OFFLINE_SECRET_PLACEHOLDER,
    "gpu-fleet:sshPrivateKey": OFFLINE_SECRET_PLACEHOLDER,
    "gpu-fleet:grafanaAdminPassword": OFFLINE_SECRET_PLACEHOLDER,
  };
}

async function planNodes(nodes: number): Promise<{ resources: number; seconds: number }> {
  const config = generatedFleetConfig(nodes);
  const secretKeys = ["gpu-fleet:ngcApiKey", "gpu-fleet:sshPrivateKey", "gpu-fleet:grafanaAdminPassword"];
  const start = process.hrtime.bigint();
  pulumi.runtime.setAllConfig(config, secretKeys);
  const { loadStackConfig } = await import("../stacks/config");
  const { deployFleet } = await import("../stacks/fleet");
  loadStackConfig();
  const preview = await previewProgram(() => void deployFleet(), {
    project: "gpu-fleet",
    stack: "bench",
    config,
    secretKeys,
  });
  const violations = planViolations(preview.resources);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (violations.some((v) => v.enforcement === "mandatory") || preview.duplicates.length)
    throw new Error("the generated fleet should plan cleanly");
  return { resources: preview.resources.length, seconds };
}

/** The cheapest resource there is: a custom resource with one input and no provider logic. */
class BareResource extends pulumi.CustomResource {
  constructor(name: string, value: number) {
    super("bench:index:Resource", name, { value });
  }
}

async function bareRegistrations(count: number): Promise<{ resources: number; seconds: number }> {
  const start = process.hrtime.bigint();
  const preview = await previewProgram(
    () => {
      for (let i = 0; i < count; i++) new BareResource(`r${i}`, i);
    },
    { project: "gpu-fleet", stack: "bench", config: {}, secretKeys: [] },
  );
  return { resources: preview.resources.length, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

const [mode, n] = process.argv.slice(2);
(mode === "plan" ? planNodes(Number(n)) : bareRegistrations(Number(n))).then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + "\n");
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
