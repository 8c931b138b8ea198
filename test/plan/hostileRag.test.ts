/**
 * A hand-written stack whose rag values carry shell and SQL metacharacters (issue 14 items 3 and 9): the
 * plan refuses it with exit 2 before anything is registered, naming each key and value.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/runCli";

describe("hostile rag values", () => {
  it("rag.corpusDir `c$(touch pwned)`id`` and rag.table `chunks; DROP TABLE x` exit 2 naming both keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-hostile-rag-"));
    const path = join(dir, "Pulumi.case.yaml");
    writeFileSync(
      path,
      `config:
  aws:region: us-east-1
  gpu-fleet:hosts:
    - name: gpu0
      instanceType: g5.xlarge
  gpu-fleet:services:
    - { name: embed, model: nvidia/nv-embedqa-e5-v5, host: gpu0, gpus: [0] }
  gpu-fleet:rag:
    embeddingService: embed
    corpusDir: 'c$(touch pwned)\`id\`'
    table: 'chunks; DROP TABLE x'
  gpu-fleet:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test
  gpu-fleet:ngcApiKey:
    secure: v1:abc
  gpu-fleet:sshPrivateKey:
    secure: v1:def
  gpu-fleet:grafanaAdminPassword:
    secure: v1:ghi
  gpu-fleet:irisPassword:
    secure: v1:jkl
`,
    );
    const r = runCli("cli/plan.ts", [path], dir);
    expect(r.stderr).toBe(
      `invalid stack config ${path}:\n` +
        '  gpu-fleet:rag.corpusDir: "c$(touch pwned)`id`" is not allowed; expected a path of letters, digits and . _ - / whose last segment names the directory (not . or ..)\n' +
        '  gpu-fleet:rag.table: table name must be an identifier (letters, digits, _), optionally schema.table, got "chunks; DROP TABLE x"\n',
    );
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, "pwned"))).toBe(false);
    expect(existsSync(join(ROOT, "pwned"))).toBe(false);
  });
});
