/**
 * How validators collect problems: each one `key: message`, the key prefixed by whoever asks (a stack's
 * `gpu-fleet:services[3].x`, a component's `services[0].x`). Shared by the fleet model's validators and
 * the stack config's other sections.
 */
export const show = (v: unknown) => (typeof v === "string" ? `"${v}"` : (JSON.stringify(v) ?? String(v)));
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

/** Problems collected while validating, each `key: message`; callers choose the key prefix. */
export class Problems {
  readonly list: string[] = [];
  /** A component keys its own args from the root: `""` and `.instanceType` read as the arg itself. */
  add(path: string, message: string) {
    const key = path.replace(/^\./, "");
    this.list.push(key === "" ? message : `${key}: ${message}`);
  }
}

export function unknownKeys(p: Problems, path: string, value: Record<string, unknown>, allowed: readonly string[]) {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) p.add(`${path}.${k}`, `unknown setting; allowed: ${allowed.join(", ")}`);
  }
}

export function positiveInt(
  p: Problems,
  path: string,
  value: unknown,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!isInt(value) || value < min || value > max) {
    p.add(path, `${show(value)} is not allowed; expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}
