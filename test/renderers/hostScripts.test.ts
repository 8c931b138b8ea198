import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planFleet } from "../../fleet";
import { renderCloudInit } from "../../renderers/host/cloudInit";
import { renderLedgerRemoveScript, renderLedgerWriteScript } from "../../renderers/host/ledgerFile";
import { renderProvisionScript } from "../../renderers/host/provision";
import { renderGpuVerifyScript } from "../../renderers/host/verifyGpus";
import { containerSpecFor, engineArgs, nimEnvironment } from "../../renderers/nim/serviceSpec";
import { gpusFlag, renderContainerStartScript, renderContainerStopScript } from "../../renderers/container/container";
import { secretEnvFilePath } from "../../renderers/nim/serviceSpec";
import { renderRemoveFileScript, renderStdinFileScript, shQuote } from "../../renderers/shell";
import { validateStackConfig } from "../../stackConfig";

const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-scripts-"));

function lint(name: string, script: string): { bash: number; shellcheck: string } {
  const path = join(dir, name);
  writeFileSync(path, script);
  const bash = spawnSync("bash", ["-n", path]).status ?? -1;
  const sc = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", path], { encoding: "utf8" });
  return { bash, shellcheck: sc.stdout + sc.stderr };
}

// A fleet that exercises every renderer branch: an EC2 host, an existing 8-GPU machine, NIM and
// non-NIM images, tensor parallelism, an encoder, and a literal bind address.
const plan = planFleet(
  validateStackConfig({
    ngcApiKey: "secret",
    hosts: [
      { name: "gpu0", instanceType: "g5.xlarge" },
      {
        name: "dgx",
        existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 },
        bindAddress: "10.0.0.5",
      },
    ],
    services: [
      { name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 },
      { name: "chat", model: "meta/llama-3.1-8b-instruct", host: "dgx", gpus: [2, 3] },
      { name: "emb", model: "nvidia/nv-embedqa-e5-v5", host: "dgx", gpus: [1] },
      { name: "ocr", model: "rednote-hilab/dots.ocr", host: "dgx", gpus: [4], maxModelLen: 32768 },
      { name: "mini", model: "sentence-transformers/all-MiniLM-L6-v2", host: "dgx", gpus: [5] },
      // vLLM's own settings: through NIM_PASSTHROUGH_ARGS to a NIM, as flags to vLLM's server.
      {
        name: "kv",
        model: "meta/llama-3.1-8b-instruct",
        host: "dgx",
        gpus: [6],
        maxModelLen: 32768,
        kvCacheDtype: "fp8",
        maxNumBatchedTokens: 4096,
      },
      {
        name: "ocr8",
        model: "rednote-hilab/dots.ocr",
        host: "dgx",
        gpus: [7],
        maxModelLen: 32768,
        kvCacheDtype: "fp8",
      },
    ],
  }),
);
const hostOf = (name: string) => plan.hosts.find((h) => h.name === name)!;

const scripts: [string, string][] = [
  ["provision-ebs", renderProvisionScript({ host: "gpu0", dataVolume: "ebs" })],
  [
    "provision-dir",
    renderProvisionScript(
      { host: "dgx", dataVolume: "directory" },
      { sudo: false, paths: { configDir: "/tmp/c", dataDir: "/tmp/d" } },
    ),
  ],
  [
    "verify",
    renderGpuVerifyScript({ host: "dgx", nvidiaSmiName: "NVIDIA A100-SXM4-80GB", gpuCount: 8, memoryMiB: 81920 }),
  ],
  ["ledger-write", renderLedgerWriteScript("gpu0")],
  ["ledger-remove", renderLedgerRemoveScript("gpu0")],
  ["env-write", renderStdinFileScript("install the secret env file of llm", secretEnvFilePath("llm"), "0600")],
  ["env-remove", renderRemoveFileScript("remove the secret env file of llm", secretEnvFilePath("llm"))],
  ...plan.services.map((s): [string, string] => [
    `start-${s.name}`,
    renderContainerStartScript(containerSpecFor(s, hostOf(s.host))),
  ]),
  ["stop", renderContainerStopScript("llm")],
];

describe("every host script passes bash -n and shellcheck", () => {
  it.each(scripts)("%s", (name, script) => {
    expect(lint(`${name}.sh`, script)).toEqual({ bash: 0, shellcheck: "" });
  });
});

