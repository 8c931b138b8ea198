/**
 * Delivery of the NGC API key: the command provider sends it on the script's stdin (a secret input),
 * the script prefixes the variable name and installs it as a root-only 0600 env file that `docker run
 * --env-file` reads. The key is never in a command line, a log or any other file.
 */
import { DEFAULT_HOST_PATHS, ScriptOptions, renderRemoveFileScript, renderStdinFileScript } from "../shell";
import { secretEnvFilePath } from "./serviceSpec";

/** Turns the raw key into the env file's content; done by Pulumi (inside a secret Output), not on the host. */
export function envFileContent(variable: string, value: string): string {
  return `${variable}=${value}\n`;
}

export function renderSecretEnvFileScript(service: string, options: ScriptOptions = {}): string {
  return renderStdinFileScript(
    `install the secret env file of ${service}`,
    secretEnvFilePath(service, options.paths ?? DEFAULT_HOST_PATHS),
    "0600",
    options,
  );
}

export function renderSecretEnvFileRemoveScript(service: string, options: ScriptOptions = {}): string {
  return renderRemoveFileScript(
    `remove the secret env file of ${service}`,
    secretEnvFilePath(service, options.paths ?? DEFAULT_HOST_PATHS),
    options,
  );
}
