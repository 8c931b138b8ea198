/**
 * `--out DIR`: every artifact the program would send to a host, taken from the registered resources'
 * inputs — the exact text Pulumi would hand to the providers — one folder per component. Secret
 * inputs are never written.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RegisteredResource } from "./mockPreview";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

export interface Artifact {
  readonly path: string;
  readonly content: string;
}

export function collectArtifacts(resources: readonly RegisteredResource[]): Artifact[] {
  const artifacts: Artifact[] = [];
  for (const r of resources) {
    const dir = r.parent ?? r.name;
    const add = (suffix: string, value: unknown) => {
      if (typeof value === "string" && !isSecretValue(value))
        artifacts.push({ path: join(dir, `${r.name}.${suffix}`), content: value });
    };
    if (r.type === "command:remote:Command") {
      add("create.sh", r.inputs.create);
      add("delete.sh", r.inputs.delete);
      const stdin = r.inputs.stdin;
      if (typeof stdin === "string" && stdin.trimStart().startsWith("{")) add("stdin.json", stdin);
    }
    if (r.type === "aws:ec2/instance:Instance") add("user-data.yaml", r.inputs.userData);
  }
  return artifacts;
}

export function writeArtifacts(dir: string, artifacts: readonly Artifact[]): void {
  for (const a of artifacts) {
    const path = join(dir, a.path);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, a.content, { mode: a.path.endsWith(".sh") ? 0o755 : 0o644 });
  }
}
