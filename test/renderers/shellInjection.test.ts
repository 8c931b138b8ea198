/**
 * Every string a renderer takes is fed shell metacharacters, and the rendered script RUNS under bash
 * with the host's tools (docker, nvidia-smi, systemctl, install, rm, …) replaced by stub functions that
 * record their argv. Nothing a value holds may run (the `pwned` command would create a marker file),
 * and each value must arrive intact: as one argument of a tool, in a message, or in a file's content.
 * Each script runs twice: once with every tool succeeding, once with every tool failing, so the error
 * paths (where the first version of the ingest script evaluated rag.corpusDir) run too.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { renderContainerStartScript, renderContainerStopScript } from "../../renderers/container/container";
import { renderCloudInit } from "../../renderers/host/cloudInit";
import { renderRemoveFilesScript, renderWriteFilesScript } from "../../renderers/host/files";
import { renderLedgerRemoveScript, renderLedgerWriteScript } from "../../renderers/host/ledgerFile";
import { fstabField, renderProvisionScript } from "../../renderers/host/provision";
import { renderGpuVerifyScript } from "../../renderers/host/verifyGpus";
import { renderIrisPasswordScript } from "../../renderers/iris/password";
import { renderIrisSchemaScript } from "../../renderers/iris/schema";
import { secretEnvFilePath } from "../../renderers/nim/serviceSpec";
import { renderRemoveFileScript, renderStdinFileScript } from "../../renderers/shell";
import { renderVectorizerInstallScript, renderVectorizerRunScript } from "../../renderers/vectorizer/job";

const root = mkdtempSync(join(tmpdir(), "gpu-fleet-injection-"));
afterAll(() => (process.env.KEEP_INJECTION_DIR ? undefined : rmSync(root, { recursive: true, force: true })));
const marker = join(root, "PWNED");
const binDir = join(root, "bin");
mkdirSync(binDir);
// `pwned` exists both as a command on PATH and as a function: whichever way a value got evaluated, it leaves the marker.
writeFileSync(join(binDir, "pwned"), `#!/bin/sh\ntouch '${marker}'\n`);
chmodSync(join(binDir, "pwned"), 0o755);

/** Tools a host script may call; each becomes a function recording its argv (\x1f between words, \x1e after). */
const STUBBED = [
  "docker",
  "nvidia-smi",
  "nvidia-ctk",
  "systemctl",
  "cloud-init",
  "lsblk",
  "findmnt",
  "blkid",
  "mkfs.ext4",
  "mount",
  "mountpoint",
  "tee",
  "install",
  "mv",
  "rm",
  "cmp",
  "find",
  "touch",
  "curl",
  "hostname",
  "sleep",
  "chmod",
  "chown",
];
const bashEnv = join(root, "stubs.bash");
writeFileSync(
  bashEnv,
  `record() { { printf '%s' "$1"; shift; for a in "$@"; do printf '\\x1f%s' "$a"; done; printf '\\x1e'; } >> "$STUB_LOG"; }
stub_status() { [ "$STUB_MODE" = ok ]; }
${STUBBED.filter((t) => !["nvidia-smi", "hostname", "docker", "lsblk", "tee"].includes(t))
  .map((t) => `${t}() { record ${t} "$@"; stub_status; }`)
  .join("\n")}
nvidia-smi() { record nvidia-smi "$@"; stub_status || return 1; printf '%s' "$STUB_SMI"; }
hostname() { record hostname "$@"; stub_status || return 1; printf '10.0.0.5\\n'; }
docker() { record docker "$@"; stub_status || return 1; if [ "$1" = exec ]; then cat > "$STUB_LOG.stdin"; printf '%b' "$STUB_DOCKER_EXEC"; fi; }
sudo() { record sudo "$@"; [ "$1" = -n ] && shift; "$@"; }
# Not root, whoever runs the tests: every privileged step goes through sudo, which records it.
id() { if [ "$1" = -u ]; then echo 1000; else command id "$@"; fi; }
tee() { local input; input="$(cat)"; record tee "$@" "stdin:$input"; stub_status; }
lsblk() { record lsblk "$@"; stub_status || return 1; if [ "$1" = -dno ]; then printf '%s\n' "$STUB_LSBLK"; fi; }
timeout() { record timeout "$@"; shift; "$@"; }
env() { record env "$@"; while [ "$#" -gt 0 ] && [ "\${1#*=}" != "$1" ]; do shift; done; "$@"; }
# -s (a staged secret is there) holds; -f and -d do not, so file installs take their "changed" path.
test() { record test "$@"; stub_status || return 1; [ "$1" = -s ]; }
pwned() { : > '${marker}'; }
`,
);

