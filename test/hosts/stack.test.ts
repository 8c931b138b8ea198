// The whole stack on one test host, over real ssh: NimService, IrisVectorDb, ObservabilityStack and
// VectorizerJob as the stack program composes them, rendered under Pulumi's mock runtime and run in
// dependency order (see scripts.test.ts for the dev layout and hostCommands.ts for the mechanics).
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, setupMocks } from "../helpers/pulumiMocks";
import { RunResult, TestHost, TEST_USER } from "./sshHost";
import {
  HostCommand,
  byName,
  destroy,
  dockerCallsSince,
  fileSnapshot,
  provisionedPlus,
  renderFleetCommands,
  specHashOf,
  up,
} from "./hostCommands";

const NGC_KEY = "nvapi-STACKTEST-0b7d3e9f1a5c8e2d4f6a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7";
const NGC_USER = "$oauthtoken";
const A10G = { name: "NVIDIA A10G", memoryTotalMiB: 23028 };
const NIM_LOGS = [
  "INFO 2026-11-25 nim_sdk: Selected profile: vllm-bf16-tp1 (generic)",
  "INFO 2026-11-25 Uvicorn running on http://0.0.0.0:8000",
];
const INGEST_SUMMARY = '{"documents":3,"chunks":12,"embedded":12,"alreadyDone":0,"staleDeleted":0,"peakRssMiB":141}';

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  // the ingest command's stdout is the vectorizer's summary, which VectorizerJob parses into an output
  mocks = await setupMocks({ commandStdout: { "docs-ingest": `${INGEST_SUMMARY}\n` } });
  // modules that create resources are imported after the mocks are set
  fleet = await import("../../fleet");
  components = await import("../../components");
});

const renderFleet = (
  raw: import("../../stackConfig").RawStackConfig,
  more: Parameters<typeof renderFleetCommands>[2],
) => renderFleetCommands({ mocks, fleet, components, ngcKey: NGC_KEY }, raw, more);

