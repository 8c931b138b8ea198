/**
 * Start and stop scripts for one container: a model pinned to explicit GPUs, or a CPU service such as
 * IRIS. The start script is idempotent (a running container with the same spec is left alone), checks
 * the host's GPUs against the plan before starting anything, and waits for readiness with a bound,
 * showing the container's logs when it gives up.
 */
import { ENV_NAME, ScriptOptions, scriptPrelude, shInt, shQuote, shQuoteWithVariable, specHash } from "../shell";

export interface ContainerSpec {
  readonly service: string;
  readonly host: string;
  readonly image: string;
  /** NIM images come from nvcr.io and need the NGC key (from `secretEnvFile`) to pull. */
  readonly nim: boolean;
  /** The port readiness is checked on. */
  readonly containerPort: number;
  readonly hostPort: number;
  readonly healthPath: string;
  /** More published ports (IRIS: the superserver besides the web port). */
  readonly extraPorts?: readonly { readonly hostPort: number; readonly containerPort: number }[];
  /**
   * "host": the container shares the host's network (exporters, Prometheus); it publishes no ports
   * and must itself listen on the bind address, which arguments get through the `{bind}` token.
   */
  readonly network?: "host";
  /** Where readiness is checked when the service listens elsewhere than the bind address (127.0.0.1). */
  readonly healthHost?: string;
  /**
   * Extra `docker run` flags, each a flag and optionally its value after one space (`--pid host`,
   * `--cap-add SYS_ADMIN`); each of the two is one word, quoted unless it is of letters, digits and `-_.:=/`.
   */
  readonly runFlags?: readonly string[];
  /** Labels; a changed label (e.g. the hash of mounted config files) replaces the container. */
  readonly labels?: Readonly<Record<string, string>>;
  /** "private" binds to the host's primary private IPv4; otherwise a literal address. */
  readonly bindAddress: string;
  /** Pinned devices; empty for a CPU-only container (no --gpus, no GPU preflight). */
  readonly gpus: readonly number[];
  /** Non-secret environment (NIM_TENSOR_PARALLEL_SIZE, NIM_MAX_MODEL_LEN, …). */
  readonly env: Readonly<Record<string, string>>;
  /** Arguments after the image (engines other than NIM take their settings as flags); `{bind}` stands for the bind address. */
  readonly args: readonly string[];
  /** Host path of the 0600 env file with secrets (NGC_API_KEY), if the container needs one. */
  readonly secretEnvFile?: string;
  /** Host directories (on the data volume) mounted into the container, created before the start. */
  readonly volumes: readonly ContainerVolume[];
  /** Root-only secret files copied, for the container's own user, into a mounted directory at each start. */
  readonly stagedSecrets?: readonly { readonly from: string; readonly to: string; readonly ownerUid: number }[];
  readonly shmSize?: string;
  /** Cold NIM caches download tens of GB: the default bound is 40 minutes. */
  readonly readyTimeoutSeconds: number;
  readonly preflight?: {
    readonly nvidiaSmiName: string;
    readonly memoryMiB: number;
    readonly reservedMiBPerGpu: number;
  };
}

export interface ContainerVolume {
  readonly hostPath: string;
  /** Path in the container, optionally with mount options (`/host:ro,rslave`). */
  readonly containerPath: string;
  /** Owner of the directory, for images that run as their own user (Prometheus 65534, Grafana 472). */
  readonly ownerUid?: number;
  /** A host directory that exists already and must not be created or re-permissioned (such as `/`). */
  readonly existing?: boolean;
}

export const DEFAULT_READY_TIMEOUT_SECONDS = 2400;

export function containerName(service: string): string {
  return `gpu-fleet-${service}`;
}

/** What defines the container: any change here replaces it. */
export function containerSpecHash(spec: ContainerSpec): string {
  const { readyTimeoutSeconds: _timeout, ...defining } = spec;
  return specHash(defining);
}

/** The `--gpus` value Docker wants for explicit devices: the inner double quotes are required. */
export function gpusFlag(gpus: readonly number[]): string {
  return `"device=${gpus.join(",")}"`;
}

