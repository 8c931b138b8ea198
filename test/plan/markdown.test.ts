/**
 * `--format md` as a pull-request comment, exactly: verdict and cost, the changes against a base
 * plan (`--base`), the GPU map per host, the services, each violation with its fix, and what `--out`
 * fills in or leaves out.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BasePlan, diffPlans, parseBasePlan } from "../../plan/diff";
import { POLICY_FIXES, policiesWithoutFix } from "../../plan/fixes";
import { runCli } from "../helpers/runCli";

const plan = (...args: string[]) => runCli("cli/plan.ts", args);
const tmp = () => mkdtempSync(join(tmpdir(), "gpu-fleet-md-"));

const DEV_HOST_AND_SERVICES = `### host gpu0 — ec2 g5.xlarge (1 × A10G, 23,028 MiB each, single), $1.006/h

| GPU | Service | Model | Reserved MiB | Usable MiB | Headroom MiB |
|---|---|---|---:|---:|---:|
| 0 | llm (20,334) | meta/llama-3.1-8b-instruct | 20,334 | 21,876 | 1,542 |

### Services

| Service | Host | GPUs | TP | Precision | Profile | Reserved MiB/GPU | Max context | Fits |
|---|---|---|---:|---|---|---:|---:|---|
| llm | gpu0 | 0 | 1 | bf16 | generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4) | 20,334 | 8,192 of 28,048 | yes |
`;

const DEV_OUT = `<details><summary>--out: 1 placeholder for values known only after <code>pulumi up</code>, 2 files not written</summary>

- \`gpu0.privateIp.invalid\`: privateIp of \`gpu0-instance\`, in 2 files
- \`llm/llm-ngc-key.stdin\` not written: stdin of \`llm-ngc-key\` is a secret
- \`observability/observability-grafana-password.stdin\` not written: stdin of \`observability-grafana-password\` is a secret

</details>
`;

describe("npm run plan -- dev --format md", () => {
  it("prints the comment exactly", () => {
    const r = plan("dev", "--format", "md");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`## gpu-fleet plan: \`dev\`

✅ **$1.006/h** on demand · 1 host, 1 GPU · 1 service · 20,334 MiB reserved · no policy violations

${DEV_HOST_AND_SERVICES}
### Policy violations

None.

${DEV_OUT}`);
  });

  it("with --base, shows what moved and was removed and how cost and reservations changed", () => {
    const dir = tmp();
    const base = JSON.parse(plan("dev", "--json").stdout);
    base.hourlyUsd = 2.012;
    base.services[0].gpus = [1];
    base.services.push({ name: "old", host: "gpu0", gpus: [0], reservedMiBPerGpu: 1664 });
    base.hosts[0].gpus[0].reservedMiB = 22389;
    base.violations = [{ policy: "gpu-memory-budget", enforcement: "mandatory", message: "m", resource: null }];
    writeFileSync(join(dir, "base.json"), JSON.stringify(base));
    const r = plan("dev", "--format", "md", "--base", join(dir, "base.json"));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`## gpu-fleet plan: \`dev\`

✅ **$1.006/h** on demand · 1 host, 1 GPU · 1 service · 20,334 MiB reserved · no policy violations

### Changes against the base plan

| | Base | This plan | Change |
|---|---:|---:|---:|
| On-demand cost | $2.012/h | $1.006/h | -$1.006/h |
| Reserved GPU memory | 22,389 MiB | 20,334 MiB | -2,055 MiB |
| Mandatory violations | 1 | 0 | -1 |

| Service | Change | Base | This plan |
|---|---|---|---|
| llm | moved | gpu0 GPU 1, 20,334 MiB/GPU | gpu0 GPU 0, 20,334 MiB/GPU |
| old | removed | gpu0 GPU 0, 1,664 MiB/GPU | — |

${DEV_HOST_AND_SERVICES}
### Policy violations

None.

${DEV_OUT}`);
  });

  it("marks a mandatory violation, gives its fix and shows the added service", () => {
    const dir = tmp();
    writeFileSync(join(dir, "base.json"), plan("dev", "--json").stdout);
    const stack = join(dir, "Pulumi.over.yaml");
    writeFileSync(
      stack,
      readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8").replace(
        "      maxModelLen: 8192\n",
        "      maxModelLen: 8192\n    - name: emb\n      model: nvidia/nv-embedqa-e5-v5\n      host: gpu0\n      gpus: [0]\n",
      ),
    );
    const r = plan(stack, "--format", "md", "--base", join(dir, "base.json"));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`## gpu-fleet plan: \`over\`

❌ **$1.006/h** on demand · 1 host, 1 GPU · 2 services · 21,998 MiB reserved · 1 mandatory violation

### Changes against the base plan

| | Base | This plan | Change |
|---|---:|---:|---:|
| On-demand cost | $1.006/h | $1.006/h | no change |
| Reserved GPU memory | 20,334 MiB | 21,998 MiB | +1,664 MiB |
| Mandatory violations | 0 | 1 | +1 |

| Service | Change | Base | This plan |
|---|---|---|---|
| emb | added | — | gpu0 GPU 0, 1,664 MiB/GPU |

### host gpu0 — ec2 g5.xlarge (1 × A10G, 23,028 MiB each, single), $1.006/h

| GPU | Service | Model | Reserved MiB | Usable MiB | Headroom MiB |
|---|---|---|---:|---:|---:|
| 0 | llm (20,334 + 1,632 CUDA context + graphs, shared GPU), emb (1,664) | meta/llama-3.1-8b-instruct, nvidia/nv-embedqa-e5-v5 | 21,998 | 21,876 | **-1,754** |

### Services

| Service | Host | GPUs | TP | Precision | Profile | Reserved MiB/GPU | Max context | Fits |
|---|---|---|---:|---|---|---:|---:|---|
| llm | gpu0 | 0 | 1 | bf16 | generic vLLM profile (optimized fp16 profiles for A10G need ×2 or ×4) | 20,334 | 8,192 of 28,048 | yes |
| emb | gpu0 | 0 | 1 | fp16 | encoder engine: weights plus a fixed workspace | 1,664 | 512 of 512 | yes |

### Policy violations

- **mandatory** \`gpu-memory-budget\` on \`gpu0-ledger\`: host "gpu0" GPU 0 (A10G) is over budget by 1,754 MiB: llm 20,334 MiB + emb 1,664 MiB reserved + CUDA context and graphs outside the reservations (shared GPU) llm 1,632 MiB = 23,630 MiB charged, 21,876 MiB usable of 23,028 MiB
  - Fix: move a service to another GPU (\`gpus:\`), lower \`gpuMemoryUtilization\` or \`maxModelLen\`, or choose a GPU with more memory.

<details><summary>--out: 1 placeholder for values known only after <code>pulumi up</code>, 3 files not written</summary>

- \`gpu0.privateIp.invalid\`: privateIp of \`gpu0-instance\`, in 2 files
- \`llm/llm-ngc-key.stdin\` not written: stdin of \`llm-ngc-key\` is a secret
- \`emb/emb-ngc-key.stdin\` not written: stdin of \`emb-ngc-key\` is a secret
- \`observability/observability-grafana-password.stdin\` not written: stdin of \`observability-grafana-password\` is a secret

</details>
`);
  });
});

describe("--base errors exit 2 before planning", () => {
  it.each([
    ["a missing file", null, "cannot be read (ENOENT)"],
    ["not JSON", "{", "is not JSON; expected a plan from `npm run plan -- <stack> --json`"],
    [
      "a service without reservedMiBPerGpu",
      JSON.stringify({
        stack: "dev",
        hourlyUsd: 1,
        hosts: [],
        services: [{ name: "a", host: "h", gpus: [0] }],
        violations: [],
      }),
      "services[0].reservedMiBPerGpu must be a number (a plan from `npm run plan -- <stack> --json`)",
    ],
  ])("%s", (_what, content, message) => {
    const path = join(tmp(), "base.json");
    if (content !== null) writeFileSync(path, content);
    const r = plan("dev", "--format", "md", "--base", path);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`--base ${path}: ${message}\n`);
  });

  it("refuses --base without --format md", () => {
    const r = plan("dev", "--json", "--base", "x.json");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "--base compares plans in the Markdown: use it with --format md (not --json)\n" +
        "usage: npm run plan -- <stack|path> [--json] [--out DIR] [--format text|md] [--base FILE]\n",
    );
  });
});

describe("diffPlans", () => {
  const base: BasePlan = {
    stack: "s",
    hourlyUsd: 1.006,
    hosts: [{ gpus: [{ reservedMiB: 100 }, { reservedMiB: 0 }] }],
    services: [
      { name: "a", host: "h", gpus: [0], reservedMiBPerGpu: 50 },
      { name: "b", host: "h", gpus: [0], reservedMiBPerGpu: 50 },
      { name: "c", host: "h", gpus: [1], reservedMiBPerGpu: 10 },
    ],
    violations: [],
  };
  it("names each kind of change in the head plan's order, removals last", () => {
    const head: BasePlan = {
      ...base,
      hourlyUsd: 2.012,
      hosts: [{ gpus: [{ reservedMiB: 60 }, { reservedMiB: 70 }] }],
      services: [
        { name: "d", host: "h", gpus: [1], reservedMiBPerGpu: 10 },
        { name: "b", host: "h", gpus: [1], reservedMiBPerGpu: 60 },
        { name: "a", host: "h", gpus: [0], reservedMiBPerGpu: 60 },
        { name: "c", host: "h2", gpus: [1], reservedMiBPerGpu: 10 },
      ],
      violations: [{ enforcement: "advisory" }, { enforcement: "mandatory" }],
    };
    expect(diffPlans(parseBasePlan(base, "b.json"), head)).toEqual({
      hourlyUsd: { base: 1.006, head: 2.012 },
      reservedMiB: { base: 100, head: 130 },
      mandatoryViolations: { base: 0, head: 1 },
      services: [
        { service: "d", kind: "added", base: null, head: { host: "h", gpus: [1], reservedMiBPerGpu: 10 } },
        {
          service: "b",
          kind: "moved, resized",
          base: { host: "h", gpus: [0], reservedMiBPerGpu: 50 },
          head: { host: "h", gpus: [1], reservedMiBPerGpu: 60 },
        },
        {
          service: "a",
          kind: "resized",
          base: { host: "h", gpus: [0], reservedMiBPerGpu: 50 },
          head: { host: "h", gpus: [0], reservedMiBPerGpu: 60 },
        },
        {
          service: "c",
          kind: "moved",
          base: { host: "h", gpus: [1], reservedMiBPerGpu: 10 },
          head: { host: "h2", gpus: [1], reservedMiBPerGpu: 10 },
        },
      ],
    });
    expect(diffPlans(head, base).services.map((c) => `${c.service} ${c.kind}`)).toEqual([
      "a resized",
      "b moved, resized",
      "c moved",
      "d removed",
    ]);
  });
});

describe("policy fixes", () => {
  it("has a fix for every policy of the pack and none for a policy that does not exist", () => {
    expect(policiesWithoutFix()).toEqual([]);
    expect(Object.keys(POLICY_FIXES)).toHaveLength(15);
  });
});
