// Self-tests of the test host (sshHost.ts) and its stand-ins: if these pass, a host script that
// misbehaves in scripts.test.ts misbehaves because of the script, not the harness.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "fs";
import { TestHost, TEST_USER, canUseNamespaces, sha256 } from "./sshHost";

/** Checks that only an isolated host supports (sudo, writes outside the harness) are skipped, visibly, elsewhere. */
const NS = canUseNamespaces();

const A100 = { name: "NVIDIA A100-SXM4-80GB", memoryTotalMiB: 81920 };
const INVENTORY = {
  gpus: [
    { ...A100, memoryUsedMiB: 0, temperatureC: 31 },
    { ...A100, memoryUsedMiB: 1024, temperatureC: 35 },
    { ...A100, memoryUsedMiB: 0, temperatureC: 33 },
    { ...A100, memoryUsedMiB: 0, temperatureC: 30 },
  ],
};
const IMAGE = "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3";
const NGC_KEY = "nvapi-harness-selftest-0123456789abcdef";

let host: TestHost;
const sh = (script: string, o?: Parameters<TestHost["run"]>[1]) => host.run(script, o);

beforeAll(async () => {
  host = await TestHost.start({
    gpus: INVENTORY,
    images: {
      [IMAGE]: {
        logs: [
          "INFO starting NIM",
          "INFO profile selected: vllm-bf16-tp2",
          "INFO Uvicorn running on http://0.0.0.0:8000",
        ],
      },
      "example.com/slow:1": { readyAfterMs: 1500, logs: ["INFO loading"] },
      "example.com/broken:1": { neverReady: true },
      "example.com/crash:1": {
        exitAfterMs: 0,
        exitCode: 1,
        crashLogs: ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"],
      },
    },
    registries: { "nvcr.io": { username: "$oauthtoken", password: NGC_KEY } },
    preloadedImages: ["example.com/slow:1", "example.com/broken:1", "example.com/crash:1", "example.com/plain:1"],
  });
});
afterAll(async () => {
  await host?.stop();
});

