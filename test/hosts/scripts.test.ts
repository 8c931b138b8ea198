// Every script the components send to a GPU host, executed over real ssh against the test host
// (sshHost.ts), exactly as rendered: the GpuHost and NimService components run under Pulumi's mock
// runtime, and the `create`/`delete`/`stdin` inputs of each command.remote.Command they register are
// what gets sent — the same text the command provider would send, in the same order.
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MockRecorder, setupMocks } from "../helpers/pulumiMocks";
import { ImageBehaviour, RunResult, TestHost, TEST_USER, sha256 } from "./sshHost";
import {
  HostCommand,
  afterProvision,
  byName,
  destroy,
  dockerCallsSince,
  fileSnapshot,
  provisionedPlus,
  renderFleetCommands,
  specHashOf,
  up,
} from "./hostCommands";

const NGC_KEY = "nvapi-HOSTTEST-5f0c2b7e9a1d4c3b8e6f0a2d4c6e8b0a1c3e5f7a9b1d3f5e";
const NGC_USER = "$oauthtoken";
/** every form in which the key could leak: as is, base64 of itself, base64 of docker's user:password */
const KEY_FORMS = [
  NGC_KEY,
  Buffer.from(NGC_KEY).toString("base64"),
  Buffer.from(`${NGC_USER}:${NGC_KEY}`).toString("base64"),
];

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");
let containerRenderer: typeof import("../../renderers/container/container");
let serviceSpec: typeof import("../../renderers/nim/serviceSpec");

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks();
  // modules that create resources are imported after the mocks are set
  fleet = await import("../../fleet");
  components = await import("../../components");
  containerRenderer = await import("../../renderers/container/container");
  serviceSpec = await import("../../renderers/nim/serviceSpec");
});

/** The components for a stack config under mocks, their commands in dependency order (hostCommands.ts). */
const renderFleet = (raw: import("../../stackConfig").RawStackConfig) =>
  renderFleetCommands({ mocks, fleet, components, ngcKey: NGC_KEY }, raw);

