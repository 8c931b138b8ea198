// A GPU host the tests start themselves: a real OpenSSH sshd with a dedicated user and a key, and
// TEST DOUBLES for `nvidia-smi` and `docker` (test/hosts/standins/) first on that user's PATH.
//
// Two isolation levels, chosen automatically (`isolation: "auto"`):
//  * "namespaces" (needs root with CAP_SYS_ADMIN, iproute2 and util-linux; what this machine and CI have):
//    sshd runs in its own network, mount and PID namespaces, chrooted into an overlay of `/` whose
//    writable layer is a tmpfs. Host scripts can use sudo, write /etc, /opt, bind port 8000 … and none
//    of it touches the real machine: the user, its sudoers entry, the stand-ins in /usr/local/bin, and
//    every file a script writes live only in the overlay, which vanishes with the namespaces.
//    `changedFiles()` lists the overlay's writable layer, i.e. exactly what the scripts left behind.
//    Killing the namespace's first process kills every process in it (sshd, sessions, health servers).
//  * "none" (fallback where namespaces are unavailable, e.g. an unprivileged container): sshd listens on
//    127.0.0.1 on a free port of the real machine, the user is created with useradd on the real machine
//    if missing, stand-ins are only on PATH (sudo's secure_path would not find them, so `sudo: true`
//    is refused), and background processes are killed by the pids the stand-ins record.
//
// The test user is a dedicated non-root account (`gpufleet-test`), like the `ubuntu` user a real
// deployment logs in as: root login is refused (PermitRootLogin no). In namespaces mode it has
// passwordless sudo (as on EC2) and is in the `docker` group unless the options say otherwise.
//
// `run()` executes a script the way @pulumi/command's remote.Command does. The provider
// (pulumi/pulumi-command, provider/pkg/provider/remote/commandOutputs.go, `run`) dials ssh, opens one
// session, calls session.Setenv(k, v) for each `environment` entry (errors ignored: the server drops
// names its AcceptEnv does not allow), sets session.Stdin to the `stdin` string when it is non-empty,
// and calls session.Run(cmd) with the `create` string — an ssh "exec" request, which sshd runs as
// `<login shell> -c <cmd>` with no pty. Here: the OpenSSH client with -T and the script as the single
// remote-command argument (sent verbatim), `environment` via SendEnv (values in the client's
// environment, never in argv), stdin piped. The provider trims one trailing newline from stdout and
// stderr; `run()` returns them untrimmed so tests see the exact bytes.
import { spawn, execFileSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";

export const TEST_USER = "gpufleet-test";
const STANDINS = path.join(__dirname, "standins");
const SSHD = "/usr/sbin/sshd";
const NS_PORT = 22;
/** The stand-ins (standins/<tool>.js), all TEST DOUBLES */
const TOOLS = ["docker", "nvidia-smi", "nvidia-ctk", "systemctl", "cloud-init"];
/** namespaces mode: the host's private address (a veth in its network namespace), what `hostname -I` prints */
export const PRIVATE_ADDRESS = "10.77.0.10";

export interface GpuSpec {
  /** as nvidia-smi prints it, e.g. "NVIDIA A10G", "NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3" */
  name: string;
  memoryTotalMiB: number;
  /** used by something other than stand-in containers (default 0); running containers add to it */
  memoryUsedMiB?: number;
  memoryReservedMiB?: number;
  temperatureC?: number;
  utilizationPct?: number;
  uuid?: string;
  busId?: string;
}

export interface GpuInventory {
  driverVersion?: string;
  cudaVersion?: string;
  gpus: GpuSpec[];
  /** make nvidia-smi fail like a host whose driver is not loaded */
  failure?: { exitCode: number; message: string };
}

/** How stand-in containers of an image behave (key: image ref with tag, a prefix ending in "*", or "*"). */
export interface ImageBehaviour {
  /** /v1/health/ready answers 503 for this long after start (default 0) */
  readyAfterMs?: number;
  neverReady?: boolean;
  /** serve the NIM health API on published ports (default true) */
  health?: boolean;
  /** lines the container logs at start */
  logs?: string[];
  /** the container exits this long after start, with exitCode (default 1), after logging crashLogs */
  exitAfterMs?: number;
  exitCode?: number;
  crashLogs?: string[];
  /** env names the container needs; missing ones make it exit 1 logging "ERROR: X is not set" */
  requiredEnv?: string[];
  /** MiB held on each assigned GPU while running (default NIM_GPU_MEMORY_UTILIZATION x total, else 0.9 x total) */
  gpuMemoryMiB?: number;
  /** `docker run` fails with "Error response from daemon: <startError>" */
  startError?: string;
  /** `docker pull` fails with "Error response from daemon: <pullError>" */
  pullError?: string;
  /** foreground `docker run` (no -d): the first rule whose regex matches the command runs to completion */
  runs?: {
    match: string;
    stdout?: string;
    stderr?: string;
    exitCode?: number;
    creates?: string[];
    requiredEnv?: string[];
  }[];
  /** `docker exec` answers: first rule whose regex matches "cmd args\nstdin" */
  exec?: { match: string; stdout?: string; stderr?: string; exitCode?: number }[];
  model?: string;
  /**
   * With --network host: where the image's server listens, "ADDR:PORT" with {arg:--flag} and {env:NAME}
   * from the container's arguments/environment, e.g. "{arg:--web.listen-address}" or
   * "{env:GF_SERVER_HTTP_ADDR}:{env:GF_SERVER_HTTP_PORT}".
   */
  listen?: string;
  /** Serve exactly these paths (200 "ok" when ready) instead of NIM's health API. */
  httpPaths?: string[];
}

export interface TestHostOptions {
  gpus?: GpuInventory;
  images?: Record<string, ImageBehaviour>;
  /** registries whose pulls need `docker login` with exactly these credentials (all repositories, or those under privateRepos) */
  registries?: Record<string, { username: string; password: string; privateRepos?: string[] }>;
  /** images already present (no pull needed) */
  preloadedImages?: string[];
  /** passwordless sudo for the test user (default true; namespaces mode only) */
  sudo?: boolean;
  /** the stand-in Docker daemon already has the "nvidia" runtime (default true, as on NVIDIA's AMIs) */
  nvidiaRuntime?: boolean;
  /** test user in the `docker` group (default true) */
  dockerGroup?: boolean;
  /** sshd AcceptEnv patterns (default Debian/Ubuntu's: LANG LC_*) */
  acceptEnv?: string[];
  isolation?: "auto" | "namespaces" | "none";
}

export interface RunOptions {
  stdin?: string;
  /** like remote.Command's `environment`: sent with SendEnv, subject to the server's AcceptEnv */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** simulate a dropped connection: kill the ssh client as soon as stdout+stderr match */
  dropConnectionWhen?: RegExp;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** true when the connection was dropped on purpose (dropConnectionWhen) */
  dropped?: boolean;
}

/** The on-disk state of one stand-in container (see standins/docker.js). */
export interface StandInContainer {
  id: string;
  name: string;
  image: string;
  state: "created" | "running" | "exited";
  exitCode: number;
  /** arguments after the image */
  cmd: string[];
  labels: Record<string, string>;
  gpuRequest: { driver: string; count: number; deviceIds: string[] | null; capabilities: string[][] } | null;
  ports: { hostIp: string; hostPort: number; containerPort: number }[];
  envFiles: string[];
  envNames: string[];
  envValues: Record<string, string>;
  secretSha256: Record<string, string>;
  restart: string;
  shmSize: number;
  volumes: string[];
  startedMs: number | null;
  createdMs: number;
  network: string;
  pid: string;
  capAdd: string[];
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** single-quote for bash */
const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

/** Whether this machine can give a test host its own namespaces (root, CAP_SYS_ADMIN, unshare, ip). */
export function canUseNamespaces(): boolean {
  // GPUFLEET_TEST_HOST_ISOLATION=none runs the harness the way an unprivileged CI container would
  if (process.env.GPUFLEET_TEST_HOST_ISOLATION === "none") return false;
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    execFileSync("unshare", ["--net", "--mount", "--pid", "--fork", "true"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Test hosts whose test process died without stop() (a killed worker) lose their processes at once —
 * the namespace watchdog sees its stdin close — but leave their directory; remove those whose owner
 * process is gone. Only directories this harness made (they hold owner.pid) are touched.
 */
function removeAbandonedHosts(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith("gpufleet-host-")) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, "owner.pid"), "utf8").trim());
    } catch {
      continue;
    }
    try {
      process.kill(owner, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Can a user other than root execute this file (every parent directory traversable)? */
function othersCanExecute(file: string): boolean {
  let p = file;
  if ((fs.statSync(p).mode & 0o001) === 0) return false;
  while ((p = path.dirname(p)) !== "/") if ((fs.statSync(p).mode & 0o001) === 0) return false;
  return true;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class TestHost {
  readonly user = TEST_USER;
  readonly home = `/home/${TEST_USER}`;
  /** where the harness keeps its files; the same path inside the test host */
  readonly dir: string;
  readonly isolation: "namespaces" | "none";
  /** the address `hostname -I` gives on the host (namespaces: a private 10.x address; none: 127.0.0.1) */
  readonly privateAddress: string;
  private port = 0;
  private proc: ChildProcess | null = null;
  /** pid (in our PID namespace) of the namespace's first process; its /proc entry reaches the host's files */
  private nsPid = 0;
  private log = "";
  private exited: Promise<void> | null = null;
  private createdUser = false;
  private stopped = false;
  private readonly opts: TestHostOptions;

  private constructor(dir: string, isolation: "namespaces" | "none", opts: TestHostOptions) {
    this.dir = dir;
    this.isolation = isolation;
    this.privateAddress = isolation === "namespaces" ? PRIVATE_ADDRESS : "127.0.0.1";
    this.opts = opts;
  }

  /** Start a test host. Always pair with `stop()` (in afterAll/finally). */
  static async start(opts: TestHostOptions = {}): Promise<TestHost> {
    const wanted = opts.isolation ?? "auto";
    const ns = wanted === "namespaces" || (wanted === "auto" && canUseNamespaces());
    if (wanted === "namespaces" && !canUseNamespaces())
      throw new Error("namespaces isolation needs root, CAP_SYS_ADMIN, unshare and ip");
    if (!ns && opts.sudo)
      throw new Error(
        "sudo on the test host needs namespaces isolation (the stand-ins would not be on sudo's secure_path)",
      );
    removeAbandonedHosts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpufleet-host-"));
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "owner.pid"), `${process.pid}\n`);
    const host = new TestHost(dir, ns ? "namespaces" : "none", opts);
    try {
      await host.boot();
    } catch (e) {
      await host.stop();
      throw e;
    }
    return host;
  }

  private async boot(): Promise<void> {
    const d = this.dir;
    const opts = this.opts;
    for (const sub of ["bin", "lib", "state", "state/docker", "state/docker/containers"]) {
      fs.mkdirSync(path.join(d, sub), { recursive: true });
    }
    for (const sub of ["state", "state/docker", "state/docker/containers"]) fs.chmodSync(path.join(d, sub), 0o777);
    fs.chmodSync(path.join(d, "bin"), 0o755);
    fs.chmodSync(path.join(d, "lib"), 0o755);
    for (const f of fs.readdirSync(STANDINS)) fs.copyFileSync(path.join(STANDINS, f), path.join(d, "lib", f));
    // The stand-ins are node scripts; the test user must be able to execute this node binary.
    let node = process.execPath;
    if (!othersCanExecute(node)) {
      node = path.join(d, "lib", "node");
      fs.copyFileSync(process.execPath, node);
      fs.chmodSync(node, 0o755);
    }
    for (const tool of TOOLS) {
      const file = path.join(d, "bin", tool);
      // "--": Node 20 would otherwise take a later `--env-file x` (docker's flag) as its own option
      fs.writeFileSync(
        file,
        `#!${node} --\n// TEST DOUBLE, see ${path.join(d, "lib", tool + ".js")}\nrequire(${JSON.stringify(path.join(d, "lib", tool + ".js"))});\n`,
      );
      fs.chmodSync(file, 0o755);
    }
    const state = path.join(d, "state");
    const writeState = (name: string, value: unknown) =>
      fs.writeFileSync(path.join(state, name), JSON.stringify(value, null, 2) + "\n", { mode: 0o666 });
    writeState("gpus.json", this.inventory(opts.gpus ?? { gpus: [] }));
    writeState("images.json", opts.images ?? {});
    writeState("daemon.json", { nvidiaRuntime: opts.nvidiaRuntime ?? true });
    writeState(
      "registry.json",
      Object.fromEntries(
        Object.entries(opts.registries ?? {}).map(([r, c]) => [
          r,
          {
            sha256: sha256(`${c.username}:${c.password}`),
            ...(c.privateRepos ? { privateRepos: c.privateRepos } : {}),
          },
        ]),
      ),
    );
    fs.writeFileSync(path.join(state, "docker", "images"), (opts.preloadedImages ?? []).map((i) => i + "\n").join(""), {
      mode: 0o666,
    });
    for (const f of ["calls.log", "ps-snapshots.log"]) fs.writeFileSync(path.join(state, f), "", { mode: 0o666 });
    for (const f of fs.readdirSync(state)) fs.chmodSync(path.join(state, f), f === "docker" ? 0o777 : 0o666);
    fs.chmodSync(path.join(state, "docker", "images"), 0o666);

    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "gpufleet test host",
      "-f",
      path.join(d, "host_ed25519"),
    ]);
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `${TEST_USER}@gpufleet-tests`,
      "-f",
      path.join(d, "client_ed25519"),
    ]);
    const authorizedKeysName =
      this.isolation === "namespaces" ? "authorized_keys" : `authorized_keys.${path.basename(d)}`;
    this.port = this.isolation === "namespaces" ? NS_PORT : await freePort();
    const pathEnv = `${path.join(d, "bin")}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    fs.writeFileSync(
      path.join(d, "sshd_config"),
      [
        "# generated by test/hosts/sshHost.ts; every setting deliberate",
        "ListenAddress 127.0.0.1",
        `Port ${this.port}`,
        `HostKey ${path.join(d, "host_ed25519")}`,
        "PidFile none", // sshd -D runs as our child; its pid is known
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no", // scripts run as an unprivileged user, as on a real host (ubuntu + sudo)
        "StrictModes yes", // sshd's default: authorized_keys and ~/.ssh must be private, as on real hosts
        // PAM would bring pam_systemd/pam_loginuid session setup, which has no systemd here; without it
        // the account must not be "locked" in /etc/shadow, so the user's password field is "*".
        "UsePAM no",
        `AllowUsers ${TEST_USER}`,
        `AuthorizedKeysFile .ssh/${authorizedKeysName}`,
        // what Debian/Ubuntu ship: remote.Command `environment` entries outside this are dropped silently
        `AcceptEnv ${(opts.acceptEnv ?? ["LANG", "LC_*"]).join(" ")}`,
        "PermitUserEnvironment no",
        // the stand-ins first on PATH, then Ubuntu's default PATH
        // none mode: HOME is this harness's own directory, so what scripts keep under ~ (docker login,
        // files the tests write) never lands in the shared account's real home
        this.isolation === "namespaces" ? `SetEnv PATH=${pathEnv}` : `SetEnv PATH=${pathEnv} HOME=${d}/home`,
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "PrintMotd no",
        "PrintLastLog no",
        "Subsystem sftp internal-sftp", // @pulumi/command's CopyToRemote uses sftp
        "MaxStartups 64:30:128", // tests open many short sessions back to back
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    fs.chmodSync(path.join(d, "sshd_config"), 0o644);

    const sudo = this.opts.sudo ?? this.isolation === "namespaces";
    const dockerGroup = this.opts.dockerGroup ?? true;
    const pub = fs.readFileSync(path.join(d, "client_ed25519.pub"), "utf8");
    fs.writeFileSync(path.join(d, "user.pub"), pub, { mode: 0o644 });
    // The account setup runs inside the overlay (namespaces) or on the real machine (none).
    const userSetup = [
      `id -u ${TEST_USER} >/dev/null 2>&1 || useradd --create-home --home-dir /home/${TEST_USER} --shell /bin/bash --user-group ${TEST_USER}`,
      // namespaces: a fresh home in the overlay, whatever the real machine's copy of it holds
      this.isolation === "namespaces"
        ? `rm -rf /home/${TEST_USER} && install -d -m 0750 -o ${TEST_USER} -g ${TEST_USER} /home/${TEST_USER} && cp -a /etc/skel/. /home/${TEST_USER}/ && chown -R ${TEST_USER}:${TEST_USER} /home/${TEST_USER}`
        : `install -d -m 0700 -o ${TEST_USER} -g ${TEST_USER} ${d}/home`,
      `usermod -p '*' ${TEST_USER}`,
      dockerGroup
        ? `getent group docker >/dev/null || groupadd --system docker; usermod -a -G docker ${TEST_USER}`
        : "true",
      `install -d -m 0700 -o ${TEST_USER} -g ${TEST_USER} /home/${TEST_USER}/.ssh`,
      `install -m 0600 -o ${TEST_USER} -g ${TEST_USER} ${d}/user.pub /home/${TEST_USER}/.ssh/${authorizedKeysName}`,
    ];
    if (this.isolation === "namespaces") {
      const root = `${d}/ns/root`;
      const setup = [
        "#!/bin/sh",
        "# runs as PID 1 of fresh net/mount/pid namespaces (see sshHost.ts)",
        "set -eu",
        "ip link set lo up",
        // a private address like an EC2 instance's, for scripts that bind to "the private IPv4"
        `ip link add eth0 type veth peer name eth0-peer`,
        `ip addr add ${PRIVATE_ADDRESS}/24 dev eth0`,
        "ip link set eth0-peer up",
        "ip link set eth0 up",
        `mount -t tmpfs -o mode=0755 gpufleet-host ${d}/ns`,
        `mkdir ${d}/ns/upper ${d}/ns/work ${root}`,
        `mount -t overlay overlay -o lowerdir=/,upperdir=${d}/ns/upper,workdir=${d}/ns/work ${root}`,
        `mount -t proc proc ${root}/proc`,
        `mount --rbind /dev ${root}/dev`,
        `mount -t tmpfs -o mode=0755 run ${root}/run`,
        `mkdir -p ${root}/run/sshd`,
        `chroot ${root} /bin/sh -eu <<'SETUP'`,
        ...userSetup,
        sudo
          ? `printf '%s\\n' '${TEST_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/${TEST_USER}; chmod 0440 /etc/sudoers.d/${TEST_USER}`
          : "true",
        // sudo's secure_path has /usr/local/bin first: put the stand-ins there too (overlay only)
        ...TOOLS.map((tool) => `ln -sf ${d}/bin/${tool} /usr/local/bin/${tool}`),
        "SETUP",
        // baseline of the writable layer, so changedFiles() reports only what came after
        `(cd ${d}/ns/upper && find . -mindepth 1 | sort > ${d}/ns/baseline)`,
        // stop when the harness closes our stdin (it ended or died): PID 1 exiting kills everything
        "trap 'exit 0' USR1 TERM",
        // (an asynchronous list's stdin is /dev/null in sh, hence the saved descriptor 3)
        "exec 3<&0",
        "(cat <&3 >/dev/null; kill -USR1 1) &",
        "exec 3<&-",
        `chroot ${root} ${SSHD} -D -e -f ${d}/sshd_config &`,
        "wait",
      ].join("\n");
      fs.writeFileSync(path.join(d, "setup.sh"), setup + "\n", { mode: 0o755 });
      fs.mkdirSync(path.join(d, "ns"));
      this.proc = spawn(
        "unshare",
        ["--net", "--mount", "--pid", "--fork", "--kill-child", "--", "/bin/sh", path.join(d, "setup.sh")],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
    } else {
      const existed = (() => {
        try {
          execFileSync("id", ["-u", TEST_USER], { stdio: "ignore" });
          return true;
        } catch {
          return false;
        }
      })();
      // /run/sshd: sshd's privilege separation directory, which Debian's service unit normally creates
      execFileSync("/bin/sh", ["-eu", "-c", ["install -d -m 0755 /run/sshd", ...userSetup].join("\n")]);
      this.createdUser = !existed;
      // sshd stops when our stdin closes, so a crashed test run leaves no sshd behind
      // (and the wrapper ends when sshd does, so a failed start is seen at once)
      this.proc = spawn(
        "/bin/sh",
        [
          "-c",
          `exec 3<&0; ${SSHD} -D -e -f ${d}/sshd_config & pid=$!; (cat <&3 >/dev/null; kill $pid 2>/dev/null) & exec 3<&-; wait $pid`,
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
    }
    const proc = this.proc;
    this.exited = new Promise((resolve) => proc.on("exit", () => resolve()));
    proc.stdout!.on("data", (b) => (this.log += b.toString()));
    proc.stderr!.on("data", (b) => (this.log += b.toString()));
    const deadline = Date.now() + 20_000;
    while (!this.log.includes(`Server listening on 127.0.0.1 port ${this.port}.`)) {
      if (proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`test host did not start (exit ${proc.exitCode}):\n${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    if (this.isolation === "namespaces") {
      this.nsPid = Number(
        fs.readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(/\s+/)[0],
      );
    }
  }

  private inventory(inv: GpuInventory): GpuInventory {
    return { driverVersion: "535.183.01", cudaVersion: "12.2", ...inv };
  }

  /** The real-machine path of a file on the test host (namespaces: through the overlay). */
  path(p: string): string {
    if (!path.isAbsolute(p)) throw new Error(`absolute path expected: ${p}`);
    return this.isolation === "namespaces" ? `/proc/${this.nsPid}/root${this.dir}/ns/root${p}` : p;
  }

  readFile(p: string): string {
    return fs.readFileSync(this.path(p), "utf8");
  }

  exists(p: string): boolean {
    return fs.existsSync(this.path(p));
  }

  /** mode (e.g. 0o600), owner name and group name of a file on the test host */
  stat(p: string): { mode: number; owner: string; group: string } {
    const st = fs.statSync(this.path(p));
    const name = (file: string, id: number) => {
      const line = this.readFile(file)
        .split("\n")
        .find((l) => l.split(":")[2] === String(id));
      return line ? line.split(":")[0] : String(id);
    };
    return { mode: st.mode & 0o7777, owner: name("/etc/passwd", st.uid), group: name("/etc/group", st.gid) };
  }

  private statePath(name: string): string {
    return this.path(path.join(this.dir, "state", name));
  }

  /** Change what nvidia-smi reports from now on. */
  setGpus(inv: GpuInventory): void {
    fs.writeFileSync(this.statePath("gpus.json"), JSON.stringify(this.inventory(inv), null, 2) + "\n");
  }

  /** Whether the stand-in Docker daemon has the "nvidia" runtime registered (as after a restart). */
  setDaemon(d: { nvidiaRuntime: boolean }): void {
    fs.writeFileSync(this.statePath("daemon.json"), JSON.stringify(d, null, 2) + "\n");
  }

  /** What the stand-in `cloud-init status` reports: "done" (default) or "not run" (then `--wait` hangs, as the real one does). */
  setCloudInitStatus(status: "done" | "not run"): void {
    fs.writeFileSync(this.statePath("cloud-init.json"), JSON.stringify({ status }) + "\n");
  }

  setImages(images: Record<string, ImageBehaviour>): void {
    fs.writeFileSync(this.statePath("images.json"), JSON.stringify(images, null, 2) + "\n");
  }

  /** Every stand-in container on the host, oldest first (as the stand-ins last saved them). */
  containers(): StandInContainer[] {
    const dir = this.statePath("docker/containers");
    return fs
      .readdirSync(dir)
      .map((id) => JSON.parse(fs.readFileSync(path.join(dir, id, "config.json"), "utf8")) as StandInContainer)
      .sort((a, b) => a.createdMs - b.createdMs);
  }

  containerLogs(id: string): string {
    return fs.readFileSync(this.statePath(`docker/containers/${id}/logs`), "utf8");
  }

  /** Every stand-in invocation so far: tool, uid and argv. */
  calls(): { tool: string; uid: number; argv: string[] }[] {
    return fs
      .readFileSync(this.statePath("calls.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  /** `ps -eo args` as captured at every stand-in invocation. */
  psSnapshots(): string {
    return fs.readFileSync(this.statePath("ps-snapshots.log"), "utf8");
  }

  /** sshd's own log (-e), e.g. "Accepted publickey for gpufleet-test …" */
  sshdLog(): string {
    return this.log;
  }

  /**
   * Files created, changed or deleted on the test host since it started (namespaces only), as absolute
   * paths, excluding the harness directory. Deleted files show as "<path> (deleted)".
   */
  changedFiles(): string[] {
    if (this.isolation !== "namespaces") throw new Error("changedFiles() needs namespaces isolation");
    const ns = `/proc/${this.nsPid}/root${this.dir}/ns`;
    const baseline = new Set(
      fs
        .readFileSync(`${ns}/baseline`, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((p) => p.slice(1)),
    );
    const upper = `${ns}/upper`;
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(upper, rel), { withFileTypes: true })) {
        const r = `${rel}/${e.name}`;
        if (r === this.dir || this.dir.startsWith(r + "/")) {
          if (r !== this.dir) walk(r);
          continue;
        }
        const st = fs.lstatSync(path.join(upper, r));
        const whiteout = st.isCharacterDevice() && st.rdev === 0;
        if (e.isDirectory()) {
          if (!baseline.has(r)) out.push(r);
          walk(r);
        } else if (whiteout) out.push(`${r} (deleted)`);
        else if (!baseline.has(r) || st.mtimeMs > this.bootedAtMs()) out.push(r);
      }
    };
    walk("");
    return out.sort();
  }

  private bootedAt = 0;
  private bootedAtMs(): number {
    if (!this.bootedAt) this.bootedAt = fs.statSync(`/proc/${this.nsPid}/root${this.dir}/ns/baseline`).mtimeMs;
    return this.bootedAt;
  }

  /** Run a script on the host exactly as @pulumi/command's remote.Command would (see the header). */
  run(script: string, o: RunOptions = {}): Promise<RunResult> {
    const sshArgs = [
      "-T",
      "-F",
      "/dev/null",
      "-i",
      path.join(this.dir, "client_ed25519"),
      "-o",
      "IdentitiesOnly=yes",
      "-p",
      String(this.port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=10",
      ...Object.keys(o.env ?? {}).flatMap((k) => ["-o", `SendEnv=${k}`]),
      `${TEST_USER}@127.0.0.1`,
      script,
    ];
    const [cmd, args] =
      this.isolation === "namespaces"
        ? ["nsenter", [`--net=/proc/${this.nsPid}/ns/net`, "--", "ssh", ...sshArgs]]
        : ["ssh", sshArgs];
    // the client's environment carries env values (SendEnv); nothing secret goes into argv
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...(o.env ?? {}) };
    return new Promise((resolve, reject) => {
      const child = spawn(cmd as string, args as string[], { env, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      let dropped = false;
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(`ssh run timed out after ${o.timeoutMs ?? 60_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`),
        );
      }, o.timeoutMs ?? 60_000);
      const check = () => {
        if (o.dropConnectionWhen && !dropped && o.dropConnectionWhen.test(stdout + stderr)) {
          dropped = true;
          child.kill("SIGKILL");
        }
      };
      child.stdout.on("data", (b) => {
        stdout += b.toString();
        check();
      });
      child.stderr.on("data", (b) => {
        stderr += b.toString();
        check();
      });
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 255 : -1), stdout, stderr, ...(dropped ? { dropped } : {}) });
      });
      child.stdin.on("error", () => {
        /* the script may exit without reading its stdin */
      });
      if (o.stdin) child.stdin.write(o.stdin);
      child.stdin.end();
    });
  }

  /**
   * Copy a local file, a directory or text to the host as @pulumi/command's remote.CopyToRemote does
   * (pulumi/pulumi-command, provider/pkg/provider/remote/copyController.go, `sftpCopy`): over SFTP, as
   * the ssh user; a directory source without a trailing slash lands at remotePath/<its name>; a text
   * asset must name a file. Missing parent directories are created: @pulumi/command 1.2.1 documents
   * "Any necessary parent directories will be created automatically" (remotePath, copyToRemote.d.ts);
   * some provider versions create only the last element. Uses OpenSSH's sftp in batch mode.
   */
  async copyToRemote(source: { path: string } | { text: string }, remotePath: string): Promise<RunResult> {
    const exists = async (p: string) =>
      (await this.run(`if [ -d ${q(p)} ]; then echo dir; elif [ -e ${q(p)} ]; then echo file; fi`)).stdout.trim();
    const batch: string[] = [];
    const sftpQ = (p: string) => `"${p.replace(/(["\\])/g, "\\$1")}"`;
    // parents first ("-": an existing one is fine); a real failure shows in the put that follows
    const parents = remotePath
      .split("/")
      .slice(1, -1)
      .map((_, i, a) => "/" + a.slice(0, i + 1).join("/"));
    for (const p of parents) batch.push(`-mkdir ${sftpQ(p)}`);
    if ("text" in source) {
      if ((await exists(remotePath)) === "dir")
        return {
          code: 1,
          stdout: "",
          stderr: `remote path ${remotePath} is a directory; when using a text asset, remotePath must be a file path\n`,
        };
      const tmp = path.join(this.dir, `copy-${Date.now()}`);
      fs.writeFileSync(tmp, source.text);
      batch.push(`put ${sftpQ(tmp)} ${sftpQ(remotePath)}`);
    } else if (fs.statSync(source.path).isDirectory()) {
      let dest = remotePath;
      if (!(await exists(dest))) batch.push(`mkdir ${sftpQ(dest)}`);
      if (!source.path.endsWith("/")) {
        dest = path.posix.join(dest, path.basename(source.path));
        batch.push(`-mkdir ${sftpQ(dest)}`);
      }
      const walk = (rel: string) => {
        for (const e of fs
          .readdirSync(path.join(source.path, rel), { withFileTypes: true })
          .sort((a, b) => a.name.localeCompare(b.name))) {
          const r = path.posix.join(rel, e.name);
          if (e.isDirectory()) {
            batch.push(`-mkdir ${sftpQ(path.posix.join(dest, r))}`);
            walk(r);
          } else batch.push(`put ${sftpQ(path.join(source.path, r))} ${sftpQ(path.posix.join(dest, r))}`);
        }
      };
      walk("");
    } else {
      const dest =
        (await exists(remotePath)) === "dir" ? path.posix.join(remotePath, path.basename(source.path)) : remotePath;
      batch.push(`put ${sftpQ(source.path)} ${sftpQ(dest)}`);
    }
    const batchFile = path.join(this.dir, `sftp-batch-${Date.now()}`);
    fs.writeFileSync(batchFile, batch.join("\n") + "\n");
    const sftpArgs = [
      "-b",
      batchFile,
      "-F",
      "/dev/null",
      "-i",
      path.join(this.dir, "client_ed25519"),
      "-o",
      "IdentitiesOnly=yes",
      "-P",
      String(this.port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "LogLevel=ERROR",
      `${TEST_USER}@127.0.0.1`,
    ];
    const [cmd, args] =
      this.isolation === "namespaces"
        ? ["nsenter", [`--net=/proc/${this.nsPid}/ns/net`, "--", "sftp", ...sftpArgs]]
        : ["sftp", sftpArgs];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd as string, args as string[], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b) => (stdout += b.toString()));
      child.stderr.on("data", (b) => (stderr += b.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 255, stdout, stderr }));
    });
  }

  /** Kill sshd and everything started on the host, and remove all temporary state. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      if (this.isolation === "none") this.killRecordedProcesses();
      proc.stdin?.end(); // the watchdogs stop sshd / PID 1 when stdin closes
      const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 3000));
      if ((await Promise.race([this.exited, timeout])) === "timeout") {
        // unshare blocks SIGTERM while it waits for its child; SIGKILL it (--kill-child then kills PID 1)
        proc.kill("SIGKILL");
        await this.exited;
      }
    }
    if (this.nsPid) {
      // PID 1 of the namespace gone means every process in it is gone; wait until the kernel agrees
      const deadline = Date.now() + 5000;
      while (fs.existsSync(`/proc/${this.nsPid}/ns`) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
    }
    if (this.isolation === "none") {
      try {
        fs.rmSync(`/home/${TEST_USER}/.ssh/authorized_keys.${path.basename(this.dir)}`, { force: true });
      } catch {
        /* nothing to remove */
      }
      void this.createdUser; // the account stays: concurrent test hosts may be using it
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** none-mode only: health servers the stand-in docker started record their pid in the state dir. */
  private killRecordedProcesses(): void {
    const dir = path.join(this.dir, "state", "docker", "containers");
    if (!fs.existsSync(dir)) return;
    for (const id of fs.readdirSync(dir)) {
      const pidFile = path.join(dir, id, "health.pid");
      if (!fs.existsSync(pidFile)) continue;
      try {
        process.kill(Number(fs.readFileSync(pidFile, "utf8").trim()), "SIGTERM");
      } catch {
        /* already gone */
      }
    }
  }
}
