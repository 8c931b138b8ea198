/**
 * The fleet plan: hosts with their GPUs, every service with its devices, estimate and reservation,
 * the per-GPU ledgers and the findings of every check. Pure; the stack program, the offline plan and
 * the policy pack all ask it.
 */
import { GPU_MODELS, GpuModel } from "./catalog/gpus";
import { INSTANCE_TYPES, InstanceType, Interconnect, findInstanceType } from "./catalog/instances";
import { ModelSpec, ServingImage, findModel } from "./catalog/models";
import { KvCacheDtype, MIN_COMPUTE_CAPABILITY, Precision } from "./catalog/precision";
import { Finding, checkHostLedger, checkHourlyCost } from "./checks";
import { ExistingMachine, FleetConfig, HostConfig, ServiceSettings } from "./config";
import { Estimate, estimate } from "./estimator";
import { HostLedgerDocument, LEDGER_KIND, LEDGER_VERSION } from "./hostLedger";
import { LedgerGpu, buildLedger } from "./ledger";
import { PlacementRequest, placeServices } from "./placement";

/** First host port for services that do not set one; NIM containers listen on 8000. */
export const FIRST_SERVICE_PORT = 8000;

export interface PlannedService {
  readonly name: string;
  readonly model: string;
  readonly kind: ModelSpec["kind"];
  readonly host: string;
  readonly gpus: readonly number[];
  readonly placedBy: "config" | "planner";
  readonly tensorParallel: number;
  /** "planner": no gpus and no tensorParallel were set, so the planner chose the smallest group that fits. */
  readonly tensorParallelBy: "config" | "planner";
  readonly precision: Precision;
  readonly maxModelLen: number;
  /** The fraction handed to the engine, or null for engines that take none. */
  readonly gpuMemoryUtilization: number | null;
  /** The KV-cache dtype the estimate and the engine use; null for encoders (no KV cache). */
  readonly kvCacheDtype: KvCacheDtype | null;
  /** The token budget the estimate's activation peak is sized for (the engine's default unless set); null for encoders. */
  readonly maxNumBatchedTokens: number | null;
  /**
   * The vLLM arguments the service's settings add (`--kv-cache-dtype`, `--max-num-batched-tokens`), in
   * vLLM's CLI form: what the container hands the engine, so the engine runs what was estimated.
   */
  readonly vllmArgs: readonly string[];
  readonly reservedMiBPerGpu: number;
  readonly hostPort: number;
  readonly serving: ServingImage;
  readonly estimate: Estimate;
}

export interface InstanceChoice {
  readonly chosen: string | null;
  readonly rejected: readonly { readonly instanceType: string; readonly reason: string }[];
}

/**
 * The flat settings of one GPU host, as a GpuHost takes them (credentials and AWS placement aside):
 * what planFleet hands each host component, with `instanceType: auto` decided and services placed.
 */
export interface GpuHostSettings {
  readonly instanceType?: string;
  readonly existing?: ExistingMachine;
  readonly services: readonly ServiceSettings[];
  readonly sshAllowedCidrs: readonly string[];
  readonly rootVolumeSizeGiB: number;
  readonly dataVolumeSizeGiB: number;
  readonly bindAddress: string;
  readonly safetyMarginFraction: number;
}

export interface PlannedHost {
  readonly name: string;
  readonly kind: "ec2" | "existing";
  readonly instanceType: string | null;
  readonly hourlyUsd: number | null;
  readonly gpu: GpuModel;
  readonly gpuCount: number;
  readonly interconnect: Interconnect;
  readonly config: HostConfig;
  /** What the host's containers bind: "private" or a specific IPv4 address (config.bindAddress). */
  readonly bindAddress: string;
  readonly ledger: readonly LedgerGpu[];
  readonly ledgerDocument: HostLedgerDocument;
  /** Present when instanceType was "auto": what was picked and what was rejected, and why. */
  readonly instanceChoice?: InstanceChoice;
  /** The GpuHost component's settings for this host: the stack program passes them on unchanged. */
  readonly args: GpuHostSettings;
}

export interface FleetPlan {
  readonly hosts: readonly PlannedHost[];
  readonly services: readonly PlannedService[];
  readonly findings: readonly Finding[];
  readonly hourlyUsd: number;
}

