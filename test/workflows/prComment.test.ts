/**
 * scripts/prComment.ts writes the body of the one plan comment the preview workflow posts; these are
 * its exact outputs: the summary with each stack's exit code, each plan's Markdown, an invalid stack's
 * error, the base comparison, and the fallback when the body would be too long for GitHub.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMENT_MARKER, MAX_COMMENT_CHARS, StackResult, composeComment } from "../../scripts/prComment";
import { ROOT, runCli } from "../helpers/runCli";

// --base-ref and the default --commit read the repository: CI runs from a git checkout (actions/checkout).
const gitHead = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
const inGitCheckout = gitHead.status === 0;
const headSha = gitHead.stdout.trim();

const result = (over: Partial<StackResult>): StackResult => ({
  stack: "dev",
  code: 0,
  markdown: "## gpu-fleet plan: `dev`\n\nthe plan\n",
  stderr: "",
  hourlyUsd: 1.006,
  baseHourlyUsd: 1.006,
  baseNote: "",
  ...over,
});

describe("composeComment", () => {
  it("summarises every stack's exit code and cost change, then each plan, an invalid one with its error", () => {
    const body = composeComment(
      [
        result({ stack: "a100", hourlyUsd: 27.44705, baseHourlyUsd: null, baseNote: "no base plan (new stack)" }),
        result({
          stack: "bad",
          code: 2,
          markdown: "",
          hourlyUsd: null,
          stderr: "invalid stack config Pulumi.bad.yaml:\n  x: ``` y\n",
        }),
        result({ stack: "dev", hourlyUsd: 2.012 }),
        result({ stack: "over", code: 1, markdown: "## gpu-fleet plan: `over`\n\nviolations\n", baseHourlyUsd: 2.012 }),
        result({ stack: "slow", code: null, markdown: "", hourlyUsd: null, stderr: "" }),
        result({
          stack: "twice",
          code: 1,
          markdown: "",
          hourlyUsd: null,
          stderr: "duplicate resource names (the Pulumi engine rejects these): command:remote:Command::x\n",
        }),
      ],
      {
        removedStacks: ["old"],
        commit: "0123456789abcdef0123456789abcdef01234567",
        base: { ref: "origin/main", sha: "fedcba9876543210fedcba9876543210fedcba98" },
      },
    );
    expect(body).toBe(`<!-- gpu-fleet-plan-comment -->
# gpu-fleet plan

❌ 6 stacks planned offline at 0123456789ab; 4 exited non-zero, so this check fails.

| Stack | Exit | Result | On-demand cost | Against the base |
|---|---:|---|---:|---|
| \`a100\` | 0 | ✅ fine | $27.447/h | no base plan (new stack) |
| \`bad\` | 2 | ❌ invalid input | — | — |
| \`dev\` | 0 | ✅ fine | $2.012/h | +$1.006/h |
| \`over\` | 1 | ❌ a mandatory check failed | $1.006/h | -$1.006/h |
| \`slow\` | none | ❌ the plan crashed | — | — |
| \`twice\` | 1 | ❌ a mandatory check failed | — | — |

Compared with \`fedcba987654\`, the merge base with \`origin/main\`.

⚠️ Removed in this change: \`old\` (the stack file is gone; its resources stay until \`pulumi destroy\`).

Exit codes: 0 fine, 1 a mandatory check failed, 2 invalid input (docs/plan-json.md).
Reproduce locally: \`npx tsx scripts/prComment.ts --base-ref origin/main\`

## gpu-fleet plan: \`dev\`

the plan

## gpu-fleet plan: \`bad\`

Exit 2: invalid input; nothing was planned.

\`\`\`\`text
invalid stack config Pulumi.bad.yaml:
  x: \`\`\` y
\`\`\`\`

## gpu-fleet plan: \`dev\`

the plan

## gpu-fleet plan: \`over\`

violations

## gpu-fleet plan: \`slow\`

Exit none: the plan did not finish.

\`\`\`text

\`\`\`

## gpu-fleet plan: \`twice\`

Exit 1: the program failed before the plan could be printed.

\`\`\`text
duplicate resource names (the Pulumi engine rejects these): command:remote:Command::x
\`\`\`
`);
  });

  it("keeps only the summary when the plans are longer than GitHub allows a comment", () => {
    const body = composeComment([result({ markdown: "x".repeat(MAX_COMMENT_CHARS) })]);
    expect(body).toBe(`<!-- gpu-fleet-plan-comment -->
# gpu-fleet plan

✅ 1 stack planned offline; every plan exited 0.

| Stack | Exit | Result | On-demand cost | Against the base |
|---|---:|---|---:|---|
| \`dev\` | 0 | ✅ fine | $1.006/h | no change |

Exit codes: 0 fine, 1 a mandatory check failed, 2 invalid input (docs/plan-json.md).
Reproduce locally: \`npx tsx scripts/prComment.ts\`

The plans are longer than a comment may be (65,369 characters); each stack's Markdown and \`--out\` files are in this run's \`plan-out\` artifact.
`);
    expect(body.startsWith(COMMENT_MARKER)).toBe(true);
  });
});

describe("npx tsx scripts/prComment.ts", () => {
  it("plans every stack file, diffs against --base-dir, writes each --out, exits 1 when one plan fails", () => {
    const stacks = mkdtempSync(join(tmpdir(), "gpu-fleet-pr-stacks-"));
    copyFileSync(join(ROOT, "Pulumi.dev.yaml"), join(stacks, "Pulumi.dev.yaml"));
    writeFileSync(join(stacks, "Pulumi.bad.yaml"), "config:\n  gpu-fleet:servces: []\n");
    writeFileSync(join(stacks, "README.md"), "not a stack\n");
    const baseDir = mkdtempSync(join(tmpdir(), "gpu-fleet-pr-base-"));
    const devBase = JSON.parse(runCli("cli/plan.ts", ["dev", "--json"]).stdout);
    devBase.hourlyUsd = 0.5;
    writeFileSync(join(baseDir, "dev.json"), JSON.stringify(devBase));
    const outDir = mkdtempSync(join(tmpdir(), "gpu-fleet-pr-out-"));
    const r = runCli("scripts/prComment.ts", ["--stacks", stacks, "--base-dir", baseDir, "--out-dir", outDir]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const devMd = runCli("cli/plan.ts", [
      join(stacks, "Pulumi.dev.yaml"),
      "--format",
      "md",
      "--base",
      join(baseDir, "dev.json"),
    ]);
    const badErr = runCli("cli/plan.ts", [join(stacks, "Pulumi.bad.yaml")])
      .stderr.split(`${stacks}/`)
      .join("");
    expect(badErr).toMatch(/^invalid stack config Pulumi\.bad\.yaml:\n  gpu-fleet:servces: /);
    expect(r.stdout).toBe(`<!-- gpu-fleet-plan-comment -->
# gpu-fleet plan

❌ 2 stacks planned offline${inGitCheckout ? ` at ${headSha.slice(0, 12)}` : ""}; 1 exited non-zero, so this check fails.

| Stack | Exit | Result | On-demand cost | Against the base |
|---|---:|---|---:|---|
| \`bad\` | 2 | ❌ invalid input | — | — |
| \`dev\` | 0 | ✅ fine | $1.006/h | +$0.506/h |

Exit codes: 0 fine, 1 a mandatory check failed, 2 invalid input (docs/plan-json.md).
Reproduce locally: \`npx tsx scripts/prComment.ts\`

## gpu-fleet plan: \`bad\`

Exit 2: invalid input; nothing was planned.

\`\`\`text
${badErr.trimEnd()}
\`\`\`

${devMd.stdout}`);
    expect(devMd.stdout).toContain("| On-demand cost | $0.500/h | $1.006/h | +$0.506/h |");
    expect(readdirSync(outDir)).toEqual(["dev"]);
    expect(JSON.parse(readFileSync(join(outDir, "dev", "plan.json"), "utf8")).hourlyUsd).toBe(1.006);
  });

  it.skipIf(!inGitCheckout)(
    "with --base-ref, plans the merge base's stacks with its own code and names the stacks removed",
    () => {
      const stacks = mkdtempSync(join(tmpdir(), "gpu-fleet-pr-stacks-"));
      copyFileSync(join(ROOT, "Pulumi.dev.yaml"), join(stacks, "Pulumi.dev.yaml"));
      const head = headSha;
      const r = runCli("scripts/prComment.ts", ["--stacks", stacks, "--base-ref", "HEAD"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Compared with \`${head.slice(0, 12)}\`, the merge base with \`HEAD\`.\n`);
      expect(r.stdout).toContain("Reproduce locally: `npx tsx scripts/prComment.ts --base-ref HEAD`\n");
      expect(r.stdout).toContain("### Changes against the base plan\n");
      // HEAD has Pulumi.a100.yaml and Pulumi.eks.yaml; the stacks directory given here has neither.
      expect(r.stdout).toContain(
        "⚠️ Removed in this change: `a100`, `eks` (the stack file is gone; its resources stay until `pulumi destroy`).\n",
      );
    },
  );

  it("exits 2 naming a ref without a merge base, and an unknown option", () => {
    const bad = runCli("scripts/prComment.ts", ["--base-ref", "no-such-ref-xyz"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "--base-ref no-such-ref-xyz: no merge base with HEAD (fatal: Not a valid object name no-such-ref-xyz); fetch the base branch first\n",
    );
    const opt = runCli("scripts/prComment.ts", ["--base", "x"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe(
      "--base: unknown option\nusage: npx tsx scripts/prComment.ts [--base-ref REF | --base-dir DIR] [--stacks DIR] [--out-dir DIR] [--commit SHA]\n",
    );
  });
});
