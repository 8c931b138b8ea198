/**
 * npx tsx scripts/prComment.ts [--base-ref REF | --base-dir DIR] [--stacks DIR] [--out-dir DIR] [--commit SHA]
 *
 * The body of the pull-request comment .github/workflows/preview.yml posts: the offline plan of
 * every Pulumi.*.yaml in DIR (default: the current directory) as Markdown, under one summary table
 * with each stack's exit code. `--base-ref REF` plans the stacks of the merge base of REF and HEAD
 * (what the pull request's diff starts from) with that commit's own code (exported with
 * `git archive`, run with this checkout's node_modules) and diffs each stack against its base plan;
 * `--base-dir` takes those plans ready-made (`<stack>.json`, from `npm run plan -- <stack> --json`).
 * `--commit` defaults to the checkout's HEAD. The workflow runs
 * `npx tsx scripts/prComment.ts --base-ref origin/<base branch> --out-dir plan-out` on the pull
 * request's head, so the same command on that commit writes the same body. Every stack's `--out`
 * files go to `--out-dir/<stack>` (default: a temporary directory), which the workflow uploads.
 * Prints the body on stdout; exits 0 when every plan exited 0, 1 otherwise, 2 for bad arguments.
 * The body starts with COMMENT_MARKER, which is how the workflow finds its own comment to update
 * instead of adding a new one per push.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BasePlanError, parseBasePlan } from "../plan/diff";

export const COMMENT_MARKER = "<!-- gpu-fleet-plan-comment -->";

/** GitHub refuses comment bodies over 65,536 characters; leave room for the notice that replaces the plans. */
export const MAX_COMMENT_CHARS = 65_000;

const ROOT = join(__dirname, "..");
const USAGE =
  "usage: npx tsx scripts/prComment.ts [--base-ref REF | --base-dir DIR] [--stacks DIR] [--out-dir DIR] [--commit SHA]";
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

export interface StackResult {
  readonly stack: string;
  /** The plan's exit code; null when it did not exit (killed, timed out). */
  readonly code: number | null;
  /** `--format md` output (empty on exit 2). */
  readonly markdown: string;
  /** stderr, with the stacks directory's path removed. */
  readonly stderr: string;
  readonly hourlyUsd: number | null;
  readonly baseHourlyUsd: number | null;
  /** Why the base plan was not used, when it was not (missing, unreadable). */
  readonly baseNote: string;
}

const MEANING: Record<number, string> = {
  0: "✅ fine",
  1: "❌ a mandatory check failed",
  2: "❌ invalid input",
};

const usd = (n: number) => `$${n.toFixed(3)}/h`;

/** A fence longer than any run of backticks in the text, so nothing in it can close the block. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text.trimEnd()}\n${fence}`;
}

function costChange(r: StackResult): string {
  if (r.hourlyUsd === null) return "—";
  if (r.baseHourlyUsd === null) return r.baseNote;
  const d = Math.round((r.hourlyUsd - r.baseHourlyUsd) * 1e6) / 1e6;
  return d === 0 ? "no change" : `${d > 0 ? "+" : "-"}${usd(Math.abs(d))}`;
}

export interface CommentContext {
  /** The commit planned (the pull request's head). */
  commit?: string;
  /** The base the plans are compared with: the ref given and its merge base with HEAD. */
  base?: { ref: string; sha: string };
  /** Stacks the base has and this change deletes (their environments would be left to destroy by hand). */
  removedStacks?: readonly string[];
}

