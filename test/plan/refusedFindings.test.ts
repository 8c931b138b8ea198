import { describe, expect, it } from "vitest";
import type { Finding } from "../../fleet/checks";
import { withRefusedFindings } from "../../plan/violations";

const auto: Finding = {
  check: "instance-type-auto",
  enforcement: "mandatory",
  host: "gpu0",
  message: 'no catalog instance type holds the services of host "gpu0"; cheapest rejections: g4dn.xlarge (x)',
};

describe("the plan never passes what `pulumi up` refuses", () => {
  it("adds a mandatory finding the stack program stops on that no policy reported", () => {
    expect(withRefusedFindings([], [auto])).toEqual([
      { policy: "instance-type-auto", enforcement: "mandatory", message: auto.message, resource: null },
    ]);
  });

  it("adds nothing a policy already reported (even with a prefix), and no advisory finding", () => {
    const reported = {
      policy: "kubernetes-fleet-fits",
      enforcement: "mandatory" as const,
      message: `[instance-type-auto] ${auto.message}`,
      resource: null,
    };
    expect(withRefusedFindings([reported], [auto, { ...auto, enforcement: "advisory", message: "m" }])).toEqual([
      reported,
    ]);
  });
});
