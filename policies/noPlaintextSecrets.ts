/**
 * The NGC API key and service passwords never appear in plain text in any resource input. Inputs
 * end up in the state file, in `pulumi preview --diff` output and in process lists on the host. The
 * components deliver a secret only as the stdin of a command named `<service>-ngc-key`, `*-password*`
 * or `*-secrets` (the vectorizer's env file), which writes it to a 0600 file; every other input — create/update/delete scripts,
 * environment maps, user data, tags, triggers — is scanned. The pack cannot tell a value marked
 * secret from a plain one (the SDK unwraps secrets before policies see them), so the rule is about
 * where a secret goes, not how it is marked.
 */
import { isSecretFileCommand } from "../renderers/shell";
import { resourcePolicy } from "./policy";
import { PlainResource, UNKNOWN } from "./resource";

const COMMAND_TYPES = new Set(["command:remote:Command", "command:local:Command"]);

const NGC_VARIABLES = ["NGC_API_KEY", "ngcApiKey"];
const PASSWORD_VARIABLES = ["ISC_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"];

const NGC_ADVICE =
  "deliver the key only on the stdin of a *-ngc-key command, from the secret gpu-fleet:ngcApiKey, and read it on the host from the 0600 file that command writes";
const PASSWORD_ADVICE =
  "deliver it only on the stdin of a *-password command, from a secret config value, and read it on the host from the 0600 file that command writes";

/** Something a secret looks like: what the input does ("sets NGC_API_KEY to a literal value") and what to do instead. Never the secret itself. */
interface Leak {
  readonly what: string;
  readonly advice: string;
}

/** Modern NGC API keys: "nvapi-" and a long url-safe token. */
const NVAPI_KEY = /(?<![A-Za-z0-9_-])nvapi-[A-Za-z0-9_-]{20,}/;
/** Legacy NGC API keys are base64 of "<random>:<uuid>"; only tokens that decode to that shape count, so user data, hashes and ledger JSON never match. */
const BASE64_TOKEN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{60,}={0,2}(?![A-Za-z0-9+/=])/g;
const LEGACY_KEY_PLAINTEXT = /^[a-z0-9]{16,40}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * A literal value starts with anything but a quote, whitespace, `$` (a variable or command
 * substitution), a backtick or `-` (the next flag): `NGC_API_KEY="$(cat /run/ngc.key)"` is fine.
 */
const LITERAL = `(["']?)[^\\s"'$\`-]`;
/** Not after a letter, `{`/`$` (a variable reference) or `^` (a pattern: sed 's/^NGC_API_KEY=//p' reads the env file). */
const assignment = (name: string) => new RegExp(`(?<![A-Za-z0-9_{$^])${name}\\s*(?:=|:\\s)\\s*${LITERAL}`);
const PASSWORD_FLAG = new RegExp(`--password(?:=|\\s+)${LITERAL}`);
const DOCKER_LOGIN_P = new RegExp(`\\bdocker\\s+login\\b[^\\n;&|]*?\\s-p(?:=|\\s+)${LITERAL}`);

export function isLegacyNgcKey(token: string): boolean {
  return LEGACY_KEY_PLAINTEXT.test(Buffer.from(token, "base64").toString("latin1"));
}

/** The leaks in one string input. */
export function leaksInText(text: string): Leak[] {
  const leaks: Leak[] = [];
  if (NVAPI_KEY.test(text)) leaks.push({ what: "holds an NGC API key (nvapi-…) in plain text", advice: NGC_ADVICE });
  if ((text.match(BASE64_TOKEN) ?? []).some(isLegacyNgcKey))
    leaks.push({ what: "holds a legacy NGC API key (base64) in plain text", advice: NGC_ADVICE });
  for (const name of NGC_VARIABLES)
    if (assignment(name).test(text)) leaks.push({ what: `sets ${name} to a literal value`, advice: NGC_ADVICE });
  for (const name of PASSWORD_VARIABLES)
    if (assignment(name).test(text)) leaks.push({ what: `sets ${name} to a literal value`, advice: PASSWORD_ADVICE });
  if (PASSWORD_FLAG.test(text)) leaks.push({ what: "passes a literal --password", advice: PASSWORD_ADVICE });
  if (DOCKER_LOGIN_P.test(text))
    leaks.push({ what: "passes a literal password to docker login -p", advice: PASSWORD_ADVICE });
  return leaks;
}

