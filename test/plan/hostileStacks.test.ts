/**
 * Stack files written by hand, as a new user or an attacker would: each is refused with the right exit
 * code and a message naming the key, before anything is registered (issue 14, items 1, 2, 4 and 7).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/runCli";

const plan = (...args: string[]) => runCli("cli/plan.ts", args);

function stackFile(yaml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "gpu-fleet-hostile-")), "Pulumi.case.yaml");
  writeFileSync(path, yaml);
  return path;
}

const ACCESS = `  gpu-fleet:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test
  gpu-fleet:ngcApiKey:
    secure: v1:abc
  gpu-fleet:sshPrivateKey:
    secure: v1:def
  gpu-fleet:grafanaAdminPassword:
    secure: v1:ghi
`;

describe("unknown gpu-fleet keys are errors naming the nearest allowed key", () => {
  it("gpu-fleet:servces (a typo) and gpu-fleet:maxHourlyUSD (wrong case) exit 2", () => {
    const r = plan(
      stackFile(`config:
  aws:region: us-east-1
  gpu-fleet:hosts:
    - name: gpu0
      instanceType: g5.xlarge
  gpu-fleet:servces:
    - { name: llm, model: meta/llama-3.1-8b-instruct, host: gpu0, gpus: [0], maxModelLen: 8192 }
  gpu-fleet:maxHourlyUSD: 2
${ACCESS}`),
    );
    expect(r.code).toBe(2);
    const allowed =
      "allowed: gpu-fleet:hosts, gpu-fleet:services, gpu-fleet:ngcApiKey, gpu-fleet:sshPrivateKey, gpu-fleet:sshPublicKey, gpu-fleet:grafanaAdminPassword, gpu-fleet:irisPassword, gpu-fleet:safetyMarginFraction, gpu-fleet:maxHourlyUsd, gpu-fleet:observability, gpu-fleet:rag, gpu-fleet:eks";
    expect(r.stderr).toContain(`  gpu-fleet:servces: unknown setting; did you mean gpu-fleet:services? ${allowed}\n`);
    expect(r.stderr).toContain(
      `  gpu-fleet:maxHourlyUSD: unknown setting; did you mean gpu-fleet:maxHourlyUsd? ${allowed}\n`,
    );
    expect(r.stdout).toBe("");
  });

  it("a file without config: says so", () => {
    const path = stackFile("gpu-fleet:hosts: []\n");
    const r = plan(path);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stack config ${path} has no "config:" map; expected a file like Pulumi.dev.yaml: config: with gpu-fleet:hosts and gpu-fleet:services\n`,
    );
  });
});

describe("existing.dataDir must be a dedicated directory", () => {
  it.each(["/", "/tmp", "/root", "/etc", "/usr", "/var/lib", "/etc/gpu-fleet", "/data/../etc"])(
    "%s is refused",
    (dir) => {
      const r = plan(
        stackFile(`config:
  gpu-fleet:hosts:
    - name: dgx
      existing: { address: 10.0.0.5, user: ubuntu, gpu: A100-SXM4-80GB, gpuCount: 8, dataDir: "${dir}" }
  gpu-fleet:services: []
${ACCESS}`),
      );
      expect(r.code).toBe(2);
      const message = dir.includes("..")
        ? `"${dir}" is not allowed; expected an absolute path of letters, digits, . _ - / without . or .. segments`
        : `"${dir}" is a system directory; expected a dedicated directory for gpu-fleet's data such as /data or /srv/gpu-fleet`;
      expect(r.stderr).toContain(`  gpu-fleet:hosts[0].existing.dataDir: ${message}\n`);
    },
  );
});

describe("a service the planner cannot place stops the plan as it stops pulumi up", () => {
  it("two unpinned llama-3.1-8b services on one g5.xlarge exit 1 with the placement violation", () => {
    const r = plan(
      stackFile(`config:
  aws:region: us-east-1
  gpu-fleet:hosts:
    - name: gpu0
      instanceType: g5.xlarge
  gpu-fleet:services:
    - { name: a, model: meta/llama-3.1-8b-instruct, host: gpu0, maxModelLen: 8192 }
    - { name: b, model: meta/llama-3.1-8b-instruct, host: gpu0, maxModelLen: 8192 }
${ACCESS}`),
      "--json",
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.services.map((s: any) => [s.name, s.gpus])).toEqual([
      ["a", [0]],
      ["b", []],
    ]);
    expect(report.violations.filter((v: any) => v.policy === "automatic-placement")).toEqual([
      {
        policy: "automatic-placement",
        enforcement: "mandatory",
        resource: "gpu0-ledger",
        message: expect.stringMatching(
          /^service "b" cannot be placed on host "gpu0": needs 1 GPU\(s\) with [\d,]+ MiB free each; 0 have that much/,
        ),
      },
    ]);
  });
});
