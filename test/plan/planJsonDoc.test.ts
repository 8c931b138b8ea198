/**
 * docs/plan-json.md is the `--json` contract: every field the plan prints is documented there, at
 * the top level and in each nested object, and nothing documented has disappeared.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/runCli";

const doc = readFileSync(join(ROOT, "docs", "plan-json.md"), "utf8");

/** The field names in the first column of the table under a heading. */
function documented(heading: string): string[] {
  const section = doc.split(`\n${heading}\n`)[1];
  if (section === undefined) throw new Error(`docs/plan-json.md has no "${heading}" section`);
  const table = section.split("\n## ")[0].split("\n### ")[0];
  return [...table.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
}

describe("docs/plan-json.md", () => {
  let reports: any[];
  beforeAll(() => {
    // a100 has RAG, observability and five services; an auto instance type adds instanceChoice.
    const auto = join(mkdtempSync(join(tmpdir(), "gpu-fleet-doc-")), "Pulumi.auto.yaml");
    writeFileSync(
      auto,
      readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("instanceType: g5.xlarge", "instanceType: auto"),
    );
    reports = ["dev", "a100", auto].map((s) => JSON.parse(runCli("cli/plan.ts", [s, "--json"]).stdout));
    expect(Object.keys(reports[2].hosts[0])).toContain("instanceChoice");
  });

  it("documents exactly the top-level fields the plan prints", () => {
    // priceNote appears only when aws:region is not the catalog's price region (test/plan/region.test.ts).
    const optional = ["priceNote"];
    for (const r of reports)
      expect(documented("## Top-level fields").filter((k) => !optional.includes(k))).toEqual(Object.keys(r));
  });

  it.each([
    ["hosts", "### `hosts[]`"],
    ["services", "### `services[]`"],
    ["observability", "### `observability[]`"],
    ["placeholders", "### `placeholders[]`"],
    ["unrendered", "### `unrendered[]`"],
  ])("documents every field of %s[]", (field, heading) => {
    const printed = new Set(reports.flatMap((r) => (r[field] ?? []).flatMap((o: object) => Object.keys(o))));
    expect(printed.size).toBeGreaterThan(0);
    expect([...printed].filter((k) => !documented(heading).includes(k))).toEqual([]);
  });

  it("documents the violation fields and the three exit codes", () => {
    expect(documented("### `violations[]`")).toEqual(["policy", "enforcement", "message", "resource"]);
    expect(
      [
        ...doc
          .split("## Exit codes")[1]
          .split("\n## ")[0]
          .matchAll(/^\| `(\d)` \|/gm),
      ].map((m) => m[1]),
    ).toEqual(["0", "1", "2"]);
  });

  it("is linked from the README", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("(docs/plan-json.md)");
  });
});
