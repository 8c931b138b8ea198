// The observability endpoints the plan prints: where Prometheus and Grafana listen and how to
// reach them. Both are private by default (bound to 127.0.0.1 on the observability host); the
// way in is an SSH tunnel, never a public port.

import { checkPort, DEFAULT_GRAFANA_PORT, DEFAULT_PROMETHEUS_PORT } from "./input";

/**
 * What the endpoints need. An ObservabilityInput fits; addresses may be left out because the
 * offline plan runs in preview, where an EC2 instance's IP is not known yet.
 */
export interface EndpointsInput {
  readonly hosts: readonly {
    readonly name: string;
    readonly address?: string;
    readonly sshAddress?: string;
    readonly sshUser?: string;
    /** SSH port when it is not 22 (an existing machine's `existing.port`). */
    readonly sshPort?: number;
  }[];
  readonly observabilityHost?: string;
  readonly prometheusPort?: number;
  readonly grafanaPort?: number;
  readonly bind?: "loopback" | "private";
}

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

export function observabilityEndpoints(input: EndpointsInput): ObservabilityEndpoint[] {
  if (input.hosts.length === 0) throw new Error("observability: at least one host is required.");
  const hostName = input.observabilityHost ?? input.hosts[0].name;
  const host = input.hosts.find((h) => h.name === hostName);
  if (host === undefined) {
    throw new Error(
      `observability: observabilityHost "${hostName}" is not in hosts (${input.hosts.map((h) => h.name).join(", ")}).`,
    );
  }
  const prometheusPort = input.prometheusPort ?? DEFAULT_PROMETHEUS_PORT;
  const grafanaPort = input.grafanaPort ?? DEFAULT_GRAFANA_PORT;
  checkPort("prometheus", prometheusPort);
  checkPort("grafana", grafanaPort);
  // Unknown until the instance exists: say which address goes there rather than inventing one.
  const privateAddress = host.address ?? `<private address of ${host.name}>`;
  const bind = (input.bind ?? "loopback") === "loopback" ? "127.0.0.1" : privateAddress;
  const sshPort = host.sshPort !== undefined && host.sshPort !== 22 ? `-p ${host.sshPort} ` : "";
  const sshTarget = `${sshPort}${host.sshUser ?? DEFAULT_SSH_USER}@${host.sshAddress ?? host.address ?? `<address of ${host.name}>`}`;
  const endpoint = (name: ObservabilityEndpoint["name"], port: number): ObservabilityEndpoint => ({
    name,
    host: host.name,
    bindAddress: bind,
    port,
    url: `http://${bind}:${port}/`,
    sshTunnel: `ssh -N -L ${port}:${bind}:${port} ${sshTarget}`,
    localUrl: `http://localhost:${port}/`,
  });
  return [endpoint("prometheus", prometheusPort), endpoint("grafana", grafanaPort)];
}

/** The endpoints as lines for the plan's text output. */
export function formatObservabilityEndpoints(endpoints: readonly ObservabilityEndpoint[]): string {
  return endpoints
    .map(
      (e) => `${e.name.padEnd(10)} ${e.url.padEnd(28)} on ${e.host}; tunnel: ${e.sshTunnel}, then open ${e.localUrl}`,
    )
    .join("\n");
}
