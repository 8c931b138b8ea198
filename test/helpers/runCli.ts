/** Runs one of the project's CLIs the way `npm run` does (tsx), capturing exit code and output. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");

export function runCli(
  script: string,
  args: readonly string[],
  cwd = ROOT,
): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, script), ...args],
    {
      cwd,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