interface Run {
  readonly code: number;
  /** Every argument every stubbed tool got, the script's stdout and stderr, and the files it staged. */
  readonly seen: readonly string[];
  readonly calls: readonly string[][];
}

let runCount = 0;
function runScript(script: string, mode: "ok" | "fail", extra: Record<string, string> = {}, stdin = "content\n"): Run {
  const dir = join(root, `run-${runCount++}`);
  mkdirSync(dir);
  const path = join(dir, "script.sh");
  writeFileSync(path, script);
  const log = join(dir, "calls");
  writeFileSync(log, "");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);
  const r = spawnSync("bash", [path], {
    input: stdin,
    encoding: "utf8",
    timeout: 10_000,
    env: {
      PATH: `${binDir}:/usr/bin:/bin`,
      HOME: dir,
      TMPDIR: tmp,
      BASH_ENV: bashEnv,
      STUB_LOG: log,
      STUB_MODE: mode,
      LC_ALL: "C.UTF-8",
      ...extra,
    },
  });
  const calls = readFileSync(log, "utf8")
    .split("\x1e")
    .filter((c) => c !== "")
    .map((c) => c.split("\x1f"));
  const staged = readdirSync(tmp)
    .map((f) => join(tmp, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, "utf8"));
  const stdinOfExec = existsSync(`${log}.stdin`) ? [readFileSync(`${log}.stdin`, "utf8")] : [];
  return { code: r.status ?? -1, seen: [...calls.flat(), r.stdout, r.stderr, ...staged, ...stdinOfExec], calls };
}

let dirCount = 0;
/** A real directory (or file) whose path ends in the hostile value ("/" kept out of the last segment). */
function realPath(value: string, file?: string): string {
  const path = join(root, `real-${dirCount++}-${value.replaceAll("/", "_")}`);
  if (file === undefined) mkdirSync(path);
  else writeFileSync(path, file);
  return path;
}

/** Runs a script in both modes; no marker, and every value in `arrives` found whole somewhere. */
function check(script: string, arrives: readonly string[], extra: Record<string, string> = {}, stdin?: string) {
  const runs = [runScript(script, "ok", extra, stdin), runScript(script, "fail", extra, stdin)];
  expect(existsSync(marker)).toBe(false);
  const seen = runs.flatMap((r) => r.seen);
  for (const value of arrives) {
    if (!seen.some((s) => s.includes(value))) throw new Error(`value ${JSON.stringify(value)} did not arrive intact`);
  }
  // The script itself ran: bash parsed it (exit 2 would be a syntax error) and it got past the prelude.
  expect(runs.map((r) => r.code === 2)).toEqual([false, false]);
  return runs;
}

/** The pieces hostile values are made of: every metacharacter, and commands that would leave the marker. */
const PIECES = [
  "$(pwned)",
  "`pwned`",
  ";pwned;",
  "|pwned",
  "&pwned&",
  "\npwned\n",
  "$( pwned )",
  "${IFS}",
  "$HOME",
  "'",
  '"',
  "\\",
  "*",
  "?",
  "~",
  "{",
  "}",
  " ",
  "<",
  ">",
  "(",
  ")",
  "$",
  ";",
  "&",
  "|",
  "\n",
  "a",
  "Z9",
  "/",
  "-",
  ".",
];
const hostile = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 6 }).map((p) => p.join(""));
/** An absolute path: docker refuses relative host paths and `:` (not in PIECES) splits -v values. */
const hostilePath = hostile.map((v) => `/x${v}`);
const RUNS = { numRuns: 6, seed: 14 };