/** The comment body for these results, in stack order. Pure: the tests check it exactly. */
export function composeComment(results: readonly StackResult[], context: CommentContext = {}): string {
  const { commit, base, removedStacks = [] } = context;
  const failed = results.filter((r) => r.code !== 0);
  const head = [
    COMMENT_MARKER,
    "# gpu-fleet plan",
    "",
    `${failed.length === 0 ? "✅" : "❌"} ${results.length} stack${results.length === 1 ? "" : "s"} planned offline${commit ? ` at ${commit.slice(0, 12)}` : ""}; ${failed.length === 0 ? "every plan exited 0" : `${failed.length} exited non-zero, so this check fails`}.`,
    "",
    "| Stack | Exit | Result | On-demand cost | Against the base |",
    "|---|---:|---|---:|---|",
    ...results.map(
      (r) =>
        `| \`${r.stack}\` | ${r.code ?? "none"} | ${r.code !== null && MEANING[r.code] ? MEANING[r.code] : "❌ the plan crashed"} | ${r.hourlyUsd === null ? "—" : usd(r.hourlyUsd)} | ${costChange(r)} |`,
    ),
    "",
    ...(base ? [`Compared with \`${base.sha.slice(0, 12)}\`, the merge base with \`${base.ref}\`.`, ""] : []),
    ...(removedStacks.length > 0
      ? [
          `⚠️ Removed in this change: ${removedStacks.map((s) => `\`${s}\``).join(", ")} (the stack file is gone; its resources stay until \`pulumi destroy\`).`,
          "",
        ]
      : []),
    "Exit codes: 0 fine, 1 a mandatory check failed, 2 invalid input (docs/plan-json.md).",
    `Reproduce locally: \`npx tsx scripts/prComment.ts${base ? ` --base-ref ${base.ref === base.sha ? base.sha.slice(0, 12) : base.ref}` : ""}\``,
  ].join("\n");
  const sections = results.map((r) => {
    if ((r.code === 0 || r.code === 1) && r.markdown.trim() !== "") return r.markdown.trimEnd();
    const what =
      r.code === 2
        ? "invalid input; nothing was planned"
        : r.code === 1
          ? "the program failed before the plan could be printed"
          : "the plan did not finish";
    return [`## gpu-fleet plan: \`${r.stack}\``, "", `Exit ${r.code ?? "none"}: ${what}.`, "", fenced(r.stderr)].join(
      "\n",
    );
  });
  const body = `${head}\n\n${sections.join("\n\n")}\n`;
  if (body.length <= MAX_COMMENT_CHARS) return body;
  return `${head}\n\nThe plans are longer than a comment may be (${body.length.toLocaleString("en-US")} characters); each stack's Markdown and \`--out\` files are in this run's \`plan-out\` artifact.\n`;
}