const isLiteral = (v: unknown): boolean => typeof v === "string" && v.length > 0 && !/^[$`]/.test(v);

/** A variable name that holds a secret, in an environment map ({ NAME: value }) or list ({ name, value }). */
function secretVariable(name: string): Leak | undefined {
  if (NGC_VARIABLES.includes(name)) return { what: `sets ${name} to a literal value`, advice: NGC_ADVICE };
  if (PASSWORD_VARIABLES.includes(name)) return { what: `sets ${name} to a literal value`, advice: PASSWORD_ADVICE };
  return undefined;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  return path === "" ? name : /^"/.test(name) ? `${path}[${name}]` : `${path}.${name}`;
}

/** Every leak in a value, with the input path where it sits. */
export function findLeaks(value: unknown, path = ""): { path: string; leak: Leak }[] {
  // An unknown value holds nothing the program wrote literally; `pulumi up` scans it again once known.
  if (value === UNKNOWN || value === null || value === undefined) return [];
  if (typeof value === "string") return leaksInText(value).map((leak) => ({ path, leak }));
  if (Array.isArray(value)) return value.flatMap((v, i) => findLeaks(v, childPath(path, i)));
  if (typeof value !== "object") return [];
  const record = value as Record<string, unknown>;
  const found: { path: string; leak: Leak }[] = [];
  for (const [key, v] of Object.entries(record)) {
    found.push(...findLeaks(v, childPath(path, key)));
    const mapped = secretVariable(key);
    if (mapped && isLiteral(v)) found.push({ path: childPath(path, key), leak: mapped });
  }
  const listed = typeof record.name === "string" ? secretVariable(record.name) : undefined;
  if (listed && isLiteral(record.value)) found.push({ path: childPath(path, "value"), leak: listed });
  return found;
}

export function isSecretChannel(resource: PlainResource): boolean {
  return COMMAND_TYPES.has(resource.type) && isSecretFileCommand(resource.name);
}

/**
 * On Kubernetes the channel is a Secret object's data: pods read the key from it by reference
 * (secretKeyRef, imagePullSecrets), and the Kubernetes provider keeps those inputs secret in state.
 */
const KUBERNETES_SECRET = "kubernetes:core/v1:Secret";
const KUBERNETES_SECRET_DATA = ["data", "stringData"];

export function plaintextSecretViolations(resource: PlainResource): string[] {
  // One message per input and kind of secret: a key in `NGC_API_KEY=nvapi-…` is one leak, not two.
  const seen = new Set<string>();
  const messages: string[] = [];
  for (const [key, value] of Object.entries(resource.props)) {
    if (key === "stdin" && isSecretChannel(resource)) continue;
    if (resource.type === KUBERNETES_SECRET && KUBERNETES_SECRET_DATA.includes(key)) continue;
    for (const { path, leak } of findLeaks(value, childPath("", key))) {
      const id = `${path}\n${leak.advice}`;
      if (seen.has(id)) continue;
      seen.add(id);
      messages.push(`resource "${resource.name}" (${resource.type}) input ${path} ${leak.what}; ${leak.advice}`);
    }
  }
  return messages;
}

export const noPlaintextSecrets = resourcePolicy({
  name: "no-plaintext-secrets",
  description:
    "The NGC API key and service passwords must never be plain text in a resource input; only the stdin of a *-ngc-key, *-password or *-secrets command, or a Kubernetes Secret's data, may carry them.",
  enforcementLevel: "mandatory",
  violations: plaintextSecretViolations,
});