function resolveBindAddress(bindAddress: string): string {
  if (bindAddress !== "private") return `bind=${shQuote(bindAddress)}`;
  // The primary private IPv4: never 0.0.0.0, so ports are not published on every interface.
  return `bind="$(hostname -I 2>/dev/null | tr ' ' '\\n' | grep -E '^(10|172\\.(1[6-9]|2[0-9]|3[01])|192\\.168)\\.' | head -n1 || true)"
[ -n "$bind" ] || fail "no private IPv4 address found to bind the service port to"`;
}

const BIND_TOKEN = "{bind}";
const HEALTH_PATH = /^\/[A-Za-z0-9._~%/?&=+-]*$/;

/** One argument for bash: single-quoted, or double-quoted around `$bind` where it holds the bind token. */
function renderArg(arg: string): string {
  return arg.includes(BIND_TOKEN) ? shQuoteWithVariable(arg, BIND_TOKEN, "bind") : shQuote(arg);
}

/** `--pid host` → two words; plain words stay readable, anything else is quoted. */
function renderRunFlag(flag: string): string {
  const space = flag.indexOf(" ");
  const words = space < 0 ? [flag] : [flag.slice(0, space), flag.slice(space + 1)];
  if (!words[0].startsWith("--")) throw new Error(`run flag "${flag}" must start with --`);
  return words.map((w) => (/^[A-Za-z0-9_.:=/-]+$/.test(w) ? w : shQuote(w))).join(" ");
}

/**
 * Docker splits these at their first `=` (-e, --label) or at `:` (-v): a key with `=` or a host path
 * with `:` would silently mean something else, so they are refused here.
 */
function checkDockerValues(spec: ContainerSpec): void {
  for (const k of Object.keys(spec.env)) {
    if (!ENV_NAME.test(k))
      throw new Error(
        `environment variable name "${k}" of ${spec.service} must be letters, digits and _, not starting with a digit`,
      );
  }
  for (const k of Object.keys(spec.labels ?? {})) {
    if (k === "" || k.includes("="))
      throw new Error(`label key "${k}" of ${spec.service} must be non-empty and contain no "="`);
  }
  for (const v of spec.volumes) {
    if (!v.hostPath.startsWith("/") || v.hostPath.includes(":"))
      throw new Error(`volume host path "${v.hostPath}" of ${spec.service} must be absolute and contain no ":"`);
    if (!v.containerPath.startsWith("/") || v.containerPath.split(":").length > 2)
      throw new Error(
        `volume container path "${v.containerPath}" of ${spec.service} must be absolute, with at most one ":" before its options`,
      );
  }
}

function renderPreflight(spec: ContainerSpec): string {
  if (spec.gpus.length === 0 || !spec.preflight) return "";
  const { nvidiaSmiName, memoryMiB, reservedMiBPerGpu } = spec.preflight;
  const gpus = spec.gpus.map((g) => shInt(g, "GPU device id")).join(" ");
  return `
service=${shQuote(spec.service)}
expected_name=${shQuote(nvidiaSmiName)}
# Preflight: the pinned GPUs must be the planned model, with the planned reservation free.
# Drivers since R520 report the memory they keep for themselves apart (memory.reserved): what a
# container can take is total - reserved - used.
report="$(nvidia-smi --query-gpu=index,name,memory.total,memory.reserved,memory.used --format=csv,noheader,nounits)" || abort "nvidia-smi cannot query the GPUs"
pinned=(${gpus})
for gpu in "\${pinned[@]}"; do
  line="$(printf '%s\\n' "$report" | awk -F', ' -v g="$gpu" '$1 == g')"
  [ -n "$line" ] || abort "preflight: GPU $gpu does not exist on this host"
  IFS=, read -r _ gpu_name total reserved used <<< "$line"
  gpu_name="\${gpu_name# }"; total="\${total// /}"; reserved="\${reserved// /}"; used="\${used// /}"
  [ "$gpu_name" = "$expected_name" ] || abort "preflight: GPU $gpu is \\"$gpu_name\\"; the plan expects \\"$expected_name\\""
  free=$(( total - reserved - used ))
  if [ "$free" -lt ${shInt(reservedMiBPerGpu, "reservedMiBPerGpu")} ]; then
    abort "preflight: GPU $gpu has $free MiB free ($total MiB total, $reserved MiB reserved by the driver, $used MiB used); $service needs ${shInt(reservedMiBPerGpu, "reservedMiBPerGpu")} MiB (plan: ${shInt(memoryMiB, "memoryMiB")} MiB GPU)"
  fi
done
`;
}