/** The GPUs of a host: model, count and how they are linked. */
export interface HostShape {
  readonly gpu: GpuModel;
  readonly gpuCount: number;
  readonly interconnect: Interconnect;
  readonly instance?: InstanceType;
}

/** The shape of a host whose instance type is known (an EC2 catalog type, or an existing machine). */
export function hostShape(host: Pick<HostConfig, "existing" | "instanceType">, instance?: InstanceType): HostShape {
  if (host.existing) {
    const gpu = GPU_MODELS[host.existing.gpu];
    // An existing multi-GPU A100/H100 SXM board has NVSwitch; PCIe cards are the conservative default.
    const interconnect: Interconnect =
      host.existing.gpuCount === 1 ? "single" : gpu.name.includes("SXM") ? "nvswitch" : "pcie";
    return { gpu, gpuCount: host.existing.gpuCount, interconnect };
  }
  const type = instance ?? findInstanceType(host.instanceType!)!;
  return { gpu: GPU_MODELS[type.gpu], gpuCount: type.gpuCount, interconnect: type.interconnect, instance: type };
}

/** bf16 checkpoints are served as fp16 on GPUs without bf16 (vLLM casts them), unless bf16 is asked for. */
function resolvePrecision(service: ServiceSettings, model: ModelSpec, gpu: GpuModel): Precision {
  if (service.precision) return service.precision;
  return model.defaultPrecision === "bf16" && gpu.computeCapability < MIN_COMPUTE_CAPABILITY.bf16
    ? "fp16"
    : model.defaultPrecision;
}

/** kvCacheDtype and maxNumBatchedTokens are vLLM's: a service that sets either runs on vLLM (config.ts refuses them with trtllm). */
const setsVllmArgs = (s: ServiceSettings) => s.kvCacheDtype !== undefined || s.maxNumBatchedTokens !== undefined;

/** The service's vLLM settings in vLLM's CLI form (vllm/engine/arg_utils.py EngineArgs.add_cli_args). */
export function vllmArgsOf(s: Pick<ServiceSettings, "kvCacheDtype" | "maxNumBatchedTokens">): string[] {
  return [
    ...(s.kvCacheDtype !== undefined ? ["--kv-cache-dtype", s.kvCacheDtype] : []),
    ...(s.maxNumBatchedTokens !== undefined ? ["--max-num-batched-tokens", String(s.maxNumBatchedTokens)] : []),
  ];
}

function estimateAt(service: ServiceSettings, gpu: GpuModel, tensorParallel: number): Estimate {
  const model = findModel(service.model)!;
  const forced = service.engine === undefined && setsVllmArgs(service) && model.engine !== "fixed";
  const e = estimate({
    model,
    gpu,
    tensorParallel,
    precision: resolvePrecision(service, model, gpu),
    maxModelLen: service.maxModelLen,
    gpuMemoryUtilization: service.gpuMemoryUtilization,
    engine: forced ? "vllm" : service.engine,
    kvCacheDtype: service.kvCacheDtype,
    maxNumBatchedTokens: service.maxNumBatchedTokens,
  });
  if (!forced || !model.serving.nim) return e;
  // Say why it is vLLM, not the optimized-profile note chooseEngine writes for a plain engine: vllm.
  const keys = ["kvCacheDtype", "maxNumBatchedTokens"].filter((k) => service[k as keyof ServiceSettings] !== undefined);
  return {
    ...e,
    profileNote: `NIM's vLLM engine: ${keys.join(" and ")} ${keys.length > 1 ? "are" : "is a"} vLLM setting${keys.length > 1 ? "s" : ""}, passed in NIM_PASSTHROUGH_ARGS`,
  };
}

/**
 * Tensor-parallel sizes a model can be split into on a host: the attention heads must divide evenly,
 * and the KV heads split or replicate evenly (vLLM's QKVParallelLinear). One host is one NVLink/NVSwitch
 * (or PCIe) domain, so every size up to its GPU count is a candidate.
 */
