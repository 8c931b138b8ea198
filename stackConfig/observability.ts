/**
 * `gpu-fleet:observability`: Prometheus and Grafana on one host, exporters on all. Its defaults and
 * bounds are the observability input model's (renderers/observability/input.ts), so the stack config
 * and ObservabilityStack cannot disagree.
 */
import { HostConfig } from "../fleet/config";
import { Problems, isObject, positiveInt, show, unknownKeys } from "../fleet/problems";
import { DEFAULT_BIND, RETENTION_DAYS } from "../renderers/observability/input";

export interface ObservabilityConfig {
  readonly enabled: boolean;
  /** Host that runs Prometheus and Grafana; the first host when unset. */
  readonly host: string;
  /** `loopback`: reach Prometheus and Grafana through an SSH tunnel; `private`: on the host's private address. */
  readonly bind: "loopback" | "private";
  readonly retentionDays: number;
}

const OBSERVABILITY_KEYS = ["enabled", "host", "bind", "retentionDays"];

/** Adds every problem of the section to `p` under `path`; returns the section with its defaults. */
export function validateObservabilityConfig(
  p: Problems,
  path: string,
  raw: unknown,
  hosts: readonly HostConfig[],
): ObservabilityConfig {
  const fallback: ObservabilityConfig = {
    enabled: true,
    host: hosts[0]?.name ?? "",
    bind: DEFAULT_BIND,
    retentionDays: RETENTION_DAYS.default,
  };
  if (raw === undefined) return fallback;
  if (!isObject(raw)) {
    p.add(path, `${show(raw)} is not allowed; expected { enabled, host, bind, retentionDays }`);
    return fallback;
  }
  unknownKeys(p, path, raw, OBSERVABILITY_KEYS);
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== "boolean") p.add(`${path}.enabled`, `${show(enabled)} is not allowed; expected true or false`);
  const host = raw.host ?? fallback.host;
  if (typeof host !== "string" || !hosts.some((h) => h.name === host)) {
    p.add(
      `${path}.host`,
      `unknown host ${show(host)}; defined hosts: ${hosts.map((h) => h.name).join(", ") || "none"}`,
    );
  }
  const bind = raw.bind ?? DEFAULT_BIND;
  if (bind !== "loopback" && bind !== "private")
    p.add(`${path}.bind`, `${show(bind)} is not allowed; expected "loopback" (SSH tunnel) or "private"`);
  const { default: days, min, max } = RETENTION_DAYS;
  const retentionDays = positiveInt(p, `${path}.retentionDays`, raw.retentionDays, days, min, max);
  return {
    enabled: enabled === true,
    host: typeof host === "string" ? host : fallback.host,
    bind: bind === "private" ? "private" : "loopback",
    retentionDays,
  };
}