describe("ssh", () => {
  it("runs the command through the test user's login shell, with the stand-ins first on PATH", async () => {
    const r = await sh('id -un; echo "$0"; echo "$HOME"; pwd; command -v docker nvidia-smi; tty || true');
    const home = host.isolation === "namespaces" ? `/home/${TEST_USER}` : `${host.dir}/home`;
    expect(r).toEqual({
      code: 0,
      stdout: `${TEST_USER}\nbash\n${home}\n/home/${TEST_USER}\n${host.dir}/bin/docker\n${host.dir}/bin/nvidia-smi\nnot a tty\n`,
      stderr: "",
    });
    expect(host.sshdLog()).toMatch(
      new RegExp(`Accepted publickey for ${TEST_USER} from 127\\.0\\.0\\.1 port \\d+ ssh2: ED25519`),
    );
  });

  it("sends the script verbatim as the exec command (quotes, newlines, expansions happen remotely)", async () => {
    const script = "set -eu\nx='a  b'\nprintf '<%s>\\n' \"$x\" $x\ncat <<'EOF'\n$HOME stays literal\nEOF\nexit 3";
    expect(await sh(script)).toEqual({ code: 3, stdout: "<a  b>\n<a>\n<b>\n$HOME stays literal\n", stderr: "" });
  });

  it("pipes stdin to the script, byte for byte, and keeps stdout and stderr apart", async () => {
    const big = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`).join("\n") + "\n";
    const r = await sh("IFS= read -r first; echo \"first=$first\"; echo oops >&2; sha256sum | cut -d' ' -f1", {
      stdin: big,
    });
    const rest = big.slice(big.indexOf("\n") + 1);
    expect(r).toEqual({ code: 0, stdout: `first=line 0 \n${sha256(rest)}\n`, stderr: "oops\n" });
  });

  it("drops environment names sshd does not accept, as remote.Command's Setenv on a stock Ubuntu host", async () => {
    const r = await sh('echo "LANG=${LANG-unset} NGC_API_KEY=${NGC_API_KEY-unset}"', {
      env: { LANG: "C.UTF-8", NGC_API_KEY: NGC_KEY },
    });
    expect(r).toEqual({ code: 0, stdout: "LANG=C.UTF-8 NGC_API_KEY=unset\n", stderr: "" });
  });

  it.skipIf(!NS)("gives the user passwordless sudo and the docker group (namespaces mode)", async () => {
    expect(await sh("sudo -n id -un; id -nG")).toEqual({ code: 0, stdout: `root\n${TEST_USER} docker\n`, stderr: "" });
    expect(await sh("sudo -n sh -c 'command -v docker'")).toEqual({
      code: 0,
      stdout: "/usr/local/bin/docker\n",
      stderr: "",
    });
  });

  it("reports a dropped connection and leaves what ran so far", async () => {
    const r = await sh("echo started; sleep 0.2; echo marker; sleep 5; touch /tmp/should-not-exist", {
      dropConnectionWhen: /marker/,
    });
    expect(r.dropped).toBe(true);
    expect(r.code).toBe(255);
    expect(r.stdout.startsWith("started\n")).toBe(true);
  });
});

describe("stand-in nvidia-smi", () => {
  it("prints the query formats byte-exact", async () => {
    const q = "--query-gpu=index,name,memory.total,memory.used,memory.free";
    expect((await sh(`nvidia-smi ${q} --format=csv,noheader,nounits`)).stdout).toBe(
      "0, NVIDIA A100-SXM4-80GB, 81920, 0, 81920\n" +
        "1, NVIDIA A100-SXM4-80GB, 81920, 1024, 80896\n" +
        "2, NVIDIA A100-SXM4-80GB, 81920, 0, 81920\n" +
        "3, NVIDIA A100-SXM4-80GB, 81920, 0, 81920\n",
    );
    expect((await sh(`nvidia-smi ${q} --format=csv -i 1`)).stdout).toBe(
      "index, name, memory.total [MiB], memory.used [MiB], memory.free [MiB]\n1, NVIDIA A100-SXM4-80GB, 81920 MiB, 1024 MiB, 80896 MiB\n",
    );
    expect(
      (await sh("nvidia-smi --query-gpu=name,temperature.gpu,utilization.gpu --format=csv,nounits --id=0,3")).stdout,
    ).toBe("name, temperature.gpu, utilization.gpu [%]\nNVIDIA A100-SXM4-80GB, 31, 0\nNVIDIA A100-SXM4-80GB, 30, 0\n");
    expect((await sh("nvidia-smi --query-gpu=count --format=csv,noheader")).stdout).toBe("4\n4\n4\n4\n");
  });

  it("lists GPUs with -L and answers plain nvidia-smi with exit 0", async () => {
    const l = await sh("nvidia-smi -L");
    expect(l.code).toBe(0);
    expect(
      l.stdout
        .split("\n")
        .slice(0, -1)
        .map((x) => x.replace(/UUID: GPU-[0-9a-f-]+/, "UUID")),
    ).toEqual([0, 1, 2, 3].map((i) => `GPU ${i}: NVIDIA A100-SXM4-80GB (UUID)`));
    const plain = await sh("nvidia-smi");
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(
      "| NVIDIA-SMI 535.183.01             Driver Version: 535.183.01   CUDA Version: 12.2     |",
    );
    expect(plain.stdout).toContain("1024MiB / 81920MiB");
    expect(
      new Set(
        plain.stdout
          .split("\n")
          .slice(1, -1)
          .map((l) => l.length),
      ),
    ).toEqual(new Set([89]));
  });

  it("fails like the real tool on bad flags, fields and ids", async () => {
    const invalid = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";
    expect(await sh("nvidia-smi --bogus")).toEqual({ code: 2, stdout: invalid, stderr: "" });
    expect(await sh("nvidia-smi -L --query-gpu=name --format=csv")).toEqual({ code: 2, stdout: invalid, stderr: "" });
    expect(await sh("nvidia-smi --query-gpu=name --format=json")).toEqual({ code: 2, stdout: invalid, stderr: "" });
    expect(await sh("nvidia-smi --query-gpu=name,vram --format=csv")).toEqual({
      code: 2,
      stdout: 'Field "vram" is not a valid field to query.\n\n',
      stderr: "",
    });
    expect(await sh("nvidia-smi --query-gpu=name --format=csv -i 9")).toEqual({
      code: 6,
      stdout: "No devices were found\n",
      stderr: "",
    });
  });

  it("follows setGpus() and imitates a missing driver", async () => {
    try {
      host.setGpus({ gpus: [{ name: "NVIDIA H100 80GB HBM3", memoryTotalMiB: 81559 }] });
      expect((await sh("nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits")).stdout).toBe(
        "0, NVIDIA H100 80GB HBM3, 81559\n",
      );
      host.setGpus({
        gpus: [],
        failure: {
          exitCode: 9,
          message:
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
        },
      });
      const r = await sh("nvidia-smi -L");
      expect(r.code).toBe(9);
      expect(r.stdout).toBe(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      );
    } finally {
      host.setGpus(INVENTORY);
    }
  });
});

describe("stand-in docker", () => {
  it("keeps a container's state across run, ps, inspect, logs, stop, start and rm", async () => {
    await sh(`umask 077; printf 'NGC_API_KEY=%s\\nNIM_MAX_MODEL_LEN=8192\\n' "$(cat)" > ~/ngc.env`, { stdin: NGC_KEY });
    expect((await sh(`docker login nvcr.io -u '$oauthtoken' --password-stdin`, { stdin: NGC_KEY })).stdout).toContain(
      "\nLogin Succeeded\n",
    );
    const run = await sh(
      `docker run -d --name nim-llm --gpus '"device=2,3"' --env-file ~/ngc.env -e NIM_TENSOR_PARALLEL_SIZE=2 ` +
        `--restart unless-stopped -p 8000:8000 -v /opt/nim/.cache:/opt/nim/.cache --shm-size 16g ${IMAGE}`,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = run.stdout.trim();
    expect(run.stderr).toBe(
      `Unable to find image '${IMAGE}' locally\n1.3.3: Pulling from nim/meta/llama-3.1-8b-instruct\nDigest: sha256:${sha256(IMAGE)}\nStatus: Downloaded newer image for ${IMAGE}\n`,
    );

    expect((await sh("docker ps --format '{{.Names}}'")).stdout).toBe("nim-llm\n");
    expect((await sh("docker ps --filter name=^nim-llm$ --format '{{.ID}} {{.Image}} {{.Ports}}'")).stdout).toBe(
      `${id.slice(0, 12)} ${IMAGE} 0.0.0.0:8000->8000/tcp\n`,
    );
    expect((await sh("docker ps -q --filter name=nim-other")).stdout).toBe("");
    expect((await sh("docker ps --format '{{.Status}}'")).stdout).toMatch(/^Up (Less than a second|\d+ seconds?)\n$/);
    const fmt =
      "{{.State.Running}}|{{.Config.Image}}|{{json .HostConfig.DeviceRequests}}|{{.HostConfig.RestartPolicy.Name}}|{{.HostConfig.ShmSize}}|{{.Id}}";
    expect((await sh(`docker inspect --format '${fmt}' nim-llm`)).stdout).toBe(
      `true|${IMAGE}|[{"Driver":"","Count":0,"DeviceIDs":["2","3"],"Capabilities":[["gpu"]],"Options":{}}]|unless-stopped|17179869184|${id}\n`,
    );
    const env = JSON.parse((await sh("docker inspect --format '{{json .Config.Env}}' nim-llm")).stdout);
    expect(env).toEqual([
      "NGC_API_KEY=<redacted by test double>",
      "NIM_MAX_MODEL_LEN=8192",
      "NIM_TENSOR_PARALLEL_SIZE=2",
    ]);
    const [c] = host.containers();
    const home = host.isolation === "namespaces" ? `/home/${TEST_USER}` : `${host.dir}/home`;
    expect(c).toMatchObject({
      id,
      name: "nim-llm",
      state: "running",
      envFiles: [`${home}/ngc.env`],
      secretSha256: { NGC_API_KEY: sha256(NGC_KEY) },
    });
    // a running container holds 0.9 x total on each of its devices (vLLM's gpu_memory_utilization default)
    expect((await sh("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe(
      "0\n1024\n73728\n73728\n",
    );

    expect((await sh("docker logs --tail 2 nim-llm")).stdout).toBe(
      "INFO profile selected: vllm-bf16-tp2\nINFO Uvicorn running on http://0.0.0.0:8000\n",
    );
    expect(await sh("docker stop nim-llm")).toEqual({ code: 0, stdout: "nim-llm\n", stderr: "" });
    expect((await sh("docker ps --format '{{.Names}}'")).stdout).toBe("");
    expect((await sh("docker ps -a --format '{{.Names}} {{.Status}}'")).stdout).toMatch(
      /^nim-llm Exited \(0\) (Less than a second|\d+ seconds?) ago\n$/,
    );
    expect((await sh("docker inspect --format '{{.State.Running}} {{.State.Status}}' nim-llm")).stdout).toBe(
      "false exited\n",
    );
    expect((await sh("nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits")).stdout).toBe(
      "0\n1024\n0\n0\n",
    );
    expect(await sh("docker start nim-llm")).toEqual({ code: 0, stdout: "nim-llm\n", stderr: "" });
    expect((await sh("docker inspect --format '{{.State.Running}}' nim-llm")).stdout).toBe("true\n");
    expect(await sh("docker rm nim-llm")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'Error response from daemon: cannot remove container "/nim-llm": container is running: stop the container before removing or force remove\n',
    });
    expect(await sh("docker rm -f nim-llm")).toEqual({ code: 0, stdout: "nim-llm\n", stderr: "" });
    expect((await sh("docker ps -a -q")).stdout).toBe("");
    expect(host.containers()).toEqual([]);
    expect(await sh("curl -s -o /dev/null localhost:8000/v1/health/live; echo $?")).toEqual({
      code: 0,
      stdout: "7\n",
      stderr: "",
    });
  });

  it("answers unknown containers, name conflicts and unquoted device lists like real docker", async () => {
    const noSuch = "Error response from daemon: No such container: ghost\n";
    expect(await sh("docker logs ghost")).toEqual({ code: 1, stdout: "", stderr: noSuch });
    expect(await sh("docker stop ghost")).toEqual({ code: 1, stdout: "", stderr: noSuch });
    expect(await sh("docker rm ghost")).toEqual({ code: 1, stdout: "", stderr: noSuch });
    expect(await sh("docker rm -f ghost")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await sh("docker inspect ghost")).toEqual({
      code: 1,
      stdout: "[]\n",
      stderr: "Error: No such object: ghost\n",
    });
    expect(await sh("docker inspect --format '{{.State.Running}}' ghost")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error: No such object: ghost\n",
    });

    const first = await sh("docker run -d --name dup example.com/plain:1");
    expect(first.code).toBe(0);
    expect(await sh("docker run -d --name dup example.com/plain:1")).toEqual({
      code: 125,
      stdout: "",
      stderr: `docker: Error response from daemon: Conflict. The container name "/dup" is already in use by container "${first.stdout.trim()}". You have to remove (or rename) that container to be able to reuse that name.\nSee 'docker run --help'.\n`,
    });
    expect(await sh("docker run -d --name pin --gpus device=2,3 example.com/plain:1")).toEqual({
      code: 125,
      stdout: "",
      stderr: `invalid argument "device=2,3" for "--gpus" flag: cannot set both Count and DeviceIDs on device request\nSee 'docker run --help'.\n`,
    });
    const unknownDevice = await sh("docker run -d --name pin --gpus '\"device=7\"' example.com/plain:1");
    expect(unknownDevice.code).toBe(125);
    expect(unknownDevice.stderr).toContain("nvidia-container-cli: device error: 7: unknown device: unknown.\n");
    expect((await sh("docker ps -a --filter name=pin --format '{{.Names}} {{.Status}}'")).stdout).toBe("pin Created\n");
    expect(await sh("docker rm -f dup pin")).toEqual({ code: 0, stdout: "dup\npin\n", stderr: "" });
  });

  it.skipIf(!NS)("reads --env-file as the invoking user, and refuses users outside the docker group", async () => {
    await sh("sudo install -d -m 0755 /etc/nim && sudo install -m 0600 /dev/null /etc/nim/ngc.env");
    expect(await sh("docker run -d --name envtest --env-file /etc/nim/ngc.env example.com/plain:1")).toEqual({
      code: 125,
      stdout: "",
      stderr: "docker: open /etc/nim/ngc.env: permission denied.\nSee 'docker run --help'.\n",
    });
    const asRoot = await sh(
      "sudo docker run -d --name envtest --env-file /etc/nim/ngc.env example.com/plain:1 && sudo docker rm -f envtest",
    );
    expect(asRoot.code).toBe(0);
    expect(await sh("sudo -u nobody docker ps")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: permission denied\n',
    });
  });

  it("needs docker login for registries that demand it, and stores the credential as real docker does", async () => {
    const image = "nvcr.io/nim/nvidia/nv-embedqa-e5-v5:1.1.0";
    expect(await sh(`HOME=$(mktemp -d) docker pull ${image}`)).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error response from daemon: Head "https://nvcr.io/v2/nim/nvidia/nv-embedqa-e5-v5/manifests/1.1.0": unauthorized: authentication required\n`,
    });
    expect(
      await sh(`HOME=$(mktemp -d) docker login nvcr.io -u '$oauthtoken' --password-stdin`, { stdin: "wrong" }),
    ).toEqual({
      code: 1,
      stdout: "",
      stderr: 'Error response from daemon: Get "https://nvcr.io/v2/": unauthorized: authentication required\n',
    });
    // the earlier test logged in as the test user: the credential sits base64-encoded in ~/.docker/config.json
    const home = host.isolation === "namespaces" ? `/home/${TEST_USER}` : `${host.dir}/home`;
    const config = JSON.parse(host.readFile(`${home}/.docker/config.json`));
    expect(config).toEqual({
      auths: { "nvcr.io": { auth: Buffer.from(`$oauthtoken:${NGC_KEY}`).toString("base64") } },
    });
    expect(host.stat(`${home}/.docker/config.json`)).toEqual({ mode: 0o600, owner: TEST_USER, group: TEST_USER });
    expect(await sh(`docker pull ${image}`)).toEqual({
      code: 0,
      stdout: `1.1.0: Pulling from nim/nvidia/nv-embedqa-e5-v5\nDigest: sha256:${sha256(image)}\nStatus: Downloaded newer image for ${image}\n${image}\n`,
      stderr: "",
    });
    expect((await sh(`docker image inspect --format '{{.Id}}' ${image}`)).stdout).toBe(`sha256:${sha256(image)}\n`);
    expect(await sh("docker image inspect nvcr.io/nim/none:1")).toEqual({
      code: 1,
      stdout: "[]\n",
      stderr: "Error response from daemon: No such image: nvcr.io/nim/none:1\n",
    });
  });

  it("serves the NIM health API on published ports: delayed, never ready, crashed", async () => {
    const code = (port: number, p: string) => `curl -s -o /dev/null -w '%{http_code}' localhost:${port}${p}; echo`;
    expect((await sh("docker run -d --name slow -p 8001:8000 example.com/slow:1")).code).toBe(0);
    expect(
      (
        await sh(
          `${code(8001, "/v1/health/live")}; ${code(8001, "/v1/health/ready")}; curl -s localhost:8001/v1/health/ready`,
        )
      ).stdout,
    ).toBe('200\n503\n{"object":"health.response","message":"Service is not ready."}');
    await new Promise((r) => setTimeout(r, 1600));
    expect((await sh(`${code(8001, "/v1/health/ready")}; curl -s localhost:8001/v1/health/ready`)).stdout).toBe(
      '200\n{"object":"health.response","message":"Service is ready."}',
    );
    expect(await sh("docker run -d --name slow2 -p 8001:8000 example.com/slow:1")).toMatchObject({
      code: 125,
      stderr: expect.stringContaining("Bind for 0.0.0.0:8001 failed: port is already allocated.\n"),
    });

    expect((await sh("docker run -d --name broken -p 8002:8000 example.com/broken:1")).code).toBe(0);
    expect((await sh(code(8002, "/v1/health/ready"))).stdout).toBe("503\n");

    expect((await sh("docker run -d --name crash -p 8003:8000 example.com/crash:1")).code).toBe(0);
    expect(
      (await sh("docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' crash; docker logs crash")).stdout,
    ).toBe(
      "exited 1\nINFO stand-in container for example.com/crash:1 started\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n",
    );
    expect((await sh(`${code(8003, "/v1/health/live")}`)).stdout).toBe("000\n");

    expect((await sh("docker rm -f slow slow2 broken crash")).stdout).toBe("slow\nslow2\nbroken\ncrash\n");
    expect((await sh(`${code(8001, "/v1/health/live")}; ${code(8002, "/v1/health/live")}`)).stdout).toBe("000\n000\n");
  });

  it("records every call and the process table at that moment", async () => {
    await sh("true secret-marker-in-argv; docker ps -q; true");
    expect(host.calls().at(-1)).toEqual({ tool: "docker", uid: expect.any(Number), argv: ["ps", "-q"] });
    expect(host.psSnapshots()).toContain("\nbash -c true secret-marker-in-argv; docker ps -q; true\n");
  });
});

