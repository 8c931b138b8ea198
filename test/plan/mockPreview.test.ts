import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { previewProgram } from "../../plan/mockPreview";

class Thing extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Thing", name, props, opts);
  }
}
class Group extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Group", name);
    new Thing(`${name}-child`, { value: 1 }, { parent: this });
  }
}

/** A resource with an output its provider computes (like an instance's address). */
class Host extends pulumi.CustomResource {
  declare readonly ip: pulumi.Output<string>;
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Host", name, { ip: undefined }, opts);
  }
}

describe("previewProgram", () => {
  it("records every registration with its parent and inputs, and reports names the engine would reject", async () => {
    const result = await previewProgram(
      () => {
        new Group("g");
        new Thing("twice", { value: 1 });
        new Thing("twice", { value: 2 });
      },
      { project: "p", stack: "s", config: {}, secretKeys: [] },
    );
    expect(result.duplicates).toEqual(["test:index:Thing::twice"]);
    expect(result.resources.map((r) => [r.type, r.name, r.parent])).toEqual(
      expect.arrayContaining([
        ["test:index:Group", "g", null],
        ["test:index:Thing", "g-child", "g"],
        ["test:index:Thing", "twice", null],
      ]),
    );
    expect(result.resources.find((r) => r.name === "g-child")!.inputs).toEqual({ value: 1 });
  });

  it("gives the outputs `computed` returns as known values, told the registering resource's parent", async () => {
    const calls: string[] = [];
    let ip: string | undefined;
    await previewProgram(
      () => {
        const g = new Group("g");
        const host = new Host("h", { parent: g });
        host.ip.apply((v) => (ip = v));
      },
      {
        project: "p",
        stack: "s",
        config: {},
        secretKeys: [],
        computed: (type, name, parent) => {
          calls.push(`${type} ${name} ${parent}`);
          return type === "test:index:Host" ? { ip: `${parent}.ip.invalid` } : {};
        },
      },
    );
    expect([...calls].sort()).toEqual([
      "pulumi:pulumi:Stack p-s null",
      "test:index:Group g null",
      "test:index:Host h g",
      "test:index:Thing g-child g",
    ]);
    expect(ip).toBe("g.ip.invalid");
  });
});
