// The a100 stack as the stack program builds it — stacks/fleet.ts `deployFleet()` with Pulumi.a100.yaml
// — run over real ssh against a test host with 8 stand-in "NVIDIA A100-SXM4-80GB" GPUs (81920 MiB).
// The only change to the stack file: its EC2 host becomes an existing machine at the test host's
// address (the file itself documents that switch), so provisioning takes the data-directory path.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, settle, setupMocks } from "../helpers/pulumiMocks";
import { PRIVATE_ADDRESS, RunResult, TestHost, TEST_USER } from "./sshHost";
import {
  HostCommand,
  collectCommands,
  destroy,
  dockerCallsSince,
  inOrder,
  provisionedPlus,
  specHashOf,
  up,
} from "./hostCommands";

const STACK_FILE = path.join(__dirname, "..", "..", "Pulumi.a100.yaml");
const A100 = { name: "NVIDIA A100-SXM4-80GB", memoryTotalMiB: 81920 };
const SECRETS: Record<string, string> = {
  ngcApiKey: "nvapi-A100TEST-8e2f61c04b9d3a7e5f1c0b2d4e6f8a9c1d3e5f7b9a0c2e4d6f8",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nUNUSED\n-----END OPENSSH PRIVATE KEY-----\n",
  grafanaAdminPassword: "Grafana-A100-3c9e1f",
  irisPassword: "Iris-A100-7d2b8a",
};
const SUMMARY = '{"documents":3,"chunks":12,"embedded":12,"alreadyDone":0,"staleDeleted":0,"peakRssMiB":141}';

let mocks: MockRecorder;
let host: TestHost;
let plan: import("../../fleet").FleetPlan;
let commands: HostCommand[];
const outputs: RunResult[] = [];

