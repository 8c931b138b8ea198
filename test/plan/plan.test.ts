import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/runCli";

const plan = (...args: string[]) => runCli("cli/plan.ts", args);

function stackFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-plan-"));
  const path = join(dir, "Pulumi.case.yaml");
  writeFileSync(path, yaml);
  return path;
}

/** A stack file with one g5.xlarge host "gpu0", the given services (YAML list items) and every secret set. */
function gpu0Stack(services: string): string {
  return stackFile(`config:
  aws:region: us-east-1
  gpu-fleet:hosts:
    - name: gpu0
      instanceType: g5.xlarge
  gpu-fleet:services:
${services}
${ACCESS}`);
}

const ACCESS = `  gpu-fleet:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test
  gpu-fleet:ngcApiKey:
    secure: v1:abc
  gpu-fleet:sshPrivateKey:
    secure: v1:def
  gpu-fleet:grafanaAdminPassword:
    secure: v1:ghi
`;

describe("npm run plan -- dev --json", () => {
  let report: any;
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), "gpu-fleet-out-"));
    const r = plan("dev", "--json", "--out", outDir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
  });

  it("prints the contract's fields with the dev stack's numbers", () => {
    expect(report.stack).toBe("dev");
    expect(report.hourlyUsd).toBe(1.006);
    expect(report.hosts).toEqual([
      {
        name: "gpu0",
        kind: "ec2",
        instanceType: "g5.xlarge",
        hourlyUsd: 1.006,
        gpuCount: 1,
        interconnect: "single",
        gpus: [
          {
            index: 0,
            model: "A10G",
            memoryMiB: 23028,
            usableMiB: 21876,
            reservedMiB: 20334,
            outsideReservationMiB: 0,
            chargedMiB: 20334,
            reservations: [{ service: "llm", reservedMiB: 20334, outsideReservationMiB: 0 }],
          },
        ],
      },
    ]);
    expect(report.services).toHaveLength(1);
    expect(report.services[0]).toMatchObject({
      name: "llm",
      model: "meta/llama-3.1-8b-instruct",
      host: "gpu0",
      gpus: [0],
      tensorParallel: 1,
      reservedMiBPerGpu: 20334,
      profile: "generic-vllm",
      profileNote: "generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)",
      maxModelLen: 8192,
      kvCacheDtype: "auto",
      maxNumBatchedTokens: 2048,
      fits: true,
      estimate: { weightsMiBPerGpu: 15317, kvBytesPerToken: 131072, overheadMiB: 1510, maxContextTokens: 28048 },
    });
    expect(report.violations).toEqual([]);
  });

  it("lists every registered resource with its parent", () => {
    expect(report.resources).toContainEqual({ type: "gpu-fleet:index:GpuHost", name: "gpu0", parent: null });
    expect(report.resources).toContainEqual({
      type: "aws:ec2/instance:Instance",
      name: "gpu0-instance",
      parent: "gpu0",
    });
    expect(report.resources).toContainEqual({ type: "command:remote:Command", name: "llm-container", parent: "llm" });
    expect(report.resources).toContainEqual({
      type: "gpu-fleet:index:ObservabilityStack",
      name: "observability",
      parent: null,
    });
    expect(report.resources).toContainEqual({
      type: "command:remote:Command",
      name: "observability-prometheus",
      parent: "observability",
    });
    expect(report.resources).toHaveLength(22);
  });

  it("writes every rendered artifact, and each passes its real validator", () => {
    expect(readdirSync(join(outDir, "gpu0")).sort()).toEqual([
      "gpu0-instance.user-data.yaml",
      "gpu0-ledger.create.sh",
      "gpu0-ledger.delete.sh",
      "gpu0-ledger.stdin.json",
      "gpu0-provision.create.sh",
      "gpu0-verify-gpus.create.sh",
    ]);
    expect(readdirSync(join(outDir, "llm")).sort()).toEqual([
      "llm-container.create.sh",
      "llm-container.delete.sh",
      "llm-ngc-key.create.sh",
      "llm-ngc-key.delete.sh",
    ]);
    // Prometheus' and Grafana's files name the host's private IP, unknown until the instance exists:
    // the plan writes them with its placeholder for it (test/plan/out.test.ts checks them).
    expect(readdirSync(join(outDir, "observability")).sort()).toEqual([
      "observability-dcgm-exporter-gpu0.create.sh",
      "observability-dcgm-exporter-gpu0.delete.sh",
      "observability-files.create.sh",
      "observability-files.delete.sh",
      "observability-files.files",
      "observability-grafana-password.create.sh",
      "observability-grafana-password.delete.sh",
      "observability-grafana.create.sh",
      "observability-grafana.delete.sh",
      "observability-node-exporter-gpu0.create.sh",
      "observability-node-exporter-gpu0.delete.sh",
      "observability-prometheus.create.sh",
      "observability-prometheus.delete.sh",
    ]);
    for (const dir of ["gpu0", "llm", "observability"]) {
      for (const f of readdirSync(join(outDir, dir)).filter((f) => f.endsWith(".sh"))) {
        execFileSync("bash", ["-n", join(outDir, dir, f)]);
        const lint = spawnSync("shellcheck", ["-s", "bash", join(outDir, dir, f)], { encoding: "utf8" });
        expect(lint.stdout, f).toBe("");
        expect(lint.status, f).toBe(0);
      }
    }
    const schema = spawnSync("cloud-init", ["schema", "-c", join(outDir, "gpu0", "gpu0-instance.user-data.yaml")], {
      encoding: "utf8",
    });
    expect(schema.stdout.trim()).toBe(`Valid cloud-config: ${join(outDir, "gpu0", "gpu0-instance.user-data.yaml")}`);
    expect(JSON.parse(readFileSync(join(outDir, "plan.json"), "utf8"))).toEqual(report);
  });

  it("never writes a secret", () => {
    const all = readdirSync(outDir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), "utf8"))
      .join("\n");
    expect(all).not.toContain("NGC_API_KEY=[secret]");
    expect(all).not.toContain("PRIVATE KEY");
  });
});

