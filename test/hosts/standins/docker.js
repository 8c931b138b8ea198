// TEST DOUBLE for the `docker` CLI (Docker Engine 24 with the NVIDIA Container Toolkit), installed by
// test/hosts/sshHost.ts. There is no Docker engine on the build machines; this keeps "containers" as
// directories under STATE/docker/containers and answers the subset of the CLI that host scripts use,
// with the real CLI's output formats, error texts and exit codes:
//   run [-d] [--name N] [--gpus G] [--env-file F] [-e K[=V]] [--restart P] [-p [IP:]H:C] [-v A:B[:ro]]
//       [--shm-size S] [--ulimit U] [--ipc M] [--network N] [--label K=V] [-u U] [--runtime R] [--rm] IMAGE [CMD…]
//   ps [-a] [-q] [--no-trunc] [--filter|-f K=V]… [--format T]     inspect [--format T] NAME…
//   logs [--tail N] NAME   stop|start|restart NAME…   rm [-f] NAME…   exec [-i] NAME CMD…
//   pull IMAGE   images   image inspect|ls|rm   login [-u U] --password-stdin [REG]   logout   info   version
// Deliberate realism, because these are the mistakes host scripts make:
//   * `--gpus device=2,3` without the inner double quotes fails exactly like docker's csv parser does;
//   * `--env-file` is read by the CLI as the invoking user (a 0600 root file fails without sudo);
//   * a non-root user outside the `docker` group gets the daemon-socket "permission denied";
//   * images on a registry listed in STATE/registry.json need `docker login` first, and login stores
//     the credential base64-encoded in $HOME/.docker/config.json as the real CLI does;
//   * device ids the host does not have fail at start with nvidia-container-cli's "unknown device";
//   * a published host port already used by a running container fails with "port is already allocated";
//   * a container that publishes a port answers NIM's /v1/health/ready and /v1/health/live from a tiny
//     HTTP server (health-server.js), optionally not ready for a while, never ready, or crashing.
// Deliberate deviation: values of variables whose name looks secret (KEY, TOKEN, SECRET, PASSWORD) are
// kept only as a sha256 in the state files and shown as "<redacted by test double>" by inspect. Real
// docker keeps them in plain text in its own container config; the stand-in must not, so that a scan of
// the host's files for the NGC key finds only what the scripts themselves wrote.
"use strict";
const fs = require("fs");
const path = require("path");
const os = require("os");
const crypto = require("crypto");
const childProcess = require("child_process");
const common = require("./common.js");

process.umask(0); // state is shared by root (sudo docker) and the test user (docker group)

class Exit extends Error {
  constructor(code, stderr, stdout = "") {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}
const daemonError = (msg, code = 1) => new Exit(code, `Error response from daemon: ${msg}\n`);
const noSuchContainer = (name) => daemonError(`No such container: ${name}`);
const usage = (cmd, msg) => new Exit(125, `${msg}\nSee 'docker ${cmd} --help'.\n`);

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD/i;
const sha256 = (s) => crypto.createHash("sha256").update(s).digest("hex");
const out = (s) => process.stdout.write(s);

function main(argv) {
  common.recordInvocation("docker", argv);
  checkSocketPermission();
  let [cmd, ...rest] = argv;
  if (cmd === "container") {
    [cmd, ...rest] = rest;
    if (cmd === "ls" || cmd === "list") cmd = "ps";
    if (cmd === "inspect") return inspect(rest, "container");
  } else if (cmd === "image") {
    const [sub, ...r] = rest;
    if (sub === "inspect") return imageInspect(r);
    if (sub === "ls" || sub === "list") return images(r);
    if (sub === "pull") return pull(r);
    if (sub === "rm") return rmi(r);
    throw usage("image", `docker: '${sub}' is not a docker command.`);
  }
  switch (cmd) {
    case "run":
      return run(rest);
    case "ps":
      return ps(rest);
    case "inspect":
      return inspect(rest, null);
    case "logs":
      return logs(rest);
    case "stop":
      return stopCmd(rest);
    case "start":
      return startCmd(rest);
    case "restart":
      stopCmd(rest, true);
      return startCmd(rest);
    case "rm":
      return rm(rest);
    case "rename":
      return renameCmd(rest);
    case "exec":
      return exec(rest);
    case "pull":
      return pull(rest);
    case "images":
      return images(rest);
    case "rmi":
      return rmi(rest);
    case "login":
      return login(rest);
    case "logout":
      return logout(rest);
    case "info":
      return info(rest);
    case "version":
      return version(rest);
    case undefined:
      throw new Exit(0, "", "Usage:  docker [OPTIONS] COMMAND\n");
    default:
      throw new Exit(1, `docker: '${cmd}' is not a docker command.\nSee 'docker --help'\n`);
  }
}

function checkSocketPermission() {
  if (process.getuid() === 0) return;
  const group = fs
    .readFileSync("/etc/group", "utf8")
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f[0] === "docker");
  if (group && process.getgroups().includes(Number(group[2]))) return;
  throw new Exit(
    1,
    'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: permission denied\n',
  );
}

