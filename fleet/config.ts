/**
 * The fleet model's config: hosts, services and what bounds them, for a stack (`gpu-fleet:*`) and for
 * the components (their args, keyed from the root). Every mistake is reported before any resource is
 * registered, each naming the key, the bad value and what is allowed. Pure: the stack program and the
 * offline plan both feed it the raw values they read. The stack's observability and rag sections are
 * not the fleet model; stackConfig/ validates them beside this.
 */
import { GPU_MODELS, GPU_MODEL_NAMES, GpuModelName, findGpuModel } from "./catalog/gpus";
import { INSTANCE_TYPES, findInstanceType } from "./catalog/instances";
import { Engine, MODELS, findModel } from "./catalog/models";
import { DEFAULT_SAFETY_MARGIN_FRACTION } from "./ledger";
import { BINDABLE_PORTS_ALLOWED, isBindablePort } from "./ports";
import { Problems, isInt, isObject, positiveInt, show, unknownKeys } from "./problems";
import {
  KV_CACHE_DTYPES,
  KvCacheDtype,
  MIN_FP8_KV_COMPUTE_CAPABILITY,
  PRECISIONS,
  Precision,
  isKvCacheDtype,
  isPrecision,
} from "./catalog/precision";
import { vllmBatchDefaults } from "./estimator";

export { Problems } from "./problems";

export const NAMESPACE = "gpu-fleet";
const key = (k: string) => `${NAMESPACE}:${k}`;

export interface ExistingMachine {
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly gpu: GpuModelName;
  readonly gpuCount: number;
  /** Where model caches and databases live on that machine (it has no separate EBS volume). */
  readonly dataDir: string;
}

export interface HostConfig {
  readonly name: string;
  /** A catalog instance type, "auto", or undefined for an existing machine. */
  readonly instanceType?: string;
  readonly existing?: ExistingMachine;
  /** CIDRs allowed to reach SSH (22) on an EC2 host; none by default. */
  readonly sshAllowedCidrs: readonly string[];
  readonly rootVolumeSizeGiB: number;
  readonly dataVolumeSizeGiB: number;
  /** Address service ports bind to: "private" (the host's primary private IPv4) or a literal IPv4. */
  readonly bindAddress: string;
}

/** What a user sets for one model service; the runtime (host, node group) it runs on is given apart. */
export interface ServiceSettings {
  readonly name: string;
  readonly model: string;
  readonly gpus?: readonly number[];
  readonly tensorParallel?: number;
  readonly precision?: Precision;
  readonly maxModelLen?: number;
  readonly gpuMemoryUtilization?: number;
  /**
   * vLLM's --kv-cache-dtype: `fp8` stores K and V in one byte each, twice the tokens of `auto` (16-bit).
   * vLLM engines only (not encoders, not NIM's pre-built TensorRT-LLM profiles). Default: auto.
   */
  readonly kvCacheDtype?: KvCacheDtype;
  /**
   * vLLM's --max-num-batched-tokens, the tokens one scheduler step (and the profile run that sizes the
   * activation peak) processes. vLLM engines only. Default: vLLM's for the GPU (8,192 on GPUs of 70 GiB
   * or more that are not A100s, else 2,048).
   */
  readonly maxNumBatchedTokens?: number;
  readonly engine?: Engine;
  readonly port?: number;
  readonly image?: string;
}

/** A stack's service: its settings and the host it runs on (`gpu-fleet:services[i]`). */
export interface ServiceConfig extends ServiceSettings {
  readonly host: string;
}

/** A secret config value as seen offline: present (encrypted), missing, or — wrongly — plaintext. */
export type SecretState = "secret" | "missing" | "plaintext";

/** The fleet model's part of a stack's config: its machines, its services and what bounds them. */
export interface FleetConfig {
  readonly hosts: readonly HostConfig[];
  readonly services: readonly ServiceConfig[];
  readonly ngcApiKey: SecretState;
  readonly safetyMarginFraction: number;
  readonly maxHourlyUsd?: number;
}

