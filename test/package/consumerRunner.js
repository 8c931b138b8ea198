// Runs a consumer's Pulumi TypeScript program the way `pulumi up` does (cmd/run/run.js of
// @pulumi/pulumi 3.x: its ts-node — the vendored 7.0.1 unless the project has its own — registered with
// the project's TypeScript and tsconfig), but on Pulumi's mocks instead of an engine. Prints one JSON
// line: what was registered, the stack outputs, or the error the program threw.
// Usage: node consumerRunner.js <program.ts> <up|preview>
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");
const tsutils = require("@pulumi/pulumi/tsutils");

const [program, mode] = process.argv.slice(2);
process.env.PULUMI_CONFIG = JSON.stringify({
  "aws:region": "us-east-1",
  "consumer:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nCONSUMERTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n",
  "consumer:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConsumer test",
  "consumer:ngcApiKey": "nvapi-CONSUMER-TEST-KEY",
});
process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(["consumer:sshPrivateKey", "consumer:ngcApiKey"]);

const registered = [];
const warnings = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push(`${args.type} ${args.name}`);
      const state = { ...args.inputs };
      if (args.type === "aws:ec2/instance:Instance") Object.assign(state, { privateIp: "10.0.1.23", publicIp: "" });
      return { id: `${args.name}-id`, state };
    },
    call: (args) => (args.token === "aws:ssm/getParameter:getParameter" ? { value: "ami-0123456789abcdef0" } : {}),
  },
  "consumer",
  "dev",
  mode === "preview",
);
const logWarn = pulumi.log.warn;
pulumi.log.warn = (message, resource) => {
  warnings.push(message);
  return logWarn(message, resource);
};

// What run.js does for a TypeScript program (PULUMI_NODEJS_TYPESCRIPT=true).
const tsConfigPath = "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const ts = require(typescriptRequire);
const [major, minor] = ts.version.split(".").map(Number);
const useNodeNext = major > 4 || (major === 4 && minor >= 7);
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: tsConfigPath,
  skipProject: !fs.existsSync(tsConfigPath),
  compilerOptions: {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
  },
});

const report = (result) => {
  const loader = { tsNode: require(tsnodeRequire).VERSION, typescript: ts.version };
  process.stdout.write(`${JSON.stringify({ loader, registered: registered.sort(), warnings, ...result })}\n`);
};
let outputs;
try {
  outputs = require(path.resolve(program));
} catch (error) {
  report({ error: { name: error.constructor.name, message: error.message } });
  process.exit(0);
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
Promise.all(
  Object.entries(outputs).map(
    ([k, v]) =>
      new Promise((resolve) => (pulumi.Output.isInstance(v) ? v.apply((x) => resolve([k, x])) : resolve([k, v]))),
  ),
)
  .then(async (entries) => {
    await settle();
    report({ outputs: Object.fromEntries(entries) });
  })
  .catch((error) => {
    report({ error: { name: error.constructor.name, message: error.message } });
  });