export function tensorParallelCandidates(model: ModelSpec, gpuCount: number): number[] {
  if (model.engine === "fixed") return [1];
  const sizes: number[] = [];
  for (let tp = 1; tp <= gpuCount; tp++) {
    const kvOk = model.kvHeads === 0 || (tp >= model.kvHeads ? tp % model.kvHeads : model.kvHeads % tp) === 0;
    if (model.attentionHeads % tp === 0 && kvOk) sizes.push(tp);
  }
  return sizes;
}

/**
 * The estimate a service runs with: at its pinned devices' count or its explicit tensorParallel, or —
 * neither set — at the smallest tensor-parallel size at which the model fits its reservation (TP 1 when
 * none does, so the findings say what it needs).
 */
function estimateService(service: ServiceSettings, shape: HostShape): { estimate: Estimate; by: "config" | "planner" } {
  const explicit = service.gpus?.length ?? service.tensorParallel;
  if (explicit !== undefined) return { estimate: estimateAt(service, shape.gpu, explicit), by: "config" };
  const model = findModel(service.model)!;
  for (const tp of tensorParallelCandidates(model, shape.gpuCount)) {
    const e = estimateAt(service, shape.gpu, tp);
    if (e.fits) return { estimate: e, by: tp === 1 ? "config" : "planner" };
  }
  return { estimate: estimateAt(service, shape.gpu, 1), by: "config" };
}

interface HostAttempt {
  readonly host: PlannedHost;
  readonly services: PlannedService[];
  readonly findings: Finding[];
}

/**
 * Places what can be placed: a service that fits nowhere is reported and left out, and the others are
 * placed without it, so one oversized service does not leave the rest of the host unplanned.
 */
function placeAll(
  headroomMiB: readonly number[],
  requests: readonly PlacementRequest[],
  occupants: readonly (readonly number[])[],
): { gpus: ReadonlyMap<string, readonly number[]>; failures: { service: string; reason: string }[] } {
  const failures: { service: string; reason: string }[] = [];
  let remaining = requests;
  for (;;) {
    const result = placeServices(headroomMiB, remaining, occupants);
    if (result.ok) return { gpus: result.gpus, failures };
    failures.push({ service: result.service, reason: result.reason });
    remaining = remaining.filter((r) => r.service !== result.service);
  }
}

/**
 * One host: every service's estimate, the planner's placement of those without `gpus`, host ports, the
 * per-GPU ledger (the document written to the host) and the findings of every check on it. The GpuHost
 * component runs this on its own args; planFleet runs it for every host of a stack.
 */
