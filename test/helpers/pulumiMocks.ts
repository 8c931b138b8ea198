/**
 * The one shared helper for tests under Pulumi's mock runtime: records every registration with its
 * inputs, fails on invokes it has no answer for, refuses duplicate type+name pairs (the mock monitor
 * would silently overwrite them; the engine fails), and unwraps Outputs.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** Resource options as the engine receives them. */
export interface RegisteredOptions {
  readonly deleteBeforeReplace: boolean;
  readonly retainOnDelete: boolean;
  readonly protect: boolean;
  readonly ignoreChanges: string[];
}

export interface MockRecorder {
  readonly registrations: Registration[];
  optionsOf(name: string): RegisteredOptions;
  byName(name: string): Registration;
  ofType(type: string): Registration[];
}

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export async function setupMocks(
  options: {
    preview?: boolean;
    invokes?: Record<string, (args: any) => Record<string, unknown>>;
    /** What a command printed, by resource name (a provider output; "" when not given). */
    commandStdout?: Record<string, string>;
    /** Provider outputs for other resource types (e.g. an EKS cluster's kubeconfigJson), by type. */
    outputs?: Record<string, (name: string, inputs: Record<string, any>) => Record<string, unknown>>;
  } = {},
): Promise<MockRecorder> {
  const registrations: Registration[] = [];
  const invokes: Record<string, (args: any) => Record<string, unknown>> = options.invokes ?? {
    "aws:ssm/getParameter:getParameter": (args: any) => ({
      name: args.name,
      type: "String",
      value: "ami-0123456789abcdef0",
    }),
  };
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (registrations.some((r) => r.type === args.type && r.name === args.name)) {
          throw new Error(`duplicate resource ${args.type} ${args.name}`);
        }
        registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "aws:ec2/instance:Instance")
          Object.assign(state, {
            privateIp: "10.0.1.23",
            publicIp: "203.0.113.10",
            availabilityZone: args.inputs.availabilityZone,
          });
        if (args.type === "aws:ec2/keyPair:KeyPair") state.keyName = `${args.name}-kp`;
        if (args.type === "aws:iam/role:Role") state.name = `${args.name}-role`;
        if (args.type === "aws:iam/instanceProfile:InstanceProfile") state.name = `${args.name}-profile`;
        if (args.type === "command:remote:Command")
          Object.assign(state, { stdout: options.commandStdout?.[args.name] ?? "", stderr: "" });
        const outputs = options.outputs?.[args.type];
        if (outputs) Object.assign(state, outputs(args.name, args.inputs));
        return { id: options.preview ? undefined : `${args.name}-id`, state };
      },
      call(args) {
        const answer = invokes[args.token];
        if (!answer) throw new Error(`unexpected invoke ${args.token}`);
        return answer(args.inputs);
      },
    },
    "gpu-fleet",
    "test",
    options.preview ?? false,
  );
  // The mock interface does not pass resource options on; read them off the requests.
  const options_ = new Map<string, RegisteredOptions>();
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: unknown): void };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    options_.set(req.getName(), {
      deleteBeforeReplace: req.getDeletebeforereplace(),
      retainOnDelete: req.getRetainondelete() ?? false,
      protect: req.getProtect() ?? false,
      ignoreChanges: req.getIgnorechangesList(),
    });
    register(req, cb);
  };
  return {
    registrations,
    optionsOf(name) {
      const o = options_.get(name);
      if (!o) throw new Error(`no resource named ${name}`);
      return o;
    },
    byName(name) {
      const r = registrations.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; registered: ${registrations.map((x) => x.name).join(", ")}`);
      return r;
    },
    ofType(type) {
      return registrations.filter((x) => x.type === type);
    },
  };
}

/** The value of an Output (undefined when unknown in a preview). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecretOutput(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as any).isSecret as Promise<boolean>;
}

/** Waits for every outstanding registration. */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

/** Whether a deserialized mock input carries the secret marker. */
export function isSecretInput(value: unknown): boolean {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

/** Resources whose inputs, secrets aside, contain `text` (a leaked credential). */
export function resourcesRevealing(recorder: MockRecorder, text: string): string[] {
  return recorder.registrations
    .filter((r) => JSON.stringify(r.inputs, (_k, v) => (isSecretInput(v) ? "[secret]" : v)).includes(text))
    .map((r) => `${r.type} ${r.name}`);
}
