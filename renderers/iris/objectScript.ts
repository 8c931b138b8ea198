/**
 * Runs ObjectScript in an IRIS container from a host script: lines piped to `iris session`, which the
 * container's owner may open without a password (OS authentication of the instance owner in the
 * InterSystems images). Only lines the script marks are let through, so nothing piped in — a
 * password included — can reach the log.
 */
import { shQuote } from "../shell";

/** An ObjectScript string literal: double quotes doubled; SQL whitespace collapsed to one line. */
export function objectScriptString(value: string): string {
  return `"${value.replace(/\s+/g, " ").trim().replace(/"/g, '""')}"`;
}

export const RESULT_MARKER = "GPU_FLEET_RESULT";

/** A bash command printing one line of ObjectScript exactly as written (`$SYSTEM` stays literal). */
export function objectScriptLine(line: string): string {
  return `printf '%s\\n' ${shQuote(line)}`;
}

/**
 * Bash that pipes the output of `printers` (bash commands, each printing ObjectScript) into
 * `iris session IRIS -U <namespace>` in container `$name`, keeping the marked lines in `$results`.
 */
export function irisSessionStep(namespace: string, printers: readonly string[]): string {
  return `# ObjectScript's $ names are literal here, not shell expansions.
# shellcheck disable=SC2016
results="$({
  ${[...printers, objectScriptLine("halt")].join("\n  ")}
} | as_root docker exec -i "$name" iris session IRIS -U ${shQuote(namespace)} 2>&1 | grep -a '^${RESULT_MARKER} ' || true)"`;
}