export function planHost(
  host: HostConfig,
  shape: HostShape,
  services: readonly ServiceSettings[],
  safetyMarginFraction: number,
): HostAttempt {
  const estimates = new Map(services.map((s) => [s.name, estimateService(s, shape)]));
  const reservation = (s: ServiceSettings) => estimates.get(s.name)!.estimate.reservedMiBPerGpu;
  const outside = (s: ServiceSettings) => estimates.get(s.name)!.estimate.outsideReservationMiBPerGpu;
  const pinned = services.filter((s) => s.gpus);
  const pinnedClaims = pinned.map((s) => ({
    service: s.name,
    gpus: s.gpus!,
    reservedMiBPerGpu: reservation(s),
    outsideReservationMiBPerGpu: outside(s),
  }));
  const pinnedLedger = buildLedger(
    shape.gpu.name,
    shape.gpu.memoryMiB,
    shape.gpuCount,
    pinnedClaims,
    safetyMarginFraction,
  );
  const placement = placeAll(
    pinnedLedger.map((g) => g.headroomMiB),
    services
      .filter((s) => !s.gpus)
      .map((s) => ({
        service: s.name,
        tensorParallel: estimates.get(s.name)!.estimate.tensorParallel,
        reservedMiBPerGpu: reservation(s),
        outsideReservationMiBPerGpu: outside(s),
      })),
    pinnedLedger.map((g) =>
      pinnedClaims.filter((c) => c.gpus.includes(g.index)).map((c) => c.outsideReservationMiBPerGpu),
    ),
  );
  const unplaced = new Map(placement.failures.map((f) => [f.service, f.reason]));

  let nextPort = FIRST_SERVICE_PORT;
  const taken = new Set(services.map((s) => s.port).filter((p) => p !== undefined));
  const planned: PlannedService[] = services.map((s) => {
    const { estimate: e, by } = estimates.get(s.name)!;
    const model = findModel(s.model)!;
    const gpus = s.gpus ?? placement.gpus.get(s.name) ?? [];
    let hostPort = s.port;
    if (hostPort === undefined) {
      while (taken.has(nextPort)) nextPort++;
      hostPort = nextPort++;
    }
    return {
      name: s.name,
      model: s.model,
      kind: model.kind,
      host: host.name,
      gpus,
      placedBy: s.gpus ? "config" : "planner",
      tensorParallel: e.tensorParallel,
      tensorParallelBy: by,
      precision: e.precision,
      maxModelLen: e.requestedContextTokens,
      gpuMemoryUtilization: e.engine === "vllm" ? (s.gpuMemoryUtilization ?? 0.9) : (s.gpuMemoryUtilization ?? null),
      kvCacheDtype: e.engine === "fixed" ? null : e.kvCacheDtype,
      maxNumBatchedTokens: e.engine === "fixed" ? null : e.maxNumBatchedTokens,
      vllmArgs: e.engine === "vllm" ? vllmArgsOf(s) : [],
      reservedMiBPerGpu: e.reservedMiBPerGpu,
      hostPort,
      serving: s.image ? { ...model.serving, image: s.image } : model.serving,
      estimate: e,
    };
  });

  const ledger = buildLedger(
    shape.gpu.name,
    shape.gpu.memoryMiB,
    shape.gpuCount,
    planned.map((s) => ({
      service: s.name,
      gpus: s.gpus,
      reservedMiBPerGpu: s.reservedMiBPerGpu,
      outsideReservationMiBPerGpu: s.estimate.outsideReservationMiBPerGpu,
    })),
    safetyMarginFraction,
  );
  const ledgerDocument: HostLedgerDocument = {
    kind: LEDGER_KIND,
    version: LEDGER_VERSION,
    host: host.name,
    gpuModel: shape.gpu.name,
    computeCapability: shape.gpu.computeCapability,
    nvidiaSmiName: shape.gpu.nvidiaSmiName,
    gpuCount: shape.gpuCount,
    memoryMiB: shape.gpu.memoryMiB,
    cudaTotalMiB: shape.gpu.cudaTotalMiB,
    interconnect: shape.interconnect,
    safetyMarginFraction,
    hourlyUsd: shape.instance?.hourlyUsd ?? null,
    // A service the planner could not place stays, with no GPUs and the reason: the policies see it too.
    services: planned.map((s) => ({
      name: s.name,
      model: s.model,
      gpus: s.gpus,
      tensorParallel: s.tensorParallel,
      precision: s.precision,
      engine: s.estimate.engine,
      gpuMemoryUtilization: s.gpuMemoryUtilization,
      reservedMiBPerGpu: s.reservedMiBPerGpu,
      outsideReservationMiBPerGpu: s.estimate.outsideReservationMiBPerGpu,
      kvCacheDtype: s.kvCacheDtype,
      maxNumBatchedTokens: s.maxNumBatchedTokens,
      weightsMiBPerGpu: s.estimate.weightsMiBPerGpu,
      overheadMiB: s.estimate.overheadMiB,
      kvBytesPerTokenPerGpu: s.estimate.kvBytesPerTokenPerGpu,
      maxModelLen: s.maxModelLen,
      ...(unplaced.has(s.name) ? { unplacedReason: unplaced.get(s.name) } : {}),
    })),
    gpus: ledger,
  };
  const findings = checkHostLedger(ledgerDocument);
  const args: GpuHostSettings = {
    ...(shape.instance ? { instanceType: shape.instance.name } : {}),
    ...(host.existing ? { existing: host.existing } : {}),
    // Placed services are handed on pinned, so the host component places nothing itself: the same map.
    services: services.map((s, i) => {
      // A stack's service also names its host; the host's own settings do not.
      const { host: _host, ...settings } = s as ServiceSettings & { host?: string };
      const p = planned[i];
      return p.gpus.length > 0 ? { ...settings, gpus: p.gpus, tensorParallel: p.tensorParallel } : settings;
    }),
    sshAllowedCidrs: host.sshAllowedCidrs,
    rootVolumeSizeGiB: host.rootVolumeSizeGiB,
    dataVolumeSizeGiB: host.dataVolumeSizeGiB,
    bindAddress: host.bindAddress,
    safetyMarginFraction,
  };
  return {
    host: {
      name: host.name,
      kind: host.existing ? "existing" : "ec2",
      instanceType: shape.instance?.name ?? null,
      hourlyUsd: shape.instance?.hourlyUsd ?? null,
      gpu: shape.gpu,
      gpuCount: shape.gpuCount,
      interconnect: shape.interconnect,
      config: host,
      bindAddress: host.bindAddress,
      ledger,
      ledgerDocument,
      args,
    },
    services: planned,
    findings,
  };
}

