import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderVectorizerInstallScript, renderVectorizerRunScript } from "../../renderers/vectorizer/job";

/** A stand-in `docker` that logs its arguments and plays the vectorizer: a summary line on stdout. */
const FAKE_DOCKER = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$DOCKER_LOG"
case "$1" in
  run) if [[ "$*" == *vectorizer/cli.ts* ]]; then
         printf 'progress 3/3\\n' >&2; [ -n "$FAIL_RUN" ] && exit 3; printf '%s\\n' '{"documents":3,"chunks":5,"embedded":5}'
       fi ;;
esac
exit 0
`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "gpu-fleet-job-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "docker"), FAKE_DOCKER);
  chmodSync(join(dir, "bin", "docker"), 0o755);
  mkdirSync(join(dir, "app"));
  mkdirSync(join(dir, "corpus"));
  writeFileSync(join(dir, "app", "package.json"), "{}");
  const run = (script: string, env: Record<string, string> = {}) => {
    const r = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${join(dir, "bin")}:${process.env.PATH}`,
        DOCKER_LOG: join(dir, "docker.log"),
        ...env,
      },
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, run, dockerLog: () => readFileSync(join(dir, "docker.log"), "utf8") };
}

describe("the vectorizer job scripts", () => {
  it("installs the dependencies once per package hash", () => {
    const t = setup();
    const script = renderVectorizerInstallScript(
      { job: "docs", appDir: join(t.dir, "app"), image: "node:20-bookworm", packageHash: "abc123" },
      { sudo: false },
    );
    mkdirSync(join(t.dir, "app", "node_modules"));
    expect(t.run(script)).toMatchObject({
      code: 0,
      stderr: `[gpu-fleet] installed dependencies abc123 in ${join(t.dir, "app")}\n`,
    });
    expect(t.dockerLog()).toBe(
      `pull -q node:20-bookworm\nrun --rm -v ${join(t.dir, "app")}:/app -w /app node:20-bookworm npm install --omit=dev --no-audit --no-fund\n`,
    );
    expect(t.run(script)).toMatchObject({
      code: 0,
      stderr: `[gpu-fleet] unchanged: dependencies abc123 already installed in ${join(t.dir, "app")}\n`,
    });
  });

  const spec = (dir: string) => ({
    job: "docs",
    appDir: join(dir, "app"),
    image: "node:20-bookworm",
    corpusDir: join(dir, "corpus"),
    stateDir: join(dir, "state"),
    secretEnvFile: "/etc/gpu-fleet/vectorizer/docs.env",
    env: { IRIS_HOST: "10.0.0.5" },
    args: ["--store", "iris"],
  });

  it("prints the vectorizer's summary line as its only stdout", () => {
    const t = setup();
    const r = t.run(renderVectorizerRunScript(spec(t.dir), { sudo: false }));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"documents":3,"chunks":5,"embedded":5}\n');
    expect(r.stderr).toContain("progress 3/3");
    expect(t.dockerLog().split("\n")[0]).toBe("rm -f gpu-fleet-vectorizer-docs");
    expect(t.dockerLog().split("\n")[1]).toContain(
      "run --rm --name gpu-fleet-vectorizer-docs --network host --env-file /etc/gpu-fleet/vectorizer/docs.env -e IRIS_HOST=10.0.0.5",
    );
  });

  it("fails with the resume hint when the vectorizer fails", () => {
    const t = setup();
    const r = t.run(renderVectorizerRunScript(spec(t.dir), { sudo: false }), { FAIL_RUN: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `[gpu-fleet] ERROR: the vectorizer stopped with an error (see above); its checkpoint in ${join(t.dir, "state")} lets the next run resume`,
    );
  });

  it("refuses a missing corpus", () => {
    const t = setup();
    const r = t.run(renderVectorizerRunScript({ ...spec(t.dir), corpusDir: join(t.dir, "nope") }, { sudo: false }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`[gpu-fleet] ERROR: corpus directory ${join(t.dir, "nope")} does not exist on this host\n`);
  });
});
