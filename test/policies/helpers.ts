/**
 * Runs a policy object the way the @pulumi/policy analyzer does (server.js): inputs wrapped in
 * unknownCheckingProxy, so reading an unknown throws UnknownValueError, and such a throw reported as
 * an advisory "can't run policy ... during preview" diagnostic. A policy that touched an unknown
 * would therefore show up here as advisory — exactly the regression these tests guard against.
 */
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { EvaluatedResource } from "../../policies/evaluate";
import type { Enforcement, FleetResourcePolicy, FleetStackPolicy, PolicyConfig } from "../../policies/policy";

const proxyModule = require("@pulumi/policy/proxy") as Record<string, string>;
/** The values the analyzer puts in inputs the engine does not know yet (deserialized from the wire sentinel). */
export const UNKNOWN_STRING = proxyModule.unknownStringValue;
export const UNKNOWN_ARRAY = proxyModule.unknownArrayValue;
export const UNKNOWN_OBJECT = proxyModule.unknownObjectValue;
export const UNKNOWN_BOOLEAN = proxyModule.unknownBooleanValue;

export interface Diagnostic {
  readonly enforcement: Enforcement;
  readonly message: string;
}

const notApplicable = (reason?: string): never => {
  throw new Error(`notApplicable(${reason ?? ""}) is not used by gpu-fleet policies`);
};

function diagnose(
  policyName: string,
  enforcement: Enforcement,
  run: (report: (m: string) => void) => void,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  try {
    run((message) => out.push({ enforcement, message }));
  } catch (e) {
    if (!(e instanceof UnknownValueError)) throw e;
    out.push({
      enforcement: "advisory",
      message: `can't run policy '${policyName}' from policy pack 'gpu-fleet@v0.1.0' during preview: ${(e as Error).message}`,
    });
  }
  return out;
}

/** Messages only, as the pure function returns them, but obtained through the SDK-facing validateResource. */
export function runResourcePolicy(
  policy: FleetResourcePolicy,
  resource: EvaluatedResource,
  config: PolicyConfig = {},
): Diagnostic[] {
  const props = unknownCheckingProxy(resource.props);
  const args: ResourceValidationArgs = {
    type: resource.type,
    name: resource.name,
    urn: `urn:pulumi:a100::gpu-fleet::${resource.type}::${resource.name}`,
    props,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
  const validate = policy.validateResource;
  if (typeof validate !== "function") throw new Error(`${policy.name} has no single validateResource`);
  return diagnose(policy.name, policy.enforcementLevel, (report) => validate(args, report));
}

export function runStackPolicy(
  policy: FleetStackPolicy,
  resources: readonly EvaluatedResource[],
  config: PolicyConfig = {},
): Diagnostic[] {
  const wrapped = resources.map((r): PolicyResource => ({
    type: r.type,
    name: r.name,
    urn: `urn:pulumi:a100::gpu-fleet::${r.type}::${r.name}`,
    props: unknownCheckingProxy(r.props),
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  const args: StackValidationArgs = {
    resources: wrapped,
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
  return diagnose(policy.name, policy.enforcementLevel, (report) => policy.validateStack(args, report));
}

export const mandatory = (...messages: string[]): Diagnostic[] =>
  messages.map((message) => ({ enforcement: "mandatory", message }));
export const advisory = (...messages: string[]): Diagnostic[] =>
  messages.map((message) => ({ enforcement: "advisory", message }));