describe("host scripts run metacharacters as data (issue 14 item 3)", () => {
  it("stdin file install and removal", () => {
    fc.assert(
      fc.property(hostile, hostilePath, (purpose, path) => {
        const [ok] = check(renderStdinFileScript(purpose, path, "0600"), [path]);
        expect(ok.calls.some((c) => c[0] === "install" && c.at(-1) === `${path}.tmp`)).toBe(true);
        check(renderRemoveFileScript(purpose, path), [path]);
      }),
      RUNS,
    );
  });

  it("config files under a directory, and their removal", () => {
    fc.assert(
      fc.property(hostile, hostilePath, hostile, (purpose, baseDir, content) => {
        const [ok] = check(renderWriteFilesScript(purpose, baseDir, { "a/b.yml": content }), [baseDir, content]);
        expect(ok.calls.some((c) => c[0] === "install" && c.at(-1) === `${baseDir}/a/b.yml.tmp`)).toBe(true);
        check(renderRemoveFilesScript(purpose, baseDir, ["a/b.yml"]), [`${baseDir}/a/b.yml`, baseDir]);
      }),
      RUNS,
    );
  });

  it("ledger and secret env files", () => {
    fc.assert(
      fc.property(hostile, hostilePath, hostile, (host, configDir, service) => {
        const paths = { configDir, dataDir: "/data" };
        check(renderLedgerWriteScript(host, { paths }), [`${configDir}/ledger.json`]);
        check(renderLedgerRemoveScript(host, { paths }), [`${configDir}/ledger.json`]);
        check(
          renderStdinFileScript(
            `install the secret env file of ${service}`,
            secretEnvFilePath(service, paths),
            "0600",
            {
              paths,
            },
          ),
          [`${configDir}/nim/${service}.env`],
        );
        check(
          renderRemoveFileScript(`remove the secret env file of ${service}`, secretEnvFilePath(service, paths), {
            paths,
          }),
          [`${configDir}/nim/${service}.env`],
        );
      }),
      RUNS,
    );
  });

  it("provisioning, with an EBS volume and with a directory", () => {
    fc.assert(
      fc.property(hostile, hostilePath, hostilePath, (host, dataDir, configDir) => {
        const smi = { STUB_SMI: "550.54.15\n", STUB_LSBLK: "nvme1n1 Amazon Elastic Block Store" };
        for (const dataVolume of ["ebs", "directory"] as const) {
          const [ok] = check(
            renderProvisionScript({ host, dataVolume }, { paths: { configDir, dataDir } }),
            [`${dataDir}/staging`, configDir],
            smi,
          );
          expect(ok.code).toBe(0);
          if (dataVolume === "ebs") {
            const fstab = ok.calls.find((c) => c[0] === "tee")!;
            expect(fstab).toEqual([
              "tee",
              "-a",
              "/etc/fstab",
              `stdin:UUID= ${fstabField(dataDir)} ext4 defaults,nofail,x-systemd.device-timeout=30 0 2`,
            ]);
          }
        }
      }),
      RUNS,
    );
  });

  it("GPU verification", () => {
    fc.assert(
      fc.property(hostile, hostile, (host, nvidiaSmiName) => {
        const script = renderGpuVerifyScript({ host, nvidiaSmiName, gpuCount: 1, memoryMiB: 23028 });
        const [ok] = check(script, [nvidiaSmiName], { STUB_SMI: `0, ${nvidiaSmiName}, 23028\n` });
        // Two GPUs where the plan expects one: the refusal names the host.
        check(script, [host], { STUB_SMI: `0, ${nvidiaSmiName}, 23028\n1, ${nvidiaSmiName}, 23028\n` });
        // A name nvidia-smi's CSV can carry (no newline; commas are not among the pieces) comes back equal.
        expect(ok.code).toBe(nvidiaSmiName.includes("\n") ? 1 : 0);
      }),
      RUNS,
    );
  });

  it("container start and stop", () => {
    fc.assert(
      fc.property(
        fc.array(hostile, { minLength: 12, maxLength: 12 }),
        hostilePath,
        hostilePath,
        (
          [service, host, image, envValue, arg, bindArg, label, smiName, shm, flagValue, containerPath, _],
          hostPath,
          from,
        ) => {
          const spec = {
            service,
            host,
            image,
            nim: false,
            containerPort: 8000,
            hostPort: 8000,
            healthPath: "/v1/health/ready",
            bindAddress: "10.0.0.5",
            gpus: [0],
            env: { NIM_MAX_MODEL_LEN: envValue },
            args: [arg, `--listen=${bindArg}{bind}:9100`],
            labels: { "gpu-fleet.config": label },
            runFlags: [`--cap-add ${flagValue}`],
            secretEnvFile: `${from}.env`,
            volumes: [{ hostPath, containerPath: `/c${containerPath}` }],
            stagedSecrets: [{ from, to: `${hostPath}/secret`, ownerUid: 472 }],
            shmSize: shm,
            readyTimeoutSeconds: 5,
            preflight: { nvidiaSmiName: smiName, memoryMiB: 23028, reservedMiBPerGpu: 20000 },
          };
          const smi = { STUB_SMI: `0, ${smiName}, 23028, 0, 0\n` };
          // A model name with a newline cannot match nvidia-smi's report: the preflight stops before docker run.
          const reachesRun = !smiName.includes("\n");
          const [ok] = check(
            renderContainerStartScript(spec),
            [
              service,
              image,
              `NIM_MAX_MODEL_LEN=${envValue}`,
              arg,
              `--listen=${bindArg}10.0.0.5:9100`,
              `gpu-fleet.config=${label}`,
              flagValue,
              `${from}.env`,
              `${hostPath}:/c${containerPath}`,
              from,
              `${hostPath}/secret`,
              shm,
            ].filter((_, i) => reachesRun || i < 1),
            smi,
          );
          // Other GPUs than planned: the refusal names the expected model.
          check(renderContainerStartScript(spec), [smiName], { STUB_SMI: "0, NVIDIA A10G, 23028, 0, 0\n" });
          expect(ok.code).toBe(smiName.includes("\n") ? 1 : 0);
          if (ok.code === 0) {
            const run = ok.calls.find((c) => c[0] === "docker" && c[1] === "run")!;
            expect(run.slice(run.indexOf(image))).toEqual([image, arg, `--listen=${bindArg}10.0.0.5:9100`]);
            expect(run).toContain(`--name`);
            expect(run[run.indexOf("--cap-add") + 1]).toBe(flagValue);
          }
          check(renderContainerStopScript(service, {}, [`${hostPath}/secret`]), [
            `gpu-fleet-${service}`,
            `${hostPath}/secret`,
          ]);
        },
      ),
      RUNS,
    );
  });

  it("IRIS password and schema", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (service, containerName, passwordName, namespace) => {
        const passwordFile = realPath(passwordName, "pa$(pwned)ss\n");
        const answer = { STUB_DOCKER_EXEC: "GPU_FLEET_RESULT _SYSTEM 1\\n" };
        const [ok] = check(
          renderIrisPasswordScript(service, containerName, passwordFile),
          [containerName, passwordFile],
          answer,
        );
        expect(ok.code).toBe(0);
        expect(ok.seen.filter((text) => text.startsWith('set pw="pa$(pwned)ss"\n'))).toHaveLength(1);
        check(renderIrisPasswordScript(service, containerName, `/x${passwordName}`), [`/x${passwordName}`], answer);
        const schema = renderIrisSchemaScript({ service, containerName, namespace, table: "Order", dimension: 1024 });
        check(schema, [containerName, namespace], answer);
      }),
      RUNS,
    );
  });

  it("vectorizer install and ingest", () => {
    fc.assert(
      fc.property(
        fc.array(hostile, { minLength: 5, maxLength: 5 }),
        fc.array(hostilePath, { minLength: 4, maxLength: 4 }),
        ([job, image, packageHash, envValue, arg], [appDir, corpusDir, stateDir, secretEnvFile]) => {
          check(renderVectorizerInstallScript({ job, appDir, image, packageHash }), [appDir]);
          const app = realPath(job);
          writeFileSync(join(app, "package.json"), "{}\n");
          const [installed] = check(renderVectorizerInstallScript({ job, appDir: app, image, packageHash }), [
            image,
            `${app}/node_modules/.gpu-fleet-${packageHash}`,
          ]);
          expect(installed.code).toBe(0);
          const run = {
            job,
            appDir,
            image,
            corpusDir,
            stateDir,
            secretEnvFile,
            env: { IRIS_HOST: envValue },
            args: [arg],
          };
          check(renderVectorizerRunScript(run), [corpusDir]);
          // With the corpus present the run reaches docker: every value is one argument of it.
          const present = { ...run, corpusDir: realPath(packageHash) };
          const [ok] = check(renderVectorizerRunScript(present), [stateDir]);
          expect(ok.code).toBe(0);
          const docker = ok.calls.find((c) => c[0] === "docker" && c[1] === "run")!;
          expect(docker).toEqual(
            expect.arrayContaining([
              `gpu-fleet-vectorizer-${job}`,
              secretEnvFile,
              `IRIS_HOST=${envValue}`,
              `${appDir}:/app:ro`,
              `${present.corpusDir}:/corpus:ro`,
              `${stateDir}:/state`,
              image,
              arg,
            ]),
          );
          expect(docker.at(-1)).toBe(arg);
        },
      ),
      RUNS,
    );
  });

  it("cloud-init user data keeps every value inside its YAML string", () => {
    fc.assert(
      fc.property(hostile, hostile, (host, gpuModel) => {
        const doc = parseYaml(renderCloudInit({ host, gpuModel, gpuCount: 1 })) as {
          write_files: { content: string }[];
          runcmd: unknown[];
        };
        expect(JSON.parse(doc.write_files[0].content)).toEqual({ host, gpuModel, gpuCount: 1 });
        expect(doc.runcmd).toHaveLength(1);
      }),
      RUNS,
    );
  });

  it("cloud-init's own parser (PyYAML) reads a hostile host name back intact, and the schema holds", () => {
    const host = "a'$(pwned) \u2028\n\"b`pwned`";
    const path = join(root, "user-data.yaml");
    writeFileSync(path, renderCloudInit({ host, gpuModel: "A10G", gpuCount: 1 }));
    const schema = spawnSync("cloud-init", ["schema", "-c", path], { encoding: "utf8" });
    expect(schema.stdout.trim()).toBe(`Valid cloud-config: ${path}`);
    const read = spawnSync(
      "python3",
      ["-c", "import json,sys,yaml; print(yaml.safe_load(open(sys.argv[1]))['write_files'][0]['content'])", path],
      { encoding: "utf8" },
    );
    expect(JSON.parse(read.stdout)).toEqual({ host, gpuModel: "A10G", gpuCount: 1 });
  });

  it("the failure path of the ingest script does not run rag.corpusDir `c$(touch pwned)`id``", () => {
    const corpusDir = `/data/staging/corpus/c$(pwned)\`pwned\``;
    const script = renderVectorizerRunScript({
      job: "rag",
      appDir: "/data/staging/app",
      image: "node:20-bookworm",
      corpusDir,
      stateDir: "/data/vectorizer/rag",
      secretEnvFile: "/etc/gpu-fleet/vectorizer/rag.env",
      env: {},
      args: [],
    });
    const r = runScript(script, "ok");
    expect(existsSync(marker)).toBe(false);
    expect(r.code).toBe(1);
    expect(r.seen).toContain(`[gpu-fleet] ERROR: corpus directory ${corpusDir} does not exist on this host\n`);
  });
});

