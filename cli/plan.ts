/**
 * npm run plan -- <stack|path> [--json] [--out DIR] [--format text|md] [--base FILE]
 *
 * Plans a stack offline: validates its config, evaluates the real stack program under Pulumi's mock
 * runtime in preview mode, runs the policies over what it registered, and prints the GPU map.
 * Exit 0: fine; 1: a mandatory check failed; 2: invalid input (nothing registered). `--base FILE`
 * (a `--json` plan, e.g. of the base branch) adds the changes against it to the Markdown. The JSON
 * contract and the exit codes are in docs/plan-json.md.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, PRICE_REGION, regionPricing } from "../fleet";
import { observabilityEndpoints } from "../renderers/observability";
import { OutDirError, checkOutDir, collectArtifacts, writeArtifacts } from "../plan/artifacts";
import { BasePlan, BasePlanError, diffPlans, parseBasePlan } from "../plan/diff";
import { PreviewResult, previewProgram } from "../plan/mockPreview";
import { renderKubernetesMarkdown, renderKubernetesText } from "../plan/kubernetesReport";
import { buildReport, renderMarkdown, renderText } from "../plan/report";
import { StackFile, StackFileError, readStackFile } from "../plan/stackFile";
import type { FleetOutputs } from "../stacks/fleet";
import { planViolations, withRefusedFindings } from "../plan/violations";
import { placeholderOutputs } from "../plan/placeholders";

const USAGE = "usage: npm run plan -- <stack|path> [--json] [--out DIR] [--format text|md] [--base FILE]";

interface Args {
  readonly target: string;
  readonly json: boolean;
  readonly out?: string;
  readonly format: "text" | "md";
  readonly base?: string;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Args {
  let target: string | undefined;
  let json = false;
  let out: string | undefined;
  let format: "text" | "md" = "text";
  let base: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (a === "--out") {
      out = argv[++i];
      if (!out) throw new UsageError("--out needs a directory");
    } else if (a === "--format") {
      const f = argv[++i];
      if (f !== "text" && f !== "md") throw new UsageError(`--format ${f ?? ""}: expected text or md`);
      format = f;
    } else if (a === "--base") {
      base = argv[++i];
      if (!base) throw new UsageError("--base needs a plan JSON file (from --json)");
    } else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else if (target === undefined) target = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!target) throw new UsageError("missing the stack name or config path");
  if (base !== undefined && (json || format !== "md"))
    throw new UsageError("--base compares plans in the Markdown: use it with --format md (not --json)");
  return { target, json, out, format, base };
}

function readBasePlan(path: string): BasePlan {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new BasePlanError(
      `--base ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not the parser's message: its wording changes between Node versions.
    throw new BasePlanError(`--base ${path}: is not JSON; expected a plan from \`npm run plan -- <stack> --json\``);
  }
  return parseBasePlan(doc, path);
}

/**
 * The stack program under Pulumi's mock runtime in preview mode, for either runtime. What `pulumi up`
 * would stop on ends the plan here: an error the program raised (often inside an apply: invalid input,
 * exit 2) or a resource name registered twice (which the engine rejects, exit 1).
 */
async function previewStack(
  file: StackFile,
  program: () => Record<string, unknown>,
  computed?: Parameters<typeof previewProgram>[1]["computed"],
): Promise<PreviewResult | number> {
  const preview = await previewProgram(program, {
    project: "gpu-fleet",
    stack: file.stack,
    config: file.config,
    secretKeys: file.secretKeys,
    computed,
  });
  const { errors, duplicates } = preview;
  if (errors.length > 0) {
    process.stderr.write(
      `the stack program raised ${errors.length === 1 ? "an error" : `${errors.length} errors`}; nothing would be deployed:\n${errors.map((e) => `  ${e}`).join("\n")}\n`,
    );
    return 2;
  }
  if (duplicates.length > 0) {
    process.stderr.write(`duplicate resource names (the Pulumi engine rejects these): ${duplicates.join(", ")}\n`);
    return 1;
  }
  return preview;
}

/**
 * A stack with `gpu-fleet:eks`: the EKS program (stacks/eks.ts) under the same mock preview, the
 * node-group GPU map with replicas and HPA ranges, $/h from min to max nodes, and the policy pack's
 * violations (kubernetes-fleet-fits runs the node-group checks on what was registered).
 */