// ---------- option parsing (docker's pflag style: --x=v, --x v, -x v, -abc) ----------
function parseFlags(cmd, args, spec, { stopAtPositional = false } = {}) {
  // spec: { "--name": "string" | "list" | "bool", ... } with short aliases mapped to long names
  const flags = {};
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positional.push(a);
      if (stopAtPositional) {
        positional.push(...args.slice(i + 1));
        break;
      }
      continue;
    }
    let name = a,
      inline = null;
    if (a.startsWith("--") && a.includes("=")) {
      name = a.slice(0, a.indexOf("="));
      inline = a.slice(a.indexOf("=") + 1);
    } else if (!a.startsWith("--") && a.length > 2) {
      // -p8000:8000 or bundled booleans like -it / -dit
      const first = spec[a.slice(0, 2)];
      if (first && first.type !== "bool") {
        name = a.slice(0, 2);
        inline = a.slice(2);
      } else {
        for (const ch of a.slice(1)) {
          const s = spec[`-${ch}`];
          if (!s) throw usage(cmd, `unknown shorthand flag: '${ch}' in ${a}`);
          if (s.type !== "bool") throw usage(cmd, `flag needs an argument: '${ch}' in -${ch}`);
          flags[s.name] = true;
        }
        continue;
      }
    }
    const s = spec[name];
    if (!s)
      throw usage(
        cmd,
        name.startsWith("--") ? `unknown flag: ${name}` : `unknown shorthand flag: '${name.slice(1)}' in ${name}`,
      );
    if (s.type === "bool") {
      flags[s.name] = inline === null ? true : inline !== "false";
      continue;
    }
    const v = inline !== null ? inline : args[++i];
    if (v === undefined) throw usage(cmd, `flag needs an argument: ${name}`);
    if (s.type === "list") (flags[s.name] = flags[s.name] || []).push(v);
    else flags[s.name] = v;
  }
  return { flags, positional };
}
function specOf(defs) {
  const spec = {};
  for (const [names, type] of defs) {
    const list = names.split("|");
    for (const n of list) spec[n] = { name: list.find((x) => x.startsWith("--")) || list[0], type };
  }
  return spec;
}

// ---------- containers ----------
function findContainer(ref) {
  const all = common.listContainers();
  return (
    all.find((c) => c.name === ref || c.name === ref.replace(/^\//, "") || c.id === ref) ||
    (ref.length >= 1 && /^[0-9a-f]+$/.test(ref) ? all.find((c) => c.id.startsWith(ref)) : undefined)
  );
}
function mustFind(ref) {
  const c = findContainer(ref);
  if (!c) throw noSuchContainer(ref);
  return c;
}

function imageBehaviour(image) {
  const table = common.readJson(path.join(common.STATE, "images.json"), {});
  if (table[image]) return table[image];
  for (const [k, v] of Object.entries(table)) if (k.endsWith("*") && image.startsWith(k.slice(0, -1))) return v;
  return table["*"] || {};
}

function normaliseImage(image) {
  const lastSlash = image.lastIndexOf("/");
  return image.slice(lastSlash + 1).includes(":") || image.includes("@") ? image : `${image}:latest`;
}
function registryOf(image) {
  const first = image.split("/")[0];
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : "docker.io";
}

// docker's opts/gpus.go: the value is read as CSV, so device=2,3 must be quoted to stay one field
function parseGpus(value) {
  const fields = [];
  let cur = "",
    quoted = false;
  for (const ch of value) {
    if (ch === '"') {
      quoted = !quoted;
      continue;
    }
    if (ch === "," && !quoted) {
      fields.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  fields.push(cur);
  const req = { driver: "", count: 0, deviceIds: null, capabilities: [["gpu"]], options: {} };
  const bad = (m) => usage("run", `invalid argument "${value}" for "--gpus" flag: ${m}`);
  for (const f of fields) {
    const eq = f.indexOf("=");
    if (eq < 0) {
      if (f === "all") {
        req.count = -1;
        continue;
      }
      if (!/^\d+$/.test(f)) throw bad(`strconv.Atoi: parsing "${f}": invalid syntax`);
      req.count = Number(f);
      continue;
    }
    const key = f.slice(0, eq),
      val = f.slice(eq + 1);
    if (key === "driver") req.driver = val;
    else if (key === "count") req.count = val === "all" ? -1 : Number(val);
    else if (key === "device") req.deviceIds = val.split(",");
    else if (key === "capabilities") req.capabilities = [val.split(",")];
    else if (key === "options") req.options = Object.fromEntries(val.split(",").map((o) => o.split("=")));
    else throw bad(`unexpected key '${key}' in '${f}'`);
  }
  if (req.count !== 0 && req.deviceIds) throw bad("cannot set both Count and DeviceIDs on device request");
  return req;
}

function parseBytes(s) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$/i.exec(s);
  if (!m) throw usage("run", `invalid argument "${s}" for "--shm-size" flag: invalid size: '${s}'`);
  return Math.round(Number(m[1]) * 1024 ** " kmgtp".indexOf(m[2].toLowerCase() || " "));
}

// docker's env-file format: KEY=VALUE taken literally (no quote removal), KEY alone = from the CLI's
// environment, # comments and blank lines ignored
function readEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const why = e.code === "EACCES" ? "permission denied" : e.code === "ENOENT" ? "no such file or directory" : e.code;
    throw usage("run", `docker: open ${file}: ${why}.`);
  }
  const env = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const [k] = line.split("=", 1);
    if (/\s/.test(k)) throw usage("run", `docker: poorly formatted environment: variable '${k}' contains whitespaces.`);
    if (line.includes("=")) env.push([k, line.slice(k.length + 1)]);
    else if (process.env[k] !== undefined) env.push([k, process.env[k]]);
  }
  return env;
}