/** Every file on the test host (written since it started, plus the harness's own state) holding the key in any form. */
function filesWithKey(host: TestHost): string[] {
  const hits: string[] = [];
  const check = (p: string) => {
    let text: string;
    try {
      text = require("fs").readFileSync(host.path(p), "utf8");
    } catch {
      return; // directories, deleted files
    }
    if (KEY_FORMS.some((k) => text.includes(k))) hits.push(p);
  };
  for (const p of host.changedFiles()) if (!p.endsWith(" (deleted)")) check(p);
  const walk = (dir: string) => {
    for (const e of require("fs").readdirSync(host.path(dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else check(p);
    }
  };
  walk(`${host.dir}/state`);
  return hits.sort();
}

function keyLeaksOutsideFiles(host: TestHost, results: RunResult[]): string[] {
  const where: string[] = [];
  const has = (t: string) => KEY_FORMS.some((k) => t.includes(k));
  if (has(host.psSnapshots())) where.push("process list");
  if (host.calls().some((c) => has(c.argv.join(" ")))) where.push("stand-in argv");
  if (has(host.sshdLog())) where.push("sshd log");
  for (const c of host.containers()) if (has(host.containerLogs(c.id))) where.push(`logs of ${c.name}`);
  results.forEach((r, i) => {
    if (has(r.stdout) || has(r.stderr)) where.push(`output of run ${i}`);
  });
  return where;
}

const A10G = { name: "NVIDIA A10G", memoryTotalMiB: 23028 };
const LLM_IMAGE = "nvcr.io/nim/meta/llama-3.1-8b-instruct:latest";
const NIM_LOGS = [
  "INFO 2026-11-25 nim_sdk: Selected profile: vllm-bf16-tp1 (generic)",
  "INFO 2026-11-25 Uvicorn running on http://0.0.0.0:8000",
];
const nimImages = (extra: Record<string, ImageBehaviour> = {}): Record<string, ImageBehaviour> => ({
  "nvcr.io/nim/*": { requiredEnv: ["NGC_API_KEY"], logs: NIM_LOGS },
  ...extra,
});

describe("dev layout: one A10G running the llama-3.1-8b-instruct NIM", () => {
  let host: TestHost;
  let commands: HostCommand[];
  let plan: import("../../fleet").FleetPlan;
  let hash: string;
  let firstId: string;
  const outputs: RunResult[] = [];
  const run = async (script: string, o: Parameters<TestHost["run"]>[1] = {}) => {
    const t0 = Date.now();
    const r = await host.run(script, o);
    if (process.env.DEBUG_HOSTS) console.log(`${Date.now() - t0}ms`, script.split("\n")[1], JSON.stringify(r));
    outputs.push(r);
    return r;
  };
  const container = (name: string) => byName(commands, name);
  const startedLines = () =>
    `[gpu-fleet] started gpu-fleet-llm (${hash}) pinned to GPU 0\n[gpu-fleet] gpu-fleet-llm ready at http://${host.privateAddress}:8000/v1/health/ready\n`;

  beforeAll(async () => {
    host = await TestHost.start({
      // the scripts use sudo and write /etc and /data: only an isolated host may take that
      isolation: "namespaces",
      gpus: { gpus: [A10G] },
      images: nimImages(),
      registries: { "nvcr.io": { username: NGC_USER, password: NGC_KEY } },
    });
    ({ plan, commands } = await renderFleet({
      ngcApiKey: "secret",
      hosts: [{ name: "gpu0", existing: { address: host.privateAddress, user: TEST_USER, gpu: "A10G", gpuCount: 1 } }],
      services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 }],
    }));
    hash = specHashOf(container("llm-container").create);
  });
  // each test starts from the healthy host, even when the one before failed half-way
  beforeEach(() => {
    host?.setImages(nimImages());
    host?.setGpus({ gpus: [A10G] });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("renders the commands GpuHost and NimService register, in dependency order, the key only on stdin", () => {
    expect(commands.map((c) => c.name)).toEqual([
      "gpu0-provision",
      "gpu0-verify-gpus",
      "gpu0-ledger",
      "llm-ngc-key",
      "llm-container",
    ]);
    expect(container("llm-ngc-key").stdin).toBe(`NGC_API_KEY=${NGC_KEY}\n`);
    expect(commands.filter((c) => KEY_FORMS.some((k) => c.create.includes(k) || (c.delete ?? "").includes(k)))).toEqual(
      [],
    );
    expect(commands.filter((c) => c.environment)).toEqual([]);
  });

  it("first run converges: host prepared, GPUs verified, ledger and key written, the NIM pinned to GPU 0 and ready", async () => {
    const r = await up(host, commands);
    outputs.push(...Object.values(r));
    expect(r).toEqual({
      "gpu0-provision": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] NVIDIA driver 535.183.01\n[gpu-fleet] host ready: driver 535.183.01, data at /data\n",
      },
      "gpu0-verify-gpus": { code: 0, stdout: "", stderr: "[gpu-fleet] verified 1 x NVIDIA A10G\n" },
      "gpu0-ledger": { code: 0, stdout: "", stderr: "[gpu-fleet] wrote /etc/gpu-fleet/ledger.json (mode 0644)\n" },
      "llm-ngc-key": { code: 0, stdout: "", stderr: "[gpu-fleet] wrote /etc/gpu-fleet/nim/llm.env (mode 0600)\n" },
      "llm-container": { code: 0, stdout: "", stderr: startedLines() },
    });
    expect(host.readFile("/etc/gpu-fleet/ledger.json")).toBe(container("gpu0-ledger").stdin);
    expect(host.stat("/etc/gpu-fleet/ledger.json")).toEqual({ mode: 0o644, owner: "root", group: "root" });
    expect(host.readFile("/etc/gpu-fleet/nim/llm.env")).toBe(`NGC_API_KEY=${NGC_KEY}\n`);
    expect(host.stat("/etc/gpu-fleet/nim/llm.env")).toEqual({ mode: 0o600, owner: "root", group: "root" });

    const [c] = host.containers();
    expect(host.containers()).toHaveLength(1);
    firstId = c.id;
    expect(c).toMatchObject({
      name: "gpu-fleet-llm",
      image: LLM_IMAGE,
      state: "running",
      gpuRequest: { driver: "", count: 0, deviceIds: ["0"], capabilities: [["gpu"]] },
      ports: [{ hostIp: host.privateAddress, hostPort: 8000, containerPort: 8000 }],
      envFiles: ["/etc/gpu-fleet/nim/llm.env"],
      secretSha256: { NGC_API_KEY: sha256(NGC_KEY) },
      restart: "unless-stopped",
      shmSize: 16 * 1024 ** 3,
      volumes: ["/data/nim-cache/llm:/opt/nim/.cache"],
    });
    expect(c.envNames[0]).toBe("NGC_API_KEY");
    expect(c.envValues).toMatchObject({ NIM_TENSOR_PARALLEL_SIZE: "1", NIM_MAX_MODEL_LEN: "8192" });
    expect((await run(`curl -s http://${host.privateAddress}:8000/v1/health/ready`)).stdout).toBe(
      '{"object":"health.response","message":"Service is ready."}',
    );
    // the port is bound to the private address only, not to every interface
    expect(
      (await run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/v1/health/ready; echo")).stdout,
    ).toBe("000\n");
    expect((await run("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe(
      `${Math.floor(0.9 * 23028)}\n`,
    );
    // the login went to a throw-away Docker config: no credential store holds the key
    expect(host.exists(`/home/${TEST_USER}/.docker/config.json`)).toBe(false);
    expect(host.exists("/root/.docker/config.json")).toBe(false);
    for (const d of ["/data/nim-cache", "/data/databases", "/data/nim-cache/llm"])
      expect(host.stat(d)).toEqual({ mode: 0o755, owner: "root", group: "root" });
  });

  it("second run changes nothing: same container, no docker run, no file rewritten", async () => {
    const files = fileSnapshot(host);
    const calls = host.calls().length;
    const r = await up(host, commands);
    outputs.push(...Object.values(r));
    expect(r).toEqual({
      "gpu0-provision": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] NVIDIA driver 535.183.01\n[gpu-fleet] host ready: driver 535.183.01, data at /data\n",
      },
      "gpu0-verify-gpus": { code: 0, stdout: "", stderr: "[gpu-fleet] verified 1 x NVIDIA A10G\n" },
      "gpu0-ledger": { code: 0, stdout: "", stderr: "[gpu-fleet] unchanged: /etc/gpu-fleet/ledger.json\n" },
      "llm-ngc-key": { code: 0, stdout: "", stderr: "[gpu-fleet] unchanged: /etc/gpu-fleet/nim/llm.env\n" },
      "llm-container": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] unchanged: gpu-fleet-llm already runs spec ${hash}\n[gpu-fleet] gpu-fleet-llm ready at http://${host.privateAddress}:8000/v1/health/ready\n`,
      },
    });
    expect(host.containers().map((c) => [c.id, c.state])).toEqual([[firstId, "running"]]);
    expect(dockerCallsSince(host, calls)).toEqual(["info", "inspect", "inspect"]);
    expect(fileSnapshot(host)).toEqual(files);
  });

  it("the NGC key is only in the 0600 env file: not in a process list, shell history, log or other file", async () => {
    expect(filesWithKey(host)).toEqual(["/etc/gpu-fleet/nim/llm.env"]);
    expect(keyLeaksOutsideFiles(host, outputs)).toEqual([]);
    for (const h of [`/home/${TEST_USER}/.bash_history`, "/root/.bash_history"]) expect(host.exists(h)).toBe(false);
    // the snapshots really cover the runs: they hold the scripts' own command lines
    expect(host.psSnapshots()).toContain("docker login nvcr.io --username $oauthtoken --password-stdin");
  });

  it("a dropped connection during the readiness wait, then a re-run, converges and leaves no key behind", async () => {
    await destroyOne(host, container("llm-container"));
    host.setImages(nimImages({ [LLM_IMAGE]: { requiredEnv: ["NGC_API_KEY"], logs: NIM_LOGS, readyAfterMs: 2500 } }));
    const dropped = await run(container("llm-container").create, { dropConnectionWhen: /started gpu-fleet-llm/ });
    expect(dropped).toMatchObject({ dropped: true, code: 255 });
    expect(dropped.stderr).toBe(`[gpu-fleet] started gpu-fleet-llm (${hash}) pinned to GPU 0\n`);
    // the remote script is still in its wait loop; let it hit the closed connection
    await new Promise((r) => setTimeout(r, 6500));
    // the script's EXIT trap removed its throw-away Docker config (which holds the key, base64-encoded)
    expect(host.changedFiles().filter((p) => p.startsWith("/tmp/"))).toEqual([]);
    const again = await run(container("llm-container").create);
    expect(again).toEqual({
      code: 0,
      stdout: "",
      stderr: `[gpu-fleet] unchanged: gpu-fleet-llm already runs spec ${hash}\n[gpu-fleet] gpu-fleet-llm ready at http://${host.privateAddress}:8000/v1/health/ready\n`,
    });
    expect(host.containers().map((c) => c.state)).toEqual(["running"]);
    expect(filesWithKey(host)).toEqual(["/etc/gpu-fleet/nim/llm.env"]);
    host.setImages(nimImages());
  });

  it("a failing container stops the start with a clear error and its logs; a re-run after the fix converges", async () => {
    await destroyOne(host, container("llm-container"));
    const oom =
      "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 22.49 GiB of which 1.02 GiB is free.";
    host.setImages(
      nimImages({
        [LLM_IMAGE]: { requiredEnv: ["NGC_API_KEY"], logs: NIM_LOGS, exitAfterMs: 0, exitCode: 1, crashLogs: [oom] },
      }),
    );
    const failed = await run(container("llm-container").create);
    // curl stays quiet while it probes (-s): a cold start must not fill the log with refused connects
    expect(failed).toEqual({
      code: 1,
      stdout: "",
      stderr:
        `[gpu-fleet] started gpu-fleet-llm (${hash}) pinned to GPU 0\n` +
        "[gpu-fleet] last lines of gpu-fleet-llm:\n" +
        `${NIM_LOGS.join("\n")}\n${oom}\n` +
        "[gpu-fleet] ERROR: gpu-fleet-llm stopped before it became ready\n",
    });
    expect(host.containers().map((c) => [c.name, c.state, c.exitCode])).toEqual([["gpu-fleet-llm", "exited", 1]]);

    host.setImages(nimImages());
    const fixed = await run(container("llm-container").create);
    expect(fixed).toEqual({ code: 0, stdout: "", stderr: startedLines() });
    expect(host.containers().map((c) => [c.name, c.state])).toEqual([["gpu-fleet-llm", "running"]]);
  });

  it("a container that never gets ready fails at the readiness bound, with its logs", async () => {
    await destroyOne(host, container("llm-container"));
    host.setImages(nimImages({ [LLM_IMAGE]: { requiredEnv: ["NGC_API_KEY"], logs: NIM_LOGS, neverReady: true } }));
    // the component insists on >= 1800 s; the renderer takes any bound, so render it with 3 s: one
    // probe at once, one after the 5 s sleep, then the bound has passed (whole seconds, so exactly two)
    const svc = plan.services[0];
    const h = plan.hosts[0];
    const script = containerRenderer.renderContainerStartScript(
      serviceSpec.containerSpecFor(svc, h, { readyTimeoutSeconds: 3 }),
      {},
    );
    const r = await run(script);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        `[gpu-fleet] started gpu-fleet-llm (${specHashOf(script)}) pinned to GPU 0\n` +
        "[gpu-fleet] last lines of gpu-fleet-llm:\n" +
        `${NIM_LOGS.join("\n")}\n` +
        `[gpu-fleet] ERROR: gpu-fleet-llm not ready at http://${host.privateAddress}:8000/v1/health/ready after 3s\n`,
    });
    host.setImages(nimImages());
  });

  it("a changed spec replaces the running container; its own memory counts as free for the new one", async () => {
    await destroyOne(host, container("llm-container")); // the test above left a never-ready container
    expect((await run(container("llm-container").create)).code).toBe(0);
    const [before] = host.containers();
    // the same service with a shorter context, rendered the way the component renders it
    const spec = serviceSpec.containerSpecFor({ ...plan.services[0], maxModelLen: 4096 }, plan.hosts[0]);
    const script = containerRenderer.renderContainerStartScript(spec, {});
    expect(specHashOf(script)).not.toBe(hash);
    expect(await run(script)).toEqual({
      code: 0,
      stdout: "",
      stderr: `[gpu-fleet] started gpu-fleet-llm (${specHashOf(script)}) pinned to GPU 0\n[gpu-fleet] gpu-fleet-llm ready at http://${host.privateAddress}:8000/v1/health/ready\n`,
    });
    const [after] = host.containers();
    expect(host.containers()).toHaveLength(1);
    expect(after.id).not.toBe(before.id);
    expect(after.envValues.NIM_MAX_MODEL_LEN).toBe("4096");
    // back to the planned spec
    expect((await run(container("llm-container").create)).stderr).toBe(startedLines());
  });

  // An update stops the running container and keeps it aside; when the new spec cannot start (here:
  // another process took 10,000 MiB meanwhile) the old container is renamed back and started.
  it("an update whose preflight fails puts the running container back: the service stays up", async () => {
    expect(host.containers().map((c) => c.state)).toEqual(["running"]);
    const before = host.containers()[0];
    const spec = serviceSpec.containerSpecFor({ ...plan.services[0], maxModelLen: 4096 }, plan.hosts[0]);
    host.setGpus({ gpus: [{ ...A10G, memoryUsedMiB: 10000 }] });
    const r = await run(containerRenderer.renderContainerStartScript(spec, {}));
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "[gpu-fleet] restored the previous gpu-fleet-llm\n" +
        `[gpu-fleet] ERROR: preflight: GPU 0 has 13028 MiB free (23028 MiB total, 0 MiB reserved by the driver, 10000 MiB used); llm needs ${plan.services[0].reservedMiBPerGpu} MiB (plan: 23028 MiB GPU)\n`,
    });
    expect(host.containers().map((c) => [c.id, c.name, c.state])).toEqual([[before.id, "gpu-fleet-llm", "running"]]);
    host.setGpus({ gpus: [A10G] });
  });

  it("the preflight refuses GPUs that do not match the plan, naming the GPU and the numbers", async () => {
    await destroyOne(host, container("llm-container"));
    const calls = host.calls().length;
    host.setGpus({ gpus: [{ ...A10G, memoryUsedMiB: 10000 }] });
    expect(await run(container("llm-container").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: `[gpu-fleet] ERROR: preflight: GPU 0 has 13028 MiB free (23028 MiB total, 0 MiB reserved by the driver, 10000 MiB used); llm needs ${plan.services[0].reservedMiBPerGpu} MiB (plan: 23028 MiB GPU)\n`,
    });
    host.setGpus({ gpus: [{ name: "NVIDIA L4", memoryTotalMiB: 23034 }] });
    expect(await run(container("llm-container").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: '[gpu-fleet] ERROR: preflight: GPU 0 is "NVIDIA L4"; the plan expects "NVIDIA A10G"\n',
    });
    expect(await run(container("gpu0-verify-gpus").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: '[gpu-fleet] ERROR: GPU 0 is "NVIDIA L4"; the plan expects "NVIDIA A10G"\n',
    });
    host.setGpus({ gpus: [A10G, A10G] });
    expect(await run(container("gpu0-verify-gpus").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: "[gpu-fleet] ERROR: host gpu0 reports 2 GPU(s); the plan expects 1 x NVIDIA A10G\n",
    });
    host.setGpus({ gpus: [{ name: "NVIDIA A10G", memoryTotalMiB: 15360 }] });
    expect(await run(container("gpu0-verify-gpus").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: "[gpu-fleet] ERROR: GPU 0 reports 15360 MiB; the plan expects 23028 MiB for NVIDIA A10G\n",
    });
    host.setGpus({ gpus: [] });
    expect(await run(container("llm-container").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: "[gpu-fleet] ERROR: preflight: GPU 0 does not exist on this host\n",
    });
    // nothing was started (only the idempotency probes and the stale-container removal ran)
    expect(dockerCallsSince(host, calls).filter((c) => !["inspect", "rm"].includes(c))).toEqual([]);
    expect(host.containers()).toEqual([]);
    host.setGpus({ gpus: [A10G] });
    expect((await run(container("llm-container").create)).code).toBe(0);
  });

  it("provision registers the NVIDIA runtime with Docker when it is missing, and only then", async () => {
    host.setDaemon({ nvidiaRuntime: false });
    try {
      const provision = container("gpu0-provision").create;
      expect(await run(provision)).toEqual({
        code: 0,
        stdout: "",
        stderr:
          "[gpu-fleet] NVIDIA driver 535.183.01\n[gpu-fleet] registering the NVIDIA runtime with Docker\n" +
          "INFO[0000] Wrote updated config to /etc/docker/daemon.json\nINFO[0000] It is recommended that docker daemon be restarted.\n" +
          "[gpu-fleet] host ready: driver 535.183.01, data at /data\n",
      });
      expect(JSON.parse(host.readFile("/etc/docker/daemon.json"))).toEqual({
        runtimes: { nvidia: { args: [], path: "nvidia-container-runtime" } },
      });
      expect(
        host
          .calls()
          .filter((c) => c.tool === "systemctl")
          .map((c) => [c.uid, c.argv]),
      ).toEqual([[0, ["restart", "docker"]]]);
      expect((await run("docker info --format '{{json .Runtimes}}'")).stdout).toContain(
        '"nvidia":{"path":"nvidia-container-runtime"}',
      );
      expect((await run(provision)).stderr).toBe(
        "[gpu-fleet] NVIDIA driver 535.183.01\n[gpu-fleet] host ready: driver 535.183.01, data at /data\n",
      );
    } finally {
      host.setDaemon({ nvidiaRuntime: true });
    }
  });

  it("provision does not wait on a machine where cloud-init never ran (its --wait would never return)", async () => {
    host.setCloudInitStatus("not run");
    try {
      const r = await run(container("gpu0-provision").create);
      expect(r).toEqual({
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] NVIDIA driver 535.183.01\n[gpu-fleet] host ready: driver 535.183.01, data at /data\n",
      });
      expect(
        host
          .calls()
          .filter((c) => c.tool === "cloud-init")
          .slice(-1)
          .map((c) => c.argv),
      ).toEqual([["status"]]);
    } finally {
      host.setCloudInitStatus("done");
    }
  });

  it("provision refuses a driver older than 535, naming it", async () => {
    host.setGpus({ driverVersion: "470.182.03", gpus: [A10G] });
    expect(await run(container("gpu0-provision").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: "[gpu-fleet] ERROR: NVIDIA driver 470.182.03 is older than 535; NIM needs 535+\n",
    });
  });

  // (found by this suite: the script used to die silently with exit 9 under pipefail; fixed in c6d2434)
  it("provision on a host whose driver is not loaded says so, in nvidia-smi's words", async () => {
    const smi =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";
    host.setGpus({ gpus: [], failure: { exitCode: 9, message: smi } });
    expect(await run(container("gpu0-provision").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: `[gpu-fleet] ERROR: nvidia-smi cannot reach the NVIDIA driver: ${smi}\n`,
    });
  });

  // (found by this suite: free memory used to be total - used, ignoring memory.reserved; fixed in c6d2434)
  it("the preflight counts memory the driver reserves as used", async () => {
    await destroyOne(host, container("llm-container"));
    host.setGpus({ gpus: [{ ...A10G, memoryReservedMiB: 3000 }] });
    expect(
      (
        await run(
          "nvidia-smi --query-gpu=memory.total,memory.reserved,memory.used,memory.free --format=csv,noheader,nounits",
        )
      ).stdout,
    ).toBe("23028, 3000, 0, 20028\n");
    expect(await run(container("llm-container").create)).toEqual({
      code: 1,
      stdout: "",
      stderr: `[gpu-fleet] ERROR: preflight: GPU 0 has 20028 MiB free (23028 MiB total, 3000 MiB reserved by the driver, 0 MiB used); llm needs ${plan.services[0].reservedMiBPerGpu} MiB (plan: 23028 MiB GPU)\n`,
    });
    expect(host.containers()).toEqual([]);
  });

  it("teardown leaves the host clean: no container, no key, no ledger; only the data directories stay", async () => {
    // the tests above left the service stopped: bring it up again, then destroy everything
    expect((await run(container("llm-container").create)).code).toBe(0);
    const r = await destroy(host, commands);
    expect(r).toEqual({
      "llm-container": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] removed gpu-fleet-llm (its model cache stays on the data volume)\n",
      },
      "llm-ngc-key": { code: 0, stdout: "", stderr: "[gpu-fleet] removed /etc/gpu-fleet/nim/llm.env\n" },
      "gpu0-ledger": { code: 0, stdout: "", stderr: "[gpu-fleet] removed /etc/gpu-fleet/ledger.json\n" },
    });
    expect((await run("docker ps -a -q")).stdout).toBe("");
    expect(host.containers()).toEqual([]);
    expect(
      (await run(`curl -s -o /dev/null -w '%{http_code}' http://${host.privateAddress}:8000/v1/health/live; echo`))
        .stdout,
    ).toBe("000\n");
    expect((await run("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe("0\n");
    expect(filesWithKey(host)).toEqual([]);
    // what stays is by design: the data volume's directories and model cache, the (empty) config
    // directories, and Docker's NVIDIA runtime that provision registered in the test above
    expect(afterProvision.get(host)).toEqual(
      expect.arrayContaining(["/data", "/data/databases", "/data/nim-cache", "/etc/gpu-fleet"]),
    );
    expect(host.changedFiles()).toEqual(
      provisionedPlus(host, ["/data/nim-cache/llm", "/etc/docker", "/etc/docker/daemon.json", "/etc/gpu-fleet/nim"]),
    );
    // a second teardown is a no-op
    expect((await destroy(host, commands))["llm-container"].stderr).toBe(
      "[gpu-fleet] unchanged: gpu-fleet-llm does not exist\n",
    );
  });
});

async function destroyOne(host: TestHost, c: HostCommand): Promise<void> {
  const r = await host.run(c.delete!);
  if (r.code !== 0) throw new Error(`${c.name} delete failed: ${r.stderr}`);
}
