// Runs the real tools that consume the rendered files, on files written to a temp directory.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
}

export function runTool(command: string, args: readonly string[], cwd: string): ToolResult {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes files (path relative to the new temp dir → content) and returns the dir. */
export function writeTree(files: Record<string, string>, prefix = "gpu-fleet-obs-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/**
 * Runs `yamllint -d relaxed` and returns its status and every problem other than the line-length
 * warnings our one-line PromQL and alert texts cause (see renderers/observability/yaml.ts).
 */
export function yamllintRelaxed(files: readonly string[], cwd: string): { status: number | null; problems: string[] } {
  const result = runTool("yamllint", ["-d", "relaxed", "-f", "parsable", ...files], cwd);
  const problems = result.output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => !/: \[warning\] line too long \(\d+ > 80 characters\) \(line-length\)$/.test(line));
  return { status: result.status, problems };
}
