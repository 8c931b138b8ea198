/**
 * Reads the stack's `gpu-fleet:*` config the way the Pulumi runtime holds it and validates it with
 * the fleet model and the other sections' validators (stackConfig/), before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Finding, ConfigError, NAMESPACE, unknownStackConfigKeys, SecretState } from "../fleet";
import { RawStackConfig, StackConfig, validateStackConfig } from "../stackConfig";

/** The SDK tracks which config keys were set with --secret; its typings do not export the check. */
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

function secretState(key: string): SecretState {
  const full = `${NAMESPACE}:${key}`;
  if (pulumi.runtime.getConfig(full) === undefined) return "missing";
  return runtimeConfig.isConfigSecret(full) ? "secret" : "plaintext";
}

/** A config value as the program sees it: JSON when it parses, else the string. */
export function parsed(config: pulumi.Config, key: string): unknown {
  const text = config.get(key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Scalars such as maxHourlyUsd: 5 arrive as JSON; anything else is kept as the string it is.
    return text;
  }
}

/**
 * Before any resource: during `up`, mandatory findings stop the program, so nothing is created; during
 * a preview they are warnings and everything registers, so the policy pack reports the same findings.
 */
export function refuseMandatoryFindings(findings: readonly Finding[]): void {
  const blocking = findings.filter((f) => f.enforcement === "mandatory");
  if (blocking.length > 0) {
    const text = blocking.map((f) => `[${f.check}] ${f.message}`).join("\n");
    if (!pulumi.runtime.isDryRun()) {
      throw new Error(`the GPU plan has ${blocking.length} mandatory finding(s); nothing was created:\n${text}`);
    }
    pulumi.log.warn(
      `the GPU plan has ${blocking.length} mandatory finding(s); \`pulumi up\` will refuse to create anything:\n${text}`,
    );
  }
}

export function readRawStackConfig(): RawStackConfig {
  const config = new pulumi.Config(NAMESPACE);
  return {
    hosts: parsed(config, "hosts"),
    services: parsed(config, "services"),
    ngcApiKey: secretState("ngcApiKey"),
    safetyMarginFraction: parsed(config, "safetyMarginFraction"),
    maxHourlyUsd: parsed(config, "maxHourlyUsd"),
    observability: parsed(config, "observability"),
    rag: parsed(config, "rag"),
  };
}

const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/;

/**
 * SSH access problems: Pulumi's commands need the private key (secret); EC2 key pairs need the public
 * key. `stack` is undefined when the fleet settings were invalid: then only what can be judged alone is.
 */
export function accessConfigProblems(stack: StackConfig | undefined): string[] {
  const config = new pulumi.Config(NAMESPACE);
  const problems: string[] = [];
  const howToSet = "set it with `cat key | pulumi config set --secret gpu-fleet:sshPrivateKey`";
  const sshPrivateKey = secretState("sshPrivateKey");
  if (sshPrivateKey === "missing")
    problems.push(`${NAMESPACE}:sshPrivateKey: is required to run commands on the hosts over SSH; ${howToSet}`);
  if (sshPrivateKey === "plaintext") problems.push(`${NAMESPACE}:sshPrivateKey: is stored in plain text; ${howToSet}`);
  const sshPublicKey = config.get("sshPublicKey");
  if (sshPublicKey === undefined) {
    if (stack?.hosts.some((h) => !h.existing)) {
      problems.push(
        `${NAMESPACE}:sshPublicKey: is required for EC2 hosts (registered as their key pair); expected an OpenSSH public key such as "ssh-ed25519 AAAA… user"`,
      );
    }
  } else if (!SSH_PUBLIC_KEY.test(sshPublicKey)) {
    problems.push(
      `${NAMESPACE}:sshPublicKey: "${sshPublicKey.slice(0, 24)}" is not an OpenSSH public key; expected "ssh-ed25519 AAAA…", "ssh-rsa AAAA…" or "ecdsa-sha2-nistp256 AAAA…"`,
    );
  }
  if (stack?.observability.enabled) {
    const grafana = secretState("grafanaAdminPassword");
    const howToSetGrafana =
      "set it with `pulumi config set --secret gpu-fleet:grafanaAdminPassword <password>`, or turn observability off with gpu-fleet:observability { enabled: false }";
    if (grafana === "missing")
      problems.push(
        `${NAMESPACE}:grafanaAdminPassword: is required for Grafana (gpu-fleet:observability is enabled); ${howToSetGrafana}`,
      );
    if (grafana === "plaintext")
      problems.push(`${NAMESPACE}:grafanaAdminPassword: is stored in plain text; ${howToSetGrafana}`);
  }
  if (stack?.rag) {
    const iris = secretState("irisPassword");
    const howToSetIris = "set it with `pulumi config set --secret gpu-fleet:irisPassword <password>`";
    if (iris === "missing")
      problems.push(`${NAMESPACE}:irisPassword: is required for IRIS (gpu-fleet:rag is set); ${howToSetIris}`);
    if (iris === "plaintext") problems.push(`${NAMESPACE}:irisPassword: is stored in plain text; ${howToSetIris}`);
    const corpus = resolve(stack.rag.corpusDir);
    if (!existsSync(corpus) || !statSync(corpus).isDirectory()) {
      problems.push(
        `${NAMESPACE}:rag.corpusDir: "${stack.rag.corpusDir}" is not a directory (looked at ${corpus}); expected a local folder of .txt, .md and .jsonl documents`,
      );
    }
  }
  return problems;
}

/** Every config problem at once, fleet settings first, or the validated config. */
export function loadStackConfig(): StackConfig {
  const problems: string[] = unknownStackConfigKeys(Object.keys(pulumi.runtime.allConfig()));
  let stack: StackConfig | undefined;
  try {
    stack = validateStackConfig(readRawStackConfig());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  problems.push(...accessConfigProblems(stack));
  if (problems.length > 0 || !stack) throw new ConfigError(problems);
  return stack;
}
