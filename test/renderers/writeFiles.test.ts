import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { renderRemoveFilesScript, renderWriteFilesScript } from "../../renderers/host/files";
import { observabilityInputFromPlan, renderObservabilityFiles } from "../../renderers/observability";
import { planFleet } from "../../fleet";
import { validateStackConfig } from "../../stackConfig";

const plan = planFleet(
  validateStackConfig({
    ngcApiKey: "secret",
    hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
    services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 }],
  }),
);
const bundle = renderObservabilityFiles(
  observabilityInputFromPlan(plan, { stack: "dev", addresses: { gpu0: "10.0.1.23" } }),
);

function run(script: string): { code: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-files-"));
  const path = join(dir, "write.sh");
  writeFileSync(path, script);
  const r = spawnSync("bash", [path], { encoding: "utf8" });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe("writing configuration files on a host", () => {
  it("writes every file byte for byte, then changes nothing on a second run", () => {
    const base = mkdtempSync(join(tmpdir(), "gpu-fleet-obs-"));
    const script = renderWriteFilesScript("write observability files", base, bundle, { sudo: false });
    expect(spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" }).stdout).toBe("");
    const first = run(script);
    expect(first).toEqual({
      code: 0,
      stderr: `[gpu-fleet] wrote ${Object.keys(bundle).length} of ${Object.keys(bundle).length} files under ${base}\n`,
    });
    for (const [path, content] of Object.entries(bundle))
      expect(readFileSync(join(base, path), "utf8"), path).toBe(content);
    expect(run(script)).toEqual({
      code: 0,
      stderr: `[gpu-fleet] unchanged: ${Object.keys(bundle).length} files under ${base}\n`,
    });
    // What was written is what Prometheus accepts.
    const check = spawnSync("promtool", ["check", "config", join(base, "prometheus/prometheus.yml")], {
      encoding: "utf8",
    });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("keeps content that looks like shell or a here-document end literal", () => {
    const base = mkdtempSync(join(tmpdir(), "gpu-fleet-obs-"));
    const tricky = { "a.txt": "$(touch /tmp/pwned) `x` ${y}\nEOF\n", "b/c.txt": "no newline at end" };
    expect(run(renderWriteFilesScript("tricky", base, tricky, { sudo: false })).code).toBe(0);
    expect(readFileSync(join(base, "a.txt"), "utf8")).toBe(tricky["a.txt"]);
    expect(readFileSync(join(base, "b/c.txt"), "utf8")).toBe("no newline at end\n");
  });

  it("removes what it wrote, and the directories left empty", () => {
    const base = mkdtempSync(join(tmpdir(), "gpu-fleet-obs-"));
    expect(run(renderWriteFilesScript("write", base, bundle, { sudo: false })).code).toBe(0);
    writeFileSync(join(base, "prometheus", "operator-notes.txt"), "kept\n");
    const removed = run(renderRemoveFilesScript("remove", base, Object.keys(bundle), { sudo: false }));
    expect(removed).toEqual({
      code: 0,
      stderr: `[gpu-fleet] removed ${Object.keys(bundle).length} files under ${base}\n`,
    });
    expect(existsSync(join(base, "grafana"))).toBe(false);
    expect(readFileSync(join(base, "prometheus", "operator-notes.txt"), "utf8")).toBe("kept\n");
  });

  it("refuses paths that leave the base directory", () => {
    expect(() => renderWriteFilesScript("bad", "/etc/x", { "../passwd": "x" })).toThrow(
      `file path "../passwd" must be relative, of letters, digits, . _ - and /`,
    );
  });
});
