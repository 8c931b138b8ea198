/**
 * The fleet plan: hosts with their GPUs, every service with its devices, estimate and reservation,
 * the per-GPU ledgers and the findings of every check. Pure; the stack program, the offline plan and
 * the policy pack all ask it.
 */
import { GPU_MODELS, GpuModel } from "./catalog/gpus";
import { INSTANCE_TYPES, InstanceType, Interconnect, findInstanceType } from "./catalog/instances";
import { ModelSpec, ServingImage, findModel } from "./catalog/models";
import { MIN_COMPUTE_CAPABILITY, Precision } from "./catalog/precision";
import { Finding, checkHostLedger, checkHourlyCost } from "./checks";
import { HostConfig, ServiceConfig, StackConfig } from "./config";
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
  readonly precision: Precision;
  readonly maxModelLen: number;
  /** The fraction handed to the engine, or null for engines that take none. */
  readonly gpuMemoryUtilization: number | null;
  readonly reservedMiBPerGpu: number;
  readonly hostPort: number;
  readonly serving: ServingImage;
  readonly estimate: Estimate;
}

export interface InstanceChoice {
  readonly chosen: string | null;
  readonly rejected: readonly { readonly instanceType: string; readonly reason: string }[];
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
  readonly ledger: readonly LedgerGpu[];
  readonly ledgerDocument: HostLedgerDocument;
  /** Present when instanceType was "auto": what was picked and what was rejected, and why. */
  readonly instanceChoice?: InstanceChoice;
}

export interface FleetPlan {
  readonly hosts: readonly PlannedHost[];
  readonly services: readonly PlannedService[];
  readonly findings: readonly Finding[];
  readonly hourlyUsd: number;
}

interface HostShape {
  readonly gpu: GpuModel;
  readonly gpuCount: number;
  readonly interconnect: Interconnect;
  readonly instance?: InstanceType;
}

function shapeOf(host: HostConfig, instance?: InstanceType): HostShape {
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
function resolvePrecision(service: ServiceConfig, model: ModelSpec, gpu: GpuModel): Precision {
  if (service.precision) return service.precision;
  return model.defaultPrecision === "bf16" && gpu.computeCapability < MIN_COMPUTE_CAPABILITY.bf16
    ? "fp16"
    : model.defaultPrecision;
}

function estimateService(service: ServiceConfig, gpu: GpuModel): Estimate {
  const model = findModel(service.model)!;
  return estimate({
    model,
    gpu,
    tensorParallel: service.gpus?.length ?? service.tensorParallel ?? 1,
    precision: resolvePrecision(service, model, gpu),
    maxModelLen: service.maxModelLen,
    gpuMemoryUtilization: service.gpuMemoryUtilization,
    engine: service.engine,
  });
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
): { gpus: ReadonlyMap<string, readonly number[]>; failures: { service: string; reason: string }[] } {
  const failures: { service: string; reason: string }[] = [];
  let remaining = requests;
  for (;;) {
    const result = placeServices(headroomMiB, remaining);
    if (result.ok) return { gpus: result.gpus, failures };
    failures.push({ service: result.service, reason: result.reason });
    remaining = remaining.filter((r) => r.service !== result.service);
  }
}

function planHost(
  host: HostConfig,
  shape: HostShape,
  services: readonly ServiceConfig[],
  safetyMarginFraction: number,
): HostAttempt {
  const estimates = new Map(services.map((s) => [s.name, estimateService(s, shape.gpu)]));
  const pinned = services.filter((s) => s.gpus);
  const pinnedLedger = buildLedger(
    shape.gpu.name,
    shape.gpu.memoryMiB,
    shape.gpuCount,
    pinned.map((s) => ({
      service: s.name,
      gpus: s.gpus!,
      reservedMiBPerGpu: estimates.get(s.name)!.reservedMiBPerGpu,
    })),
    safetyMarginFraction,
  );
  const placement = placeAll(
    pinnedLedger.map((g) => g.headroomMiB),
    services
      .filter((s) => !s.gpus)
      .map((s) => ({
        service: s.name,
        tensorParallel: s.tensorParallel ?? 1,
        reservedMiBPerGpu: estimates.get(s.name)!.reservedMiBPerGpu,
      })),
  );

  let nextPort = FIRST_SERVICE_PORT;
  const taken = new Set(services.map((s) => s.port).filter((p) => p !== undefined));
  const planned: PlannedService[] = services.map((s) => {
    const e = estimates.get(s.name)!;
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
      precision: e.precision,
      maxModelLen: e.requestedContextTokens,
      gpuMemoryUtilization: e.engine === "vllm" ? (s.gpuMemoryUtilization ?? 0.9) : (s.gpuMemoryUtilization ?? null),
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
    planned.map((s) => ({ service: s.name, gpus: s.gpus, reservedMiBPerGpu: s.reservedMiBPerGpu })),
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
    interconnect: shape.interconnect,
    safetyMarginFraction,
    hourlyUsd: shape.instance?.hourlyUsd ?? null,
    // A service the planner could not place runs nowhere: it has its own finding, not a ledger line.
    services: planned
      .filter((s) => s.gpus.length > 0)
      .map((s) => ({
        name: s.name,
        model: s.model,
        gpus: s.gpus,
        tensorParallel: s.tensorParallel,
        precision: s.precision,
        engine: s.estimate.engine,
        gpuMemoryUtilization: s.gpuMemoryUtilization,
        reservedMiBPerGpu: s.reservedMiBPerGpu,
        weightsMiBPerGpu: s.estimate.weightsMiBPerGpu,
        overheadMiB: s.estimate.overheadMiB,
        kvBytesPerTokenPerGpu: s.estimate.kvBytesPerTokenPerGpu,
        maxModelLen: s.maxModelLen,
      })),
    gpus: ledger,
  };
  const findings = checkHostLedger(ledgerDocument);
  findings.unshift(
    ...placement.failures.map((f): Finding => ({
      check: "automatic-placement",
      enforcement: "mandatory",
      host: host.name,
      message: `service "${f.service}" cannot be placed on host "${host.name}": ${f.reason}`,
    })),
  );
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
      ledger,
      ledgerDocument,
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
function planAutoHost(host: HostConfig, services: readonly ServiceConfig[], margin: number): HostAttempt {
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
    const attempt = planHost(host, shapeOf(host, type), services, margin);
    const blocking = mandatory(attempt.findings);
    if (blocking.length === 0) {
      return { ...attempt, host: { ...attempt.host, instanceChoice: { chosen: type.name, rejected } } };
    }
    rejected.push({ instanceType: type.name, reason: blocking[0].message });
  }
  // Nothing fits: plan on the largest type so the findings say by how much.
  const largest = byPrice[byPrice.length - 1];
  const attempt = planHost(host, shapeOf(host, largest), services, margin);
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

export function planFleet(config: StackConfig): FleetPlan {
  const attempts = config.hosts.map((host) => {
    const services = config.services.filter((s) => s.host === host.name);
    return host.instanceType === "auto"
      ? planAutoHost(host, services, config.safetyMarginFraction)
      : planHost(host, shapeOf(host), services, config.safetyMarginFraction);
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
