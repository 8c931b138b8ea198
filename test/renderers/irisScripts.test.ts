import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderIrisPasswordScript } from "../../renderers/iris/password";
import { renderIrisSchemaScript } from "../../renderers/iris/schema";

/**
 * A stand-in `docker` for `docker exec -i <name> iris session IRIS -U <ns>`: it records the
 * ObjectScript the script pipes in (the exact text IRIS would read) and answers with the result
 * lines the test sets in $IRIS_ANSWER, echoing the input first as a terminal session would.
 */
const FAKE_DOCKER = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$CAPTURE.args"
cat > "$CAPTURE.stdin"
sed 's/^/USER>/' "$CAPTURE.stdin"
printf '%b' "$IRIS_ANSWER"
`;

function runWithFakeIris(
  script: string,
  answer: string,
  password = 'pa"ss word$1\n',
): { code: number; stdout: string; stderr: string; stdin: string; args: string } {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-iris-"));
  writeFileSync(join(dir, "docker"), FAKE_DOCKER);
  chmodSync(join(dir, "docker"), 0o755);
  writeFileSync(join(dir, "password"), password);
  const path = join(dir, "script.sh");
  writeFileSync(path, script.replaceAll("/etc/gpu-fleet/iris/rag.password", join(dir, "password")));
  const r = spawnSync("bash", [path], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, CAPTURE: join(dir, "capture"), IRIS_ANSWER: answer },
  });
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    stdin: read("capture.stdin"),
    args: read("capture.args"),
  };
}

const schemaScript = renderIrisSchemaScript(
  {
    service: "rag",
    containerName: "gpu-fleet-iris-rag",
    namespace: "USER",
    table: "vectorizer_chunks",
    dimension: 1024,
  },
  { sudo: false },
);
const OK =
  "GPU_FLEET_RESULT 0 table\\nGPU_FLEET_RESULT 0 meta-table\\nGPU_FLEET_RESULT 0 dimension\\nGPU_FLEET_RESULT 0 source-index\\nGPU_FLEET_RESULT 0 hnsw-index\\n";

describe("the IRIS schema script", () => {
  it("pipes exactly these ObjectScript lines into the USER namespace", () => {
    const r = runWithFakeIris(schemaScript, OK);
    expect(r.code).toBe(0);
    expect(r.args).toBe("exec -i gpu-fleet-iris-rag iris session IRIS -U USER\n");
    const lines = r.stdin.trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe(
      "set hnsw=($SYSTEM.Version.GetMajor()>2024)||(($SYSTEM.Version.GetMajor()=2024)&&($SYSTEM.Version.GetMinor()>=1))",
    );
    expect(lines[3]).toBe(
      `set rs=##class(%SQL.Statement).%ExecDirect(,"INSERT OR UPDATE INTO ""SQLUser"".""vectorizer_chunks_meta"" (meta_key, meta_value) VALUES ('dimension', ?)","1024") write "GPU_FLEET_RESULT ",rs.%SQLCODE," dimension",!`,
    );
    expect(lines[4]).toBe(
      `if 1 { set q=##class(%SQL.Statement).%ExecDirect(,"SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.INDEXES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ? AND UPPER(INDEX_NAME) = ?","SQLUSER","VECTORIZER_CHUNKS","VECTORIZER_CHUNKS_SOURCE") do q.%Next() if q.%Get("n")=0 { set rs=##class(%SQL.Statement).%ExecDirect(,"CREATE INDEX ""vectorizer_chunks_source"" ON TABLE ""SQLUser"".""vectorizer_chunks"" (source_path, chunk_position)") write "GPU_FLEET_RESULT ",rs.%SQLCODE," source-index",! } else { write "GPU_FLEET_RESULT 0 source-index (exists)",! } } else { write "GPU_FLEET_RESULT 0 source-index (skipped: IRIS before 2024.1 searches exactly)",! }`,
    );
    expect(lines[5]).toContain(`if hnsw { set q=`);
    expect(lines[5]).toContain(
      `set rs=##class(%SQL.Statement).%ExecDirect(,"CREATE INDEX ""vectorizer_chunks_hnsw"" ON TABLE ""SQLUser"".""vectorizer_chunks"" (embedding) AS HNSW(Distance='Cosine')")`,
    );
    expect(lines[6]).toBe("halt");
    expect(r.stderr).toContain("[gpu-fleet] schema of vectorizer_chunks ready (dimension 1024)");
  });

  it("fails naming the statement IRIS rejected", () => {
    const r = runWithFakeIris(schemaScript, OK.replace("0 hnsw-index", "-400 hnsw-index"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "[gpu-fleet] ERROR: IRIS rejected schema statements (SQLCODE < 0): GPU_FLEET_RESULT -400 hnsw-index",
    );
  });

  it("fails when IRIS does not answer every step", () => {
    const r = runWithFakeIris(schemaScript, "GPU_FLEET_RESULT 0 table\\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("[gpu-fleet] ERROR: IRIS answered 1 of 5 schema steps; is gpu-fleet-iris-rag running?");
  });
});

describe("the IRIS password script", () => {
  const script = renderIrisPasswordScript("rag", "gpu-fleet-iris-rag", "/etc/gpu-fleet/iris/rag.password", {
    sudo: false,
  });

  it("hands the password to IRIS as an ObjectScript literal on stdin, never in arguments or the log", () => {
    const r = runWithFakeIris(
      script,
      "GPU_FLEET_RESULT _SYSTEM 1\\nGPU_FLEET_RESULT SuperUser 1\\nGPU_FLEET_RESULT Admin 1\\nGPU_FLEET_RESULT CSPSystem 1\\n",
    );
    expect(r.code).toBe(0);
    expect(r.stdin.split("\n")[0]).toBe('set pw="pa""ss word$1"');
    expect(r.args).toBe("exec -i gpu-fleet-iris-rag iris session IRIS -U %SYS\n");
    expect(r.stdout + r.stderr).not.toContain("word$1");
    expect(r.stderr).toBe("[gpu-fleet] IRIS passwords set for 4 predefined accounts\n");
  });

  it("keeps a password with newlines, quotes and control characters inside one ObjectScript literal", () => {
    const r = runWithFakeIris(script, "GPU_FLEET_RESULT _SYSTEM 1\\n", 'line1\n" halt\nkill ^x\r\ttab\x7f$end\n');
    expect(r.code).toBe(0);
    const lines = r.stdin.split("\n");
    // The literal is the whole first line: the session reads set, then the next printer's line.
    expect(lines[0]).toBe(
      'set pw="line1"_$char(10)_""" halt"_$char(10)_"kill ^x"_$char(13)_""_$char(9)_"tab"_$char(127)_"$end"',
    );
    expect(lines[1]).toMatch(/^set p\("Password"\)=pw,/);
    expect(lines).toHaveLength(4);
    expect(r.stdout + r.stderr).not.toContain("kill ^x");
  });

  it("fails when IRIS refuses an account", () => {
    const r = runWithFakeIris(script, "GPU_FLEET_RESULT _SYSTEM 1\\nGPU_FLEET_RESULT Admin 0\\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("[gpu-fleet] ERROR: IRIS refused the new password for: Admin \n");
  });
});
