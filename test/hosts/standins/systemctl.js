// TEST DOUBLE for `systemctl`, installed by test/hosts/sshHost.ts (the test host has no systemd).
// Only the docker unit: `restart|start|stop|is-active docker[.service]`. A restart makes the stand-in
// daemon read /etc/docker/daemon.json, so a runtime nvidia-ctk registered becomes visible in
// `docker info`. Needs root for anything but is-active, like the real one. Anything else: exit 1.
"use strict";
const fs = require("fs");
const path = require("path");
const common = require("./common.js");

const argv = process.argv.slice(2);
common.recordInvocation("systemctl", argv);
const [verb, unit] = argv;
if (!["docker", "docker.service"].includes(unit || "")) {
  process.stderr.write(`systemctl (test double): only the docker unit is supported, got: ${argv.join(" ")}\n`);
  process.exit(1);
}
if (verb === "is-active") {
  process.stdout.write("active\n");
} else if (["restart", "start", "stop"].includes(verb)) {
  if (process.getuid() !== 0) {
    process.stderr.write(`Failed to ${verb} docker.service: Access denied\n`);
    process.exit(1);
  }
  let config = {};
  try {
    config = JSON.parse(fs.readFileSync("/etc/docker/daemon.json", "utf8"));
  } catch {
    /* no daemon.json: defaults */
  }
  const file = path.join(common.STATE, "daemon.json");
  const daemon = common.readJson(file, {});
  daemon.nvidiaRuntime = !!(config.runtimes && config.runtimes.nvidia);
  common.writeJson(file, daemon);
} else {
  process.stderr.write(`systemctl (test double): unsupported verb ${verb}\n`);
  process.exit(1);
}
