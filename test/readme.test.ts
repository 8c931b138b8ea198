import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** The commands of the README's quick start block (comments stripped). */
function quickStartCommands(): string[] {
  const section = readme.split("## Quick start")[1].split("```sh")[1].split("```")[0];
  return section
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter(Boolean);
}

describe("the README's quick start", () => {
  it("is exactly two commands: set-up and plan of the dev stack, then the tests", () => {
    expect(quickStartCommands()).toEqual(["npm ci && npm run plan -- dev", "npm test"]);
  });

  it("names scripts that exist, and CI runs the same test command", () => {
    expect(pkg.scripts.plan).toBe("tsx cli/plan.ts");
    expect(pkg.scripts.test).toBe("prettier --check . && tsc -p tsconfig.json --noEmit && vitest run");
    const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    expect(ci).toContain("npm ci --no-audit --no-fund");
    expect(ci).toMatch(/^npm test 2>&1 \| tee "\$log"$/m);
  });

  it("documents every npm script a reader is told to run", () => {
    for (const [, script] of readme.matchAll(/npm run ([a-z:]+)/g)) expect(pkg.scripts, script).toHaveProperty(script);
  });
});
