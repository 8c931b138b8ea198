/**
 * Pieces every host script shares. Scripts are bash, run by the SSH user's login shell exactly as
 * @pulumi/command's remote.Command sends its `create`/`delete` strings, with secrets on stdin only.
 */
import { createHash } from "node:crypto";

/**
 * The one way a value enters a rendered script: single-quoted, so nothing inside (`$( )`, backticks,
 * `;`, newlines, globs) is expanded or split; a `'` inside closes the quote, adds `"'"` and reopens it.
 * A value used more than once is assigned to a variable once and referenced as "$var" (double quotes
 * expand a variable's value without evaluating it again), so log and error lines never re-read it.
 */
export function shQuote(value: string): string {
  return `'${String(value).replace(/'/g, `'"'"'`)}'`;
}

/**
 * One bash word in which each `token` stands for the value of a shell variable (`{bind}` → `$bind`):
 * double-quoted, with the four characters double quotes still treat specially (`\\ " $` and the
 * backtick) escaped in the literal parts, so only the variable is expanded. (History expansion, `!`,
 * is off in scripts.)
 */
export function shQuoteWithVariable(value: string, token: string, variable: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(variable)) throw new Error(`"${variable}" is not a shell variable name`);
  return `"${value
    .split(token)
    .map((part) => part.replace(/[\\"$`]/g, (c) => `\\${c}`))
    .join(`$${variable}`)}"`;
}

/** An environment variable name docker's -e and env files take as the part before the first "=". */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A number rendered into a script: only a whole number from 0 may appear there unquoted. */
export function shInt(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${what} must be a whole number from 0, got ${value}`);
  return String(value);
}

/** Text for a `#` comment: one line (a newline would end the comment and start a command). */
export function shComment(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, " ");
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
    `# gpu-fleet: ${shComment(purpose)}. Rendered by gpu-fleet; re-running it converges to the same state.`,
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
  return `${scriptPrelude(purpose, options)}target=${shQuote(path)}
as_root rm -f "$target"
log "removed $target"
`;
}
