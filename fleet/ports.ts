/**
 * The ports the stack itself binds on a host besides the model services' own: one table, so the
 * components that bind them and the config check that keeps services off them agree.
 */
export const BUILT_IN_PORTS = {
  /** prom/node-exporter, on every host (host network). */
  nodeExporter: 9100,
  /** NVIDIA's dcgm-exporter, on every host. */
  dcgmExporter: 9400,
  /** Prometheus and Grafana, on the observability host. */
  prometheus: 9090,
  grafana: 3000,
  /** InterSystems IRIS superserver and web server, on the RAG host. */
  irisSuperserver: 1972,
  irisWeb: 52773,
  /** The vectorizer's Prometheus metrics, on the RAG host. */
  vectorizerMetrics: 9464,
} as const;

export type BuiltInPort = keyof typeof BUILT_IN_PORTS;

/** What binds which port on one host, given what the stack runs there. */
export function builtInPortsOf(host: {
  readonly observability: boolean;
  readonly observabilityServer: boolean;
  readonly rag: boolean;
}): { readonly name: BuiltInPort; readonly port: number }[] {
  const names: BuiltInPort[] = [
    ...(host.observability ? (["nodeExporter", "dcgmExporter"] as const) : []),
    ...(host.observabilityServer ? (["prometheus", "grafana"] as const) : []),
    ...(host.rag ? (["irisSuperserver", "irisWeb", "vectorizerMetrics"] as const) : []),
  ];
  return names.map((name) => ({ name, port: BUILT_IN_PORTS[name] }));
}

/**
 * The ports a container of the stack may be given (a service's `port`, IRIS's, the vectorizer's metrics):
 * unprivileged ones, so no container needs CAP_NET_BIND_SERVICE. The one rule the stack config and the
 * components check.
 */
export const BINDABLE_PORTS = { min: 1024, max: 65535 } as const;

/** Whether `port` is a whole number among BINDABLE_PORTS. */
export const isBindablePort = (port: unknown): port is number =>
  typeof port === "number" && Number.isInteger(port) && port >= BINDABLE_PORTS.min && port <= BINDABLE_PORTS.max;

/** What a refused port is told it should be. */
export const BINDABLE_PORTS_ALLOWED = `expected a port from ${BINDABLE_PORTS.min} to ${BINDABLE_PORTS.max}`;
