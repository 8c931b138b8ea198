/**
 * A host-runtime stack's whole config (`gpu-fleet:*`): the fleet model's keys (fleet/config.ts) and the
 * sections that are not the fleet model, observability and rag, each validated by its own module.
 * Every problem of every section is reported at once, keyed by its config key, before any resource is
 * registered. Pure: the stack program and the offline plan both feed it the raw values they read.
 */
import { ConfigError, FleetConfig, NAMESPACE, RawFleetConfig, validateFleetSettings } from "../fleet/config";
import { BUILT_IN_PORTS, builtInPortsOf } from "../fleet/ports";
import { Problems, isObject } from "../fleet/problems";
import { ObservabilityConfig, validateObservabilityConfig } from "./observability";
import { RagConfig, validateRagConfig } from "./rag";

export { ObservabilityConfig, validateObservabilityConfig } from "./observability";
export { RagConfig, validateRagConfig } from "./rag";

export interface StackConfig extends FleetConfig {
  readonly observability: ObservabilityConfig;
  readonly rag?: RagConfig;
}

/** Raw values as read from Pulumi config (objects already parsed from YAML/JSON). */
export interface RawStackConfig extends RawFleetConfig {
  readonly observability?: unknown;
  readonly rag?: unknown;
}

const key = (k: string) => `${NAMESPACE}:${k}`;
const BUILT_IN_PORT_LIST = Object.entries(BUILT_IN_PORTS)
  .map(([name, port]) => `${port} (${name})`)
  .join(", ");

/** Throws a ConfigError listing every problem, or returns the typed config. */
export function validateStackConfig(raw: RawStackConfig): StackConfig {
  const p = new Problems();
  const fleet = validateFleetSettings(p, raw);
  const observability = validateObservabilityConfig(p, key("observability"), raw.observability, fleet.hosts);
  const rag = validateRagConfig(p, key("rag"), raw.rag, fleet.hosts, fleet.services);
  // Two containers cannot bind one port of one address: services stay off the ports the stack binds on
  // their host's bind address (exporters, IRIS, the vectorizer; Prometheus and Grafana only when they
  // listen privately — on loopback they do not meet a service bound to the private address).
  (Array.isArray(raw.services) ? raw.services : []).forEach((entry: unknown, i) => {
    const service = fleet.services.find((s) => isObject(entry) && s.name === entry.name && s.host === entry.host);
    if (!service || service.port === undefined) return;
    const builtIn = builtInPortsOf({
      observability: observability.enabled,
      observabilityServer:
        observability.enabled && observability.bind === "private" && observability.host === service.host,
      rag: rag?.host === service.host,
    }).find((b) => b.port === service.port);
    if (builtIn) {
      p.add(
        key(`services[${i}].port`),
        `port ${service.port} is used by the stack's ${builtIn.name} on host "${service.host}"; choose another port (the stack binds ${BUILT_IN_PORT_LIST} where it runs them)`,
      );
    }
  });
  if (p.list.length > 0) throw new ConfigError(p.list);
  return { ...fleet, observability, ...(rag ? { rag } : {}) };
}
