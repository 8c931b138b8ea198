/**
 * ObservabilityStack: Prometheus and Grafana on one GpuHost, a DCGM exporter and a node exporter on
 * every host, all derived from the fleet plan: scrape targets, the planned per-GPU reservations the
 * alerts compare against, and the dashboards. Ports stay private; the Grafana admin password is a
 * secret delivered on stdin and read by Grafana from a file.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { filesHash, renderRemoveFilesScript, renderWriteFilesScript } from "../renderers/host/files";
import {
  ContainerSpec,
  containerSpecHash,
  renderContainerStartScript,
  renderContainerStopScript,
} from "../renderers/container/container";
import {
  GRAFANA_ADMIN_PASSWORD_FILE,
  GRAFANA_DASHBOARDS_DIR,
  IrisInput,
  PROMETHEUS_CONFIG_DIR,
  PROMETHEUS_DATA_DIR,
  VectorizerInput,
  grafanaEnvironment,
  observabilityEndpoints,
  observabilityInputFrom,
  prometheusCommandLine,
  renderObservabilityFiles,
  resolveObservabilityInput,
} from "../renderers/observability";
import { secretFileCommand } from "./secretFile";
import { BUILT_IN_PORTS } from "../fleet/ports";
import type { GpuHostRef, ServiceRef } from "./hostRef";
// Its own module, not the barrel: the published declarations then never load the dashboards' Grafana types.
import type { ObservabilityEndpoint } from "../renderers/observability/endpoints";

/** Pinned images: a new tag is a deliberate change, never a surprise on the next `pulumi up`. */
export const OBSERVABILITY_IMAGES = {
  prometheus: "prom/prometheus:v3.1.0",
  grafana: "grafana/grafana:11.4.0",
  // NVIDIA's public DCGM exporter image; its default counters are what the metrics catalog cites.
  dcgmExporter: "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04",
  nodeExporter: "prom/node-exporter:v1.8.2",
} as const;

/** The users the images run as: their data directories must belong to them. */
const PROMETHEUS_UID = 65534;
const GRAFANA_UID = 472;
const READY_TIMEOUT_SECONDS = 300;

export interface ObservabilityStackArgs {
  /** Every host to observe (GpuHost components or your own GpuHostRef): exporters run on each. */
  readonly hosts: readonly GpuHostRef[];
  /**
   * The model services to scrape and hold to their per-GPU reservations (NimService components, or any
   * ServiceRef). Default: every placed service of the hosts that plan their services (GpuHost.services).
   */
  readonly services?: readonly ServiceRef[];
  /** Grafana's admin password. Pass a secret. */
  readonly grafanaAdminPassword: pulumi.Input<string>;
  /** Prometheus' `stack` label. Default: the Pulumi stack name. */
  readonly stack?: string;
  /** Host that runs Prometheus and Grafana. Default: the first host. */
  readonly observabilityHost?: string;
  /** `loopback` (reach them through an SSH tunnel) or `private`. Default: `loopback`. */
  readonly bind?: "loopback" | "private";
  /** Prometheus retention. Default: 15 days. */
  readonly retentionDays?: number;
  /** IRIS instances to scrape at `/api/monitor/metrics`. */
  readonly iris?: readonly { readonly name: string; readonly host: string; readonly port: number }[];
  /** Vectorizers to scrape at `/metrics`. */
  readonly vectorizers?: readonly { readonly name: string; readonly host: string; readonly port: number }[];
}

export class ObservabilityStack extends pulumi.ComponentResource {
  /** Prometheus and Grafana URLs and the SSH tunnel to each. */
  public readonly endpoints: pulumi.Output<ObservabilityEndpoint[]>;
  /** Digest of the rendered configuration; Prometheus and Grafana restart when it changes. */
  public readonly configHash: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const hostName = args.observabilityHost ?? args.hosts[0]?.name;
    const services = args.services ?? args.hosts.flatMap(plannedServiceRefs);
    validateObservabilityStackArgs(name, args, hostName, services);
    super("gpu-fleet:index:ObservabilityStack", name, {}, opts);

    const hostsByName = new Map(args.hosts.map((h) => [h.name, h]));
    const obsHost = hostsByName.get(hostName!)!;
    const stack = args.stack ?? pulumi.getStack();
    const settings = { stack, observabilityHost: hostName, bind: args.bind, retentionDays: args.retentionDays };