describe("the text plan", () => {
  it("draws the dev GPU map as a bar and says which NIM profile runs", () => {
    const r = plan("dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("host gpu0 — ec2 g5.xlarge (1 × A10G, 23,028 MiB each, single), $1.006/h");
    expect(r.stdout).toContain("  GPU 0 [███████████████████████████████████··|   ] 20,334/21,876 MiB  llm 20,334");
    expect(r.stdout).toContain("    generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4)");
    expect(r.stdout).toContain("reserves 20,334 MiB/GPU, holds 28,048 tokens; maxModelLen 8,192 fits");
    expect(r.stdout).toContain("policy violations: none");
    expect(r.stdout).toContain(
      "  grafana    http://127.0.0.1:3000/       on gpu0; tunnel: ssh -N -L 3000:127.0.0.1:3000 ubuntu@<address of gpu0>, then open http://localhost:3000/",
    );
    // The README's "GPU map, as the plan prints it" is this output, line for line.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = readme.split("## The dev stack's GPU map, as the plan prints it")[1].split("```")[1];
    const printed = block.split("\n").filter((l) => l.trim() !== "");
    expect(printed.length).toBeGreaterThan(5);
    for (const line of printed) expect(r.stdout.split("\n")).toContain(line);
  });

  it("renders Markdown for a pull-request comment", () => {
    const r = plan("dev", "--format", "md");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("| GPU | Service | Model | Reserved MiB | Usable MiB | Headroom MiB |");
    expect(r.stdout).toContain("| 0 | llm (20,334) | meta/llama-3.1-8b-instruct | 20,334 | 21,876 | 1,542 |");
  });
});

describe("exit codes", () => {
  it("exits 2 naming the key, the bad value and what is allowed, registering nothing", () => {
    const path = gpu0Stack(`    - name: llm
      model: meta/llama-3.1-8b-instruct
      host: gpu0
      gpus: [0]
    - name: emb
      model: nvidia/nv-embedqa-e5-v5
      host: gpu0
      gpus: [3]`);
    const r = plan(path, "--json");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `invalid stack config ${path}:\n  gpu-fleet:services[1].gpus[0]: device 3 does not exist on host "gpu0" (g5.xlarge has GPU 0 only)\n`,
    );
  });

  it("exits 2 for a plaintext NGC key and a missing SSH key, listing both", () => {
    const path = stackFile(`config:
  gpu-fleet:hosts:
    - name: gpu0
      instanceType: g5.xlarge
  gpu-fleet:services: []
  gpu-fleet:observability: { enabled: false }
  gpu-fleet:ngcApiKey: nvapi-plaintext
  gpu-fleet:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test
`);
    const r = plan(path);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `invalid stack config ${path}:\n` +
        "  gpu-fleet:ngcApiKey: is stored in plain text; set it with `pulumi config set --secret gpu-fleet:ngcApiKey <key>`\n" +
        "  gpu-fleet:sshPrivateKey: is required to run commands on the hosts over SSH; set it with `cat key | pulumi config set --secret gpu-fleet:sshPrivateKey`\n",
    );
  });

  it("exits 1 with the policy message when a service does not fit its GPU", () => {
    const path = gpu0Stack(`    - name: llm
      model: meta/llama-3.1-8b-instruct
      host: gpu0
      gpus: [0]`);
    const r = plan(path, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.violations).toEqual([
      {
        policy: "model-fits-reservation",
        enforcement: "mandatory",
        message:
          'service "llm" (meta/llama-3.1-8b-instruct) on host "gpu0" GPU 0 needs 33,211 MiB per GPU (weights 15,317 + overhead 1,510 + KV for 131,072 tokens 16,384) but its reservation is 20,334 MiB: over by 12,877 MiB; set maxModelLen <= 28,048 or give it more GPUs',
        resource: "gpu0-ledger",
      },
    ]);
    expect(report.services[0].fits).toBe(false);
  });

  it("exits 1 when two services overflow one GPU", () => {
    const path = gpu0Stack(`    - name: llm
      model: meta/llama-3.1-8b-instruct
      host: gpu0
      gpus: [0]
      maxModelLen: 8192
    - name: emb
      model: nvidia/nv-embedqa-e5-v5
      host: gpu0
      gpus: [0]`);
    const r = plan(path, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.violations.map((v: any) => v.policy)).toEqual(["gpu-memory-budget"]);
    expect(report.violations[0].message).toBe(
      'host "gpu0" GPU 0 (A10G) is over budget by 1,754 MiB: llm 20,334 MiB + emb 1,664 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB = 23,630 MiB charged, 21,876 MiB usable of 23,028 MiB',
    );
  });

  it("exits 2 with usage for a missing stack file or a bad option", () => {
    const missing = plan("nosuchstack");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `stack config ${join(ROOT, "Pulumi.nosuchstack.yaml")} does not exist; expected a stack name (Pulumi.<stack>.yaml) or a path\n`,
    );
    const bad = plan("dev", "--format", "html");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "--format html: expected text or md\nusage: npm run plan -- <stack|path> [--json] [--out DIR] [--format text|md] [--base FILE]\n",
    );
  });
});
