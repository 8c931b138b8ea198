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
});
