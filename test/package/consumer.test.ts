/**
 * What a consumer does: pack this project, install the tarball into an empty Pulumi TypeScript project
 * (offline, from the npm cache `npm ci` filled), type-check the README's snippet against the published
 * declarations and run it the way `pulumi up` runs a TypeScript program, on Pulumi's mocks.
 */
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFleet, validateFleetConfig } from "../../fleet";
import { consumerLockfile } from "./lockfile";
import { GPU0_AND_LLM_RESOURCES } from "../helpers/gpuHostResources";

const ROOT = join(__dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const library = readme.split("## Use the components in your own program")[1];
/** The README's snippet, exactly as a reader copies it. */
const snippet = library.split("```ts\n")[1].split("```")[0];
/** What the README says a misfit prints. */
const misfitText = library.split("Without `maxModelLen` the snippet above prints:\n\n```\n")[1].split("\n```")[0];

let work: string;
const run = (program: string, mode: "up" | "preview") =>
  JSON.parse(execFileSync("node", ["consumerRunner.js", program, mode], { cwd: work, encoding: "utf8" }));

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "gpu-fleet-consumer-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: ROOT, stdio: "ignore" });
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  const root = {
    dependencies: { "@pulumi/pulumi": pkg.devDependencies["@pulumi/pulumi"], "gpu-fleet": `file:${tarball}` },
    devDependencies: { typescript: pkg.devDependencies.typescript, "@types/node": pkg.devDependencies["@types/node"] },
  };
  writeFileSync(
    join(work, "package.json"),
    JSON.stringify({ name: "consumer", private: true, main: "index.ts", ...root }),
  );
  const bytes = readFileSync(join(work, tarball));
  const manifest = { ...pkg, dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies };
  writeFileSync(
    join(work, "package-lock.json"),
    JSON.stringify(
      consumerLockfile(JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")), root, {
        name: "gpu-fleet",
        file: tarball,
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
        manifest,
      }),
    ),
  );
  writeFileSync(join(work, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
  writeFileSync(
    join(work, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: "es2020",
        module: "nodenext",
        moduleResolution: "nodenext",
        types: ["node"],
        noEmit: true,
      },
      files: ["index.ts", "misfit.ts"],
    }),
  );
  writeFileSync(join(work, "index.ts"), snippet);
  writeFileSync(join(work, "misfit.ts"), snippet.replace(", maxModelLen: 8192", ""));
  copyFileSync(join(__dirname, "consumerRunner.js"), join(work, "consumerRunner.js"));
  execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: work,
    stdio: "ignore",
  });
}, 600_000);

afterAll(() => {
  if (!process.env.KEEP_CONSUMER) rmSync(work, { recursive: true, force: true });
});

describe("the packed package in a fresh project", () => {
  it("ships the build and the vectorizer's sources, never tests, CI or the corpus", () => {
    const files = execFileSync("tar", ["-tzf", readdirSync(work).find((f) => f.endsWith(".tgz"))!], {
      cwd: work,
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
    expect(files).toContain("package/dist/components/index.d.ts");
    expect(files).toContain("package/dist/policies/library.js");
    expect(files).toContain("package/vectorizer/cli.ts");
    expect(files).toContain("package/LICENSE");
    expect(files.filter((f) => /^package\/(test|\.ci|corpus|stacks|cli|bench)\//.test(f))).toEqual([]);
  });

  it("is clean for publint and for Are the Types Wrong (every entry point, every module resolution)", () => {
    const publint = spawnSync("npx", ["publint", "--pack", "false", "--strict"], { cwd: ROOT, encoding: "utf8" });
    expect({ status: publint.status, last: publint.stdout.trim().split("\n").pop() }).toEqual({
      status: 0,
      last: "All good!",
    });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    const attw = spawnSync("npx", ["attw", join(work, tarball), "--format", "json"], { cwd: ROOT, encoding: "utf8" });
    expect(attw.status).toBe(0);
    expect(JSON.parse(attw.stdout).problems).toEqual({});
  }, 120_000);

  it("type-checks the README snippet against the published declarations", () => {
    const tsc = spawnSync("npx", ["tsc", "-p", "."], { cwd: work, encoding: "utf8" });
    expect({ status: tsc.status, output: tsc.stdout + tsc.stderr }).toEqual({ status: 0, output: "" });
  }, 300_000);

  it("imports the package root without creating anything", () => {
    const out = execFileSync(
      "node",
      [
        "-e",
        "const g = require('gpu-fleet'); const f = require('gpu-fleet/fleet'); const k = require('gpu-fleet/kubernetes'); console.log(typeof g.GpuHost, typeof f.planFleet, typeof f.validateFleetConfig, typeof k.EksGpuCluster, process.exitCode)",
      ],
      { cwd: work, encoding: "utf8" },
    );
    expect(out).toBe("function function function function undefined\n");
  });

  it("runs the snippet under Pulumi's TypeScript loader: exactly the host's and the service's resources", () => {
    const result = run("index.ts", "up");
    expect(result.loader.tsNode).toBe("7.0.1");
    expect(result.loader.typescript).toBe(pkg.devDependencies.typescript);
    expect(result.error).toBeUndefined();
    expect(result.registered).toEqual([...GPU0_AND_LLM_RESOURCES].sort());
    expect(result.outputs).toEqual({ endpoint: "http://10.0.1.23:8000" });
  }, 300_000);

  it("refuses the snippet without maxModelLen during up, before registering the host, with the README's message", () => {
    const result = run("misfit.ts", "up");
    const expected = planFleet(
      validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0] }],
      }),
    ).findings.find((f) => f.check === "model-fits-reservation")!;
    const message = `GpuHost "gpu0": 1 mandatory GPU finding(s); nothing was created:\n[model-fits-reservation] GpuHost "gpu0": services[0] (llm) ${expected.detail}`;
    expect(result.error).toEqual({ name: "ResourceError", message });
    expect(misfitText).toBe(message);
    expect(result.registered).toEqual([]);
  }, 300_000);

  it("warns during a preview and registers everything, so the policy pack sees the same ledger", () => {
    const result = run("misfit.ts", "preview");
    expect(result.error).toBeUndefined();
    expect(result.registered).toContain("command:remote:Command gpu0-ledger");
    expect(result.warnings).toEqual([`${misfitText.split("\n")[1]} (\`pulumi up\` will refuse this)`]);
  }, 300_000);
});