beforeAll(async () => {
  mocks = await setupMocks({ commandStdout: { "vectorizer-ingest": `${SUMMARY}\n` } });
  // Pulumi.a100.yaml as the CLI hands it to the program: every value a string, secure ones decrypted
  const file = parse(fs.readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(file.config)) {
    const name = key.replace(/^gpu-fleet:/, "");
    if (value && typeof value === "object" && "secure" in (value as object)) {
      config[key] = SECRETS[name];
      secretKeys.push(key);
    } else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const hosts = JSON.parse(config["gpu-fleet:hosts"]) as { name: string }[];
  expect(hosts.map((h) => h.name)).toEqual(["a100"]);
  config["gpu-fleet:hosts"] = JSON.stringify([
    { name: "a100", existing: { address: PRIVATE_ADDRESS, user: TEST_USER, gpu: "A100-SXM4-80GB", gpuCount: 8 } },
  ]);
  pulumi.runtime.setAllConfig(config, secretKeys);
  // rag.corpusDir is relative to the project directory, where `pulumi up` runs
  process.chdir(path.join(__dirname, "..", ".."));

  const { deployFleet } = await import("../../stacks/fleet");
  const fleet = deployFleet();
  plan = fleet.plan;
  await settle();
  const svc = plan.services.map((s) => s.name);
  commands = inOrder(await collectCommands(mocks.registrations), [
    "a100-provision",
    "a100-verify-gpus",
    "a100-ledger",
    ...svc.flatMap((s) => [`${s}-ngc-key`, `${s}-container`]),
    "iris-password",
    "iris-container",
    "iris-credentials",
    "iris-schema",
    "vectorizer-program",
    "vectorizer-package",
    "vectorizer-corpus",
    "vectorizer-install",
    "vectorizer-secrets",
    "vectorizer-ingest",
    "observability-files",
    "observability-grafana-password",
    "observability-node-exporter-a100",
    "observability-dcgm-exporter-a100",
    "observability-prometheus",
    "observability-grafana",
  ]);

  // each model container holds on its GPUs what the plan reserves for it (vLLM engines: 0.9 x total)
  const images: Record<string, import("./sshHost").ImageBehaviour> = {};
  for (const s of plan.services) {
    images[s.serving.image] = {
      ...(s.serving.nim ? { requiredEnv: ["NGC_API_KEY"] } : {}),
      gpuMemoryMiB: s.reservedMiBPerGpu,
    };
  }
  host = await TestHost.start({
    // the scripts use sudo and write /etc and /data: only an isolated host may take that
    isolation: "namespaces",
    gpus: { gpus: Array.from({ length: 8 }, () => ({ ...A100 })) },
    registries: { "nvcr.io": { username: "$oauthtoken", password: SECRETS.ngcApiKey, privateRepos: ["nim/"] } },
    images: {
      ...images,
      "intersystems/iris-community:2025.1": {
        httpPaths: ["/api/monitor/metrics"],
        exec: [
          {
            match: "-U %SYS",
            stdout: ["_SYSTEM", "SuperUser", "Admin", "CSPSystem", "IAM"]
              .map((u) => `GPU_FLEET_RESULT ${u} 1\n`)
              .join(""),
          },
          {
            match: "-U USER",
            stdout: ["table", "meta-table", "dimension", "source-index", "hnsw-index"]
              .map((l) => `GPU_FLEET_RESULT 0 ${l}\n`)
              .join(""),
          },
        ],
      },
      "node:20-bookworm": {
        runs: [
          { match: "^npm install", creates: ["/app/node_modules"], stderr: "added 57 packages in 9s\n" },
          { match: "vectorizer/cli.ts ingest /corpus", requiredEnv: ["IRIS_PASSWORD"], stdout: `${SUMMARY}\n` },
        ],
      },
      "prom/node-exporter:v1.8.2": { listen: "{arg:--web.listen-address}", httpPaths: ["/metrics"] },
      "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04": { httpPaths: ["/metrics"], gpuMemoryMiB: 0 },
      "prom/prometheus:v3.1.0": { listen: "{arg:--web.listen-address}", httpPaths: ["/-/ready"] },
      "grafana/grafana:11.4.0": {
        listen: "{env:GF_SERVER_HTTP_ADDR}:{env:GF_SERVER_HTTP_PORT}",
        httpPaths: ["/api/health"],
      },
    },
  });
});
afterAll(async () => {
  await host?.stop();
});

describe("a100 stack (Pulumi.a100.yaml): 8x A100-SXM4-80GB, every service pinned, GPUs 5-7 spare", () => {
  it("plans the layout the stack file describes", () => {
    expect(plan.services.map((s) => [s.name, s.gpus, s.tensorParallel, s.hostPort])).toEqual([
      ["asr", [0], 1, 8000],
      ["embed", [1], 1, 8001],
      ["rerank", [1], 1, 8002],
      ["llm", [2, 3], 2, 8003],
      ["ocr", [4], 1, 8004],
    ]);
    expect(commands.filter((c) => Object.values(SECRETS).some((k) => c.create.includes(k)))).toEqual([]);
  });

  it("first run converges; each container gets only its pinned devices and holds memory only there", async () => {
    const r = await up(host, commands);
    outputs.push(...Object.values(r));
    expect(Object.entries(r).filter(([, v]) => v.code !== 0)).toEqual([]);
    for (const s of plan.services) {
      const name = `gpu-fleet-${s.name}`;
      expect(r[`${s.name}-container`]).toEqual({
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started ${name} (${specHashOf(commands.find((c) => c.name === `${s.name}-container`)!.create)}) pinned to GPU ${s.gpus.join(",")}\n[gpu-fleet] ${name} ready at http://${PRIVATE_ADDRESS}:${s.hostPort}${s.serving.healthPath}\n`,
      });
      expect((await host.run(`docker inspect --format '{{json .HostConfig.DeviceRequests}}' ${name}`)).stdout).toBe(
        `[{"Driver":"","Count":0,"DeviceIDs":${JSON.stringify(s.gpus.map(String))},"Capabilities":[["gpu"]],"Options":{}}]\n`,
      );
    }
    const pinned = Object.fromEntries(
      host
        .containers()
        .filter((c) => c.gpuRequest)
        .map((c) => [c.name, c.gpuRequest!.deviceIds]),
    );
    expect(pinned).toEqual({
      "gpu-fleet-asr": ["0"],
      "gpu-fleet-embed": ["1"],
      "gpu-fleet-rerank": ["1"],
      "gpu-fleet-llm": ["2", "3"],
      "gpu-fleet-ocr": ["4"],
      // DCGM watches every GPU and holds no memory
      "gpu-fleet-dcgm-exporter": ["0", "1", "2", "3", "4", "5", "6", "7"],
    });
    const res = (n: string) => plan.services.find((s) => s.name === n)!.reservedMiBPerGpu;
    const expected = [res("asr"), res("embed") + res("rerank"), res("llm"), res("llm"), res("ocr"), 0, 0, 0];
    expect((await host.run("nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits")).stdout).toBe(
      expected.map((m, i) => `${i}, ${m}\n`).join(""),
    );
    // what the host's ledger says is what the containers hold
    const ledger = JSON.parse(host.readFile("/etc/gpu-fleet/ledger.json"));
    expect(JSON.stringify(ledger)).toContain("a100");
    expect(r["vectorizer-ingest"].stdout).toBe(`${SUMMARY}\n`);
  });

  it("every secret stays in its own root-only files", () => {
    const has = (t: string) =>
      Object.entries(SECRETS)
        .filter(([k]) => k !== "sshPrivateKey")
        .some(([, v]) => t.includes(v) || t.includes(Buffer.from(v).toString("base64")));
    expect(has(host.psSnapshots()) || host.calls().some((c) => has(c.argv.join(" "))) || has(host.sshdLog())).toBe(
      false,
    );
    expect(outputs.filter((o) => has(o.stdout) || has(o.stderr))).toEqual([]);
    const files = host.changedFiles().filter((p) => {
      try {
        return has(fs.readFileSync(host.path(p), "utf8"));
      } catch {
        return false;
      }
    });
    expect(files).toEqual([
      "/data/observability/grafana-secrets/grafana-admin-password",
      "/etc/gpu-fleet/iris/iris.password",
      "/etc/gpu-fleet/nim/asr.env",
      "/etc/gpu-fleet/nim/embed.env",
      "/etc/gpu-fleet/nim/llm.env",
      "/etc/gpu-fleet/nim/rerank.env",
      "/etc/gpu-fleet/observability/grafana-admin-password",
      "/etc/gpu-fleet/vectorizer/vectorizer.env",
    ]);
  });

  it("a second run starts nothing; teardown frees every GPU", async () => {
    const ids = host.containers().map((c) => c.id);
    const calls = host.calls().length;
    await up(host, commands);
    expect(host.containers().map((c) => c.id)).toEqual(ids);
    // only the vectorizer's ingest runs again (clearing a stale run of the same name first; it resumes from its checkpoint)
    expect(dockerCallsSince(host, calls).filter((c) => !["inspect", "info", "exec"].includes(c))).toEqual([
      "rm",
      "run",
    ]);
    await destroy(host, commands);
    expect(host.containers()).toEqual([]);
    expect((await host.run("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe(
      "0\n".repeat(8),
    );
    expect(
      host
        .changedFiles()
        .filter((p) => p.startsWith("/etc/gpu-fleet/") && !p.startsWith("/etc/gpu-fleet/observability")),
    ).toEqual(
      provisionedPlus(host, ["/etc/gpu-fleet/iris", "/etc/gpu-fleet/nim", "/etc/gpu-fleet/vectorizer"]).filter((p) =>
        p.startsWith("/etc/gpu-fleet/"),
      ),
    );
  });
});
