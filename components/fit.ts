/**
 * The fit guarantee inside the components: whoever builds a component, with or without this project's
 * stack program, a mandatory finding of the fleet checks refuses it. During `pulumi up` that is a
 * pulumi.ResourceError thrown before anything is registered; during a preview every finding is a
 * warning, so the preview (and the policy pack, which sees the same ledger) shows them all.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Finding } from "../fleet";

/**
 * The component arg that holds a service, e.g. `services[0]` of a GpuHost or `service` of a NimService;
 * "" when the component's own args are the service's settings (KubernetesNimService).
 */
export type ServiceArg = (service: string) => string | undefined;

/** How a finding reads in a component's terms: `services[0] (llm) needs …`, not stack config keys. */
export function componentMessage(where: string, finding: Finding, argOf: ServiceArg): string {
  if (finding.service !== undefined && finding.detail !== undefined) {
    const arg = argOf(finding.service);
    if (arg === "") return `${where} ${finding.detail}`;
    if (arg !== undefined) return `${where}: ${arg} (${finding.service}) ${finding.detail}`;
  }
  return `${where}: ${finding.message}`;
}

/**
 * Throws during `up` when a finding is mandatory; returns the warnings to log once the component is
 * registered (during a preview, the mandatory findings too, marked as what `up` will refuse).
 */
export function enforceFindings(where: string, findings: readonly Finding[], argOf: ServiceArg): string[] {
  const mandatory = findings.filter((f) => f.enforcement === "mandatory");
  const text = (list: readonly Finding[]) => list.map((f) => `[${f.check}] ${componentMessage(where, f, argOf)}`);
  if (mandatory.length > 0 && !pulumi.runtime.isDryRun()) {
    throw new pulumi.ResourceError(
      `${where}: ${mandatory.length} mandatory GPU finding(s); nothing was created:\n${text(mandatory).join("\n")}`,
      undefined,
    );
  }
  return [
    ...text(mandatory).map((m) => `${m} (\`pulumi up\` will refuse this)`),
    ...text(findings.filter((f) => f.enforcement === "advisory")),
  ];
}
