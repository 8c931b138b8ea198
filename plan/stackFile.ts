/**
 * Reads a Pulumi stack config file the way the Pulumi CLI hands it to a program: every value a
 * string (objects and lists as JSON), `secure:` values marked secret. They cannot be decrypted
 * offline, so they stand for present secrets.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parse } from "yaml";

export interface StackFile {
  readonly stack: string;
  readonly path: string;
  /** Config as the Pulumi runtime holds it: `namespace:key` → string. */
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

export class StackFileError extends Error {}

/** Stands in for a secret's value in the offline plan; never a real credential. */
export const OFFLINE_SECRET_PLACEHOLDER = "[secret]";

/** `dev` names ./Pulumi.dev.yaml; anything with a slash or ending in .yaml is a path. */
export function resolveStackFile(arg: string, cwd = process.cwd()): { stack: string; path: string } {
  if (arg.includes("/") || arg.endsWith(".yaml") || arg.endsWith(".yml")) {
    const path = resolve(cwd, arg);
    const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path));
    return { stack: m ? m[1] : basename(path).replace(/\.ya?ml$/, ""), path };
  }
  return { stack: arg, path: resolve(cwd, `Pulumi.${arg}.yaml`) };
}

export function readStackFile(arg: string, cwd = process.cwd()): StackFile {
  const { stack, path } = resolveStackFile(arg, cwd);
  if (!existsSync(path))
    throw new StackFileError(
      `stack config ${path} does not exist; expected a stack name (Pulumi.<stack>.yaml) or a path`,
    );
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new StackFileError(`stack config ${path} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const raw = (doc as { config?: unknown } | null)?.config;
  if (raw === undefined || raw === null) {
    throw new StackFileError(
      `stack config ${path} has no "config:" map; expected a file like Pulumi.dev.yaml: config: with gpu-fleet:hosts and gpu-fleet:services`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new StackFileError(`stack config ${path}: "config" must be a map of keys to values`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const isSecure =
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length === 1 &&
      "secure" in value;
    if (isSecure) {
      config[key] = OFFLINE_SECRET_PLACEHOLDER;
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { stack, path, config, secretKeys };
}