describe("isolation", () => {
  it.skipIf(!NS)(
    "sees what scripts write outside the harness, and nothing of it reaches the real machine",
    async () => {
      await sh("sudo install -d -m 0755 /opt/nim-selftest && echo hi | sudo tee /opt/nim-selftest/file >/dev/null");
      expect(host.changedFiles()).toEqual(expect.arrayContaining(["/opt/nim-selftest", "/opt/nim-selftest/file"]));
      expect(host.readFile("/opt/nim-selftest/file")).toBe("hi\n");
      expect(fs.existsSync("/opt/nim-selftest")).toBe(false);
    },
  );

  it("stop() ends sshd and every process started on the host, and removes its files", async () => {
    const h2 = await TestHost.start({ gpus: INVENTORY, preloadedImages: ["example.com/plain:1"] });
    let stopped = false;
    try {
      expect(
        (
          await h2.run(
            "docker run -d --name web -p 8000:8000 example.com/plain:1 >/dev/null && curl -s localhost:8000/v1/health/live",
          )
        ).stdout,
      ).toBe('{"object":"health.response","message":"Service is live."}');
      const pidFile = h2.path(`${h2.dir}/state/docker/containers/${h2.containers()[0].id}/health.pid`);
      const healthPidInNs = fs.readFileSync(pidFile, "utf8").trim();
      expect(healthPidInNs).toMatch(/^\d+$/);
      const nsPidsBefore = (await h2.run("ps -eo pid= | wc -l")).stdout.trim();
      expect(Number(nsPidsBefore)).toBeGreaterThan(3);
      const dir = h2.dir;
      const procRoot = h2.path("/");
      await h2.stop();
      stopped = true;
      expect(fs.existsSync(dir)).toBe(false);
      if (h2.isolation === "namespaces") expect(fs.existsSync(procRoot)).toBe(false);
      const leftovers = fs
        .readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir);
          } catch {
            return false;
          }
        });
      expect(leftovers).toEqual([]);
    } finally {
      if (!stopped) await h2.stop();
    }
  });
});
