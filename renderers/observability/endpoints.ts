// The observability endpoints the plan prints: where Prometheus and Grafana listen and how to
// reach them. Both are private by default (bound to 127.0.0.1 on the observability host); the
// way in is an SSH tunnel, never a public port.

import { bindAddress, hostByName, resolveObservabilityInput, type ObservabilityInput } from "./targets";

export interface ObservabilityEndpoint {
  readonly name: "prometheus" | "grafana";
  /** Host (from the plan) that runs it. */
  readonly host: string;
  readonly bindAddress: string;
  readonly port: number;
  /** URL on the observability host itself. */
  readonly url: string;
  /** Command that forwards the port to the operator's machine. */
  readonly sshTunnel: string;
  /** URL to open on the operator's machine while the tunnel runs. */
  readonly localUrl: string;
}

const DEFAULT_SSH_USER = "ubuntu";

export function observabilityEndpoints(input: ObservabilityInput): ObservabilityEndpoint[] {
  const resolved = resolveObservabilityInput(input);
  const host = hostByName(resolved, resolved.observabilityHost);
  const bind = bindAddress(resolved);
  const user = host.sshUser ?? DEFAULT_SSH_USER;
  const endpoint = (name: ObservabilityEndpoint["name"], port: number, path: string): ObservabilityEndpoint => ({
    name,
    host: host.name,
    bindAddress: bind,
    port,
    url: `http://${bind}:${port}${path}`,
    sshTunnel: `ssh -N -L ${port}:${bind}:${port} ${user}@${host.address}`,
    localUrl: `http://localhost:${port}${path}`,
  });
  return [endpoint("prometheus", resolved.prometheusPort, "/"), endpoint("grafana", resolved.grafanaPort, "/")];
}

/** The endpoints as lines for the plan's text output. */
export function formatObservabilityEndpoints(endpoints: readonly ObservabilityEndpoint[]): string {
  return endpoints
    .map((e) => `${e.name.padEnd(10)} ${e.url.padEnd(28)} on ${e.host}; tunnel: ${e.sshTunnel}, then open ${e.localUrl}`)
    .join("\n");
}
