/**
 * `--out` leaves nothing out: for both shipped stacks every file a host would receive is written
 * (the observability files with the private-address placeholder), each passes the tool that consumes
 * it, and what cannot be written is named. Reusing a directory replaces only what `--out` wrote.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renderWriteFilesScript } from "../../renderers/host/files";
import { MANIFEST, collectArtifacts, filesWrittenByScript } from "../../plan/artifacts";
import type { RegisteredResource } from "../../plan/mockPreview";
import { placeholderInputsAsUnknown, placeholderToken } from "../../plan/placeholders";
import { runCli } from "../helpers/runCli";

const plan = (...args: string[]) => runCli("cli/plan.ts", args);
const OBS = "observability/observability-files.files/etc/gpu-fleet/observability";

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

function tool(cmd: string, args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every validator the files meet on the host: promtool, shellcheck, cloud-init schema. */
function expectValid(out: string, userData: string, ruleCount: number): void {
  const prom = join(out, OBS, "prometheus");
  const config = tool("promtool", ["check", "config", "prometheus.yml"], prom);
  expect(config.output).toBe(
    "Checking prometheus.yml\n  SUCCESS: 1 rule files found\n SUCCESS: prometheus.yml is valid prometheus config file syntax\n\n" +
      `Checking rules/gpu-fleet.rules.yml\n  SUCCESS: ${ruleCount} rules found\n\n`,
  );
  expect(config.status).toBe(0);
  const rules = tool("promtool", ["check", "rules", "rules/gpu-fleet.rules.yml"], prom);
  expect(rules.output).toBe(`Checking rules/gpu-fleet.rules.yml\n  SUCCESS: ${ruleCount} rules found\n\n`);
  expect(rules.status).toBe(0);
  const scripts = tree(out).filter((f) => f.endsWith(".sh"));
  const lint = tool("shellcheck", ["-s", "bash", ...scripts], out);
  expect(lint.output).toBe("");
  expect(lint.status).toBe(0);
  const schema = tool("cloud-init", ["schema", "-c", userData], out);
  expect(schema.output.trim()).toBe(`Valid cloud-config: ${userData}`);
  expect(schema.status).toBe(0);
  for (const f of tree(out).filter((f) => f.endsWith(".json"))) JSON.parse(readFileSync(join(out, f), "utf8"));
}