function renderPull(spec: ContainerSpec): string {
  if (!(spec.nim && spec.secretEnvFile))
    return `as_root docker pull -q "$image" >/dev/null || abort "cannot pull $image"`;
  return `# nvcr.io needs the NGC key to pull. A throw-away Docker config keeps the login out of ~/.docker,
# and the key goes from the 0600 env file to docker's stdin, never onto a command line.
# NGC's registry user name is the literal string $oauthtoken.
# shellcheck disable=SC2016
ngc_user='$oauthtoken'
docker_config="$(as_root mktemp -d)"
trap 'as_root rm -rf "$docker_config"' EXIT
as_root sed -n 's/^NGC_API_KEY=//p' ${shQuote(spec.secretEnvFile)} | as_root env DOCKER_CONFIG="$docker_config" docker login nvcr.io --username "$ngc_user" --password-stdin >/dev/null \\
  || abort "docker login to nvcr.io failed: check gpu-fleet:ngcApiKey"
as_root env DOCKER_CONFIG="$docker_config" docker pull -q "$image" >/dev/null || abort "cannot pull $image"`;
}

function renderPrepare(spec: ContainerSpec): string {
  const lines = spec.volumes
    .filter((v) => !v.existing)
    .map((v) =>
      v.ownerUid === undefined
        ? `as_root install -d -m 0755 ${shQuote(v.hostPath)}`
        : `as_root install -d -m 0750 -o ${shInt(v.ownerUid, "ownerUid")} ${shQuote(v.hostPath)}`,
    );
  for (const secret of spec.stagedSecrets ?? []) {
    lines.push(`as_root test -s ${shQuote(secret.from)} || abort "missing secret file "${shQuote(secret.from)}`);
    lines.push(
      `as_root install -m 0600 -o ${shInt(secret.ownerUid, "ownerUid")} ${shQuote(secret.from)} ${shQuote(secret.to)}`,
    );
  }
  return lines.join("\n");
}

