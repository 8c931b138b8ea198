// TEST DOUBLE for `cloud-init`, installed by test/hosts/sshHost.ts: the test host plays an instance
// whose boot-time configuration has finished. Only `cloud-init status [--wait]`: "status: done", exit 0
// (the real `--wait` prints progress dots first). Anything else: exit 1.
"use strict";
const common = require("./common.js");

const argv = process.argv.slice(2);
common.recordInvocation("cloud-init", argv);
if (argv[0] === "status" && argv.slice(1).every((a) => a === "--wait" || a === "-w")) {
  process.stdout.write("status: done\n");
} else {
  process.stderr.write(`cloud-init (test double): unsupported arguments: ${argv.join(" ")}\n`);
  process.exit(1);
}