describe("the whole stack on one host: NIM, IRIS vector store, Prometheus/Grafana and exporters", () => {
  const IRIS_PASSWORD = "Iris-Secret-7c1e9b2a";
  const GRAFANA_PASSWORD = "Grafana-Secret-4d8f0a6c";
  const SECRETS = [NGC_KEY, IRIS_PASSWORD, GRAFANA_PASSWORD];
  const IRIS_IMAGE = "intersystems/iris-community:2025.1";
  const ACCOUNTS_SET =
    "GPU_FLEET_RESULT _SYSTEM 1\nGPU_FLEET_RESULT SuperUser 1\nGPU_FLEET_RESULT Admin 1\nGPU_FLEET_RESULT CSPSystem 1\nGPU_FLEET_RESULT IAM 1\n";
  const SCHEMA_DONE = ["table", "meta-table", "dimension", "source-index", "hnsw-index"]
    .map((l) => `GPU_FLEET_RESULT 0 ${l}\n`)
    .join("");
  const ORDER = [
    "vectors-password",
    "vectors-container",
    "vectors-credentials",
    "vectors-schema",
    "observability-files",
    "observability-grafana-password",
    "observability-node-exporter-box",
    "observability-dcgm-exporter-box",
    "observability-prometheus",
    "observability-grafana",
  ];
  let host: TestHost;
  let commands: HostCommand[];
  let first: Record<string, RunResult>;
  const all: RunResult[] = [];
  const hashOf = (n: string) => specHashOf(byName(commands, n).create);

  beforeAll(async () => {
    host = await TestHost.start({
      // the scripts use sudo and write /etc and /data: only an isolated host may take that
      isolation: "namespaces",
      gpus: { gpus: [A10G] },
      registries: { "nvcr.io": { username: NGC_USER, password: NGC_KEY, privateRepos: ["nim/"] } },
      images: {
        "nvcr.io/nim/*": { requiredEnv: ["NGC_API_KEY"], logs: NIM_LOGS },
        // what `iris session` prints for the ObjectScript the scripts pipe in (the marked lines)
        [IRIS_IMAGE]: {
          httpPaths: ["/api/monitor/metrics"],
          exec: [
            { match: "-U %SYS", stdout: `%SYS>\n${ACCOUNTS_SET}%SYS>\n` },
            { match: "-U USER", stdout: `USER>\n${SCHEMA_DONE}USER>\n` },
          ],
        },
        "prom/node-exporter:v1.8.2": { listen: "{arg:--web.listen-address}", httpPaths: ["/metrics"] },
        // DCGM watches the GPUs but holds no GPU memory
        "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04": { httpPaths: ["/metrics"], gpuMemoryMiB: 0 },
        "prom/prometheus:v3.1.0": { listen: "{arg:--web.listen-address}", httpPaths: ["/-/ready"] },
        "grafana/grafana:11.4.0": {
          listen: "{env:GF_SERVER_HTTP_ADDR}:{env:GF_SERVER_HTTP_PORT}",
          httpPaths: ["/api/health"],
        },
      },
    });
    ({ commands } = await renderFleet(
      {
        ngcApiKey: "secret",
        hosts: [{ name: "box", existing: { address: host.privateAddress, user: TEST_USER, gpu: "A10G", gpuCount: 1 } }],
        services: [{ name: "rag", model: "meta/llama-3.1-8b-instruct", host: "box", gpus: [0], maxModelLen: 8192 }],
      },
      {
        build: (_plan, hosts) => {
          const box = hosts.get("box")!;
          new components.IrisVectorDb("vectors", {
            host: box,
            password: pulumi.secret(IRIS_PASSWORD),
            embeddingModel: "nvidia/nv-embedqa-e5-v5",
          });
          new components.ObservabilityStack("observability", {
            hosts: [box],
            grafanaAdminPassword: pulumi.secret(GRAFANA_PASSWORD),
            stack: "hosttest",
          });
        },
        order: ORDER,
      },
    ));
  });
  afterAll(async () => {
    await host?.stop();
  });

  const leaks = (): string[] => {
    const where: string[] = [];
    const has = (t: string) => SECRETS.some((k) => t.includes(k) || t.includes(Buffer.from(k).toString("base64")));
    if (has(host.psSnapshots())) where.push("process list");
    if (host.calls().some((c) => has(c.argv.join(" ")))) where.push("stand-in argv");
    if (has(host.sshdLog())) where.push("sshd log");
    for (const c of host.containers()) if (has(host.containerLogs(c.id))) where.push(`logs of ${c.name}`);
    all.forEach((r, i) => (has(r.stdout) || has(r.stderr) ? where.push(`output of run ${i}`) : undefined));
    for (const p of host.changedFiles()) {
      if (p.endsWith(" (deleted)")) continue;
      let text = "";
      try {
        text = require("fs").readFileSync(host.path(p), "utf8");
      } catch {
        continue;
      }
      for (const k of SECRETS)
        if (text.includes(k))
          where.push(`${p}: ${k === NGC_KEY ? "NGC key" : k === IRIS_PASSWORD ? "IRIS password" : "Grafana password"}`);
    }
    return where.sort();
  };

  it("renders every command of the four components", () => {
    expect(commands.map((c) => c.name)).toEqual([
      "box-provision",
      "box-verify-gpus",
      "box-ledger",
      "rag-ngc-key",
      "rag-container",
      ...ORDER,
    ]);
    expect(commands.filter((c) => SECRETS.some((k) => c.create.includes(k) || (c.delete ?? "").includes(k)))).toEqual(
      [],
    );
    expect(commands.filter((c) => c.stdin !== undefined).map((c) => c.name)).toEqual([
      "box-ledger",
      "rag-ngc-key",
      "vectors-password",
      "observability-grafana-password",
    ]);
  });

  it("first run converges: every container up where the plan says, IRIS secured and its schema created", async () => {
    first = await up(host, commands);
    all.push(...Object.values(first));
    const a = host.privateAddress;
    expect(Object.fromEntries(ORDER.map((n) => [n, first[n]]))).toEqual({
      "vectors-password": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] wrote /etc/gpu-fleet/iris/vectors.password (mode 0600)\n",
      },
      "vectors-container": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started gpu-fleet-iris-vectors (${hashOf("vectors-container")})\n[gpu-fleet] gpu-fleet-iris-vectors ready at http://${a}:52773/api/monitor/metrics\n`,
      },
      "vectors-credentials": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] IRIS passwords set for 5 predefined accounts\n",
      },
      "vectors-schema": {
        code: 0,
        stdout: "",
        stderr:
          ["table", "meta-table", "dimension", "source-index", "hnsw-index"]
            .map((l) => `[gpu-fleet] SQLCODE 0 ${l}\n`)
            .join("") + "[gpu-fleet] schema of vectorizer_chunks ready (dimension 1024)\n",
      },
      "observability-files": {
        code: 0,
        stdout: "",
        stderr: expect.stringMatching(
          /^\[gpu-fleet\] wrote (\d+) of \1 files under \/etc\/gpu-fleet\/observability\n$/,
        ),
      },
      "observability-grafana-password": {
        code: 0,
        stdout: "",
        stderr: "[gpu-fleet] wrote /etc/gpu-fleet/observability/grafana-admin-password (mode 0600)\n",
      },
      "observability-node-exporter-box": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started gpu-fleet-node-exporter (${hashOf("observability-node-exporter-box")})\n[gpu-fleet] gpu-fleet-node-exporter ready at http://${a}:9100/metrics\n`,
      },
      "observability-dcgm-exporter-box": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started gpu-fleet-dcgm-exporter (${hashOf("observability-dcgm-exporter-box")}) pinned to GPU 0\n[gpu-fleet] gpu-fleet-dcgm-exporter ready at http://${a}:9400/metrics\n`,
      },
      "observability-prometheus": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started gpu-fleet-prometheus (${hashOf("observability-prometheus")})\n[gpu-fleet] gpu-fleet-prometheus ready at http://127.0.0.1:9090/-/ready\n`,
      },
      "observability-grafana": {
        code: 0,
        stdout: "",
        stderr: `[gpu-fleet] started gpu-fleet-grafana (${hashOf("observability-grafana")})\n[gpu-fleet] gpu-fleet-grafana ready at http://127.0.0.1:3000/api/health\n`,
      },
    });
    const cs = Object.fromEntries(host.containers().map((c) => [c.name, c]));
    expect(Object.keys(cs).sort()).toEqual([
      "gpu-fleet-dcgm-exporter",
      "gpu-fleet-grafana",
      "gpu-fleet-iris-vectors",
      "gpu-fleet-node-exporter",
      "gpu-fleet-prometheus",
      "gpu-fleet-rag",
    ]);
    expect(Object.values(cs).every((c) => c.state === "running")).toBe(true);
    expect(cs["gpu-fleet-iris-vectors"].ports).toEqual([
      { hostIp: a, hostPort: 52773, containerPort: 52773 },
      { hostIp: a, hostPort: 1972, containerPort: 1972 },
    ]);
    expect(cs["gpu-fleet-dcgm-exporter"]).toMatchObject({
      gpuRequest: { deviceIds: ["0"] },
      ports: [{ hostIp: a, hostPort: 9400, containerPort: 9400 }],
      capAdd: ["SYS_ADMIN"],
    });
    expect(cs["gpu-fleet-node-exporter"]).toMatchObject({ network: "host", pid: "host", ports: [], gpuRequest: null });
    expect(cs["gpu-fleet-node-exporter"].cmd).toContain(`--web.listen-address=${a}:9100`);
    expect(cs["gpu-fleet-prometheus"].cmd).toContain("--web.listen-address=127.0.0.1:9090");
    // loopback-bound by default: nothing answers on the private address for Prometheus and Grafana
    expect(
      (
        await host.run(
          `for p in 9090 3000 9100 52773; do curl -s -o /dev/null -w "$p:%{http_code} " http://${a}:$p/; done; echo`,
        )
      ).stdout,
    ).toBe("9090:000 3000:000 9100:404 52773:404 \n");
    // the IRIS sessions ran in the right namespaces; their stdin (it holds the password) is not recorded
    const execLog = host
      .readFile(`${host.dir}/state/docker/containers/${cs["gpu-fleet-iris-vectors"].id}/exec.log`)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).cmd.join(" "));
    expect(execLog).toEqual(["iris session IRIS -U %SYS", "iris session IRIS -U USER"]);
    // secrets: root-only files, and Grafana's copy owned by its container user (uid 472)
    expect(host.stat("/etc/gpu-fleet/iris/vectors.password")).toEqual({ mode: 0o600, owner: "root", group: "root" });
    expect(host.readFile("/etc/gpu-fleet/iris/vectors.password")).toBe(IRIS_PASSWORD);
    expect(host.stat("/etc/gpu-fleet/observability/grafana-admin-password")).toEqual({
      mode: 0o600,
      owner: "root",
      group: "root",
    });
    expect(host.stat("/data/observability/grafana-secrets/grafana-admin-password")).toEqual({
      mode: 0o600,
      owner: "472",
      group: "root",
    });
    // the GPU holds the NIM only
    expect((await host.run("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe(
      `${Math.floor(0.9 * 23028)}\n`,
    );
  });

  it("each secret is only in its own 0600 files: not in processes, argv, logs, outputs or other files", () => {
    expect(leaks()).toEqual([
      "/data/observability/grafana-secrets/grafana-admin-password: Grafana password",
      "/etc/gpu-fleet/iris/vectors.password: IRIS password",
      "/etc/gpu-fleet/nim/rag.env: NGC key",
      "/etc/gpu-fleet/observability/grafana-admin-password: Grafana password",
    ]);
  });

  it("second run starts nothing and rewrites no file", async () => {
    const files = fileSnapshot(host);
    const ids = host.containers().map((c) => c.id);
    const calls = host.calls().length;
    const again = await up(host, commands);
    all.push(...Object.values(again));
    for (const n of commands
      .map((c) => c.name)
      .filter(
        (n) => n.endsWith("-container") || n.includes("exporter") || n.endsWith("prometheus") || n.endsWith("grafana"),
      )) {
      expect(again[n].stderr).toMatch(
        /^\[gpu-fleet\] unchanged: gpu-fleet-\S+ already runs spec [0-9a-f]{16}\n\[gpu-fleet\] gpu-fleet-\S+ ready at http:\/\/\S+\n$/,
      );
    }
    expect(again["observability-files"].stderr).toMatch(
      /^\[gpu-fleet\] unchanged: \d+ files under \/etc\/gpu-fleet\/observability\n$/,
    );
    expect(again["vectors-password"].stderr).toBe("[gpu-fleet] unchanged: /etc/gpu-fleet/iris/vectors.password\n");
    expect(again["vectors-credentials"]).toEqual(first["vectors-credentials"]);
    expect(again["vectors-schema"]).toEqual(first["vectors-schema"]);
    expect(host.containers().map((c) => c.id)).toEqual(ids);
    expect(dockerCallsSince(host, calls).filter((c) => !["inspect", "info", "exec"].includes(c))).toEqual([]);
    expect(fileSnapshot(host)).toEqual(files);
    expect(leaks()).toHaveLength(4);
  });

  it("teardown removes every container, the key and the IRIS password; what stays is listed exactly", async () => {
    await destroy(host, commands);
    expect(host.containers()).toEqual([]);
    expect(leaks()).toEqual([]);
    // by design: the data volume (IRIS database, caches, Prometheus/Grafana data) and empty config dirs;
    // the "-files" command's delete removes the Prometheus and Grafana configuration it wrote.
    const configFiles = [...byName(commands, "observability-files").create.matchAll(/^write_file '([^']+)'/gm)].map(
      (m) => m[1],
    );
    expect(configFiles.length).toBeGreaterThan(3);
    expect(host.changedFiles().filter((f) => configFiles.includes(f))).toEqual([]);
    expect(host.changedFiles()).toEqual(
      provisionedPlus(host, [
        "/data/databases/vectors",
        "/data/nim-cache/rag",
        "/data/observability",
        "/data/observability/grafana",
        "/data/observability/grafana-secrets",
        "/data/observability/prometheus",
        "/etc/gpu-fleet/iris",
        "/etc/gpu-fleet/nim",
      ]),
    );
  });

  // (found by this suite: the staged copy used to survive `pulumi destroy`; fixed in c6d2434)
  it("teardown leaves no copy of the Grafana admin password", () => {
    expect(leaks()).toEqual([]);
  });
});

