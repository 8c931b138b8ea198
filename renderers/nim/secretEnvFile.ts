/**
 * Delivery of the NGC API key: Pulumi prefixes the variable name inside a secret Output, and the key
 * travels on a command's stdin (components/secretFile.ts) into a root-only 0600 env file that
 * `docker run --env-file` reads. The key is never in a command line, a log or any other file.
 */
/** Turns the raw key into the env file's content; done by Pulumi (inside a secret Output), not on the host. */
export function envFileContent(variable: string, value: string): string {
  return `${variable}=${value}\n`;
}
