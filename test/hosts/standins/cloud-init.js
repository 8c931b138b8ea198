// TEST DOUBLE for `cloud-init`, installed by test/hosts/sshHost.ts: by default the test host plays an
// instance whose boot-time configuration has finished. Only `cloud-init status [--wait]`:
// "status: <status>", exit 0, where <status> is "done" or what STATE/cloud-init.json says. Like the real
// one, `--wait` on a machine where cloud-init has "not run" never returns (the test host's processes
// end with it). Anything else: exit 1.
"use strict";
const path = require("path");
const common = require("./common.js");

const argv = process.argv.slice(2);
common.recordInvocation("cloud-init", argv);
const { status } = common.readJson(path.join(common.STATE, "cloud-init.json"), { status: "done" });
if (argv[0] === "status" && argv.slice(1).every((a) => a === "--wait" || a === "-w")) {
  if (status === "not run" && argv.length > 1) setInterval(() => {}, 1 << 30);
  else process.stdout.write(`status: ${status}\n`);
} else {
  process.stderr.write(`cloud-init (test double): unsupported arguments: ${argv.join(" ")}\n`);
  process.exit(1);
}
