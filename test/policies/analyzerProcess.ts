/**
 * Starts the policy pack the way the Pulumi CLI does and talks to it over the analyzer protocol.
 *
 * The CLI's `pulumi-analyzer-policy` plugin runs `node <pack>/node_modules/@pulumi/pulumi/cmd/run-policy-pack
 * <engine-address> .` with the pack directory as working directory (pkg/resource/plugin/analyzer_plugin.go);
 * run-policy-pack drops the engine address, registers ts-node (type-checking, with the project's
 * TypeScript) and requires the directory, i.e. package.json's main. Constructing the PolicyPack
 * serves the Analyzer service on 127.0.0.1 and prints the port on stdout, which the CLI reads.
 * Requests are built as the engine marshals them: unknowns as the string sentinel, secrets as
 * signature objects, and resource options always present.
 */
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

export const POLICIES_DIR = path.resolve(__dirname, "../../policies");
const RUN_POLICY_PACK = path.dirname(require.resolve("@pulumi/pulumi/cmd/run-policy-pack"));
const START_TIMEOUT_MS = 60_000;

/** The engine's wire form of a value it does not know yet, and of a secret. */
export const WIRE_UNKNOWN = unknownValue;
export const wireSecret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

export interface WireResource {
  readonly type: string;
  readonly name: string;
  /** As marshalled by the engine: plain JSON with WIRE_UNKNOWN and wireSecret(...) where they apply. */
  readonly props: Record<string, unknown>;
  readonly parent?: string;
}

export interface Diagnostic {
  readonly policy: string;
  readonly enforcement: "advisory" | "mandatory" | "disabled" | "remediate";
  readonly message: string;
  readonly urn: string;
}

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;
export const levelName = (level: pb.EnforcementLevel) => LEVELS[level];

export const urnOf = (r: { type: string; name: string }) => `urn:pulumi:a100::gpu-fleet::${r.type}::${r.name}`;

const STACK_URN = "urn:pulumi:a100::gpu-fleet::pulumi:pulumi:Stack::gpu-fleet-a100";

/** Resource options as the CLI always sends them; the SDK rejects a request without them. */
function options(parent: string): pb.AnalyzerResourceOptions {
  const timeouts = new pb.AnalyzerResourceOptions.CustomTimeouts();
  return new pb.AnalyzerResourceOptions()
    .setProtect(false)
    .setIgnorechangesList([])
    .setAliasesList([])
    .setAdditionalsecretoutputsList([])
    .setCustomtimeouts(timeouts)
    .setParent(parent);
}

/** The default provider the engine attaches to a custom resource of a package. */
function providerOf(type: string): pb.AnalyzerProviderResource {
  const pkg = type.split(":")[0];
  const name = `default_${pkg === "aws" ? "7_48_0" : "1_2_1"}`;
  return new pb.AnalyzerProviderResource()
    .setType(`pulumi:providers:${pkg}`)
    .setName(name)
    .setUrn(`urn:pulumi:a100::gpu-fleet::pulumi:providers:${pkg}::${name}`)
    .setProperties(
      Struct.fromJavaScript(pkg === "aws" ? { region: "us-east-1", version: "7.48.0" } : { version: "1.2.1" }),
    );
}

export function analyzeRequest(r: WireResource): pb.AnalyzeRequest {
  return new pb.AnalyzeRequest()
    .setType(r.type)
    .setName(r.name)
    .setUrn(urnOf(r))
    .setProperties(Struct.fromJavaScript(r.props as never))
    .setOptions(options(r.parent ?? STACK_URN))
    .setProvider(providerOf(r.type));
}

export function analyzeStackRequest(resources: readonly WireResource[]): pb.AnalyzeStackRequest {
  return new pb.AnalyzeStackRequest().setResourcesList(
    resources.map((r) =>
      new pb.AnalyzerResource()
        .setType(r.type)
        .setName(r.name)
        .setUrn(urnOf(r))
        .setProperties(Struct.fromJavaScript(r.props as never))
        .setOptions(options(r.parent ?? STACK_URN))
        .setProvider(providerOf(r.type))
        .setParent(r.parent ?? STACK_URN)
        .setDependenciesList([]),
    ),
  );
}

export function diagnosticsOf(response: pb.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    enforcement: levelName(d.getEnforcementlevel()),
    message: d.getMessage(),
    urn: d.getUrn(),
  }));
}

export interface PolicyPackProcess {
  readonly port: number;
  /** Process group of the pack (the timeout wrapper leads it). */
  readonly pgid: number;
  readonly client: AnalyzerClient;
  readonly stderr: () => string;
  /** Ends the pack and waits for it; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The pack runs under coreutils `timeout` in its own process group: if this test process is killed
 * outright (no exit handler runs), the pack still dies after MAX_LIFETIME_S instead of serving
 * forever. The node command line inside is exactly the CLI's.
 */
const MAX_LIFETIME_S = 300;

/** Signals the pack's process group (timeout and node): only the processes this helper started. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone between the check and the signal.
  }
}

export async function startPolicyPack(): Promise<PolicyPackProcess> {
  const child = spawn(
    "timeout",
    ["--kill-after=5", String(MAX_LIFETIME_S), process.execPath, RUN_POLICY_PACK, "127.0.0.1:0", "."],
    {
      cwd: POLICIES_DIR,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  // An exit handler must be synchronous: SIGKILL the group if the test process ends without stop().
  const killOnExit = () => signalGroup(child, "SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the policy pack printed no port within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const line = /^(\d+)\r?\n/.exec(stdout);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the policy pack exited (${code ?? signal}) before printing its port; stderr:\n${stderr}`));
    });
  }).catch(async (e) => {
    signalGroup(child, "SIGKILL");
    await exited;
    process.removeListener("exit", killOnExit);
    throw e;
  });

  const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    port,
    pgid: child.pid!,
    client,
    stderr: () => stderr,
    async stop() {
      client.close();
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      process.removeListener("exit", killOnExit);
    },
  };
}

export const empty = () => new Empty();

/** Promise form of a unary call: rpc((cb) => client.analyze(request, cb)). */
export function rpc<Res>(
  invoke: (callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res))));
}