describe("npm run plan -- dev --out DIR", () => {
  let out: string;
  let report: any;
  beforeAll(() => {
    out = join(mkdtempSync(join(tmpdir(), "gpu-fleet-out-")), "dev");
    const r = plan("dev", "--json", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
  });

  it("writes every file a host receives, the observability bundle included, and a manifest of them", () => {
    const files = tree(out);
    expect(files.filter((f) => f.startsWith("observability/observability-files.files/"))).toEqual([
      `${OBS}/grafana/dashboards/gpu-fleet-gpu.json`,
      `${OBS}/grafana/dashboards/gpu-fleet-nim.json`,
      `${OBS}/grafana/provisioning/dashboards/gpu-fleet.yml`,
      `${OBS}/grafana/provisioning/datasources/gpu-fleet.yml`,
      `${OBS}/prometheus/prometheus.yml`,
      `${OBS}/prometheus/rules/gpu-fleet.rules.yml`,
    ]);
    expect(files).toContain("observability/observability-prometheus.create.sh");
    expect(files).toContain("observability/observability-grafana.create.sh");
    expect(JSON.parse(readFileSync(join(out, MANIFEST), "utf8"))).toEqual({
      writtenBy: "npm run plan -- --out",
      files: files.filter((f) => f !== MANIFEST),
    });
  });

  it("puts the documented placeholder where the private address goes, and lists it", () => {
    expect(report.placeholders).toEqual([
      {
        token: "gpu0.privateIp.invalid",
        resource: "gpu0-instance",
        output: "privateIp",
        files: ["observability/observability-files.create.sh", `${OBS}/prometheus/prometheus.yml`],
      },
      { token: "gpu0.publicIp.invalid", resource: "gpu0-instance", output: "publicIp", files: [] },
    ]);
    expect(readFileSync(join(out, OBS, "prometheus/prometheus.yml"), "utf8")).toContain(
      "      - targets:\n          - gpu0.privateIp.invalid:9100\n",
    );
  });

  it("names the files it does not write: the secrets on stdin", () => {
    expect(report.unrendered).toEqual([
      { path: "llm/llm-ngc-key.stdin", resource: "llm-ngc-key", input: "stdin", reason: "secret" },
      {
        path: "observability/observability-grafana-password.stdin",
        resource: "observability-grafana-password",
        input: "stdin",
        reason: "secret",
      },
    ]);
  });

  it("passes promtool, shellcheck and cloud-init schema", () => {
    expectValid(out, "gpu0/gpu0-instance.user-data.yaml", 7);
  });

  it("prints the placeholders and the unwritten files in the text plan", () => {
    const r = plan("dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "\nplaceholders (known only after `pulumi up`; every `--out` file carries them as written here)\n" +
        "  gpu0.privateIp.invalid: privateIp of gpu0-instance, in 2 files\n" +
        "  gpu0.publicIp.invalid: publicIp of gpu0-instance, in no file\n" +
        "\nnot written by --out\n" +
        "  llm/llm-ngc-key.stdin: stdin of llm-ngc-key is a secret, never written\n" +
        "  observability/observability-grafana-password.stdin: stdin of observability-grafana-password is a secret, never written\n",
    );
  });
});

describe("npm run plan -- a100 --out DIR", () => {
  let out: string;
  let report: any;
  beforeAll(() => {
    out = join(mkdtempSync(join(tmpdir(), "gpu-fleet-out-")), "a100");
    const r = plan("a100", "--json", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
  });

  it("writes the pipeline dashboard and the vectorizer's ingest with the placeholder, all valid", () => {
    expect(tree(out)).toContain(`${OBS}/grafana/dashboards/gpu-fleet-pipeline.json`);
    expect(report.placeholders[0]).toEqual({
      token: "a100.privateIp.invalid",
      resource: "a100-instance",
      output: "privateIp",
      files: [
        "observability/observability-files.create.sh",
        `${OBS}/prometheus/prometheus.yml`,
        "vectorizer/vectorizer-ingest.create.sh",
      ],
    });
    expect(report.unrendered.map((u: any) => `${u.path} ${u.reason}`)).toEqual([
      "asr/asr-ngc-key.stdin secret",
      "embed/embed-ngc-key.stdin secret",
      "rerank/rerank-ngc-key.stdin secret",
      "llm/llm-ngc-key.stdin secret",
      "iris/iris-password.stdin secret",
      "observability/observability-grafana-password.stdin secret",
      "vectorizer/vectorizer-secrets.stdin secret",
    ]);
    expectValid(out, "a100/a100-instance.user-data.yaml", 21);
  });

  it("reused for dev: removes every a100 file it wrote, keeps files it did not write", () => {
    const reused = join(mkdtempSync(join(tmpdir(), "gpu-fleet-reuse-")), "out");
    cpSync(out, reused, { recursive: true });
    writeFileSync(join(reused, "NOTES.md"), "mine\n");
    mkdirSync(join(reused, "asr", "keep"));
    writeFileSync(join(reused, "asr", "keep", "mine.txt"), "mine\n");
    const r = plan("dev", "--out", reused);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const files = tree(reused);
    expect(files.filter((f) => /^(a100|embed|rerank|ocr|iris|vectorizer)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith("asr/"))).toEqual(["asr/keep/mine.txt"]);
    expect(files).toContain("NOTES.md");
    expect(files).toContain("gpu0/gpu0-instance.user-data.yaml");
    expect(files).not.toContain(`${OBS}/grafana/dashboards/gpu-fleet-pipeline.json`);
    expect(readdirSync(reused).sort()).toEqual([
      ".gpu-fleet-out.json",
      "NOTES.md",
      "asr",
      "gpu0",
      "llm",
      "observability",
      "plan.json",
    ]);
  });
});

describe("--out refuses what it must not overwrite, before planning", () => {
  it("exits 2 onto an existing file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "gpu-fleet-out-")), "plan.txt");
    writeFileSync(file, "keep me\n");
    const r = plan("dev", "--out", file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `--out ${file}: is a file; expected a directory (new, empty, or written by an earlier --out)\n`,
    );
    expect(readFileSync(file, "utf8")).toBe("keep me\n");
  });

  it("exits 2 for a directory inside a file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "gpu-fleet-out-")), "plan.txt");
    writeFileSync(file, "keep me\n");
    const r = plan("dev", "--out", join(file, "sub", "out"));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`--out ${join(file, "sub", "out")}: ${file} is a file, so the directory cannot be created\n`);
  });

  it("exits 2 onto a non-empty directory no --out wrote", () => {
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-out-"));
    writeFileSync(join(dir, "report.md"), "keep me\n");
    const r = plan("dev", "--out", dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `--out ${dir}: is not empty and has no .gpu-fleet-out.json, so an earlier --out did not write it; choose a new or empty directory\n`,
    );
    expect(readdirSync(dir)).toEqual(["report.md"]);
  });

  it("exits 2 naming the file system's refusal, without a stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-out-"));
    mkdirSync(join(dir, "gpu0"));
    writeFileSync(join(dir, MANIFEST), JSON.stringify({ files: ["gpu0"] }));
    const r = plan("dev", "--out", dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`--out ${dir}: EISDIR on ${join(dir, "gpu0")}; nothing more was written\n`);
  });

  it("exits 2 when the manifest lists a path outside the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-out-"));
    writeFileSync(join(dir, MANIFEST), JSON.stringify({ files: ["../../etc/passwd"] }));
    const r = plan("dev", "--out", dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `--out ${dir}: .gpu-fleet-out.json is not a list of files inside the directory; remove it or choose another directory\n`,
    );
  });
});