describe("container settings", () => {
  const svc = (name: string) => plan.services.find((s) => s.name === name)!;

  it("pins devices with the quoting docker requires", () => {
    expect(gpusFlag([2, 3])).toBe('"device=2,3"');
    expect(shQuote(gpusFlag([2, 3]))).toBe(`'"device=2,3"'`);
  });

  it.each([
    ["llm", { NIM_TENSOR_PARALLEL_SIZE: "1", NIM_MAX_MODEL_LEN: "8192", NIM_GPU_MEMORY_UTILIZATION: "0.9" }],
    ["chat", { NIM_TENSOR_PARALLEL_SIZE: "2", NIM_MAX_MODEL_LEN: "131072", NCCL_DEBUG: "WARN" }],
    ["emb", {}],
    [
      "kv",
      {
        NIM_TENSOR_PARALLEL_SIZE: "1",
        NIM_MAX_MODEL_LEN: "32768",
        NIM_GPU_MEMORY_UTILIZATION: "0.9",
        NIM_PASSTHROUGH_ARGS: "--kv-cache-dtype fp8 --max-num-batched-tokens 4096",
      },
    ],
  ])("NIM environment of %s", (name, env) => {
    expect(nimEnvironment(svc(name))).toEqual(env);
  });

  it.each([
    [
      "ocr",
      [
        "--model",
        "rednote-hilab/dots.ocr",
        "--tensor-parallel-size",
        "1",
        "--max-model-len",
        "32768",
        "--gpu-memory-utilization",
        "0.9",
        "--trust-remote-code",
      ],
    ],
    ["mini", ["--model-id", "sentence-transformers/all-MiniLM-L6-v2"]],
    ["llm", []],
    [
      "ocr8",
      [
        "--model",
        "rednote-hilab/dots.ocr",
        "--tensor-parallel-size",
        "1",
        "--max-model-len",
        "32768",
        "--gpu-memory-utilization",
        "0.9",
        "--kv-cache-dtype",
        "fp8",
        "--trust-remote-code",
      ],
    ],
  ])("engine flags of %s", (name, args) => {
    expect(engineArgs(svc(name))).toEqual(args);
  });

  it("hands NIM the passthrough arguments as one quoted -e value", () => {
    expect(renderContainerStartScript(containerSpecFor(svc("kv"), hostOf("dgx")))).toContain(
      `-e 'NIM_PASSTHROUGH_ARGS=--kv-cache-dtype fp8 --max-num-batched-tokens 4096'`,
    );
  });

  it("gives non-NIM containers no env file and no NGC login", () => {
    const spec = containerSpecFor(svc("ocr"), hostOf("dgx"));
    expect(spec.secretEnvFile).toBeUndefined();
    const script = renderContainerStartScript(spec);
    expect(script).not.toContain("docker login");
    expect(script).toContain(`as_root docker pull -q "$image" >/dev/null || abort "cannot pull $image"`);
    expect(script).toContain(`-v '/data/nim-cache/ocr:/root/.cache/huggingface'`);
  });

  it("binds to a literal address when the host sets one, and to the private IPv4 by default", () => {
    expect(renderContainerStartScript(containerSpecFor(svc("chat"), hostOf("dgx")))).toContain("bind='10.0.0.5'");
    expect(renderContainerStartScript(containerSpecFor(svc("llm"), hostOf("gpu0")))).toContain(
      `bind="$(hostname -I 2>/dev/null | tr ' ' '\\n' | grep -E '^(10|172\\.(1[6-9]|2[0-9]|3[01])|192\\.168)\\.' | head -n1 || true)"`,
    );
  });

  it("preflights each pinned GPU against the plan's model and reservation", () => {
    const script = renderContainerStartScript(containerSpecFor(svc("chat"), hostOf("dgx")));
    expect(script).toContain("pinned=(2 3)");
    expect(script).toContain(`expected_name='NVIDIA A100-SXM4-80GB'`);
    expect(script).toContain(`[ "$gpu_name" = "$expected_name" ]`);
    expect(script).toContain(`if [ "$free" -lt ${svc("chat").reservedMiBPerGpu} ]; then`);
  });
});

describe("cloud-init", () => {
  it("is valid cloud-config for cloud-init schema", () => {
    const path = join(dir, "user-data.yaml");
    writeFileSync(path, renderCloudInit({ host: "gpu0", gpuModel: "A10G", gpuCount: 1 }));
    const r = spawnSync("cloud-init", ["schema", "-c", path], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe(`Valid cloud-config: ${path}`);
    expect(r.status).toBe(0);
  });

  it("records the host and wires Docker to the NVIDIA runtime", () => {
    expect(renderCloudInit({ host: "gpu0", gpuModel: "A10G", gpuCount: 1 })).toBe(`#cloud-config
# gpu-fleet host "gpu0": 1 x A10G
write_files:
  - path: /etc/gpu-fleet/host.json
    permissions: "0644"
    owner: root:root
    content: '{"host":"gpu0","gpuModel":"A10G","gpuCount":1}'
runcmd:
  - [sh, -c, "nvidia-ctk runtime configure --runtime=docker && systemctl restart docker"]
`);
  });
});