function run(args) {
  const spec = specOf([
    ["-d|--detach", "bool"],
    ["-i|--interactive", "bool"],
    ["-t|--tty", "bool"],
    ["--rm", "bool"],
    ["--init", "bool"],
    ["--privileged", "bool"],
    ["--name", "string"],
    ["--gpus", "string"],
    ["--env-file", "list"],
    ["-e|--env", "list"],
    ["--restart", "string"],
    ["-p|--publish", "list"],
    ["-v|--volume", "list"],
    ["--shm-size", "string"],
    ["--ulimit", "list"],
    ["--ipc", "string"],
    ["--network|--net", "string"],
    ["-l|--label", "list"],
    ["-u|--user", "string"],
    ["--runtime", "string"],
    ["--entrypoint", "string"],
    ["-w|--workdir", "string"],
    ["--log-driver", "string"],
    ["--log-opt", "list"],
    ["-m|--memory", "string"],
    ["--pull", "string"],
    ["--health-cmd", "string"],
    ["--health-interval", "string"],
    ["--health-retries", "string"],
    ["--add-host", "list"],
    ["--cap-add", "list"],
    ["--security-opt", "list"],
    ["--hostname|-h", "string"],
    ["--pid", "string"],
    ["--read-only", "bool"],
    ["--cap-drop", "list"],
    ["--device", "list"],
    ["--init", "bool"],
  ]);
  const { flags, positional } = parseFlags("run", args, spec, { stopAtPositional: true });
  if (positional.length === 0)
    throw usage(
      "run",
      '"docker run" requires at least 1 argument.\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image',
    );
  const [imageRef, ...cmdArgs] = positional;
  const image = normaliseImage(imageRef);
  const gpuRequest = flags["--gpus"] !== undefined ? parseGpus(flags["--gpus"]) : null;
  const shm = flags["--shm-size"] !== undefined ? parseBytes(flags["--shm-size"]) : 67108864;
  const restart = flags["--restart"] || "no";
  if (!/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(restart))
    throw usage("run", `docker: invalid restart policy '${restart}'.`);

  const env = [];
  for (const f of flags["--env-file"] || []) env.push(...readEnvFile(f));
  for (const e of flags["--env"] || []) {
    if (e.includes("=")) env.push([e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]);
    else if (process.env[e] !== undefined) env.push([e, process.env[e]]);
  }
  const hostNetwork = flags["--network"] === "host";
  if (hostNetwork && flags["--publish"])
    process.stderr.write("WARNING: Published ports are discarded when using host network mode\n");
  const ports = (hostNetwork ? [] : flags["--publish"] || []).map((p) => {
    const parts = p.replace(/\/tcp$/, "").split(":");
    if (parts.length < 2 || parts.some((x, i) => i > 0 && !/^\d+$/.test(x)))
      throw usage("run", `docker: invalid publish spec "${p}" (the stand-in needs [IP:]HOST:CONTAINER).`);
    const [ip, host, container] = parts.length === 3 ? parts : ["", parts[0], parts[1]];
    return { hostIp: ip, hostPort: Number(host), containerPort: Number(container) };
  });

  const name = flags["--name"] || `stand_in_${crypto.randomBytes(3).toString("hex")}`;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name))
    throw usage(
      "run",
      `docker: Error response from daemon: Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed.`,
    );
  const existing = findContainer(name);
  if (existing && existing.name === name) {
    throw usage(
      "run",
      `docker: Error response from daemon: Conflict. The container name "/${name}" is already in use by container "${existing.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }

  if (!hasImage(image)) {
    process.stderr.write(`Unable to find image '${image}' locally\n`);
    try {
      pullImage(image, (s) => process.stderr.write(s));
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      throw new Exit(125, `docker: ${e.stderr}See 'docker run --help'.\n`);
    }
  }

  const behaviour = imageBehaviour(image);
  const id = crypto.randomBytes(32).toString("hex");
  const now = Date.now();
  const c = {
    id,
    name,
    image,
    cmd: cmdArgs,
    createdMs: now,
    startedMs: null,
    finishedMs: null,
    state: "created",
    exitCode: 0,
    crashAtMs: null,
    crashExitCode: 0,
    gpuRequest,
    shmSize: shm,
    restart,
    ports,
    volumes: flags["--volume"] || [],
    envFiles: flags["--env-file"] || [],
    envNames: env.map(([k]) => k),
    envValues: Object.fromEntries(env.filter(([k]) => !SECRET_NAME.test(k))),
    secretSha256: Object.fromEntries(env.filter(([k]) => SECRET_NAME.test(k)).map(([k, v]) => [k, sha256(v)])),
    labels: Object.fromEntries((flags["--label"] || []).map((l) => [l.split("=")[0], l.split("=").slice(1).join("=")])),
    ulimits: flags["--ulimit"] || [],
    ipc: flags["--ipc"] || "private",
    network: flags["--network"] || "default",
    user: flags["--user"] || "",
    runtime: flags["--runtime"] || "runc",
    autoRemove: !!flags["--rm"],
    pid: flags["--pid"] || "",
    capAdd: flags["--cap-add"] || [],
    gpuMemoryMiB: behaviour.gpuMemoryMiB === undefined ? null : behaviour.gpuMemoryMiB,
    behaviour,
  };
  fs.mkdirSync(path.join(common.containersDir(), id), { recursive: true, mode: 0o777 });
  fs.writeFileSync(path.join(common.containersDir(), id, "logs"), "", { mode: 0o666 });
  common.saveContainer(c);
  if (!flags["--detach"]) return runForeground(c, behaviour, flags);
  startContainer(c); // throws like `docker run` when the runtime refuses to start it (container stays "created")
  out(`${id}\n`);
  return 0;
}

// A foreground run (no -d) runs to completion: the first ImageBehaviour.runs rule whose regex matches
// the command decides its stdout, stderr, exit code, and directories it creates through its -v
// mounts (what `npm install` leaves in /app/node_modules). --rm removes it afterwards.
function runForeground(c, b, flags) {
  const rule = (b.runs || []).find((r) => new RegExp(r.match).test(c.cmd.join(" "))) || {};
  const missingEnv = (rule.requiredEnv || []).filter((k) => !c.envNames.includes(k));
  for (const target of rule.creates || []) {
    const mount = c.volumes
      .map((v) => v.split(":"))
      .find(([, inside]) => target === inside || target.startsWith(inside + "/"));
    if (mount) fs.mkdirSync(mount[0] + target.slice(mount[1].length), { recursive: true });
  }
  const stdout = missingEnv.length ? "" : rule.stdout || "";
  const stderr = missingEnv.length ? `ERROR: ${missingEnv.join(", ")} is not set\n` : rule.stderr || "";
  const code = missingEnv.length ? 1 : rule.exitCode || 0;
  fs.appendFileSync(path.join(common.containersDir(), c.id, "logs"), stdout + stderr);
  c.state = "exited";
  c.exitCode = code;
  c.startedMs = Date.now();
  c.finishedMs = Date.now();
  common.saveContainer(c);
  if (flags["--rm"]) fs.rmSync(path.join(common.containersDir(), c.id), { recursive: true, force: true });
  out(stdout);
  process.stderr.write(stderr);
  return code;
}

function startContainer(c) {
  const inv = common.inventory();
  const b = c.behaviour || {};
  if (c.gpuRequest) {
    const devices = c.gpuRequest.deviceIds || [];
    const missing = devices.find(
      (d) => !(Number(d) >= 0 && Number(d) < inv.gpus.length) && !inv.gpus.some((g) => g.uuid === d),
    );
    if (missing !== undefined || inv.gpus.length === 0) {
      throw new Exit(
        125,
        `docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'\nnvidia-container-cli: device error: ${missing === undefined ? "0" : missing}: unknown device: unknown.\n`,
      );
    }
  }
  if (b.startError) throw new Exit(125, `docker: Error response from daemon: ${b.startError}\n`);
  for (const p of c.ports) {
    const holder = common
      .listContainers()
      .find((o) => o.id !== c.id && o.state === "running" && o.ports.some((q) => q.hostPort === p.hostPort));
    if (holder) {
      throw new Exit(
        125,
        `docker: Error response from daemon: driver failed programming external connectivity on endpoint ${c.name} (${c.id}): Bind for ${p.hostIp || "0.0.0.0"}:${p.hostPort} failed: port is already allocated.\n`,
      );
    }
  }
  const logFile = path.join(common.containersDir(), c.id, "logs");
  const missingEnv = (b.requiredEnv || []).filter((k) => !c.envNames.includes(k));
  const lines = missingEnv.length
    ? [`ERROR: ${missingEnv.join(", ")} is not set`]
    : b.logs || [`INFO stand-in container for ${c.image} started`];
  fs.appendFileSync(logFile, lines.map((l) => l + "\n").join(""));
  c.state = "running";
  c.startedMs = Date.now();
  c.finishedMs = null;
  if (missingEnv.length) {
    c.crashAtMs = c.startedMs;
    c.crashExitCode = 1;
  } else if (b.exitAfterMs !== undefined) {
    c.crashAtMs = c.startedMs + b.exitAfterMs;
    c.crashExitCode = b.exitCode === undefined ? 1 : b.exitCode;
    if (b.crashLogs) fs.appendFileSync(logFile, b.crashLogs.map((l) => l + "\n").join(""));
  }
  common.saveContainer(c);
  if (c.crashAtMs !== null && c.crashAtMs <= Date.now()) {
    common.listContainers(); // settles it to "exited"
    Object.assign(c, common.readJson(path.join(common.containersDir(), c.id, "config.json"), c));
    return;
  }
  const listen = listenAddresses(c, b);
  if (listen.length && b.health !== false) startHealthServer(c, b, listen);
}

