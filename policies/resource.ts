/**
 * What a policy looks at: a resource as plain data. The engine hands the pack inputs wrapped in a
 * proxy that throws on any unknown value (a preview), and the SDK turns that throw into an advisory
 * diagnostic — a mandatory check would silently stop blocking. So every policy first copies the
 * inputs into plain data in which an unknown value is the UNKNOWN marker, and decides itself what
 * an unknown means for its check.
 */
import { UnknownValueError } from "@pulumi/policy";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

export interface PlainResource {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  readonly props: Record<string, unknown>;
}

/** Stands for a value the engine does not know yet. */
export const UNKNOWN: unique symbol = Symbol("gpu-fleet/unknown");
export type Unknown = typeof UNKNOWN;

/**
 * The sentinel strings @pulumi/policy puts in deserialized inputs for unknown values (proxy.js
 * exports them without types). The string sentinel is also the engine's wire form, which
 * @pulumi/pulumi exports as `unknownValue`; the check below makes a changed SDK fail loudly.
 */
const policyProxy = require("@pulumi/policy/proxy") as Record<string, unknown>;
const SENTINEL_EXPORTS = [
  "unknownBooleanValue",
  "unknownNumberValue",
  "unknownStringValue",
  "unknownArrayValue",
  "unknownAssetValue",
  "unknownArchiveValue",
  "unknownObjectValue",
];
const SENTINELS: ReadonlySet<string> = new Set(
  SENTINEL_EXPORTS.map((k) => {
    const v = policyProxy[k];
    if (typeof v !== "string")
      throw new Error(`@pulumi/policy/proxy no longer exports ${k}; update policies/resource.ts`);
    return v;
  }),
);
if (!SENTINELS.has(unknownValue)) throw new Error("@pulumi/policy and @pulumi/pulumi disagree on the unknown sentinel");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** An unknown as any caller may hold it: our marker, an engine sentinel, or the mock runtime's `pulumi.unknown`. */
export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (typeof value === "string") return SENTINELS.has(value);
  return isObject(value) && (value as { __pulumiUnknown?: unknown }).__pulumiUnknown === true;
}

/**
 * Copies inputs (an engine proxy, mock-runtime inputs or plain test data) into plain data: unknowns
 * become UNKNOWN, secrets their value (the pack receives secrets already unwrapped; the mock runtime
 * keeps them as signature objects, unwrapped here so both callers see the same data).
 */
export function materialize(value: unknown): unknown {
  if (isUnknown(value)) return UNKNOWN;
  if (!isObject(value)) return value;
  if (value[specialSigKey] === specialSecretSig) return materialize(readField(value, "value"));
  if (Array.isArray(value))
    return Array.from({ length: value.length }, (_, i) => materialize(readField(value, String(i))));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = materialize(readField(value, key));
  return out;
}

/** Reads one field through the engine's proxy, which throws instead of returning an unknown. */
function readField(container: object, key: string): unknown {
  try {
    return (container as Record<string, unknown>)[key];
  } catch (e) {
    if (e instanceof UnknownValueError) return UNKNOWN;
    throw e;
  }
}

export function materializeProps(props: unknown): Record<string, unknown> {
  const plain = materialize(props);
  return isObject(plain) && !Array.isArray(plain) ? plain : {};
}

/** Reads a nested field of plain data; UNKNOWN if any step is unknown, undefined if absent. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === UNKNOWN) return UNKNOWN;
    if (!isObject(current)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** A value as a message shows it: strings quoted, unknowns and absences named. */
export function show(value: unknown): string {
  if (value === UNKNOWN) return "unknown";
  if (value === undefined) return "not set";
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}
