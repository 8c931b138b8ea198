/**
 * `--out DIR`: every artifact the program would send to a host, taken from the registered resources'
 * inputs — the exact text Pulumi would hand to the providers — one folder per component. The files a
 * script writes onto the host from here-documents (the Prometheus config, alert rules, Grafana
 * provisioning and dashboards) are also written on their own, under `<resource>.files/` at their
 * path on the host, so their own validators can read them. Secret inputs are never written; an input
 * that is secret or still unknown is named in the plan (`unrendered`), never silently skipped.
 *
 * A directory is only reused when an earlier `--out` wrote it: the manifest it leaves lists its
 * files, and those (and only those) are removed before the new ones are written, so nothing stale
 * from another stack survives and nothing else in the directory is touched.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, normalize, resolve, sep } from "node:path";
import { isUnknown } from "../policies/resource";
import type { RegisteredResource } from "./mockPreview";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Lists what `--out` wrote; its presence is what makes a non-empty directory reusable. */
export const MANIFEST = ".gpu-fleet-out.json";

export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

export interface Artifact {
  readonly path: string;
  readonly content: string;
}

export interface Unrendered {
  /** Where the file would be under `--out`. */
  readonly path: string;
  readonly resource: string;
  /** The resource input it would hold. */
  readonly input: string;
  readonly reason: "secret" | "unknown";
}

export interface CollectedArtifacts {
  readonly artifacts: Artifact[];
  readonly unrendered: Unrendered[];
}

/** One file per write_file here-document of renderWriteFilesScript (renderers/host/files.ts). */
export function filesWrittenByScript(script: string): Artifact[] {
  const files: Artifact[] = [];
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^write_file '(\/[^']+)' <<'(GPU_FLEET_EOF_[0-9a-f]+)'$/.exec(lines[i]);
    if (!m) continue;
    const end = lines.indexOf(m[2], i + 1);
    if (end < 0) throw new Error(`write_file ${m[1]}: here-document ${m[2]} is not closed`);
    files.push({ path: m[1].slice(1), content: lines.slice(i + 1, end).join("\n") + "\n" });
    i = end;
  }
  return files;
}

export function collectArtifacts(resources: readonly RegisteredResource[]): CollectedArtifacts {
  const artifacts: Artifact[] = [];
  const unrendered: Unrendered[] = [];
  for (const r of resources) {
    const dir = r.parent ?? r.name;
    const add = (input: string, suffix: string, required: boolean): string | undefined => {
      const value = r.inputs[input];
      const path = join(dir, `${r.name}.${suffix}`);
      if (isSecretValue(value)) unrendered.push({ path, resource: r.name, input, reason: "secret" });
      else if (isUnknown(value) || (required && value === undefined))
        unrendered.push({ path, resource: r.name, input, reason: "unknown" });
      else if (typeof value === "string") {
        artifacts.push({ path, content: value });
        return value;
      }
      return undefined;
    };
    if (r.type === "command:remote:Command") {
      const create = add("create", "create.sh", true);
      for (const f of create ? filesWrittenByScript(create) : [])
        artifacts.push({ path: join(dir, `${r.name}.files`, f.path), content: f.content });
      add("delete", "delete.sh", false);
      const stdin = r.inputs.stdin;
      // Data on stdin (the ledger) is written; a secret on stdin is named, never written.
      if (typeof stdin === "string" && stdin.trimStart().startsWith("{")) add("stdin", "stdin.json", false);
      else if (stdin !== undefined) add("stdin", "stdin", false);
    }
    if (r.type === "aws:ec2/instance:Instance") add("userData", "user-data.yaml", true);
  }
  return { artifacts, unrendered };
}

export class OutDirError extends Error {}

/**
 * Refuses, before anything runs, an `--out` that is a file, or a non-empty directory no earlier
 * `--out` wrote. Returns the files the earlier run wrote (to be replaced).
 */
export function checkOutDir(dir: string): string[] {
  if (!existsSync(dir)) {
    // It will be created: what exists of its path must be directories.
    let up = dirname(resolve(dir));
    while (!existsSync(up)) up = dirname(up);
    if (!statSync(up).isDirectory())
      throw new OutDirError(`--out ${dir}: ${up} is a file, so the directory cannot be created`);
    return [];
  }
  if (!statSync(dir).isDirectory())
    throw new OutDirError(`--out ${dir}: is a file; expected a directory (new, empty, or written by an earlier --out)`);
  const manifest = join(dir, MANIFEST);
  if (!existsSync(manifest)) {
    if (readdirSync(dir).length === 0) return [];
    throw new OutDirError(
      `--out ${dir}: is not empty and has no ${MANIFEST}, so an earlier --out did not write it; choose a new or empty directory`,
    );
  }
  let listed: unknown;
  try {
    listed = (JSON.parse(readFileSync(manifest, "utf8")) as { files?: unknown }).files;
  } catch {
    listed = undefined;
  }
  const inside = (p: unknown): p is string =>
    typeof p === "string" && p !== "" && !p.startsWith("/") && !normalize(p).split(sep).includes("..");
  if (!Array.isArray(listed) || !listed.every(inside))
    throw new OutDirError(
      `--out ${dir}: ${MANIFEST} is not a list of files inside the directory; remove it or choose another directory`,
    );
  return listed;
}

/** Removes the earlier run's files (and the folders they leave empty), then writes these and the manifest. */
export function writeArtifacts(dir: string, artifacts: readonly Artifact[], previous: readonly string[] = []): void {
  for (const p of previous) {
    const path = join(dir, p);
    if (existsSync(path)) unlinkSync(path);
    for (let d = dirname(path); d.startsWith(join(dir, sep)) && readdirSync(d).length === 0; d = dirname(d))
      rmdirSync(d);
  }
  for (const a of artifacts) {
    const path = join(dir, a.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, a.content, { mode: a.path.endsWith(".sh") ? 0o755 : 0o644 });
  }
  const files = artifacts.map((a) => a.path).sort();
  writeFileSync(join(dir, MANIFEST), JSON.stringify({ writtenBy: "npm run plan -- --out", files }, null, 2) + "\n");
}