// Where the "service" listens: published ports, or with --network host where the image itself would
// listen, from ImageBehaviour.listen: "ADDR:PORT" with {arg:--flag} / {env:NAME} taken from the
// container's arguments and environment (e.g. Prometheus: "{arg:--web.listen-address}").
function listenAddresses(c, b) {
  if (c.network !== "host") return c.ports.map((p) => ({ port: p.hostPort, address: p.hostIp || "0.0.0.0" }));
  if (!b.listen) return [];
  const text = b.listen
    .replace(/\{arg:([^}]+)\}/g, (_m, flag) => {
      const i = c.cmd.findIndex((a) => a === flag || a.startsWith(flag + "="));
      return i < 0 ? "" : c.cmd[i] === flag ? c.cmd[i + 1] || "" : c.cmd[i].slice(flag.length + 1);
    })
    .replace(/\{env:([^}]+)\}/g, (_m, k) => (c.envValues && c.envValues[k]) || "");
  const m = /^(.*):(\d+)$/.exec(text);
  return m ? [{ address: m[1] || "0.0.0.0", port: Number(m[2]) }] : [];
}

function startHealthServer(c, b, listen) {
  const pidFile = common.healthPidFile(c);
  const readyAtMs = b.neverReady ? -1 : Date.now() + (b.readyAfterMs || 0);
  const child = childProcess.spawn(
    process.execPath,
    [
      path.join(__dirname, "health-server.js"),
      JSON.stringify({
        ports: listen,
        paths: b.httpPaths || null,
        readyAtMs,
        exitAtMs: c.crashAtMs,
        pidFile,
        model: b.model || c.image,
      }),
    ],
    { detached: true, stdio: "ignore" },
  );
  child.unref();
  // wait (max 5 s) until it listens, so a health check right after `docker run` gets an answer
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(pidFile) && Date.now() < deadline)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

function stopContainer(c, exitCode = 0) {
  if (c.state !== "running") return;
  common.stopHealthServer(c);
  c.state = "exited";
  c.exitCode = exitCode;
  c.finishedMs = Date.now();
  c.crashAtMs = null;
  common.saveContainer(c);
}

function stopCmd(args, quiet = false) {
  const { positional } = parseFlags(
    "stop",
    args,
    specOf([
      ["-t|--time", "string"],
      ["-s|--signal", "string"],
    ]),
  );
  for (const ref of positional) {
    const c = mustFind(ref);
    stopContainer(c, 0);
    if (!quiet) out(`${ref}\n`);
  }
  return 0;
}

