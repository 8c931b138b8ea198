// TEST DOUBLE support code — shared by the stand-in `nvidia-smi` and `docker` that the test host
// (test/hosts/sshHost.ts) puts first on the test user's PATH. Never shipped, never run on a real host.
//
// Layout of a test host's state directory (STATE = <harness dir>/state, world-writable because the
// stand-ins run both as the test user and as root through sudo, like the real CLIs talking to one daemon):
//   STATE/gpus.json        the GPU inventory the test configured (see sshHost.ts `GpuInventory`)
//   STATE/images.json      per-image behaviour of "containers" (health delay, crash, logs, memory use)
//   STATE/registry.json    registries that demand `docker login` (sha256 of "user:password", never the secret)
//   STATE/docker/images    one line per pulled image
//   STATE/docker/containers/<64-hex id>/config.json, logs, health.pid
//   STATE/calls.log        every stand-in invocation (argv as JSON), for assertions on what scripts ran
//   STATE/ps-snapshots.log `ps -eo args` captured at every stand-in invocation (secret-in-argv checks)
"use strict";
const fs = require("fs");
const path = require("path");
const childProcess = require("child_process");

const STATE = path.join(path.dirname(__dirname), "state");

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if (e.code === "ENOENT") return fallback;
    throw e;
  }
}

function writeJson(file, value) {
  // write-then-rename so a concurrent reader never sees half a file
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o666 });
  fs.renameSync(tmp, file);
}

function inventory() {
  return readJson(path.join(STATE, "gpus.json"), { driverVersion: "535.183.01", cudaVersion: "12.2", gpus: [] });
}

function containersDir() {
  return path.join(STATE, "docker", "containers");
}

/** All containers, oldest first, with lazily-applied state transitions (crash after N ms). */
function listContainers() {
  const dir = containersDir();
  let ids = [];
  try {
    ids = fs.readdirSync(dir);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  const all = [];
  for (const id of ids) {
    const c = readJson(path.join(dir, id, "config.json"), null);
    if (!c) continue;
    settle(c);
    all.push(c);
  }
  all.sort((a, b) => a.createdMs - b.createdMs || a.id.localeCompare(b.id));
  return all;
}

/** A container whose image is configured to crash moves to "exited" once its time has come. */
function settle(c) {
  if (c.state === "running" && c.crashAtMs !== null && c.crashAtMs !== undefined && Date.now() >= c.crashAtMs) {
    c.state = "exited";
    c.exitCode = c.crashExitCode;
    c.finishedMs = c.crashAtMs;
    c.crashAtMs = null;
    stopHealthServer(c);
    saveContainer(c);
  }
}

function saveContainer(c) {
  writeJson(path.join(containersDir(), c.id, "config.json"), c);
}

function healthPidFile(c) {
  return path.join(containersDir(), c.id, "health.pid");
}

function stopHealthServer(c) {
  const file = healthPidFile(c);
  let pid;
  try {
    pid = Number(fs.readFileSync(file, "utf8").trim());
  } catch {
    return;
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  try {
    fs.unlinkSync(file);
  } catch {
    /* removed concurrently */
  }
}

/** MiB of GPU memory a running container holds on each of its devices. */
function containerMemoryMiB(c, gpu) {
  if (c.gpuMemoryMiB !== null && c.gpuMemoryMiB !== undefined) return c.gpuMemoryMiB;
  // vLLM-based NIMs reserve gpu_memory_utilization x total memory whatever the model needs.
  const util = Number(c.envValues && c.envValues.NIM_GPU_MEMORY_UTILIZATION);
  if (util > 0 && util <= 1) return Math.floor(util * gpu.memoryTotalMiB);
  return Math.floor(0.9 * gpu.memoryTotalMiB);
}

/** Device indexes a container's --gpus request resolves to (null: no GPUs). */
function containerDevices(c, gpuCount) {
  if (!c.gpuRequest) return [];
  if (c.gpuRequest.count === -1) return [...Array(gpuCount).keys()];
  if (c.gpuRequest.deviceIds) return c.gpuRequest.deviceIds.map(Number);
  return [...Array(Math.min(c.gpuRequest.count, gpuCount)).keys()];
}

/** Log this invocation and what the process table looked like at this moment. */
function recordInvocation(tool, argv) {
  try {
    fs.appendFileSync(path.join(STATE, "calls.log"), JSON.stringify({ tool, uid: process.getuid(), argv }) + "\n");
    const ps = childProcess.execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    fs.appendFileSync(path.join(STATE, "ps-snapshots.log"), `--- ${tool} ${argv[0] || ""}\n${ps}`);
  } catch {
    /* recording must never change the tool's behaviour */
  }
}

module.exports = {
  STATE,
  readJson,
  writeJson,
  inventory,
  containersDir,
  listContainers,
  saveContainer,
  healthPidFile,
  stopHealthServer,
  containerMemoryMiB,
  containerDevices,
  recordInvocation,
};