const mandatory = (findings: readonly Finding[]) => findings.filter((f) => f.enforcement === "mandatory");

/**
 * instanceType "auto": the cheapest catalog instance on which every service of the host is placed and
 * passes every mandatory check. Rejected types are kept with the first reason, for the plan to show.
 */
function planAutoHost(host: HostConfig, services: readonly ServiceSettings[], margin: number): HostAttempt {
  const rejected: { instanceType: string; reason: string }[] = [];
  const byPrice = [...INSTANCE_TYPES].sort((a, b) => a.hourlyUsd - b.hourlyUsd || a.name.localeCompare(b.name));
  for (const type of byPrice) {
    const tooFewGpus = services.find((s) => s.gpus && Math.max(...s.gpus) >= type.gpuCount);
    if (tooFewGpus) {
      rejected.push({
        instanceType: type.name,
        reason: `service "${tooFewGpus.name}" is pinned to GPU ${Math.max(...tooFewGpus.gpus!)}; it has ${type.gpuCount}`,
      });
      continue;
    }
    const tooWide = services.find((s) => (s.tensorParallel ?? 1) > type.gpuCount);
    if (tooWide) {
      rejected.push({
        instanceType: type.name,
        reason: `service "${tooWide.name}" needs ${tooWide.tensorParallel} GPUs; it has ${type.gpuCount}`,
      });
      continue;
    }
    const attempt = planHost(host, hostShape(host, type), services, margin);
    const blocking = mandatory(attempt.findings);
    if (blocking.length === 0) {
      return { ...attempt, host: { ...attempt.host, instanceChoice: { chosen: type.name, rejected } } };
    }
    rejected.push({ instanceType: type.name, reason: blocking[0].message });
  }
  // Nothing fits: plan on the largest type so the findings say by how much.
  const largest = byPrice[byPrice.length - 1];
  const attempt = planHost(host, hostShape(host, largest), services, margin);
  const none: Finding = {
    check: "instance-type-auto",
    enforcement: "mandatory",
    host: host.name,
    message: `no catalog instance type holds the services of host "${host.name}"; cheapest rejections: ${rejected
      .slice(0, 3)
      .map((r) => `${r.instanceType} (${r.reason})`)
      .join("; ")}`,
  };
  return {
    ...attempt,
    findings: [none, ...attempt.findings],
    host: { ...attempt.host, instanceChoice: { chosen: null, rejected } },
  };
}

export function planFleet(config: FleetConfig): FleetPlan {
  const attempts = config.hosts.map((host) => {
    const services = config.services.filter((s) => s.host === host.name);
    return host.instanceType === "auto"
      ? planAutoHost(host, services, config.safetyMarginFraction)
      : planHost(host, hostShape(host), services, config.safetyMarginFraction);
  });
  const hourlyUsd = Math.round(attempts.reduce((sum, a) => sum + (a.host.hourlyUsd ?? 0), 0) * 1e6) / 1e6;
  const findings = [...attempts.flatMap((a) => a.findings), ...checkHourlyCost(hourlyUsd, config.maxHourlyUsd)];
  const byName = new Map(attempts.flatMap((a) => a.services).map((s) => [s.name, s]));
  return {
    hosts: attempts.map((a) => a.host),
    // Services in config order, whatever order hosts were planned in.
    services: config.services.map((s) => byName.get(s.name)!),
    findings,
    hourlyUsd,
  };
}
