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
password_file=${shQuote(passwordFile)}
pw="$(as_root cat ${shQuote(passwordFile)})" || fail "cannot read $password_file"
[ -n "$pw" ] || fail "$password_file is empty"
# An ObjectScript string literal: double quotes doubled, and each control character (a newline would
# end the line IRIS reads, and with it the literal; NUL cannot be in a bash string) spliced in as
# _$char(n)_. printf is a shell builtin: no process sees it.
pw_literal="\${pw//\\"/\\"\\"}"
unset pw
for code in {1..31} 127; do
  printf -v hex '%x' "$code"; printf -v c '%b' "\\\\x$hex"
  pw_literal="\${pw_literal//"$c"/\\"_\\$char($code)_\\"}"
done
${session}
unset pw_literal
changed="$(printf '%s\\n' "$results" | awk '$3 == 1' | grep -c . || true)"
refused="$(printf '%s\\n' "$results" | awk '$3 != 1 {print $2}' | tr '\\n' ' ')"
[ "$changed" -ge 1 ] || fail "IRIS changed no password; is $name running?"
[ -z "$refused" ] || fail "IRIS refused the new password for: $refused"
log "IRIS passwords set for $changed predefined accounts"
`;
}
