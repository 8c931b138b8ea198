/**
 * The catalog has us-east-1 prices only (issue 14 item 9): a stack in another region says so where the
 * cost is printed and in --json; a stack of EC2 hosts without aws:region, or with a name that is not a
 * region, is refused like any invalid config (the AWS provider would refuse it at `pulumi up`).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PRICE_REGION, regionPricing } from "../../fleet";
import { ROOT, runCli } from "../helpers/runCli";

const NOTE =
  "prices are us-east-1 on-demand (the catalog's only region); aws:region is eu-west-1, where EC2 on-demand prices differ";

describe("regionPricing", () => {
  it.each([
    ["us-east-1", true, {}],
    ["eu-west-1", true, { note: NOTE }],
    ["eu-west-1", false, {}],
    ["us-gov-west-1", true, { note: NOTE.replace("eu-west-1", "us-gov-west-1") }],
    [undefined, false, {}],
    [
      undefined,
      true,
      {
        problem:
          "aws:region: is not set; EC2 hosts need a region (pulumi config set aws:region us-east-1); the catalog's prices are us-east-1 on-demand",
      },
    ],
    [
      "mars-1",
      true,
      { problem: 'aws:region: "mars-1" is not an AWS region name; expected one such as us-east-1 or eu-west-1' },
    ],
    [
      "US-EAST-1",
      false,
      { problem: 'aws:region: "US-EAST-1" is not an AWS region name; expected one such as us-east-1 or eu-west-1' },
    ],
  ])("%j with EC2 hosts: %j", (region, ec2, expected) => {
    expect(regionPricing(region, ec2)).toEqual(expected);
    expect(PRICE_REGION).toBe("us-east-1");
  });
});

function devWith(region: string | null): string {
  const dev = readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8");
  const text =
    region === null
      ? dev.replace("  aws:region: us-east-1\n", "")
      : dev.replace("aws:region: us-east-1", `aws:region: ${region}`);
  expect(text).not.toBe(dev);
  const path = join(mkdtempSync(join(tmpdir(), "gpu-fleet-region-")), "Pulumi.region.yaml");
  writeFileSync(path, text);
  return path;
}

describe("npm run plan and aws:region", () => {
  it("eu-west-1: the text and --json state whose prices they are", () => {
    const r = runCli("cli/plan.ts", [devWith("eu-west-1"), "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.hourlyUsd).toBe(1.006);
    expect(report.priceRegion).toBe("us-east-1");
    expect(report.priceNote).toBe(NOTE);
  });

  it("missing: exit 2 naming aws:region, nothing planned", () => {
    const path = devWith(null);
    const r = runCli("cli/plan.ts", [path]);
    expect(r.stderr).toBe(
      `invalid stack config ${path}:\n  aws:region: is not set; EC2 hosts need a region (pulumi config set aws:region us-east-1); the catalog's prices are us-east-1 on-demand\n`,
    );
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
  });
});
