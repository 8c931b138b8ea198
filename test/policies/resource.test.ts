/**
 * How inputs reach a policy: the engine's proxy throws on unknowns (so the helpers reproduce a real
 * preview), and materialize turns every caller's form of "unknown" and "secret" into plain data.
 */
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { unknown as pulumiUnknown } from "@pulumi/pulumi/output";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { UNKNOWN, field, isUnknown, materialize, materializeProps, show } from "../../policies/resource";
import { UNKNOWN_ARRAY, UNKNOWN_BOOLEAN, UNKNOWN_OBJECT, UNKNOWN_STRING } from "./helpers";

describe("the engine's view of a preview", () => {
  it("throws UnknownValueError when a policy reads an unknown input, which the SDK would report as advisory", () => {
    const props = unknownCheckingProxy({ stdin: UNKNOWN_STRING, nested: { list: [1, UNKNOWN_STRING] } });
    expect(() => props.stdin).toThrow(UnknownValueError);
    expect(() => props.stdin).toThrow("string value at .stdin can't be known during preview");
    expect(() => props.nested.list[1]).toThrow("string value at .nested.list.1 can't be known during preview");
  });
});

describe("materialize", () => {
  it("copies an engine proxy into plain data without throwing, unknowns as UNKNOWN", () => {
    const props = unknownCheckingProxy({
      stdin: UNKNOWN_STRING,
      tags: UNKNOWN_OBJECT,
      list: [1, UNKNOWN_STRING],
      flag: UNKNOWN_BOOLEAN,
      items: UNKNOWN_ARRAY,
      n: 3,
    });
    expect(materializeProps(props)).toEqual({
      stdin: UNKNOWN,
      tags: UNKNOWN,
      list: [1, UNKNOWN],
      flag: UNKNOWN,
      items: UNKNOWN,
      n: 3,
    });
    expect(Array.isArray(materializeProps(props).list)).toBe(true);
  });

  it("reads the mock runtime's pulumi.unknown and the wire sentinel as UNKNOWN, and unwraps secrets", () => {
    expect(
      materialize({
        a: pulumiUnknown,
        b: unknownValue,
        c: { [specialSigKey]: specialSecretSig, value: ["x", pulumiUnknown] },
      }),
    ).toEqual({
      a: UNKNOWN,
      b: UNKNOWN,
      c: ["x", UNKNOWN],
    });
  });

  it.each([
    [UNKNOWN, true],
    [UNKNOWN_STRING, true],
    [pulumiUnknown, true],
    ["04da6b54", false],
    [{ __pulumiUnknown: false }, false],
    [null, false],
  ])("isUnknown(%s) is %s", (value, expected) => {
    expect(isUnknown(value)).toBe(expected);
  });

  it("field() walks plain data and stops at unknowns", () => {
    const data = { a: { b: [{ c: 1 }] }, u: UNKNOWN };
    expect(field(data, "a", "b", 0, "c")).toBe(1);
    expect(field(data, "u", "x")).toBe(UNKNOWN);
    expect(field(data, "missing", "x")).toBeUndefined();
    expect([show(UNKNOWN), show(undefined), show("x"), show(false)]).toEqual(["unknown", "not set", '"x"', "false"]);
  });
});