function startCmd(args) {
  const { positional } = parseFlags(
    "start",
    args,
    specOf([
      ["-a|--attach", "bool"],
      ["-i|--interactive", "bool"],
    ]),
  );
  for (const ref of positional) {
    const c = mustFind(ref);
    if (c.state !== "running") startContainer(c);
    out(`${ref}\n`);
  }
  return 0;
}

// `docker rename OLD NEW`: the container keeps its id, state and devices under its new name.
function renameCmd(args) {
  const { positional } = parseFlags("rename", args, specOf([]));
  if (positional.length !== 2) throw usage("rename", '"docker rename" requires exactly 2 arguments.');
  const [ref, newName] = positional;
  const c = mustFind(ref);
  const clash = findContainer(newName);
  if (clash && clash.id !== c.id) {
    throw daemonError(
      `Conflict. The container name "/${newName}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
  c.name = newName;
  common.saveContainer(c);
  return 0;
}

function rm(args) {
  const { flags, positional } = parseFlags(
    "rm",
    args,
    specOf([
      ["-f|--force", "bool"],
      ["-v|--volumes", "bool"],
    ]),
  );
  if (positional.length === 0) throw usage("rm", '"docker rm" requires at least 1 argument.');
  let code = 0;
  for (const ref of positional) {
    const c = findContainer(ref);
    if (!c) {
      // docker CLI: `rm -f` ignores containers that do not exist (exit 0, no output)
      if (flags["--force"]) continue;
      process.stderr.write(`Error response from daemon: No such container: ${ref}\n`);
      code = 1;
      continue;
    }
    if (c.state === "running" && !flags["--force"]) {
      process.stderr.write(
        `Error response from daemon: cannot remove container "/${c.name}": container is running: stop the container before removing or force remove\n`,
      );
      code = 1;
      continue;
    }
    stopContainer(c, 137);
    fs.rmSync(path.join(common.containersDir(), c.id), { recursive: true, force: true });
    out(`${ref}\n`);
  }
  return code;
}

function logs(args) {
  const { flags, positional } = parseFlags(
    "logs",
    args,
    specOf([
      ["-n|--tail", "string"],
      ["-f|--follow", "bool"],
      ["-t|--timestamps", "bool"],
      ["--since", "string"],
    ]),
  );
  if (positional.length !== 1) throw usage("logs", '"docker logs" requires exactly 1 argument.');
  const c = mustFind(positional[0]);
  const text = fs.readFileSync(path.join(common.containersDir(), c.id, "logs"), "utf8");
  let lines = text.split("\n").slice(0, -1);
  const tail = flags["--tail"];
  if (tail !== undefined && tail !== "all") lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  out(lines.map((l) => l + "\n").join(""));
  return 0;
}

function exec(args) {
  const { flags, positional } = parseFlags(
    "exec",
    args,
    specOf([
      ["-i|--interactive", "bool"],
      ["-t|--tty", "bool"],
      ["-e|--env", "list"],
      ["-u|--user", "string"],
      ["-w|--workdir", "string"],
    ]),
    { stopAtPositional: true },
  );
  const [ref, ...cmd] = positional;
  const c = mustFind(ref);
  if (c.state !== "running") throw daemonError(`container ${c.id} is not running`);
  const stdin = flags["--interactive"] ? fs.readFileSync(0, "utf8") : "";
  // stdin is kept as a digest only: scripts pipe secrets (an IRIS password) into exec
  fs.appendFileSync(
    path.join(common.containersDir(), c.id, "exec.log"),
    JSON.stringify({ cmd, stdinSha256: sha256(stdin), stdinLines: stdin.split("\n").length - 1 }) + "\n",
    { mode: 0o666 },
  );
  const rule = ((c.behaviour || {}).exec || []).find((r) => new RegExp(r.match).test(cmd.join(" ") + "\n" + stdin));
  if (rule) {
    out(rule.stdout || "");
    process.stderr.write(rule.stderr || "");
    return rule.exitCode || 0;
  }
  return 0;
}

// ---------- views: ps, inspect ----------
function humanDuration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(m / 60);
  return h === 1 ? "About an hour" : `${h} hours`;
}
function statusText(c) {
  if (c.state === "running") return `Up ${humanDuration(Date.now() - c.startedMs)}`;
  if (c.state === "exited") return `Exited (${c.exitCode}) ${humanDuration(Date.now() - c.finishedMs)} ago`;
  return "Created";
}
function portsText(c) {
  return c.ports.map((p) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.containerPort}/tcp`).join(", ");
}

function psRow(c, noTrunc) {
  return {
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Names: c.name,
    Image: c.image,
    Status: statusText(c),
    State: c.state,
    Ports: c.state === "running" ? portsText(c) : "",
    Command: JSON.stringify(c.cmd.join(" ")),
    CreatedAt: new Date(c.createdMs).toISOString().replace("T", " ").replace(/\..*/, " +0000 UTC"),
    RunningFor: `${humanDuration(Date.now() - c.createdMs)} ago`,
    Labels: Object.entries(c.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    Mounts: "",
    Networks: c.network === "default" ? "bridge" : c.network,
    Size: "0B",
  };
}

function ps(args) {
  const { flags, positional } = parseFlags(
    "ps",
    args,
    specOf([
      ["-a|--all", "bool"],
      ["-q|--quiet", "bool"],
      ["--no-trunc", "bool"],
      ["-f|--filter", "list"],
      ["--format", "string"],
      ["-n|--last", "string"],
      ["-l|--latest", "bool"],
      ["-s|--size", "bool"],
    ]),
  );
  if (positional.length) throw usage("ps", `"docker ps" accepts no arguments.`);
  const filters = {};
  for (const f of flags["--filter"] || []) {
    const eq = f.indexOf("=");
    if (eq < 0)
      throw usage("ps", `invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const k = f.slice(0, eq);
    if (!["name", "status", "id", "ancestor", "label", "publish"].includes(k))
      throw new Exit(1, `Error response from daemon: invalid filter '${k}'\n`);
    (filters[k] = filters[k] || []).push(f.slice(eq + 1));
  }
  const all = flags["--all"] || !!filters.status;
  let list = common.listContainers().filter((c) => all || c.state === "running");
  const any = (k, pred) => !filters[k] || filters[k].some(pred);
  list = list.filter(
    (c) =>
      any("name", (v) => new RegExp(v).test(c.name) || new RegExp(v).test(`/${c.name}`)) &&
      any("status", (v) => v === c.state) &&
      any("id", (v) => c.id.startsWith(v)) &&
      any("ancestor", (v) => normaliseImage(v) === c.image) &&
      any("label", (v) =>
        v.includes("=") ? c.labels[v.split("=")[0]] === v.split("=").slice(1).join("=") : v in c.labels,
      ) &&
      any("publish", (v) => c.ports.some((p) => String(p.hostPort) === v.replace(/\/tcp$/, ""))),
  );
  list.reverse(); // newest first, like the daemon
  const noTrunc = !!flags["--no-trunc"];
  if (flags["--quiet"]) {
    out(list.map((c) => (noTrunc ? c.id : c.id.slice(0, 12)) + "\n").join(""));
    return 0;
  }
  const format = flags["--format"];
  if (format !== undefined && format !== "table") {
    out(
      renderList(
        format,
        list.map((c) => psRow(c, noTrunc)),
        {
          ID: "CONTAINER ID",
          Names: "NAMES",
          Image: "IMAGE",
          Status: "STATUS",
          State: "STATE",
          Ports: "PORTS",
          Command: "COMMAND",
          RunningFor: "CREATED",
          CreatedAt: "CREATED AT",
        },
      ),
    );
    return 0;
  }
  const rows = [
    ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
    ...list.map((c) => {
      const r = psRow(c, noTrunc);
      return [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names];
    }),
  ];
  out(tabulate(rows));
  return 0;
}

function tabulate(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map(
      (r) =>
        r
          .map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i] + 3)))
          .join("")
          .trimEnd() + "\n",
    )
    .join("");
}

function inspectObject(c) {
  const req = c.gpuRequest;
  const iso = (ms) => (ms ? new Date(ms).toISOString().replace("Z", "000000Z") : "0001-01-01T00:00:00Z");
  const portMap = Object.fromEntries(
    c.ports.map((p) => [`${p.containerPort}/tcp`, [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }]]),
  );
  const env = c.envNames.map((k) => `${k}=${k in c.envValues ? c.envValues[k] : "<redacted by test double>"}`);
  return {
    Id: c.id,
    Created: iso(c.createdMs),
    Path: c.cmd[0] || "/opt/nvidia/nvidia_entrypoint.sh",
    Args: c.cmd.slice(1),
    State: {
      Status: c.state,
      Running: c.state === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.state === "running" ? 4242 : 0,
      ExitCode: c.exitCode,
      Error: "",
      StartedAt: iso(c.startedMs),
      FinishedAt: iso(c.finishedMs),
    },
    Image: `sha256:${sha256(c.image)}`,
    Name: `/${c.name}`,
    RestartCount: 0,
    HostConfig: {
      Binds: c.volumes.length ? c.volumes : null,
      NetworkMode: c.network,
      PortBindings: portMap,
      RestartPolicy: {
        Name: c.restart.split(":")[0],
        MaximumRetryCount: c.restart.startsWith("on-failure:") ? Number(c.restart.split(":")[1]) : 0,
      },
      AutoRemove: c.autoRemove,
      IpcMode: c.ipc,
      PidMode: c.pid || "",
      CapAdd: c.capAdd && c.capAdd.length ? c.capAdd : null,
      Runtime: c.runtime,
      ShmSize: c.shmSize,
      Ulimits: c.ulimits.length
        ? c.ulimits.map((u) => {
            const [n, v] = u.split("=");
            const [s, h] = v.split(":");
            return { Name: n, Hard: Number(h ?? s), Soft: Number(s) };
          })
        : null,
      DeviceRequests: req
        ? [
            {
              Driver: req.driver,
              Count: req.count,
              DeviceIDs: req.deviceIds,
              Capabilities: req.capabilities,
              Options: req.options,
            },
          ]
        : null,
    },
    Config: {
      Hostname: c.id.slice(0, 12),
      User: c.user,
      Env: env,
      Cmd: c.cmd.length ? c.cmd : null,
      Image: c.image,
      Labels: c.labels,
    },
    NetworkSettings: { Ports: c.state === "running" ? portMap : {} },
  };
}

function inspect(args, type) {
  const { flags, positional } = parseFlags(
    "inspect",
    args,
    specOf([
      ["-f|--format", "string"],
      ["--type", "string"],
      ["-s|--size", "bool"],
    ]),
  );
  if (positional.length === 0) throw usage("inspect", '"docker inspect" requires at least 1 argument.');
  const objects = [];
  let code = 0;
  let err = "";
  for (const ref of positional) {
    const c = findContainer(ref);
    if (c) objects.push(inspectObject(c));
    else if ((type || flags["--type"]) !== "container" && hasImage(normaliseImage(ref)))
      objects.push(imageObject(normaliseImage(ref)));
    else {
      code = 1;
      err +=
        (type || flags["--type"]) === "container"
          ? `Error: No such container: ${ref}\n`
          : `Error: No such object: ${ref}\n`;
    }
  }
  if (flags["--format"] !== undefined) out(objects.map((o) => renderTemplate(flags["--format"], o) + "\n").join(""));
  else out(JSON.stringify(objects, null, 4) + "\n");
  process.stderr.write(err);
  return code;
}

// ---------- Go text/template subset: {{.A.B}}, {{json .A}}, {{ .A }}, {{lower .A}}, {{upper .A}} ----------
function goString(v) {
  if (v === null || v === undefined) return "<no value>";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object")
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(v[k])}`)
      .join(" ")}]`;
  return String(v);
}
function renderTemplate(format, obj) {
  const f = format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  // {{index .Config.Labels "key"}}: a missing key gives the map's zero value, "" for labels
  const indexed = f.replace(/\{\{\s*index\s+(\.[A-Za-z0-9_.]*)\s+"([^"]*)"\s*\}\}/g, (_m, p, key) => {
    const map = lookup(obj, p);
    return map && typeof map === "object" && key in map ? goString(map[key]) : "";
  });
  return indexed.replace(/\{\{\s*(json\s+|lower\s+|upper\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}/g, (_m, fn, p) => {
    const v = lookup(obj, p);
    if (fn && fn.trim() === "json") return JSON.stringify(v);
    const s = goString(v);
    return fn && fn.trim() === "lower" ? s.toLowerCase() : fn && fn.trim() === "upper" ? s.toUpperCase() : s;
  });
}
function lookup(obj, p) {
  let v = obj;
  for (const key of p.split(".").filter(Boolean)) {
    if (v === null || typeof v !== "object" || !(key in v)) {
      throw new Exit(
        1,
        `template parsing error: template: :1: executing "" at <${p}>: map has no entry for key "${key}"\n`,
      );
    }
    v = v[key];
  }
  return v;
}
function renderList(format, rows, headers) {
  if (format.startsWith("table ")) {
    const body = format.slice(6);
    const lines = [renderTemplate(body, headers), ...rows.map((r) => renderTemplate(body, r))];
    return tabulate(lines.map((l) => l.split("\t")));
  }
  return rows.map((r) => renderTemplate(format, r) + "\n").join("");
}

// ---------- images and registries ----------
function imagesFile() {
  return path.join(common.STATE, "docker", "images");
}
function imageList() {
  try {
    return fs.readFileSync(imagesFile(), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
function hasImage(image) {
  return imageList().includes(image);
}
// like the real CLI: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json
function dockerConfigPath() {
  if (process.env.DOCKER_CONFIG) return path.join(process.env.DOCKER_CONFIG, "config.json");
  return path.join(process.env.HOME || os.userInfo().homedir, ".docker", "config.json");
}
function pullImage(image, write) {
  const b = imageBehaviour(image);
  const reg = registryOf(image);
  const [repoPath, tag] = [
    image.slice(reg === "docker.io" ? 0 : reg.length + 1, image.lastIndexOf(":")),
    image.slice(image.lastIndexOf(":") + 1),
  ];
  const registries = common.readJson(path.join(common.STATE, "registry.json"), {});
  // a registry may require login for some repositories only (nvcr.io: nim/ is private, nvidia/k8s/ public)
  const needsLogin =
    registries[reg] &&
    (!registries[reg].privateRepos || registries[reg].privateRepos.some((r) => repoPath.startsWith(r)));
  if (needsLogin) {
    const auth = ((common.readJson(dockerConfigPath(), {}).auths || {})[reg] || {}).auth;
    const given = auth ? Buffer.from(auth, "base64").toString("utf8") : null;
    if (!given || sha256(given) !== registries[reg].sha256) {
      throw new Exit(
        1,
        `Error response from daemon: Head "https://${reg}/v2/${repoPath}/manifests/${tag}": unauthorized: authentication required\n`,
      );
    }
  }
  if (b.pullError) throw new Exit(1, `Error response from daemon: ${b.pullError}\n`);
  write(`${tag}: Pulling from ${repoPath}\n`);
  write(`Digest: sha256:${sha256(image)}\n`);
  if (hasImage(image)) write(`Status: Image is up to date for ${image}\n`);
  else {
    write(`Status: Downloaded newer image for ${image}\n`);
    fs.mkdirSync(path.dirname(imagesFile()), { recursive: true, mode: 0o777 });
    fs.appendFileSync(imagesFile(), `${image}\n`, { mode: 0o666 });
  }
}
function pull(args) {
  const { flags, positional } = parseFlags(
    "pull",
    args,
    specOf([
      ["-q|--quiet", "bool"],
      ["--platform", "string"],
    ]),
  );
  if (positional.length !== 1) throw usage("pull", '"docker pull" requires exactly 1 argument.');
  const image = normaliseImage(positional[0]);
  pullImage(image, flags["--quiet"] ? () => {} : out);
  out(`${image}\n`);
  return 0;
}
function imageObject(image) {
  return {
    Id: `sha256:${sha256(image)}`,
    RepoTags: [image],
    RepoDigests: [`${image.slice(0, image.lastIndexOf(":"))}@sha256:${sha256(image)}`],
    Config: { Env: [] },
  };
}
function imageInspect(args) {
  const { flags, positional } = parseFlags("image inspect", args, specOf([["-f|--format", "string"]]));
  const objs = [];
  let err = "";
  for (const ref of positional) {
    const image = normaliseImage(ref);
    if (hasImage(image)) objs.push(imageObject(image));
    else err += `Error response from daemon: No such image: ${image}\n`;
  }
  if (flags["--format"] !== undefined) out(objs.map((o) => renderTemplate(flags["--format"], o) + "\n").join(""));
  else out(JSON.stringify(objs, null, 4) + "\n");
  process.stderr.write(err);
  return err ? 1 : 0;
}
function images(args) {
  const { flags } = parseFlags(
    "images",
    args,
    specOf([
      ["-q|--quiet", "bool"],
      ["--format", "string"],
      ["-a|--all", "bool"],
    ]),
  );
  const rows = imageList().map((i) => ({
    Repository: i.slice(0, i.lastIndexOf(":")),
    Tag: i.slice(i.lastIndexOf(":") + 1),
    ID: sha256(i).slice(0, 12),
    Size: "1GB",
  }));
  if (flags["--quiet"]) out(rows.map((r) => r.ID + "\n").join(""));
  else if (flags["--format"])
    out(renderList(flags["--format"], rows, { Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID", Size: "SIZE" }));
  else
    out(tabulate([["REPOSITORY", "TAG", "IMAGE ID", "SIZE"], ...rows.map((r) => [r.Repository, r.Tag, r.ID, r.Size])]));
  return 0;
}
function rmi(args) {
  const { positional } = parseFlags("rmi", args, specOf([["-f|--force", "bool"]]));
  const list = imageList();
  for (const ref of positional) {
    const image = normaliseImage(ref);
    if (!list.includes(image)) throw daemonError(`No such image: ${image}`);
    list.splice(list.indexOf(image), 1);
    out(`Untagged: ${image}\n`);
  }
  fs.writeFileSync(imagesFile(), list.map((i) => i + "\n").join(""), { mode: 0o666 });
  return 0;
}
function login(args) {
  const { flags, positional } = parseFlags(
    "login",
    args,
    specOf([
      ["-u|--username", "string"],
      ["-p|--password", "string"],
      ["--password-stdin", "bool"],
    ]),
  );
  const reg = positional[0] || "docker.io";
  let password = flags["--password"];
  if (password !== undefined)
    process.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  if (flags["--password-stdin"]) {
    if (password !== undefined) throw new Exit(1, "--password and --password-stdin are mutually exclusive\n");
    if (flags["--username"] === undefined) throw new Exit(1, "Must provide --username with --password-stdin\n");
    password = fs.readFileSync(0, "utf8").replace(/\r?\n$/, "");
  }
  if (password === undefined || flags["--username"] === undefined)
    throw new Exit(1, "Error: Cannot perform an interactive login from a non TTY device\n");
  const user = flags["--username"];
  const registries = common.readJson(path.join(common.STATE, "registry.json"), {});
  if (registries[reg] && sha256(`${user}:${password}`) !== registries[reg].sha256) {
    throw new Exit(1, `Error response from daemon: Get "https://${reg}/v2/": unauthorized: authentication required\n`);
  }
  const file = dockerConfigPath();
  const config = common.readJson(file, {});
  config.auths = { ...(config.auths || {}), [reg]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(config, null, "\t") + "\n", { mode: 0o600 });
  out(
    `WARNING! Your password will be stored unencrypted in ${file}.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/engine/reference/commandline/login/#credential-stores\n\nLogin Succeeded\n`,
  );
  return 0;
}
function logout(args) {
  const reg = args[0] || "docker.io";
  const file = dockerConfigPath();
  const config = common.readJson(file, {});
  if (!config.auths || !config.auths[reg]) {
    out(`Not logged in to ${reg}\n`);
    return 0;
  }
  delete config.auths[reg];
  fs.writeFileSync(file, JSON.stringify(config, null, "\t") + "\n", { mode: 0o600 });
  out(`Removing login credentials for ${reg}\n`);
  return 0;
}
function daemon() {
  return {
    ServerVersion: "24.0.7",
    DefaultRuntime: "runc",
    ...common.readJson(path.join(common.STATE, "daemon.json"), {}),
  };
}
function info(args) {
  const { flags } = parseFlags("info", args, specOf([["-f|--format", "string"]]));
  const d = daemon();
  // keys sorted, as Go's encoding/json writes a map
  const runtimes = {
    "io.containerd.runc.v2": { path: "runc" },
    ...(d.nvidiaRuntime !== false ? { nvidia: { path: "nvidia-container-runtime" } } : {}),
    runc: { path: "runc" },
  };
  const containers = common.listContainers();
  const obj = {
    ServerVersion: d.ServerVersion,
    DefaultRuntime: d.DefaultRuntime,
    Runtimes: runtimes,
    Containers: containers.length,
    ContainersRunning: containers.filter((c) => c.state === "running").length,
    Images: imageList().length,
    Driver: "overlay2",
    OperatingSystem: "Ubuntu 22.04.4 LTS",
  };
  if (flags["--format"] !== undefined) {
    out(renderTemplate(flags["--format"], obj) + "\n");
    return 0;
  }
  out(
    `Client: Docker Engine - Community\n Version:    ${d.ServerVersion}\n\nServer:\n Containers: ${obj.Containers}\n  Running: ${obj.ContainersRunning}\n Images: ${obj.Images}\n Server Version: ${d.ServerVersion}\n Storage Driver: overlay2\n Runtimes: ${Object.keys(runtimes).sort().join(" ")}\n Default Runtime: ${d.DefaultRuntime}\n Operating System: ${obj.OperatingSystem}\n`,
  );
  return 0;
}
function version(args) {
  const { flags } = parseFlags("version", args, specOf([["-f|--format", "string"]]));
  const d = daemon();
  const obj = {
    Client: { Version: d.ServerVersion, APIVersion: "1.43" },
    Server: { Version: d.ServerVersion, APIVersion: "1.43" },
  };
  if (flags["--format"] !== undefined) {
    out(renderTemplate(flags["--format"], obj) + "\n");
    return 0;
  }
  out(
    `Client: Docker Engine - Community\n Version:           ${d.ServerVersion}\n\nServer: Docker Engine - Community\n Engine:\n  Version:          ${d.ServerVersion}\n`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  process.stdout.write(e.stdout);
  process.stderr.write(e.stderr);
  process.exitCode = e.code;
}
