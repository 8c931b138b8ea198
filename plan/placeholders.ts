/**
 * Values a provider computes only when the resource exists (an EC2 instance's addresses) are unknown
 * in a preview, and everything derived from them — the Prometheus config, the Grafana datasource, the
 * containers that mount them, the vectorizer's endpoints — is unknown too. The offline plan gives
 * each such output a placeholder instead, so `--out` can render every file a host would receive.
 *
 * A placeholder is a host name under `.invalid`, the top-level domain RFC 6761 §6.4 reserves to never
 * resolve: it passes the renderers' address checks (letters, digits, `.`, `-`), promtool, shellcheck
 * and URL parsing unchanged, and if one ever reached a machine it would fail to resolve rather than
 * reach anything. `<gpu0.privateIp>` would read better but is refused, rightly, by every renderer that
 * puts an address into a shell script.
 *
 * The policies must judge what `pulumi preview` would show them, so any input that carries a
 * placeholder is handed to them as unknown (placeholderInputsAsUnknown).
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** Provider outputs the plan fills, per resource type (the @pulumi/aws Instance output names). */
export const COMPUTED_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:ec2/instance:Instance": ["privateIp", "publicIp"],
};

export interface Placeholder {
  /** The text that stands for the value, e.g. `gpu0.privateIp.invalid`. */
  readonly token: string;
  /** The resource whose output it stands for. */
  readonly resource: string;
  readonly output: string;
}

/** `gpu0.privateIp.invalid` for the privateIp of the instance GpuHost "gpu0" owns (its parent). */
export function placeholderToken(owner: string, output: string): string {
  return `${owner}.${output}.invalid`;
}

/** A `computed` callback for previewProgram that records each placeholder it hands out. */
export function placeholderOutputs(): {
  computed: (type: string, name: string, parent: string | null) => Record<string, unknown>;
  placeholders: Placeholder[];
} {
  const placeholders: Placeholder[] = [];
  return {
    placeholders,
    computed(type, name, parent) {
      const state: Record<string, unknown> = {};
      for (const output of COMPUTED_OUTPUTS[type] ?? []) {
        const token = placeholderToken(parent ?? name, output);
        state[output] = token;
        placeholders.push({ token, resource: name, output });
      }
      return state;
    },
  };
}

/** True when the value (deeply) contains one of the placeholder tokens. */
export function containsPlaceholder(value: unknown, tokens: readonly string[]): boolean {
  if (typeof value === "string") return tokens.some((t) => value.includes(t));
  if (Array.isArray(value)) return value.some((v) => containsPlaceholder(v, tokens));
  if (typeof value === "object" && value !== null)
    return Object.values(value as Record<string, unknown>).some((v) => containsPlaceholder(v, tokens));
  return false;
}

/**
 * The inputs as a real preview holds them: every string carrying a placeholder becomes the engine's
 * unknown sentinel (a value derived from an unknown output is unknown).
 */
export function placeholderInputsAsUnknown(value: unknown, tokens: readonly string[]): unknown {
  if (tokens.length === 0) return value;
  if (typeof value === "string") return tokens.some((t) => value.includes(t)) ? unknownValue : value;
  if (Array.isArray(value)) return value.map((v) => placeholderInputsAsUnknown(v, tokens));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, placeholderInputsAsUnknown(v, tokens)]),
    );
  return value;
}
