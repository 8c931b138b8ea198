/**
 * Replaces the default `_SYSTEM`/`SYS` credentials of IRIS: every predefined account gets the
 * password from the stack's secret, read from its root-only file into the script's memory and piped
 * to IRIS. It never reaches a command line, and the session's echo is filtered out of the log.
 */
import { ScriptOptions, scriptPrelude, shQuote } from "../shell";
import { RESULT_MARKER, irisSessionStep, objectScriptLine } from "./objectScript";

/** Accounts the InterSystems container images ship with the well-known password SYS. */
export const IRIS_PREDEFINED_ACCOUNTS = ["_SYSTEM", "SuperUser", "Admin", "CSPSystem", "IAM"] as const;

export function renderIrisPasswordScript(
  service: string,
  containerName: string,
  passwordFile: string,
  options: ScriptOptions = {},
): string {
  const accounts = IRIS_PREDEFINED_ACCOUNTS.map((a) => `"${a}"`).join(",");
  const session = irisSessionStep("%SYS", [
    `printf 'set pw="%s"\\n' "$pw_literal"`,
    // Modify only accounts that exist (IAM is absent from older images).
    objectScriptLine(
      `set p("Password")=pw,p("ChangePassword")=0 kill pw for u=${accounts} { if ##class(Security.Users).Exists(u) { set sc=##class(Security.Users).Modify(u,.p) write "${RESULT_MARKER} ",u," ",$SYSTEM.Status.IsOK(sc),! } }`,
    ),
  ]);
  return `${scriptPrelude(`set the IRIS passwords of ${service} from the stack's secret`, options)}name=${shQuote(containerName)}
pw="$(as_root cat ${shQuote(passwordFile)})" || fail "cannot read ${passwordFile}"
[ -n "$pw" ] || fail "${passwordFile} is empty"
# An ObjectScript string literal: double quotes doubled. printf is a shell builtin: no process sees it.
pw_literal="\${pw//\\"/\\"\\"}"
unset pw
${session}
unset pw_literal
changed="$(printf '%s\\n' "$results" | awk '$3 == 1' | grep -c . || true)"
refused="$(printf '%s\\n' "$results" | awk '$3 != 1 {print $2}' | tr '\\n' ' ')"
[ "$changed" -ge 1 ] || fail "IRIS changed no password; is ${containerName} running?"
[ -z "$refused" ] || fail "IRIS refused the new password for: $refused"
log "IRIS passwords set for $changed predefined accounts"
`;
}
