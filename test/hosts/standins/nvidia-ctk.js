// TEST DOUBLE for `nvidia-ctk` (NVIDIA Container Toolkit), installed by test/hosts/sshHost.ts.
// Only `nvidia-ctk runtime configure --runtime=docker`: like the real one it adds the "nvidia" runtime
// to /etc/docker/daemon.json (creating it) and prints where; Docker sees it only after a restart
// (stand-in systemctl). Needs root, as the real one does to write /etc/docker. Anything else: exit 1.
"use strict";
const fs = require("fs");
const common = require("./common.js");

const argv = process.argv.slice(2);
common.recordInvocation("nvidia-ctk", argv);
if (argv[0] === "--version") {
  process.stdout.write("NVIDIA Container Toolkit CLI version 1.14.6\n");
} else if (argv[0] === "runtime" && argv[1] === "configure" && argv.slice(2).includes("--runtime=docker")) {
  const file = "/etc/docker/daemon.json";
  let config = {};
  try {
    config = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  config.runtimes = { ...(config.runtimes || {}), nvidia: { args: [], path: "nvidia-container-runtime" } };
  try {
    fs.mkdirSync("/etc/docker", { recursive: true });
    fs.writeFileSync(file, JSON.stringify(config, null, 4) + "\n");
  } catch (e) {
    process.stderr.write(`ERRO[0000] unable to flush config: unable to open ${file} for writing: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `INFO[0000] Wrote updated config to ${file}\nINFO[0000] It is recommended that docker daemon be restarted.\n`,
  );
} else {
  process.stderr.write(`nvidia-ctk (test double): unsupported arguments: ${argv.join(" ")}\n`);
  process.exit(1);
}