/** Raw values as read from Pulumi config (objects already parsed from YAML/JSON). */
export interface RawFleetConfig {
  readonly hosts?: unknown;
  readonly services?: unknown;
  readonly ngcApiKey: SecretState;
  readonly safetyMarginFraction?: unknown;
  readonly maxHourlyUsd?: unknown;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

/**
 * An OCI image reference as distribution/reference's grammar defines it (host names lower-case, as Docker
 * requires): optional registry host[:port],
 * lower-case path components separated by `.`, `_`, `__` or dashes, an optional tag, an optional sha256 digest.
 * Nothing else (spaces, quotes, `$`, upper case in the path) reaches a `docker run` line.
 */
const OCI_REFERENCE =
  /^(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const CIDR = /^(.+)\/(\d{1,2})$/;
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/;
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOST_KEYS = [
  "name",
  "instanceType",
  "existing",
  "sshAllowedCidrs",
  "rootVolumeSizeGiB",
  "dataVolumeSizeGiB",
  "bindAddress",
];
const EXISTING_KEYS = ["address", "user", "port", "gpu", "gpuCount", "dataDir"];
/** The settings of one model service; a stack's services also name their `host`. */
export const SERVICE_SETTING_KEYS = [
  "name",
  "model",
  "gpus",
  "tensorParallel",
  "precision",
  "maxModelLen",
  "gpuMemoryUtilization",
  "kvCacheDtype",
  "maxNumBatchedTokens",
  "engine",
  "port",
  "image",
];
const SERVICE_KEYS = ["name", "model", "host", ...SERVICE_SETTING_KEYS.slice(2)];
/** The keys only a Kubernetes service has (fleet/kubernetes.ts KUBERNETES_SERVICE_KEYS). */
const KUBERNETES_ONLY_SERVICE_KEYS = ["nodeGroup", "replicas", "autoscaling", "cache"];
const ENGINES: readonly Engine[] = ["vllm", "trtllm", "fixed"];

/** Lists the device ids of a host in words: "GPU 0 only", "GPUs 0-7". */
export function describeDevices(count: number): string {
  return count === 1 ? "GPU 0 only" : `GPUs 0-${count - 1}`;
}

function validateExisting(p: Problems, path: string, raw: unknown): ExistingMachine | undefined {
  if (!isObject(raw)) {
    p.add(path, `${show(raw)} is not allowed; expected { address, user, gpu, gpuCount }`);
    return undefined;
  }
  unknownKeys(p, path, raw, EXISTING_KEYS);
  const { address, user, gpu, gpuCount } = raw;
  let ok = true;
  if (typeof address !== "string" || !(IPV4.test(address) || HOSTNAME.test(address))) {
    p.add(`${path}.address`, `${show(address)} is not allowed; expected an IPv4 address or a host name`);
    ok = false;
  }
  if (typeof user !== "string" || !LINUX_USER.test(user)) {
    p.add(`${path}.user`, `${show(user)} is not allowed; expected a Linux user name`);
    ok = false;
  }
  const gpuModel = typeof gpu === "string" ? findGpuModel(gpu) : undefined;
  if (!gpuModel) {
    p.add(`${path}.gpu`, `unknown GPU ${show(gpu)}; known: ${GPU_MODEL_NAMES.join(", ")}`);
    ok = false;
  }
  const count = positiveInt(p, `${path}.gpuCount`, gpuCount ?? null, 0, 1, 16);
  const port = positiveInt(p, `${path}.port`, raw.port, 22, 1, 65535);
  const dataDir = raw.dataDir ?? "/data";
  if (typeof dataDir !== "string" || !/^\/[A-Za-z0-9._/-]*$/.test(dataDir) || /(^|\/)\.\.?(\/|$)/.test(dataDir)) {
    p.add(
      `${path}.dataDir`,
      `${show(dataDir)} is not allowed; expected an absolute path of letters, digits, . _ - / without . or .. segments`,
    );
    ok = false;
  } else if (isSystemDirectory(dataDir)) {
    // Provisioning runs `install -d -m 0755` on it: on /tmp that strips the sticky bit, on /root it opens it.
    p.add(
      `${path}.dataDir`,
      `${show(dataDir)} is a system directory; expected a dedicated directory for gpu-fleet's data such as /data or /srv/gpu-fleet`,
    );
    ok = false;
  }
  if (!ok || count === 0 || !gpuModel) return undefined;
  return {
    address: address as string,
    user: user as string,
    port,
    gpu: gpuModel.name,
    gpuCount: count,
    dataDir: dataDir as string,
  };
}

/** Directories of the operating system or of its users, which gpu-fleet must never take over. */
export const SYSTEM_DIRECTORIES = [
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/usr/local",
  "/var",
  "/var/lib",
  "/var/tmp",
  "/snap",
];

/** A system directory itself (not a directory below it, such as /srv/gpu-fleet or /mnt/data). */
export function isSystemDirectory(path: string): boolean {
  const normalized = path.replace(/\/+$/, "") || "/";
  return (
    SYSTEM_DIRECTORIES.includes(normalized) || /^\/(proc|sys|dev|boot|etc|usr|bin|sbin|lib\w*)(\/|$)/.test(normalized)
  );
}

/** The keys of `gpu-fleet:*` stack config a stack may set. */
export const STACK_CONFIG_KEYS = [
  "hosts",
  "services",
  "ngcApiKey",
  "sshPrivateKey",
  "sshPublicKey",
  "grafanaAdminPassword",
  "irisPassword",
  "safetyMarginFraction",
  "maxHourlyUsd",
  "observability",
  "rag",
  "eks",
];

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * A typo'd key is not ignored: `gpu-fleet:servces` would plan a fleet with no services. Each unknown
 * `gpu-fleet:*` key is a problem naming the nearest allowed key (case-insensitively) and all of them.
 */
export function unknownStackConfigKeys(keys: readonly string[]): string[] {
  return keys
    .filter((k) => k.startsWith(`${NAMESPACE}:`) && !STACK_CONFIG_KEYS.includes(k.slice(NAMESPACE.length + 1)))
    .map((k) => {
      const name = k.slice(NAMESPACE.length + 1);
      const nearest = [...STACK_CONFIG_KEYS].sort(
        (a, b) => editDistance(name.toLowerCase(), a.toLowerCase()) - editDistance(name.toLowerCase(), b.toLowerCase()),
      )[0];
      return `${k}: unknown setting; did you mean ${key(nearest)}? allowed: ${STACK_CONFIG_KEYS.map(key).join(", ")}`;
    });
}

function validCidr(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const m = CIDR.exec(value);
  return !!m && IPV4.test(m[1]) && Number(m[2]) <= 32;
}

/**
 * A list of IPv4 CIDRs (a host's sshAllowedCidrs, an EKS cluster's apiPublicAccessCidrs), each entry
 * keyed by its index; `internet` says why a /0 is refused, when it is. Returns the valid entries.
 */
export function validateCidrList(p: Problems, path: string, raw: unknown, internet?: string): string[] {
  const cidrs = raw ?? [];
  if (!Array.isArray(cidrs)) {
    p.add(path, `${show(cidrs)} is not allowed; expected a list of IPv4 CIDRs such as ["203.0.113.7/32"]`);
    return [];
  }
  return cidrs.filter((c, j) => {
    if (!validCidr(c)) p.add(`${path}[${j}]`, `${show(c)} is not an IPv4 CIDR such as 203.0.113.7/32`);
    else if (internet && c.endsWith("/0")) p.add(`${path}[${j}]`, `${c} ${internet}`);
    else return true;
    return false;
  });
}

/**
 * One host's settings (a stack's `gpu-fleet:hosts[i]`, or a GpuHost's args), every problem keyed under `path`.
 * The only definition of these knobs: the stack validator and GpuHost both call it.
 */
export function validateHostSettings(
  p: Problems,
  path: string,
  raw: unknown,
  options: { readonly allowAuto?: boolean } = {},
): HostConfig | undefined {
  const allowAuto = options.allowAuto ?? true;
  if (!isObject(raw)) {
    p.add(path, `${show(raw)} is not allowed; expected a host { name, instanceType } or { name, existing }`);
    return undefined;
  }
  unknownKeys(p, path, raw, HOST_KEYS);
  const { name, instanceType, existing } = raw;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    p.add(
      `${path}.name`,
      `${show(name)} is not allowed; expected lower-case letters, digits and "-", starting with a letter, at most 31 characters`,
    );
  }
  if (instanceType !== undefined && existing !== undefined) {
    p.add(path, "set either instanceType (an EC2 instance) or existing (a machine reached over SSH), not both");
  } else if (instanceType === undefined && existing === undefined) {
    p.add(
      path,
      allowAuto
        ? 'set instanceType (an EC2 instance type from the catalog, or "auto") or existing { address, user, gpu, gpuCount }'
        : "set instanceType (an EC2 instance type from the catalog) or existing { address, user, gpu, gpuCount }",
    );
  }
  if (instanceType === "auto" && !allowAuto) {
    p.add(
      `${path}.instanceType`,
      `"auto" is chosen across the fleet by planFleet; a GpuHost needs a catalog type: ${INSTANCE_TYPES.map((t) => t.name).join(", ")}`,
    );
  } else if (
    instanceType !== undefined &&
    !(instanceType === "auto" || (typeof instanceType === "string" && findInstanceType(instanceType)))
  ) {
    p.add(
      `${path}.instanceType`,
      `unknown instance type ${show(instanceType)}; allowed: ${allowAuto ? "auto, " : ""}${INSTANCE_TYPES.map((t) => t.name).join(", ")}`,
    );
  }
  const machine = existing !== undefined ? validateExisting(p, `${path}.existing`, existing) : undefined;

  const sshAllowedCidrs = validateCidrList(p, `${path}.sshAllowedCidrs`, raw.sshAllowedCidrs);
  const rootVolumeSizeGiB = positiveInt(p, `${path}.rootVolumeSizeGiB`, raw.rootVolumeSizeGiB, 100, 30, 16384);
  const dataVolumeSizeGiB = positiveInt(p, `${path}.dataVolumeSizeGiB`, raw.dataVolumeSizeGiB, 500, 50, 65536);
  const bindAddress = raw.bindAddress ?? "private";
  if (typeof bindAddress !== "string" || !(bindAddress === "private" || IPV4.test(bindAddress))) {
    p.add(`${path}.bindAddress`, `${show(bindAddress)} is not allowed; expected "private" or an IPv4 address`);
  } else if (bindAddress === "0.0.0.0") {
    p.add(
      `${path}.bindAddress`,
      `"0.0.0.0" would expose every service on all interfaces; expected "private" or a specific IPv4 address`,
    );
  }
  if (typeof name !== "string") return undefined;
  return {
    name,
    instanceType: typeof instanceType === "string" ? instanceType : undefined,
    existing: machine,
    sshAllowedCidrs: sshAllowedCidrs.filter((c): c is string => typeof c === "string"),
    rootVolumeSizeGiB,
    dataVolumeSizeGiB,
    bindAddress: typeof bindAddress === "string" ? bindAddress : "private",
  };
}

/** GPU model and device count of a host whose type is known (not "auto"). */
export function hostGpus(host: HostConfig): { gpu: GpuModelName; gpuCount: number; label: string } | undefined {
  if (host.existing)
    return {
      gpu: host.existing.gpu,
      gpuCount: host.existing.gpuCount,
      label: `existing ${host.existing.gpu} ×${host.existing.gpuCount}`,
    };
  const type = host.instanceType ? findInstanceType(host.instanceType) : undefined;
  return type ? { gpu: type.gpu, gpuCount: type.gpuCount, label: type.name } : undefined;
}

/**
 * One model service's settings (a stack's `gpu-fleet:services[i]` without `host`, or an entry of a GpuHost's
 * `services`), every problem keyed under `path`. `hostConfig` is the host it runs on, when known. The only
 * definition of these knobs: the stack validator and the components call it.
 */
export function validateServiceSettings(
  p: Problems,
  path: string,
  raw: unknown,
  host: HostConfig | undefined | ((p: Problems) => HostConfig | undefined),
  allowedKeys: readonly string[] = SERVICE_SETTING_KEYS,
): ServiceSettings | undefined {
  if (!isObject(raw)) {
    p.add(
      path,
      `${show(raw)} is not allowed; expected a service { name, model${allowedKeys.includes("host") ? ", host" : ""} }`,
    );
    return undefined;
  }
  // Keys of the Kubernetes runtime's services say where they belong rather than "unknown".
  const kubernetesOnly = Object.keys(raw).filter(
    (k) => !allowedKeys.includes(k) && KUBERNETES_ONLY_SERVICE_KEYS.includes(k),
  );
  for (const k of kubernetesOnly)
    p.add(
      `${path}.${k}`,
      `belongs to the Kubernetes runtime (a stack with ${key("eks")}, or KubernetesNimService); a service on GPU hosts runs on a host: remove it`,
    );
  unknownKeys(
    p,
    path,
    Object.fromEntries(Object.entries(raw).filter(([k]) => !kubernetesOnly.includes(k))),
    allowedKeys,
  );
  const { name, model, gpus, tensorParallel, precision, maxModelLen, gpuMemoryUtilization, engine, port, image } = raw;
  const { kvCacheDtype, maxNumBatchedTokens } = raw;
  let ok = true;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    p.add(
      `${path}.name`,
      `${show(name)} is not allowed; expected lower-case letters, digits and "-", starting with a letter, at most 31 characters`,
    );
    ok = false;
  }
  const spec = typeof model === "string" ? findModel(model) : undefined;
  if (!spec) {
    p.add(`${path}.model`, `unknown model ${show(model)}; known: ${MODELS.map((m) => m.id).join(", ")}`);
    ok = false;
  }
  // A stack's service names its host; that problem is reported after name and model, in key order.
  const hostConfig = typeof host === "function" ? host(p) : host;
  const devices = hostConfig ? hostGpus(hostConfig) : undefined;
  let gpuList: number[] | undefined;
  if (gpus !== undefined) {
    if (!Array.isArray(gpus) || gpus.length === 0) {
      p.add(
        `${path}.gpus`,
        `${show(gpus)} is not allowed; expected a non-empty list of device ids such as [0] or [2, 3]`,
      );
      ok = false;
    } else {
      gpuList = [];
      gpus.forEach((d, j) => {
        if (!isInt(d) || d < 0) {
          p.add(`${path}.gpus[${j}]`, `${show(d)} is not a device id; expected a whole number from 0`);
          ok = false;
        } else if (devices && d >= devices.gpuCount) {
          p.add(
            `${path}.gpus[${j}]`,
            `device ${d} does not exist on host "${hostConfig!.name}" (${devices.label} has ${describeDevices(devices.gpuCount)})`,
          );
          ok = false;
        } else if (gpuList!.includes(d)) {
          p.add(`${path}.gpus[${j}]`, `device ${d} is listed twice`);
          ok = false;
        } else gpuList!.push(d);
      });
    }
  }
  if (tensorParallel !== undefined) {
    if (!isInt(tensorParallel) || tensorParallel < 1 || tensorParallel > 16) {
      p.add(`${path}.tensorParallel`, `${show(tensorParallel)} is not allowed; expected a whole number from 1 to 16`);
      ok = false;
    } else if (Array.isArray(gpus) && gpus.length !== tensorParallel) {
      p.add(
        `${path}.tensorParallel`,
        `${tensorParallel} does not match the ${gpus.length} pinned device(s) in gpus; tensor parallelism equals the number of pinned devices`,
      );
      ok = false;
    }
  }
  const tp = gpuList?.length ?? (isInt(tensorParallel) ? tensorParallel : 1);
  // Check the head split only for a valid tensor parallelism: a bad device id or tensorParallel has its
  // own message, and the devices left over (or 0) say nothing about the split the user meant.
  const tpValid =
    gpuList !== undefined
      ? Array.isArray(gpus) && gpuList.length === gpus.length
      : tensorParallel === undefined || (isInt(tensorParallel) && tensorParallel >= 1 && tensorParallel <= 16);
  if (spec?.engine === "fixed" && tpValid && tp > 1) {
    // Encoder engines (NIM embedding/reranking on Triton, TEI, Whisper) hold the whole model on each GPU
    // they use; none splits it. The estimate divides weights by the tensor parallelism, so a split that
    // is not there would be charged half (or less) of what each GPU holds.
    p.add(
      gpuList !== undefined ? `${path}.gpus` : `${path}.tensorParallel`,
      `${tp} GPUs cannot serve ${spec.id} (kind: ${spec.kind}): its encoder engine runs the whole model on one GPU and does not split it; ${gpuList !== undefined ? "pin one GPU" : "remove tensorParallel"}, and add a service per GPU for more copies`,
    );
    ok = false;
  } else if (spec && tpValid && spec.attentionHeads % tp !== 0) {
    p.add(
      `${path}.gpus`,
      `${spec.id} has ${spec.attentionHeads} attention heads, which ${tp} GPUs cannot split evenly; use a tensor parallelism that divides ${spec.attentionHeads}`,
    );
    ok = false;
  } else if (
    spec &&
    tpValid &&
    spec.kvHeads > 0 &&
    (tp >= spec.kvHeads ? tp % spec.kvHeads : spec.kvHeads % tp) !== 0
  ) {
    // vLLM's QKVParallelLinear splits the KV heads over the GPUs, or replicates them when there are
    // more GPUs than KV heads; either way the division must be exact (dots.ocr: 2 KV heads, TP 3).
    p.add(
      `${path}.gpus`,
      `${spec.id} has ${spec.kvHeads} KV heads, which ${tp} GPUs cannot split or replicate evenly; use a tensor parallelism that divides ${spec.kvHeads} or is a multiple of it`,
    );
    ok = false;
  }
  if (precision !== undefined && !isPrecision(precision)) {
    p.add(`${path}.precision`, `${show(precision)} is not allowed; expected one of ${PRECISIONS.join(", ")}`);
    ok = false;
  } else if (spec?.engine === "fixed" && (precision === "int4" || precision === "fp8" || precision === "int8")) {
    // Encoder engines (NIM embedding/reranking, TEI, Whisper) serve 16-bit weights; they take no
    // quantization (weight-only int4, fp8 or int8 W8A8).
    p.add(
      `${path}.precision`,
      `${show(precision)} cannot serve ${spec.id} (kind: ${spec.kind}); expected bf16 or fp16`,
    );
    ok = false;
  }
  if (maxModelLen !== undefined) {
    const limit = spec?.maxContextTokens ?? Number.MAX_SAFE_INTEGER;
    if (!isInt(maxModelLen) || maxModelLen < 1 || maxModelLen > limit) {
      p.add(
        `${path}.maxModelLen`,
        `${show(maxModelLen)} is not allowed; expected a whole number from 1${spec ? ` to ${limit} (${spec.id}'s maximum context)` : ""}`,
      );
      ok = false;
    }
  }
  if (
    gpuMemoryUtilization !== undefined &&
    !(typeof gpuMemoryUtilization === "number" && gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)
  ) {
    p.add(
      `${path}.gpuMemoryUtilization`,
      `${show(gpuMemoryUtilization)} is not allowed; expected a fraction greater than 0 and at most 1, such as 0.9`,
    );
    ok = false;
  }
  if (engine !== undefined && !(ENGINES as readonly unknown[]).includes(engine)) {
    p.add(`${path}.engine`, `${show(engine)} is not allowed; expected one of ${ENGINES.join(", ")}`);
    ok = false;
  } else if (engine !== undefined && spec && (engine === "fixed") !== (spec.engine === "fixed")) {
    p.add(
      `${path}.engine`,
      `${show(engine)} cannot serve ${spec.id} (kind: ${spec.kind}); expected ${spec.engine === "fixed" ? "fixed" : "vllm or trtllm"}`,
    );
    ok = false;
  }
  const gpuModel = devices ? GPU_MODELS[devices.gpu] : undefined;
  if (kvCacheDtype !== undefined) {
    if (!isKvCacheDtype(kvCacheDtype)) {
      p.add(`${path}.kvCacheDtype`, `${show(kvCacheDtype)} is not allowed; expected ${KV_CACHE_DTYPES.join(" or ")}`);
      ok = false;
    } else if (!vllmSettingAllowed(p, path, "kvCacheDtype", kvCacheDtype, spec, engine)) {
      ok = false;
    } else if (kvCacheDtype === "fp8" && gpuModel && gpuModel.computeCapability < MIN_FP8_KV_COMPUTE_CAPABILITY) {
      p.add(
        `${path}.kvCacheDtype`,
        `"fp8" cannot run on ${gpuModel.name} (compute capability ${gpuModel.computeCapability.toFixed(1)}) of host "${hostConfig!.name}": vLLM's fp8 KV cache needs ${MIN_FP8_KV_COMPUTE_CAPABILITY.toFixed(1)} or later; expected auto`,
      );
      ok = false;
    }
  }
  if (maxNumBatchedTokens !== undefined) {
    // vLLM's SchedulerConfig.verify_max_model_len (vllm/config/scheduler.py) refuses fewer batched tokens
    // than max_num_seqs, and fewer than max_model_len unless chunked prefill is on; the V1 engine (vLLM
    // v0.8 on, the one NIM's vLLM profiles and our vLLM image run) turns chunked prefill on for decoder
    // models, so maxModelLen sets no floor. max_num_seqs is vLLM's default for the GPU; on a host whose
    // GPU is not known yet (instanceType: auto) the largest default, which holds on every catalog GPU.
    const seqs = gpuModel ? vllmBatchDefaults(gpuModel).maxNumSeqs : LARGEST_DEFAULT_MAX_NUM_SEQS;
    const where = gpuModel ? `on ${gpuModel.name}` : "on the largest catalog GPUs (the host's GPU is not known yet)";
    if (!isInt(maxNumBatchedTokens) || maxNumBatchedTokens < seqs) {
      p.add(
        `${path}.maxNumBatchedTokens`,
        `${show(maxNumBatchedTokens)} is not allowed; expected a whole number from ${seqs} (vLLM refuses fewer batched tokens than max_num_seqs, ${seqs} ${where})`,
      );
      ok = false;
    } else if (!vllmSettingAllowed(p, path, "maxNumBatchedTokens", maxNumBatchedTokens, spec, engine)) {
      ok = false;
    }
  }
  if (port !== undefined && !isBindablePort(port)) {
    p.add(`${path}.port`, `${show(port)} is not allowed; ${BINDABLE_PORTS_ALLOWED}`);
    ok = false;
  }
  if (image !== undefined && (typeof image !== "string" || !OCI_REFERENCE.test(image))) {
    p.add(
      `${path}.image`,
      `${show(image)} is not allowed; expected a container image reference such as nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3`,
    );
    ok = false;
  }
  if (!ok) return undefined;
  return {
    name: name as string,
    model: model as string,
    gpus: gpuList,
    // Unset (and not pinned) means "let the planner choose the smallest group that fits".
    tensorParallel: gpuList?.length ?? (isInt(tensorParallel) ? tensorParallel : undefined),
    precision: precision as Precision | undefined,
    maxModelLen: maxModelLen as number | undefined,
    gpuMemoryUtilization: gpuMemoryUtilization as number | undefined,
    kvCacheDtype: kvCacheDtype as KvCacheDtype | undefined,
    maxNumBatchedTokens: maxNumBatchedTokens as number | undefined,
    engine: engine as Engine | undefined,
    port: port as number | undefined,
    image: image as string | undefined,
  };
}

/** vLLM's max_num_seqs default on the GPUs that get the most (vllmBatchDefaults): 1,024. */
const LARGEST_DEFAULT_MAX_NUM_SEQS = Math.max(
  ...GPU_MODEL_NAMES.map((n) => vllmBatchDefaults(GPU_MODELS[n]).maxNumSeqs),
);

/**
 * kvCacheDtype and maxNumBatchedTokens are vLLM's settings: an encoder engine has no KV cache and no
 * token scheduler, and NIM's optimized TensorRT-LLM profiles are pre-built engines whose KV-cache dtype
 * and token budget were fixed when they were built — NIM documents no setting for either there
 * (NIM_PASSTHROUGH_ARGS, which carries these, takes the vLLM engine's arguments).
 */
function vllmSettingAllowed(
  p: Problems,
  path: string,
  k: "kvCacheDtype" | "maxNumBatchedTokens",
  value: unknown,
  spec: ReturnType<typeof findModel>,
  engine: unknown,
): boolean {
  if (spec?.engine === "fixed") {
    const what = k === "kvCacheDtype" ? "keeps no KV cache" : "schedules no token batches";
    p.add(
      `${path}.${k}`,
      `${show(value)} cannot be set for ${spec.id} (kind: ${spec.kind}): its encoder engine ${what}; remove ${k}`,
    );
    return false;
  }
  if (engine === "trtllm") {
    p.add(
      `${path}.${k}`,
      `${show(value)} cannot be set with engine "trtllm": NIM's TensorRT-LLM profiles are pre-built engines and NIM documents no setting for ${k === "kvCacheDtype" ? "their KV-cache dtype" : "their token budget"}; set engine to "vllm" or leave it unset`,
    );
    return false;
  }
  return true;
}

function validateService(
  p: Problems,
  i: number,
  raw: unknown,
  hosts: readonly HostConfig[],
): ServiceConfig | undefined {
  const path = key(`services[${i}]`);
  let hostConfig: HostConfig | undefined;
  const settings = validateServiceSettings(
    p,
    path,
    raw,
    (problems) => {
      const host = isObject(raw) ? raw.host : undefined;
      hostConfig = typeof host === "string" ? hosts.find((h) => h.name === host) : undefined;
      if (!hostConfig) {
        const defined = hosts.map((h) => h.name).join(", ") || "none";
        problems.add(`${path}.host`, `unknown host ${show(host)}; defined hosts: ${defined}`);
      }
      return hostConfig;
    },
    SERVICE_KEYS,
  );
  return settings && hostConfig ? { ...settings, host: hostConfig.name } : undefined;
}

/** `safetyMarginFraction` of a stack or a GpuHost: the one definition of the knob and its default. */
export function validateSafetyMargin(p: Problems, path: string, raw: unknown): number {
  if (raw === undefined) return DEFAULT_SAFETY_MARGIN_FRACTION;
  if (typeof raw !== "number" || raw < 0 || raw >= 0.5) {
    p.add(path, `${show(raw)} is not allowed; expected a fraction from 0 to below 0.5, such as 0.05`);
    return DEFAULT_SAFETY_MARGIN_FRACTION;
  }
  return raw;
}

/** `maxHourlyUsd` of a stack, on hosts or on EKS: the one definition of the cost limit. */
export function validateMaxHourlyUsd(p: Problems, path: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "number" || !(raw > 0)) {
    p.add(path, `${show(raw)} is not allowed; expected a positive number of US dollars per hour`);
    return undefined;
  }
  return raw;
}