describe("the pieces", () => {
  it("reads back every file a write-files script carries, byte for byte", () => {
    const files = { "a/b.yml": "x: 1\n", "c.json": '{"EOF": "GPU_FLEET_EOF_x"}\n', "d.txt": "no newline" };
    expect(filesWrittenByScript(renderWriteFilesScript("test", "/etc/x", files))).toEqual([
      { path: "etc/x/a/b.yml", content: "x: 1\n" },
      { path: "etc/x/c.json", content: '{"EOF": "GPU_FLEET_EOF_x"}\n' },
      { path: "etc/x/d.txt", content: "no newline\n" },
    ]);
  });

  it("names what it cannot write: a secret stdin, an input still unknown in the preview", () => {
    const command = (name: string, inputs: Record<string, unknown>): RegisteredResource => ({
      urn: `urn:pulumi:s::p::command:remote:Command::${name}`,
      type: "command:remote:Command",
      name,
      parent: "svc",
      custom: true,
      inputs,
    });
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "nvapi-x" };
    const collected = collectArtifacts([
      command("svc-key", { create: "#!/bin/sh\n", delete: "#!/bin/sh\nrm k\n", stdin: secret }),
      command("svc-ledger", { create: "#!/bin/sh\n", stdin: '{"host":"h"}' }),
      command("svc-late", { create: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }),
      command("svc-missing", {}),
    ]);
    expect(collected.artifacts.map((a) => a.path)).toEqual([
      "svc/svc-key.create.sh",
      "svc/svc-key.delete.sh",
      "svc/svc-ledger.create.sh",
      "svc/svc-ledger.stdin.json",
    ]);
    expect(collected.unrendered).toEqual([
      { path: "svc/svc-key.stdin", resource: "svc-key", input: "stdin", reason: "secret" },
      { path: "svc/svc-late.create.sh", resource: "svc-late", input: "create", reason: "unknown" },
      { path: "svc/svc-missing.create.sh", resource: "svc-missing", input: "create", reason: "unknown" },
    ]);
    expect(JSON.stringify(collected)).not.toContain("nvapi-x");
  });

  it("hands the policies any input carrying a placeholder as unknown, as a preview would", () => {
    const token = placeholderToken("gpu0", "privateIp");
    expect(token).toBe("gpu0.privateIp.invalid");
    expect(
      placeholderInputsAsUnknown({ create: `curl http://${token}:8000`, delete: "rm x", list: [token, 1] }, [token]),
    ).toEqual({
      create: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
      delete: "rm x",
      list: ["04da6b54-80e4-46f7-96ec-b56ff0331ba9", 1],
    });
  });
});