describe("values docker would split are refused before a script is rendered", () => {
  const base = {
    service: "svc",
    host: "h",
    image: "img",
    nim: false,
    containerPort: 8000,
    hostPort: 8000,
    healthPath: "/health",
    bindAddress: "10.0.0.5",
    gpus: [],
    env: {},
    args: [],
    volumes: [],
    readyTimeoutSeconds: 5,
  };
  it.each([
    [
      { env: { "A=B": "x" } },
      `environment variable name "A=B" of svc must be letters, digits and _, not starting with a digit`,
    ],
    [{ labels: { "a=b": "x" } }, `label key "a=b" of svc must be non-empty and contain no "="`],
    [
      { volumes: [{ hostPath: "/a:b", containerPath: "/c" }] },
      `volume host path "/a:b" of svc must be absolute and contain no ":"`,
    ],
    [
      { volumes: [{ hostPath: "data", containerPath: "/c" }] },
      `volume host path "data" of svc must be absolute and contain no ":"`,
    ],
    [
      { volumes: [{ hostPath: "/a", containerPath: "/c:ro:z" }] },
      `volume container path "/c:ro:z" of svc must be absolute, with at most one ":" before its options`,
    ],
    [
      { healthPath: '/ready"$(pwned)' },
      `healthPath of svc must be a URL path of letters, digits and / . _ ~ % - ? & = +, got "/ready"$(pwned)"`,
    ],
    [{ runFlags: ["-it"] }, `run flag "-it" must start with --`],
    [{ hostPort: 80.5 }, "hostPort must be a whole number from 0, got 80.5"],
    [{ readyTimeoutSeconds: Number.NaN }, "readyTimeoutSeconds must be a whole number from 0, got NaN"],
  ])("%j", (change, message) => {
    expect(() => renderContainerStartScript({ ...base, ...change })).toThrow(new Error(message));
  });

  it("the vectorizer's mounts refuse a ':' in a directory", () => {
    expect(() =>
      renderVectorizerRunScript({
        job: "j",
        appDir: "/app",
        image: "i",
        corpusDir: "/c:/etc",
        stateDir: "/s",
        secretEnvFile: "/e",
        env: {},
        args: [],
      }),
    ).toThrow(new Error(`corpusDir "/c:/etc" must contain no ":" (docker -v splits at it)`));
  });
});
