import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, isSecretInput, promiseOf, settle, setupMocks, resourcesRevealing } from "../helpers/pulumiMocks";

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");
let obs: typeof import("../../renderers/observability");
let files: typeof import("../../renderers/host/files");

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhjx41j38SIf/NTOUkyzEGUZYrW8dyb/uVzQoBdlwNC test";
const GRAFANA_PASSWORD = "grafana-TEST-password-0123456789";

beforeAll(async () => {
  pulumi.runtime.setConfig("aws:region", "us-east-1");
  mocks = await setupMocks();
  fleet = await import("../../fleet");
  components = await import("../../components");
  obs = await import("../../renderers/observability");
  files = await import("../../renderers/host/files");
});

describe("ObservabilityStack on the dev plan", () => {
  let plan: import("../../fleet").FleetPlan;
  let stack: import("../../components").ObservabilityStack;

  beforeAll(async () => {
    plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "gpu0", instanceType: "g5.xlarge" }],
        services: [{ name: "llm", model: "meta/llama-3.1-8b-instruct", host: "gpu0", gpus: [0], maxModelLen: 8192 }],
      }),
    );
    const host = new components.GpuHost("gpu0", {
      ...plan.hosts[0].args,
      sshPrivateKey: pulumi.secret(PRIVATE_KEY),
      sshPublicKey: PUBLIC_KEY,
    });
    stack = new components.ObservabilityStack("observability", {
      hosts: [host],
      grafanaAdminPassword: pulumi.secret(GRAFANA_PASSWORD),
      stack: "dev",
    });
    await promiseOf(stack.endpoints);
    await settle();
  });

  it("registers the files, the password, Prometheus, Grafana and both exporters", () => {
    expect(
      mocks.registrations
        .filter((r) => r.name.startsWith("observability"))
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      [
        "observability",
        "observability-files",
        "observability-grafana-password",
        "observability-prometheus",
        "observability-grafana",
        "observability-node-exporter-gpu0",
        "observability-dcgm-exporter-gpu0",
      ].sort(),
    );
  });

  it("writes exactly the files rendered from the plan, with the host's private address as the targets", () => {
    const expected = obs.renderObservabilityFiles(
      obs.observabilityInputFromPlan(plan, {
        stack: "dev",
        observabilityHost: "gpu0",
        addresses: { gpu0: "10.0.1.23" },
      }),
    );
    expect(mocks.byName("observability-files").inputs.create).toBe(
      files.renderWriteFilesScript(
        "write the Prometheus and Grafana configuration",
        "/etc/gpu-fleet/observability",
        expected,
      ),
    );
    expect(expected["prometheus/prometheus.yml"]).toContain("10.0.1.23:8000");
    expect(expected["prometheus/prometheus.yml"]).toContain("10.0.1.23:9400");
  });

  it("delivers the Grafana password only as secret stdin and reads it from a file", () => {
    const password = mocks.byName("observability-grafana-password").inputs;
    expect(isSecretInput(password.stdin)).toBe(true);
    expect(password.stdin.value).toBe(GRAFANA_PASSWORD);
    expect(resourcesRevealing(mocks, GRAFANA_PASSWORD)).toEqual([]);
    const grafana = mocks.byName("observability-grafana").inputs.create as string;
    expect(grafana).toContain(`-e 'GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana-admin-password'`);
    expect(grafana).toContain(
      `as_root install -m 0600 -o 472 '/etc/gpu-fleet/observability/grafana-admin-password' '/data/observability/grafana-secrets/grafana-admin-password'`,
    );
    expect(grafana).toContain(`-v '/data/observability/grafana:/var/lib/grafana'`);
    expect(grafana).toContain(`health_url="http://127.0.0.1:3000/api/health"`);
    expect(grafana).toContain("--network host");
  });

  it("keeps Prometheus on loopback with its data on the data volume", () => {
    const prometheus = mocks.byName("observability-prometheus").inputs.create as string;
    expect(prometheus).toContain(`'--web.listen-address=127.0.0.1:9090'`);
    expect(prometheus).toContain(`'--storage.tsdb.retention.time=15d'`);
    expect(prometheus).toContain(`-v '/data/observability/prometheus:/prometheus'`);
    expect(prometheus).toContain(`as_root install -d -m 0750 -o 65534 '/data/observability/prometheus'`);
    expect(prometheus).toContain(`health_url="http://127.0.0.1:9090/-/ready"`);
  });

  it("runs the exporters bound to the private address, DCGM on every GPU", () => {
    const node = mocks.byName("observability-node-exporter-gpu0").inputs.create as string;
    expect(node).toContain(`"--web.listen-address=$bind:9100"`);
    expect(node).toContain("--pid host");
    expect(node).not.toContain("install -d -m 0755 '/'");
    const dcgm = mocks.byName("observability-dcgm-exporter-gpu0").inputs.create as string;
    expect(dcgm).toContain(`--gpus '"device=0"'`);
    expect(dcgm).toContain(`-p "$bind:9400:9400"`);
    expect(dcgm).not.toContain("nvidia-smi --query-gpu");
  });

  it("exposes the endpoints with the SSH tunnel", async () => {
    expect(await promiseOf(stack.endpoints)).toEqual([
      {
        name: "prometheus",
        host: "gpu0",
        bindAddress: "127.0.0.1",
        port: 9090,
        url: "http://127.0.0.1:9090/",
        sshTunnel: "ssh -N -L 9090:127.0.0.1:9090 ubuntu@10.0.1.23",
        localUrl: "http://localhost:9090/",
      },
      {
        name: "grafana",
        host: "gpu0",
        bindAddress: "127.0.0.1",
        port: 3000,
        url: "http://127.0.0.1:3000/",
        sshTunnel: "ssh -N -L 3000:127.0.0.1:3000 ubuntu@10.0.1.23",
        localUrl: "http://localhost:3000/",
      },
    ]);
  });

  it.each([
    ["no hosts", { hosts: [] }, `ObservabilityStack "obs2": hosts: expected at least one host to observe`],
    [
      "an observability host that is not one of the hosts",
      { observabilityHost: "gpu9" },
      `ObservabilityStack "obs2": observabilityHost: "gpu9" is not one of the hosts ("gpu0")`,
    ],
    [
      "a service on a host it does not observe",
      {
        services: [
          { serviceName: "x", hostName: "gpu9", hostPort: 8000, metrics: "nim", gpus: [0], reservedMiBPerGpu: 1 },
        ],
      },
      `ObservabilityStack "obs2": services: "x" runs on host "gpu9", which is not one of the hosts ("gpu0")`,
    ],
  ] as const)("rejects %s before registering anything", async (_what, override, message) => {
    // A machine of the user's own: any GpuHostRef will do.
    const host = {
      name: "gpu0",
      connection: { host: "10.0.1.23" },
      privateAddress: "10.0.1.23",
      paths: { configDir: "/etc/gpu-fleet", dataDir: "/data" },
      bindAddress: "private",
      gpus: [{ index: 0, model: "A10G", memoryMiB: 23028 }],
      ready: [],
    };
    expect(
      () =>
        new components.ObservabilityStack("obs2", {
          hosts: [host],
          grafanaAdminPassword: pulumi.secret("x"),
          ...override,
        }),
    ).toThrow(message);
    await settle();
    expect(mocks.registrations.filter((r) => r.name.startsWith("obs2"))).toEqual([]);
  });
});
