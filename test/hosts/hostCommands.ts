// Shared by the host-script tests: the commands components register under Pulumi's mock runtime, and
// running them against a TestHost the way the engine would (`pulumi up` / `pulumi destroy`).
import * as pulumi from "@pulumi/pulumi";
import { SECRET_SIG, settle } from "../helpers/pulumiMocks";
import type { MockRecorder, Registration } from "../helpers/pulumiMocks";
import { RunResult, TestHost, sha256 } from "./sshHost";

/** One command.remote.Command as registered: the strings the provider would send over ssh. */
export interface HostCommand {
  name: string;
  create: string;
  /** a remote.CopyToRemote instead of a command: its source (a local path or text) and remotePath */
  copy?: { source: { path: string } | { text: string }; remotePath: string };
  delete?: string;
  stdin?: string;
  environment?: Record<string, string>;
}

function unwrapSecret(v: unknown): unknown {
  if (v && typeof v === "object" && SECRET_SIG in (v as object)) return (v as { value: unknown }).value;
  return v;
}

/** What each test host looked like right after its first provision: the baseline teardown returns to. */
export const afterProvision = new WeakMap<TestHost, string[]>();

/** `pulumi up`: each command's create, in order; stops at the first failure like the engine. */
export async function up(host: TestHost, commands: HostCommand[]): Promise<Record<string, RunResult>> {
  const results: Record<string, RunResult> = {};
  for (const c of commands) {
    const r = c.copy
      ? await host.copyToRemote(c.copy.source, c.copy.remotePath)
      : await host.run(c.create, { stdin: c.stdin, env: c.environment, timeoutMs: 90_000 });
    results[c.name] = r;
    if (r.code !== 0) throw new Error(`${c.name} failed (exit ${r.code}):\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    if (c.name.endsWith("-provision") && !afterProvision.has(host) && host.isolation === "namespaces")
      afterProvision.set(host, host.changedFiles());
  }
  return results;
}

/** The provision baseline plus these paths, sorted: what a teardown must leave. */
export const provisionedPlus = (host: TestHost, more: string[]) =>
  [...new Set([...(afterProvision.get(host) ?? []), ...more])].sort();

/** `pulumi destroy`: the delete commands, in reverse order. */
export async function destroy(host: TestHost, commands: HostCommand[]): Promise<Record<string, RunResult>> {
  const results: Record<string, RunResult> = {};
  for (const c of [...commands].reverse()) {
    if (c.delete === undefined) continue;
    const r = await host.run(c.delete, { env: c.environment });
    results[c.name] = r;
    if (r.code !== 0) throw new Error(`${c.name} delete failed (exit ${r.code}):\n${r.stderr}`);
  }
  return results;
}

export const byName = (cs: HostCommand[], name: string) => {
  const c = cs.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}: ${cs.map((x) => x.name).join(", ")}`);
  return c;
};

/** What a file looks like now, to prove a re-run wrote nothing. */
export function fileSnapshot(host: TestHost): Record<string, string> {
  const fs = require("fs") as typeof import("fs");
  const out: Record<string, string> = {};
  for (const p of host.changedFiles()) {
    const st = fs.lstatSync(host.path(p.replace(/ \(deleted\)$/, "")), { throwIfNoEntry: false });
    if (!st) out[p] = "deleted";
    else if (st.isDirectory()) out[p] = `dir ${(st.mode & 0o7777).toString(8)}`;
    else out[p] = `${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${sha256(fs.readFileSync(host.path(p), "utf8"))}`;
  }
  return out;
}

export const specHashOf = (script: string) => /^spec_hash='([0-9a-f]{16})'$/m.exec(script)![1];
export const dockerCallsSince = (host: TestHost, n: number) =>
  host
    .calls()
    .slice(n)
    .filter((c) => c.tool === "docker")
    .map((c) => c.argv[0]);

/** The commands and copies among these registrations, with secrets unwrapped and assets read. */
export async function collectCommands(registrations: readonly Registration[]): Promise<HostCommand[]> {
  const copies: HostCommand[] = [];
  for (const r of registrations.filter((x) => x.type === "command:remote:CopyToRemote")) {
    // the mock hands back the asset or archive object; its path or text is a promise
    const src = r.inputs.source as { path?: Promise<string>; text?: Promise<string> };
    const path = await src.path;
    const source = path !== undefined ? { path } : { text: (await src.text)! };
    copies.push({ name: r.name, create: "", copy: { source, remotePath: r.inputs.remotePath as string } });
  }
  const commands = registrations
    .filter((r) => r.type === "command:remote:Command")
    .map((r) => {
      const i = r.inputs;
      const env = unwrapSecret(i.environment) as Record<string, string> | undefined;
      return {
        name: r.name,
        create: unwrapSecret(i.create) as string,
        ...(i.delete !== undefined ? { delete: unwrapSecret(i.delete) as string } : {}),
        ...(i.stdin !== undefined ? { stdin: unwrapSecret(i.stdin) as string } : {}),
        ...(env && Object.keys(env).length ? { environment: env } : {}),
      };
    });
  return [...copies, ...commands];
}

/**
 * The engine runs commands in dependency order (GpuHost: provision -> verify -> ledger; NimService: key ->
 * container; …), not in registration order, which follows Output resolution. `order` lists every name.
 */
export function inOrder(commands: HostCommand[], order: string[]): HostCommand[] {
  const unknown = commands.filter((c) => !order.includes(c.name));
  if (unknown.length)
    throw new Error(`commands this test does not know how to order: ${unknown.map((c) => c.name).join(", ")}`);
  return order.flatMap((n) => commands.filter((c) => c.name === n));
}

type Plan = import("../../fleet").FleetPlan;
type Hosts = Map<string, import("../../components").GpuHost>;
type Services = Map<string, import("../../components").NimService>;

/** What rendering needs: the mock recorder and the modules imported after the mocks were set. */
export interface RenderContext {
  mocks: MockRecorder;
  fleet: typeof import("../../fleet");
  components: typeof import("../../components");
  ngcKey: string;
}

/**
 * Build the components for a stack config under mocks, as stacks/fleet.ts does (a GpuHost per host, a
 * NimService per service, then `more` for other components); return the commands in dependency order.
 */
export async function renderFleetCommands(
  ctx: RenderContext,
  raw: import("../../stackConfig").RawStackConfig,
  more?: { build: (plan: Plan, hosts: Hosts, services: Services) => void; order: string[] },
): Promise<{ plan: Plan; commands: HostCommand[] }> {
  const { mocks, fleet, components } = ctx;
  const before = mocks.registrations.length;
  const plan = fleet.planFleet(fleet.validateFleetConfig(raw));
  const hosts: Hosts = new Map();
  const privateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nNOT-USED-THE-HARNESS-HAS-ITS-OWN\n-----END OPENSSH PRIVATE KEY-----\n";
  for (const h of plan.hosts)
    hosts.set(h.name, new components.GpuHost(h.name, { ...h.args, sshPrivateKey: pulumi.secret(privateKey) }));
  const services: Services = new Map();
  for (const s of plan.services) {
    services.set(
      s.name,
      new components.NimService(s.name, {
        host: hosts.get(s.host)!,
        service: s.name,
        ngcApiKey: pulumi.secret(ctx.ngcKey),
      }),
    );
  }
  more?.build(plan, hosts, services);
  await settle();
  const registered = await collectCommands(mocks.registrations.slice(before));
  const order = [
    ...plan.hosts.flatMap((h) => [`${h.name}-provision`, `${h.name}-verify-gpus`, `${h.name}-ledger`]),
    ...plan.services.flatMap((s) => [`${s.name}-ngc-key`, `${s.name}-container`]),
    ...(more?.order ?? []),
  ];
  return { plan, commands: inOrder(registered, order) };
}
