/**
 * The one way a secret reaches a host: the stdin of a command that installs it as a root-only 0600
 * file, which the container reads. Never a command line, an environment map or a log. The command's
 * name is what the no-plaintext-secrets policy recognises as the allowed channel, so this helper
 * refuses any other name.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostPaths, isSecretFileCommand, renderRemoveFileScript, renderStdinFileScript } from "../renderers/shell";

export interface SecretFileArgs {
  readonly connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Absolute path of the file on the host. */
  readonly path: string;
  /** What the file is, for the scripts' log lines: "the IRIS password of rag". */
  readonly purpose: string;
  /** The file's content; it travels as a secret. */
  readonly content: pulumi.Input<string>;
  readonly paths: HostPaths;
}

export function secretFileCommand(
  name: string,
  args: SecretFileArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  if (!isSecretFileCommand(name)) {
    throw new Error(
      `secret file command "${name}": its name must end in -ngc-key, -password or -secrets, the names the no-plaintext-secrets policy allows a secret on`,
    );
  }
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: renderStdinFileScript(`install ${args.purpose}`, args.path, "0600", { paths: args.paths }),
      delete: renderRemoveFileScript(`remove ${args.purpose}`, args.path, { paths: args.paths }),
      stdin: pulumi.secret(args.content),
    },
    opts,
  );
}