describe("RAG ingest: embedding NIM, IRIS and the vectorizer job (program and corpus over SFTP)", () => {
  const IRIS_PASSWORD = "Iris-Ingest-2b9d4e61";
  const SUMMARY = INGEST_SUMMARY;
  const ORDER = [
    "vdb-password",
    "vdb-container",
    "vdb-credentials",
    "vdb-schema",
    "docs-program",
    "docs-package",
    "docs-corpus",
    "docs-install",
    "docs-secrets",
    "docs-ingest",
  ];
  let host: TestHost;
  let commands: HostCommand[];
  const staging = "/data/staging/vectorizer-docs";

  beforeAll(async () => {
    host = await TestHost.start({
      // the scripts use sudo and write /etc and /data: only an isolated host may take that
      isolation: "namespaces",
      gpus: { gpus: [A10G] },
      registries: { "nvcr.io": { username: NGC_USER, password: NGC_KEY, privateRepos: ["nim/"] } },
      images: {
        "nvcr.io/nim/*": { requiredEnv: ["NGC_API_KEY"] },
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
        // the vectorizer's Node container: `npm install` fills /app/node_modules; an ingest prints its summary
        "node:20-bookworm": {
          runs: [
            { match: "^npm install", creates: ["/app/node_modules"], stderr: "added 57 packages in 9s\n" },
            {
              match: "vectorizer/cli.ts ingest /corpus",
              requiredEnv: ["IRIS_PASSWORD"],
              stdout: `${SUMMARY}\n`,
              stderr: "progress: 12/12 chunks\n",
            },
          ],
        },
      },
    });
    ({ commands } = await renderFleet(
      {
        ngcApiKey: "secret",
        hosts: [
          { name: "vhost", existing: { address: host.privateAddress, user: TEST_USER, gpu: "A10G", gpuCount: 1 } },
        ],
        services: [{ name: "embedder", model: "nvidia/nv-embedqa-e5-v5", host: "vhost", gpus: [0] }],
      },
      {
        build: (_plan, hosts, services) => {
          const h = hosts.get("vhost")!;
          const embedder = services.get("embedder")!;
          const vdb = new components.IrisVectorDb("vdb", {
            host: h,
            password: pulumi.secret(IRIS_PASSWORD),
            embeddingModel: "nvidia/nv-embedqa-e5-v5",
          });
          new components.VectorizerJob("docs", {
            host: h,
            corpusDir: require("path").join(__dirname, "..", "..", "corpus", "sample"),
            embeddingsEndpoint: pulumi.interpolate`${embedder.endpoint}/v1`,
            embeddingModel: "nvidia/nv-embedqa-e5-v5",
            store: vdb,
            waitFor: embedder.ready,
          });
        },
        order: ORDER,
      },
    ));
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("first run: the program and corpus land where the scripts expect them, dependencies install, the ingest reports its summary", async () => {
    expect(commands.map((c) => c.name)).toEqual([
      "vhost-provision",
      "vhost-verify-gpus",
      "vhost-ledger",
      "embedder-ngc-key",
      "embedder-container",
      ...ORDER,
    ]);
    const r = await up(host, commands);
    const hash = /node_modules\/\.gpu-fleet-([0-9a-f]+)/.exec(byName(commands, "docs-install").create)![1];
    expect(r["docs-install"]).toEqual({
      code: 0,
      stdout: "",
      stderr: `added 57 packages in 9s\n[gpu-fleet] installed dependencies ${hash} in ${staging}/app\n`,
    });
    expect(r["docs-secrets"]).toEqual({
      code: 0,
      stdout: "",
      stderr: "[gpu-fleet] wrote /etc/gpu-fleet/vectorizer/docs.env (mode 0600)\n",
    });
    expect(r["docs-ingest"]).toEqual({
      code: 0,
      stdout: `${SUMMARY}\n`,
      stderr: `progress: 12/12 chunks\n[gpu-fleet] ingest finished: ${SUMMARY}\n`,
    });
    // what the run script runs must exist where the copies put it
    expect(host.exists(`${staging}/app/vectorizer/cli.ts`)).toBe(true);
    expect(host.readFile(`${staging}/app/package.json`)).toBe(
      (byName(commands, "docs-package").copy!.source as { text: string }).text,
    );
    expect((await host.run(`ls ${staging}/corpus/sample`)).stdout).toBe("faq.jsonl\ngpu-memory.md\nnim-api.txt\n");
    expect(host.readFile("/etc/gpu-fleet/vectorizer/docs.env")).toBe(`IRIS_PASSWORD=${IRIS_PASSWORD}\n`);
    expect(host.stat("/etc/gpu-fleet/vectorizer/docs.env")).toEqual({ mode: 0o600, owner: "root", group: "root" });
    const ingestCall = host
      .calls()
      .find((c) => c.tool === "docker" && c.argv[0] === "run" && c.argv.includes("ingest"))!;
    expect(ingestCall.argv).toEqual(
      expect.arrayContaining([
        "--rm",
        "--network",
        "host",
        "--env-file",
        "/etc/gpu-fleet/vectorizer/docs.env",
        "/corpus",
      ]),
    );
    expect(ingestCall.argv).toContain("--endpoint");
    expect(ingestCall.argv[ingestCall.argv.indexOf("--endpoint") + 1]).toBe(`http://${host.privateAddress}:8000/v1`);
    // the foreground containers are gone (--rm); the NIM and IRIS stay
    expect(host.containers().map((c) => c.name)).toEqual(["gpu-fleet-embedder", "gpu-fleet-iris-vdb"]);
    const secretHits = [...host.changedFiles()].filter((p) => {
      try {
        return require("fs").readFileSync(host.path(p), "utf8").includes(IRIS_PASSWORD);
      } catch {
        return false;
      }
    });
    expect(secretHits).toEqual(["/etc/gpu-fleet/iris/vdb.password", "/etc/gpu-fleet/vectorizer/docs.env"]);
    expect(
      host.psSnapshots().includes(IRIS_PASSWORD) || host.calls().some((c) => c.argv.join(" ").includes(IRIS_PASSWORD)),
    ).toBe(false);
  });

  it("second run: dependencies are not reinstalled and the ingest resumes to the same summary", async () => {
    const calls = host.calls().length;
    const r = await up(host, commands);
    expect(r["docs-install"].stderr).toMatch(
      /^\[gpu-fleet\] unchanged: dependencies [0-9a-f]+ already installed in \/data\/staging\/vectorizer-docs\/app\n$/,
    );
    expect(r["docs-ingest"].stdout).toBe(`${SUMMARY}\n`);
    expect(
      host
        .calls()
        .slice(calls)
        .filter((c) => c.tool === "docker" && c.argv[0] === "run")
        .map((c) => c.argv.includes("ingest")),
    ).toEqual([true]);
  });

  it("teardown removes the secrets; the program, corpus and checkpoint stay on the data volume", async () => {
    await destroy(host, commands);
    expect(host.exists("/etc/gpu-fleet/vectorizer/docs.env")).toBe(false);
    expect(host.exists("/etc/gpu-fleet/iris/vdb.password")).toBe(false);
    expect(host.containers()).toEqual([]);
    expect(host.changedFiles().filter((p) => p.startsWith("/etc/"))).toEqual([
      "/etc/gpu-fleet",
      "/etc/gpu-fleet/iris",
      "/etc/gpu-fleet/nim",
      "/etc/gpu-fleet/vectorizer",
    ]);
    expect(host.exists(`${staging}/app/vectorizer/cli.ts`)).toBe(true);
    expect(host.exists("/data/vectorizer/docs")).toBe(true);
  });
});
