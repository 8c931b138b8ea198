/**
 * Runs the real stack program under Pulumi's mock runtime in preview mode, as `pulumi preview` would:
 * values providers compute (IDs, IPs) stay unknown, invokes must be answered by a mock or fail, and
 * every registration is recorded with its inputs and parent. The mock monitor silently overwrites a
 * resource registered twice under one URN; the real engine fails, so duplicates are reported here.
 *
 * An error thrown inside an `apply` (a component checking a value only known then) rejects that Output;
 * every resource taking it fails to register, and nothing awaits those registrations: the runtime
 * drops the error and leaves promises pending. `pulumi up` would print it and fail. The preview
 * collects every such error (and any from the program itself) in `errors`, so the plan can refuse.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource; null for children of the stack itself. */
  readonly parent: string | null;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
}

export interface PreviewResult {
  readonly resources: RegisteredResource[];
  readonly duplicates: string[];
  readonly outputs: Record<string, unknown> | undefined;
  /** Distinct messages of the errors the program raised, in the order they surfaced; empty when none. */
  readonly errors: string[];
}

/** The runtime wraps an input's error once per property that carried it; the cause is what to show. */
function rootMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^(error serializing property "[^"]*": )+/, "");
}

/** Invokes a preview may make, answered the way AWS would. Anything else is an error. */
export type InvokeMocks = Record<string, (args: Record<string, unknown>) => Record<string, unknown>>;

export const DEFAULT_INVOKES: InvokeMocks = {
  // The latest DLAMI id is looked up at deploy time; offline any well-formed id stands for it.
  "aws:ssm/getParameter:getParameter": (args) => ({
    name: args.name,
    type: "String",
    value: "ami-0offline0preview0",
    insecureValue: "ami-0offline0preview0",
  }),
};

const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

function nameFromUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The parent's name from its URN; null for the stack itself (or no parent). */
function parentName(parentUrn: string): string | null {
  return parentUrn === "" || parentUrn.includes("::pulumi:pulumi:Stack::") ? null : nameFromUrn(parentUrn);
}

export async function previewProgram(
  program: () => Record<string, unknown> | void,
  options: {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys: string[];
    invokes?: InvokeMocks;
    /**
     * Outputs a provider computes, given as known values: (type, name, parent) → extra state. The
     * plan fills EC2 addresses with placeholders this way so every artifact renders (plan/placeholders.ts).
     */
    computed?: (type: string, name: string, parent: string | null) => Record<string, unknown>;
  },
): Promise<PreviewResult> {
  const invokes = options.invokes ?? DEFAULT_INVOKES;
  const seen = new Map<string, number>();
  const inputsByKey = new Map<string, Record<string, unknown>>();

  pulumi.runtime.setAllConfig(options.config, options.secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        inputsByKey.set(key, args.inputs);
        // Preview: no IDs, and outputs the provider computes stay unknown (only inputs echo back),
        // unless the caller gives them (as placeholders).
        const extra = options.computed?.(args.type, args.name, parentName(parents.get(key) ?? "")) ?? {};
        return { id: undefined, state: { ...args.inputs, ...extra } };
      },
      call(args) {
        const answer = invokes[args.token];
        if (!answer) throw new Error(`no offline answer for invoke ${args.token}; add one to the plan's invoke mocks`);
        return answer(args.inputs);
      },
    },
    options.project,
    options.stack,
    true,
  );

  // Capture each registration's parent URN: the mock interface does not pass it on.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: { getParent(): string; getType(): string; getName(): string }, cb: unknown): void;
    getRegisteredResources(): Map<string, { urn: string }>;
  };
  const parents = new Map<string, string>();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    parents.set(`${req.getType()}::${req.getName()}`, req.getParent());
    register(req, cb);
  };

  const errors: string[] = [];
  const record = (error: unknown) => {
    const message = rootMessage(error);
    if (!errors.includes(message)) errors.push(message);
  };
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = (await pulumi.runtime.runInPulumiStack(async () => program() ?? {})) as typeof outputs;
    await settings.waitForRPCs();
  } catch (e) {
    record(e);
  } finally {
    // Rejections nobody awaited are reported on the turns after the one they happened in.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", record);
    process.off("uncaughtException", record);
  }

  const resources: RegisteredResource[] = [];
  for (const { urn } of monitor.getRegisteredResources().values()) {
    const type = urn.split("::")[2].split("$").pop()!;
    const name = nameFromUrn(urn);
    if (type === "pulumi:pulumi:Stack") continue;
    const key = `${type}::${name}`;
    resources.push({
      urn,
      type,
      name,
      parent: parentName(parents.get(key) ?? ""),
      custom: !type.startsWith("gpu-fleet:"),
      inputs: inputsByKey.get(key) ?? {},
    });
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([key]) => key);
  return { resources, duplicates, outputs, errors };
}