/** Stack names of every Pulumi.<stack>.yaml in dir, sorted. */
export function stackFiles(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function readBase(
  baseDir: string | undefined,
  stack: string,
): { path?: string; hourlyUsd: number | null; note: string } {
  if (!baseDir) return { hourlyUsd: null, note: "no base plans given" };
  const path = join(baseDir, `${stack}.json`);
  if (!existsSync(path) || readFileSync(path, "utf8").trim() === "")
    return { hourlyUsd: null, note: "no base plan (new stack, or invalid on the base branch)" };
  try {
    const base = parseBasePlan(JSON.parse(readFileSync(path, "utf8")), `${stack}.json`);
    return { path, hourlyUsd: base.hourlyUsd, note: "" };
  } catch (e) {
    const why = e instanceof BasePlanError ? e.message : "not JSON";
    return { hourlyUsd: null, note: `base plan unreadable (${why.replace(/\|/g, "\\|")})` };
  }
}

export function planStack(stacksDir: string, stack: string, outDir: string, baseDir?: string): StackResult {
  const base = readBase(baseDir, stack);
  const out = join(outDir, stack);
  const args = [join(stacksDir, `Pulumi.${stack}.yaml`), "--format", "md", "--out", out];
  if (base.path) args.push("--base", base.path);
  const r = spawnSync(process.execPath, [TSX, join(ROOT, "cli", "plan.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 300_000,
  });
  const planJson = join(out, "plan.json");
  const hourlyUsd =
    (r.status === 0 || r.status === 1) && existsSync(planJson)
      ? (JSON.parse(readFileSync(planJson, "utf8")) as { hourlyUsd: number }).hourlyUsd
      : null;
  return {
    stack,
    code: r.status,
    markdown: r.stdout ?? "",
    stderr: (r.stderr ?? "").split(`${stacksDir}/`).join(""),
    hourlyUsd,
    baseHourlyUsd: base.hourlyUsd,
    baseNote: base.note,
  };
}

export class BaseRefError extends Error {}

/**
 * Plans these stacks as the base commit has them, with the base commit's code, into a new directory
 * of `<stack>.json`. The tree comes from `git archive` (nothing in the repository changes); a stack
 * whose base plan is invalid (exit 2) gets no file.
 */
export function basePlansFromRef(
  ref: string,
  stacks: readonly string[],
): { dir: string; sha: string; removedStacks: string[] } {
  const mergeBase = spawnSync("git", ["merge-base", ref, "HEAD"], { cwd: ROOT, encoding: "utf8" });
  if (mergeBase.status !== 0)
    throw new BaseRefError(
      `--base-ref ${ref}: no merge base with HEAD (${mergeBase.stderr.trim() || "unrelated histories"}); fetch the base branch first`,
    );
  const sha = mergeBase.stdout.trim();
  const tree = mkdtempSync(join(tmpdir(), "gpu-fleet-base-tree-"));
  const archive = spawnSync("git", ["archive", "--format=tar", sha], { cwd: ROOT, maxBuffer: 1 << 30 });
  if (archive.status !== 0)
    throw new BaseRefError(`--base-ref ${ref}: git archive failed: ${archive.stderr.toString().trim()}`);
  const untar = spawnSync("tar", ["-x", "-C", tree], { input: archive.stdout });
  if (untar.status !== 0) throw new BaseRefError(`--base-ref ${ref}: tar failed: ${untar.stderr.toString().trim()}`);
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
  const plans = mkdtempSync(join(tmpdir(), "gpu-fleet-base-plans-"));
  const inBase = new Set(stackFiles(tree));
  for (const stack of stacks.filter((s) => inBase.has(s))) {
    const r = spawnSync(process.execPath, [TSX, join(tree, "cli", "plan.ts"), stack, "--json"], {
      cwd: tree,
      encoding: "utf8",
      timeout: 300_000,
    });
    if ((r.status === 0 || r.status === 1) && r.stdout.trim() !== "")
      writeFileSync(join(plans, `${stack}.json`), r.stdout);
  }
  rmSync(tree, { recursive: true, force: true });
  return { dir: plans, sha, removedStacks: [...inBase].filter((s) => !stacks.includes(s)).sort() };
}

function main(argv: readonly string[]): number {
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (!["--stacks", "--base-dir", "--base-ref", "--out-dir", "--commit"].includes(key) || argv[i + 1] === undefined) {
      process.stderr.write(`${key}: ${argv[i + 1] === undefined ? "needs a value" : "unknown option"}\n${USAGE}\n`);
      return 2;
    }
    opts[key] = argv[++i];
  }
  const stacksDir = resolve(opts["--stacks"] ?? ".");
  if (!existsSync(stacksDir)) {
    process.stderr.write(`--stacks ${stacksDir}: does not exist\n${USAGE}\n`);
    return 2;
  }
  const stacks = stackFiles(stacksDir);
  if (stacks.length === 0) {
    process.stderr.write(`no Pulumi.<stack>.yaml in ${stacksDir}\n`);
    return 2;
  }
  const outDir = resolve(opts["--out-dir"] ?? mkdtempSync(join(tmpdir(), "gpu-fleet-pr-")));
  if (opts["--base-dir"] && opts["--base-ref"]) {
    process.stderr.write(`--base-dir and --base-ref: give one\n${USAGE}\n`);
    return 2;
  }
  // The commit planned: the checkout's HEAD unless given, so a local run writes what CI writes.
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  const context: CommentContext = {
    commit: opts["--commit"] ?? (head.status === 0 ? head.stdout.trim() : undefined),
  };
  let baseDir = opts["--base-dir"] ? resolve(opts["--base-dir"]) : undefined;
  if (opts["--base-ref"]) {
    try {
      const base = basePlansFromRef(opts["--base-ref"], stacks);
      baseDir = base.dir;
      context.base = { ref: opts["--base-ref"], sha: base.sha };
      context.removedStacks = base.removedStacks;
    } catch (e) {
      if (!(e instanceof BaseRefError)) throw e;
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
  }
  const results = stacks.map((s) => planStack(stacksDir, s, outDir, baseDir));
  process.stdout.write(composeComment(results, context));
  return results.every((r) => r.code === 0) ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