    // Every file is a function of the hosts, their services and their addresses (unknown until EC2 hosts exist).
    const addresses = pulumi.all(args.hosts.map((h) => h.privateAddress));
    const rendered = addresses.apply((list) => {
      const byHost = Object.fromEntries(args.hosts.map((h, i) => [h.name, list[i]]));
      const input = observabilityInputFrom(
        args.hosts.map((h) => ({ name: h.name, address: byHost[h.name], gpus: h.gpus })),
        services.map((s) => ({
          name: s.serviceName,
          host: s.hostName,
          port: s.hostPort,
          engine: s.metrics,
          gpus: s.gpus,
          reservedMiBPerGpu: s.reservedMiBPerGpu,
        })),
        {
          ...settings,
          iris: (args.iris ?? []).map((i): IrisInput => ({ ...i, address: byHost[i.host] })),
          vectorizers: (args.vectorizers ?? []).map((v): VectorizerInput => ({ ...v, address: byHost[v.host] })),
        },
      );
      return { input: resolveObservabilityInput(input), files: renderObservabilityFiles(input) };
    });
    this.configHash = rendered.apply((r) => filesHash(r.files));

    const paths = obsHost.paths;
    const configDir = `${paths.configDir}/observability`;
    const dataDir = `${paths.dataDir}/observability`;
    const files = new command.remote.Command(
      `${name}-files`,
      {
        connection: obsHost.connection,
        create: rendered.apply((r) =>
          renderWriteFilesScript("write the Prometheus and Grafana configuration", configDir, r.files, { paths }),
        ),
        delete: rendered.apply((r) =>
          renderRemoveFilesScript("remove the Prometheus and Grafana configuration", configDir, Object.keys(r.files), {
            paths,
          }),
        ),
      },
      { parent: this, dependsOn: [...obsHost.ready] },
    );
    const passwordFile = `${configDir}/grafana-admin-password`;
    const password = secretFileCommand(
      `${name}-grafana-password`,
      {
        connection: obsHost.connection,
        path: passwordFile,
        purpose: "the Grafana admin password",
        content: args.grafanaAdminPassword,
        paths,
      },
      { parent: this, dependsOn: [...obsHost.ready] },
    );

    const container = (
      resourceName: string,
      host: GpuHostRef,
      spec: pulumi.Input<ContainerSpec>,
      dependsOn: pulumi.Resource[],
    ) =>
      new command.remote.Command(
        resourceName,
        {
          connection: host.connection,
          create: pulumi.output(spec).apply((s) => renderContainerStartScript(s, { paths: host.paths })),
          delete: pulumi.output(spec).apply((s) =>
            renderContainerStopScript(
              s.service,
              { paths: host.paths },
              (s.stagedSecrets ?? []).map((x) => x.to),
            ),
          ),
          triggers: [pulumi.output(spec).apply((s) => containerSpecHash(s as ContainerSpec))],
        },
        { parent: this, dependsOn: [...host.ready, ...dependsOn] },
      );

    for (const host of args.hosts) {
      const common = {
        host: host.name,
        nim: false,
        bindAddress: host.bindAddress,
        env: {},
        readyTimeoutSeconds: READY_TIMEOUT_SECONDS,
      };
      container(
        `${name}-node-exporter-${host.name}`,
        host,
        {
          ...common,
          service: "node-exporter",
          image: OBSERVABILITY_IMAGES.nodeExporter,
          containerPort: BUILT_IN_PORTS.nodeExporter,
          hostPort: BUILT_IN_PORTS.nodeExporter,
          healthPath: "/metrics",
          gpus: [],
          // Host network and PID namespace so the exporter sees the machine, not its container.
          network: "host",
          runFlags: ["--pid host"],
          volumes: [{ hostPath: "/", containerPath: "/host:ro,rslave", existing: true }],
          args: ["--path.rootfs=/host", `--web.listen-address={bind}:${BUILT_IN_PORTS.nodeExporter}`],
        },
        [],
      );
      container(
        `${name}-dcgm-exporter-${host.name}`,
        host,
        {
          ...common,
          service: "dcgm-exporter",
          image: OBSERVABILITY_IMAGES.dcgmExporter,
          containerPort: BUILT_IN_PORTS.dcgmExporter,
          hostPort: BUILT_IN_PORTS.dcgmExporter,
          healthPath: "/metrics",
          // DCGM watches every GPU of the host; it reserves no GPU memory, so no preflight.
          gpus: host.gpus.map((g) => g.index),
          runFlags: ["--cap-add SYS_ADMIN"],
          volumes: [],
          args: [],
        },
        [],
      );
    }