async function planKubernetesStack(file: StackFile, args: Args): Promise<number> {
  if (args.out || args.base) {
    process.stderr.write(`--out and --base render host files and host maps; an EKS stack has neither: use --json\n`);
    return 2;
  }
  const eks = await import("../stacks/eks");
  try {
    eks.loadKubernetesStackConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`invalid stack config ${file.path}:\n${e.problems.map((p) => `  ${p}`).join("\n")}\n`);
      return 2;
    }
    throw e;
  }
  let fleet: import("../stacks/eks").KubernetesFleetOutputs | undefined;
  const preview = await previewStack(file, () => eks.kubernetesStackOutputs((fleet = eks.deployKubernetesFleet())));
  if (typeof preview === "number") return preview;
  const violations = withRefusedFindings(planViolations(preview.resources), fleet!.findings);
  const advisories = fleet!.findings.filter((f) => f.enforcement === "advisory");
  const report = {
    stack: file.stack,
    runtime: "kubernetes",
    ...eks.kubernetesGpuMap(fleet!.plan),
    resources: preview.resources.map((r) => ({ type: r.type, name: r.name })),
    violations,
    advisories,
  };
  const text = {
    stack: file.stack,
    gpuMap: eks.renderKubernetesGpuMap(fleet!.plan),
    advisories,
    resourceCount: preview.resources.length,
    violations,
  };
  if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else if (args.format === "md") process.stdout.write(renderKubernetesMarkdown(text));
  else process.stdout.write(renderKubernetesText(text, file.path));
  return violations.some((v) => v.enforcement === "mandatory") ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  // A bad --out is refused before anything runs.
  let previousOut: string[] = [];
  if (args.out) {
    try {
      previousOut = checkOutDir(args.out);
    } catch (e) {
      if (e instanceof OutDirError) {
        process.stderr.write(`${e.message}\n`);
        return 2;
      }
      throw e;
    }
  }
  let base: BasePlan | undefined;
  if (args.base) {
    try {
      base = readBasePlan(args.base);
    } catch (e) {
      if (e instanceof BasePlanError) {
        process.stderr.write(`${e.message}\n`);
        return 2;
      }
      throw e;
    }
  }
  let file;
  try {
    file = readStackFile(args.target);
  } catch (e) {
    if (e instanceof StackFileError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }

  // Validate before the program runs: invalid input registers nothing.
  pulumi.runtime.setAllConfig(file.config, file.secretKeys);
  if (file.config["gpu-fleet:eks"] !== undefined) return planKubernetesStack(file, args);
  const { loadStackConfig } = await import("../stacks/config");
  let stack;
  try {
    stack = loadStackConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`invalid stack config ${file.path}:\n${e.problems.map((p) => `  ${p}`).join("\n")}\n`);
      return 2;
    }
    throw e;
  }
  // Prices come from one region; a fleet of EC2 hosts cannot deploy without one (issue 14 item 9).
  const region = file.config["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const pricing = regionPricing(
    region,
    stack.hosts.some((h) => !h.existing),
  );
  if (pricing.problem) {
    process.stderr.write(`invalid stack config ${file.path}:\n  ${pricing.problem}\n`);
    return 2;
  }
  const { deployFleet, stackOutputs } = await import("../stacks/fleet");
  // The program plans the fleet itself; the report shows that very plan.
  let fleet: FleetOutputs | undefined;
  const filled = placeholderOutputs();
  const preview = await previewStack(file, () => stackOutputs((fleet = deployFleet())), filled.computed);
  if (typeof preview === "number") return preview;
  const plan = fleet!.plan;
  const tokens = filled.placeholders.map((p) => p.token);
  const violations = withRefusedFindings(planViolations(preview.resources, stack.maxHourlyUsd, tokens), plan.findings);
  const collected = collectArtifacts(preview.resources);
  const observability = stack.observability.enabled
    ? observabilityEndpoints({
        // An existing machine is reached as its config says: its user and SSH port.
        hosts: plan.hosts.map((h) => ({
          name: h.name,
          address: h.config.existing?.address,
          sshUser: h.config.existing?.user,
          sshPort: h.config.existing?.port,
        })),
        observabilityHost: stack.observability.host,
        bind: stack.observability.bind,
      })
    : null;
  const report = {
    ...buildReport(file.stack, plan, preview.resources, violations, observability, {
      placeholders: filled.placeholders,
      ...collected,
    }),
    priceRegion: PRICE_REGION,
    ...(pricing.note ? { priceNote: pricing.note } : {}),
  };

  if (args.out) {
    try {
      writeArtifacts(
        args.out,
        [...collected.artifacts, { path: "plan.json", content: JSON.stringify(report, null, 2) + "\n" }],
        previousOut,
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (!err.code) throw e;
      // The file system refused (permissions, a full disk, a directory where a file was listed).
      process.stderr.write(`--out ${args.out}: ${err.code} on ${err.path ?? "a file"}; nothing more was written\n`);
      return 2;
    }
  }
  if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else
    process.stdout.write(
      args.format === "md"
        ? renderMarkdown(report, base ? diffPlans(base, report) : undefined)
        : renderText(report, file.path),
    );
  return violations.some((v) => v.enforcement === "mandatory") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`plan failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
