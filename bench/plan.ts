/**
 * npm run bench:plan [-- --json]
 *
 * Plans generated fleets of 1, 8 and 64 p4de.24xlarge nodes (8 to 512 GPUs, a service on every GPU)
 * and prints the time of each and its ratio to the bare cost of registering the same number of
 * resources under the mock runtime. Each measurement runs in a fresh process.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const NODE_COUNTS = [1, 8, 64];
const TSX = join(__dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");
const WORKER = join(__dirname, "planFleetWorker.ts");

function measure(mode: "plan" | "bare", n: number): { resources: number; seconds: number } {
  const r = spawnSync(process.execPath, [TSX, WORKER, mode, String(n)], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${mode} ${n} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const json = process.argv.includes("--json");
const fleets = NODE_COUNTS.map((nodes) => {
  const plan = measure("plan", nodes);
  const bare = measure("bare", plan.resources);
  return {
    nodes,
    gpus: nodes * 8,
    resources: plan.resources,
    seconds: round(plan.seconds),
    bareSeconds: round(bare.seconds),
  };
});

function round(s: number): number {
  return Math.round(s * 1000) / 1000;
}

if (json) {
  process.stdout.write(JSON.stringify({ fleets }, null, 2) + "\n");
} else {
  process.stdout.write("nodes  gpus  resources  plan s   bare s   plan/bare  plan ms per resource\n");
  for (const f of fleets) {
    process.stdout.write(
      `${String(f.nodes).padStart(5)} ${String(f.gpus).padStart(5)} ${String(f.resources).padStart(10)} ${f.seconds.toFixed(3).padStart(8)} ${f.bareSeconds.toFixed(3).padStart(8)} ${(f.seconds / f.bareSeconds).toFixed(2).padStart(10)} ${((f.seconds * 1000) / f.resources).toFixed(3).padStart(10)}\n`,
    );
  }
}