    const obsCommon = {
      host: hostName!,
      nim: false,
      bindAddress: obsHost.bindAddress,
      gpus: [],
      readyTimeoutSeconds: READY_TIMEOUT_SECONDS,
      network: "host" as const,
    };
    container(
      `${name}-prometheus`,
      obsHost,
      rendered.apply((r): ContainerSpec => ({
        ...obsCommon,
        service: "prometheus",
        image: OBSERVABILITY_IMAGES.prometheus,
        containerPort: r.input.prometheusPort,
        hostPort: r.input.prometheusPort,
        healthPath: "/-/ready",
        healthHost: r.input.bind === "loopback" ? "127.0.0.1" : undefined,
        env: {},
        labels: { "gpu-fleet.config": filesHash(r.files) },
        volumes: [
          { hostPath: `${configDir}/prometheus`, containerPath: `${PROMETHEUS_CONFIG_DIR}:ro` },
          { hostPath: `${dataDir}/prometheus`, containerPath: PROMETHEUS_DATA_DIR, ownerUid: PROMETHEUS_UID },
        ],
        args: prometheusCommandLine(r.input),
      })),
      [files],
    );
    container(
      `${name}-grafana`,
      obsHost,
      rendered.apply((r): ContainerSpec => ({
        ...obsCommon,
        service: "grafana",
        image: OBSERVABILITY_IMAGES.grafana,
        containerPort: r.input.grafanaPort,
        hostPort: r.input.grafanaPort,
        healthPath: "/api/health",
        healthHost: r.input.bind === "loopback" ? "127.0.0.1" : undefined,
        env: grafanaEnvironment(r.input),
        labels: { "gpu-fleet.config": filesHash(r.files) },
        volumes: [
          { hostPath: `${configDir}/grafana/provisioning`, containerPath: "/etc/grafana/provisioning:ro" },
          { hostPath: `${configDir}/grafana/dashboards`, containerPath: `${GRAFANA_DASHBOARDS_DIR}:ro` },
          { hostPath: `${dataDir}/grafana`, containerPath: "/var/lib/grafana", ownerUid: GRAFANA_UID },
          {
            hostPath: `${dataDir}/grafana-secrets`,
            containerPath: GRAFANA_ADMIN_PASSWORD_FILE.slice(0, GRAFANA_ADMIN_PASSWORD_FILE.lastIndexOf("/")),
            ownerUid: GRAFANA_UID,
          },
        ],
        stagedSecrets: [
          {
            from: passwordFile,
            to: `${dataDir}/grafana-secrets/${GRAFANA_ADMIN_PASSWORD_FILE.split("/").pop()}`,
            ownerUid: GRAFANA_UID,
          },
        ],
        args: [],
      })),
      [files, password],
    );

    this.endpoints = addresses.apply((list) =>
      observabilityEndpoints({
        hosts: args.hosts.map((h, i) => ({ name: h.name, address: list[i], sshUser: h.sshUser, sshPort: h.sshPort })),
        observabilityHost: hostName,
        bind: args.bind,
      }),
    );
    this.registerOutputs({ endpoints: this.endpoints, configHash: this.configHash });
  }
}

/** The placed services of a host that plans its own (a GpuHost), as the stack scrapes them. */
function plannedServiceRefs(host: GpuHostRef): ServiceRef[] {
  return (host.services ?? [])
    .filter((s) => s.gpus.length > 0)
    .map((s) => ({
      serviceName: s.name,
      hostName: host.name,
      hostPort: s.hostPort,
      metrics: s.serving.nim ? "nim" : "vllm",
      gpus: s.gpus,
      reservedMiBPerGpu: s.reservedMiBPerGpu,
    }));
}

export function validateObservabilityStackArgs(
  name: string,
  args: ObservabilityStackArgs,
  hostName: string | undefined,
  services: readonly ServiceRef[],
): void {
  const where = `ObservabilityStack "${name}"`;
  const given = args.hosts.map((h) => h.name);
  const list = given.map((h) => `"${h}"`).join(", ");
  if (given.length === 0)
    throw new pulumi.ResourceError(`${where}: hosts: expected at least one host to observe`, undefined);
  const twice = given.find((h, i) => given.indexOf(h) !== i);
  if (twice) throw new pulumi.ResourceError(`${where}: hosts: host "${twice}" is listed twice`, undefined);
  if (!hostName || !given.includes(hostName)) {
    throw new pulumi.ResourceError(
      `${where}: observabilityHost: "${hostName}" is not one of the hosts (${list})`,
      undefined,
    );
  }
  for (const s of services) {
    if (!given.includes(s.hostName))
      throw new pulumi.ResourceError(
        `${where}: services: "${s.serviceName}" runs on host "${s.hostName}", which is not one of the hosts (${list})`,
        undefined,
      );
  }
  for (const [kind, targets] of [
    ["iris", args.iris ?? []],
    ["vectorizers", args.vectorizers ?? []],
  ] as const) {
    for (const t of targets) {
      if (!given.includes(t.host))
        throw new pulumi.ResourceError(
          `${where}: ${kind}: target "${t.name}" is on host "${t.host}", which is not one of the hosts (${list})`,
          undefined,
        );
    }
  }
}