/**
 * The fleet's keys of a stack's config (hosts, services, the NGC key, the margin, the cost limit): adds
 * every problem to `p`, keyed `gpu-fleet:<key>`, and returns what was valid. The stack config's other
 * sections are validated beside it (stackConfig/).
 */
export function validateFleetSettings(p: Problems, raw: RawFleetConfig): FleetConfig {
  const hostList = raw.hosts ?? [];
  if (!Array.isArray(hostList) || hostList.length === 0) {
    p.add(key("hosts"), `${show(raw.hosts)} is not allowed; expected a non-empty list of hosts`);
  }
  const hosts: HostConfig[] = [];
  (Array.isArray(hostList) ? hostList : []).forEach((h, i) => {
    const host = validateHostSettings(p, key(`hosts[${i}]`), h);
    if (!host) return;
    if (hosts.some((o) => o.name === host.name))
      p.add(key(`hosts[${i}].name`), `duplicate host name "${host.name}"; host names must be unique`);
    else hosts.push(host);
  });

  const serviceList = raw.services ?? [];
  if (!Array.isArray(serviceList))
    p.add(key("services"), `${show(raw.services)} is not allowed; expected a list of services`);
  const services: ServiceConfig[] = [];
  (Array.isArray(serviceList) ? serviceList : []).forEach((s, i) => {
    const service = validateService(p, i, s, hosts);
    if (!service) return;
    if (services.some((o) => o.name === service.name)) {
      p.add(key(`services[${i}].name`), `duplicate service name "${service.name}"; service names must be unique`);
      return;
    }
    const clash =
      service.port !== undefined && services.find((o) => o.host === service.host && o.port === service.port);
    if (clash)
      p.add(
        key(`services[${i}].port`),
        `port ${service.port} is already used by service "${clash.name}" on host "${service.host}"`,
      );
    services.push(service);
  });

  const needsNgcKey = services.some((s) => findModel(s.model)?.serving.nim && !s.image);
  if (raw.ngcApiKey === "plaintext") {
    p.add(
      key("ngcApiKey"),
      "is stored in plain text; set it with `pulumi config set --secret gpu-fleet:ngcApiKey <key>`",
    );
  } else if (raw.ngcApiKey === "missing" && needsNgcKey) {
    p.add(
      key("ngcApiKey"),
      "is required to pull NIM containers from nvcr.io; set it with `pulumi config set --secret gpu-fleet:ngcApiKey <key>`",
    );
  }

  const safetyMarginFraction = validateSafetyMargin(p, key("safetyMarginFraction"), raw.safetyMarginFraction);
  const maxHourlyUsd = validateMaxHourlyUsd(p, key("maxHourlyUsd"), raw.maxHourlyUsd);
  return { hosts, services, ngcApiKey: raw.ngcApiKey, safetyMarginFraction, maxHourlyUsd };
}

/** Throws a ConfigError listing every problem, or returns the fleet's config. */
export function validateFleetConfig(raw: RawFleetConfig): FleetConfig {
  const p = new Problems();
  const fleet = validateFleetSettings(p, raw);
  if (p.list.length > 0) throw new ConfigError(p.list);
  return fleet;
}
