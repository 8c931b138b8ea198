/**
 * Pieces every host script shares. Scripts are bash, run by the SSH user's login shell exactly as
 * @pulumi/command's remote.Command sends its `create`/`delete` strings, with secrets on stdin only.
 */
import { createHash } from "node:crypto";

/** Single-quotes a value for bash: nothing inside is expanded. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** Where a host keeps what gpu-fleet puts there; tests point these at a scratch directory. */
export interface HostPaths {
  /** Configuration: ledger, secret env files (root-owned, 0600 for secrets). */
  readonly configDir: string;
  /** Mount point of the data volume: model caches and databases. */
  readonly dataDir: string;
}

export const DEFAULT_HOST_PATHS: HostPaths = { configDir: "/etc/gpu-fleet", dataDir: "/data" };

export interface ScriptOptions {
  readonly paths?: HostPaths;
  /**
   * Run privileged steps through `sudo -n` when the SSH user is not root (true on cloud hosts, where
   * the user is ubuntu). Test hosts whose paths the user owns turn it off.
   */
  readonly sudo?: boolean;
}

/** Opening of every script: strict mode, logging to stderr with the script's purpose, and `as_root`. */
export function scriptPrelude(purpose: string, options: ScriptOptions = {}): string {
  const sudo = options.sudo ?? true;
  return [
    "#!/usr/bin/env bash",
    `# gpu-fleet: ${purpose}. Rendered by gpu-fleet; re-running it converges to the same state.`,
    "set -euo pipefail",
    `log() { printf '[gpu-fleet] %s\\n' "$*" >&2; }`,
    `fail() { printf '[gpu-fleet] ERROR: %s\\n' "$*" >&2; exit 1; }`,
    sudo ? `as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }` : `as_root() { "$@"; }`,
    "",
  ].join("\n");
}

/** A short, stable digest of whatever defines a container or a file, used to detect "unchanged". */
export function specHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/**
 * The names of the commands whose stdin carries a secret into a 0600 file (components/secretFile.ts):
 * the only inputs the no-plaintext-secrets policy lets a secret reach.
 */
export const SECRET_FILE_COMMAND = /-ngc-key$|-password$|-secrets$/;

export function isSecretFileCommand(name: string): boolean {
  return SECRET_FILE_COMMAND.test(name);
}

/**
 * Installs the bytes on stdin as a file with the given mode, atomically, and says whether anything
 * changed. Secrets travel this way: never on a command line, never echoed.
 */
export function renderStdinFileScript(
  purpose: string,
  path: string,
  mode: "0600" | "0644",
  options: ScriptOptions = {},
): string {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  return `${scriptPrelude(purpose, options)}umask 077
target=${shQuote(path)}
staged="$(mktemp)"
trap 'rm -f "$staged"' EXIT
cat > "$staged"
[ -s "$staged" ] || fail "nothing arrived on stdin for $target"
as_root install -d -m 0755 ${shQuote(dir)}
if as_root test -f "$target" && as_root cmp -s "$staged" "$target"; then
  log "unchanged: $target"
  exit 0
fi
as_root install -m ${mode} "$staged" "$target.tmp"
as_root mv -f "$target.tmp" "$target"
log "wrote $target (mode ${mode})"
`;
}

/** Removes a file written by renderStdinFileScript (a delete step). */
export function renderRemoveFileScript(purpose: string, path: string, options: ScriptOptions = {}): string {
  return `${scriptPrelude(purpose, options)}as_root rm -f ${shQuote(path)}
log "removed ${path.replace(/"/g, "")}"
`;
}