export function renderContainerStartScript(spec: ContainerSpec, options: ScriptOptions = {}): string {
  const name = containerName(spec.service);
  const hash = containerSpecHash(spec);
  const ports = [{ hostPort: spec.hostPort, containerPort: spec.containerPort }, ...(spec.extraPorts ?? [])];
  if (spec.healthHost !== undefined && !/^[0-9.]+$/.test(spec.healthHost))
    throw new Error(`healthHost must be an IPv4 address, got "${spec.healthHost}"`);
  // Inside double quotes only $, `, \ and " are special: a path without them is inert there.
  if (!HEALTH_PATH.test(spec.healthPath))
    throw new Error(
      `healthPath of ${spec.service} must be a URL path of letters, digits and / . _ ~ % - ? & = +, got "${spec.healthPath}"`,
    );
  checkDockerValues(spec);
  const runArgs = [
    "-d",
    `--name ${shQuote(name)}`,
    `--label ${shQuote(`gpu-fleet.spec=${hash}`)}`,
    `--label ${shQuote(`gpu-fleet.service=${spec.service}`)}`,
    ...Object.entries(spec.labels ?? {}).map(([k, v]) => `--label ${shQuote(`${k}=${v}`)}`),
    "--restart unless-stopped",
    ...(spec.network === "host" ? ["--network host"] : []),
    ...(spec.runFlags ?? []).map(renderRunFlag),
    ...(spec.gpus.length ? [`--gpus ${shQuote(gpusFlag(spec.gpus))}`] : []),
    ...(spec.shmSize ? [`--shm-size ${shQuote(spec.shmSize)}`] : []),
    ...(spec.secretEnvFile ? [`--env-file ${shQuote(spec.secretEnvFile)}`] : []),
    ...Object.entries(spec.env).map(([k, v]) => `-e ${shQuote(`${k}=${v}`)}`),
    ...spec.volumes.map((v) => `-v ${shQuote(`${v.hostPath}:${v.containerPath}`)}`),
    ...(spec.network === "host"
      ? []
      : ports.map((p) => `-p "$bind:${shInt(p.hostPort, "hostPort")}:${shInt(p.containerPort, "containerPort")}"`)),
    shQuote(spec.image),
    ...spec.args.map(renderArg),
  ];
  const where = spec.gpus.length ? ` pinned to GPU ${spec.gpus.map((g) => shInt(g, "GPU device id")).join(",")}` : "";
  const timeout = shInt(spec.readyTimeoutSeconds, "readyTimeoutSeconds");

  return `${scriptPrelude(`start ${spec.service} on host "${spec.host}"${where}`, options)}name=${shQuote(name)}
image=${shQuote(spec.image)}
spec_hash=${shQuote(hash)}
${resolveBindAddress(spec.bindAddress)}
health_url="http://${spec.healthHost ?? "$bind"}:${shInt(spec.hostPort, "hostPort")}${spec.healthPath}"

show_logs() { log "last lines of $name:"; as_root docker logs --tail 100 "$name" >&2 2>&1 || true; }

# An update keeps the running container aside, stopped, until its replacement is ready: a failed
# preflight, start or readiness wait puts it back, so a bad update does not take the service down.
previous=""
restore_previous() {
  [ -n "$previous" ] || return 0
  as_root docker rm -f "$name" >/dev/null 2>&1 || true
  if as_root docker rename "$previous" "$name" && as_root docker start "$name" >/dev/null; then
    log "restored the previous $name"
  fi
}
abort() { restore_previous; fail "$@"; }

wait_ready() {
  local deadline=$(( $(date +%s) + ${timeout} ))
  # -f fails on HTTP errors, -s keeps curl quiet while a cold cache downloads.
  until curl -fs -o /dev/null --max-time 5 "$health_url"; do
    if [ "$(as_root docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != "true" ]; then
      show_logs; abort "$name stopped before it became ready"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_logs; abort "$name not ready at $health_url after ${timeout}s"
    fi
    sleep 5
  done
  log "$name ready at $health_url"
}

current="$(as_root docker inspect --format '{{index .Config.Labels "gpu-fleet.spec"}}' "$name" 2>/dev/null || true)"
running="$(as_root docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null || true)"
if [ "$current" = "$spec_hash" ] && [ "$running" = "true" ]; then
  log "unchanged: $name already runs spec $spec_hash"
  wait_ready
  exit 0
fi

if as_root docker inspect "$name" >/dev/null 2>&1; then
  previous="$name-previous"
  as_root docker rm -f "$previous" >/dev/null 2>&1 || true
  as_root docker stop "$name" >/dev/null 2>&1 || true
  as_root docker rename "$name" "$previous"
fi
${renderPreflight(spec)}
${renderPrepare(spec)}
${renderPull(spec)}
as_root docker run ${runArgs.join(" \\\n  ")} >/dev/null || { show_logs; abort "docker run failed for $name"; }
log "started $name ($spec_hash)${where}"
wait_ready
if [ -n "$previous" ]; then as_root docker rm -f "$previous" >/dev/null; fi
`;
}

/**
 * Removes the container (its data stays on the data volume) and the secret copies its start staged
 * (`stagedSecrets[].to`): a destroyed service leaves no credential behind.
 */
export function renderContainerStopScript(
  service: string,
  options: ScriptOptions = {},
  stagedSecretCopies: readonly string[] = [],
): string {
  const name = containerName(service);
  const secrets = stagedSecretCopies.length ? `as_root rm -f ${stagedSecretCopies.map(shQuote).join(" ")}\n` : "";
  return `${scriptPrelude(`stop ${service}`, options)}name=${shQuote(name)}
if as_root docker inspect "$name" >/dev/null 2>&1; then
  as_root docker rm -f "$name" >/dev/null
  log "removed $name (its model cache stays on the data volume)"
else
  log "unchanged: $name does not exist"
fi
${secrets}`;
}
