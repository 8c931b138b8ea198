import { describe, expect, it } from "vitest";
import {
  deriveScrapeJobs,
  plannedGpuReservations,
  resolveObservabilityInput,
  type ObservabilityInput,
} from "../../renderers/observability";
import { a100Input, devInput, fixtureInput } from "./fixtures";

describe("resolveObservabilityInput", () => {
  it("fills in every default", () => {
    const resolved = resolveObservabilityInput(devInput);
    expect({
      observabilityHost: resolved.observabilityHost,
      dcgmPort: resolved.dcgmPort,
      nodeExporterPort: resolved.nodeExporterPort,
      prometheusPort: resolved.prometheusPort,
      grafanaPort: resolved.grafanaPort,
      bind: resolved.bind,
      retentionDays: resolved.retentionDays,
      scrapeIntervalSeconds: resolved.scrapeIntervalSeconds,
      vectorizerStallMinutes: resolved.vectorizerStallMinutes,
      reservationToleranceMiB: resolved.reservationToleranceMiB,
    }).toEqual({
      observabilityHost: "gpu0",
      dcgmPort: 9400,
      nodeExporterPort: 9100,
      prometheusPort: 9090,
      grafanaPort: 3000,
      bind: "loopback",
      retentionDays: 15,
      scrapeIntervalSeconds: 15,
      vectorizerStallMinutes: 15,
      reservationToleranceMiB: 256,
    });
    expect(resolveObservabilityInput({ ...devInput, iris: undefined, vectorizers: undefined })).toMatchObject({
      iris: [],
      vectorizers: [],
    });
  });

  const host = fixtureInput.hosts[0];
  it.each<[string, ObservabilityInput, string]>([
    ["no hosts", { ...fixtureInput, hosts: [] }, "observability: at least one host is required."],
    [
      "a stack name with a quote",
      { ...fixtureInput, stack: 'de"v' },
      'observability: stack "de"v" must start with a letter or digit and contain only letters, digits, ".", "_" and "-".',
    ],
    ["a host listed twice", { ...fixtureInput, hosts: [host, host] }, 'observability: host "gpu0" is listed twice.'],
    [
      "an address with a scheme",
      { ...fixtureInput, hosts: [{ ...host, address: "http://10.0.1.10" }] },
      'observability: host "gpu0" address "http://10.0.1.10" must be a host name or IP address without a scheme or path.',
    ],
    [
      "an SSH address with a path",
      { ...fixtureInput, hosts: [{ ...host, sshAddress: "54.1.2.3/22" }] },
      'observability: host "gpu0" SSH address "54.1.2.3/22" must be a host name or IP address without a scheme or path.',
    ],
    [
      "a GPU listed twice",
      { ...fixtureInput, hosts: [{ ...host, gpus: [host.gpus[0], host.gpus[0]] }] },
      'observability: host "gpu0" lists GPU 0 twice.',
    ],
    [
      "a negative GPU index",
      { ...fixtureInput, hosts: [{ ...host, gpus: [{ ...host.gpus[0], index: -1 }] }] },
      'observability: host "gpu0" has GPU index -1; indexes are integers from 0.',
    ],
    [
      "a GPU without memory",
      { ...fixtureInput, hosts: [{ ...host, gpus: [{ ...host.gpus[0], memoryMiB: 0 }] }] },
      'observability: memoryMiB of GPU 0 on host "gpu0" must be a positive number, got 0.',
    ],
    [
      "a negative reservation",
      {
        ...fixtureInput,
        hosts: [{ ...host, gpus: [{ ...host.gpus[0], reservations: [{ service: "llm", reservedMiB: -5 }] }] }],
      },
      'observability: reservation of "llm" on GPU 0 of host "gpu0" must be a number of MiB >= 0, got -5.',
    ],
    [
      "a NIM on an unknown host",
      { ...fixtureInput, nimServices: [{ name: "llm", host: "gpu9", address: "10.0.1.19", port: 8000 }] },
      'observability: NIM service "llm" is on host "gpu9", which is not in hosts (gpu0, gpu1).',
    ],
    [
      "a NIM on port 0",
      { ...fixtureInput, nimServices: [{ name: "llm", host: "gpu0", address: "10.0.1.10", port: 0 }] },
      'observability: NIM service "llm" port 0 must be an integer from 1 to 65535.',
    ],
    [
      "a NIM listed twice",
      { ...fixtureInput, nimServices: [fixtureInput.nimServices[0], fixtureInput.nimServices[0]] },
      'observability: NIM service "llm" is listed twice.',
    ],
    [
      "an unknown observability host",
      { ...fixtureInput, observabilityHost: "mon" },
      'observability: observabilityHost "mon" is not in hosts (gpu0, gpu1).',
    ],
    [
      "zero retention",
      { ...fixtureInput, retentionDays: 0 },
      "observability: retentionDays must be a whole number of days from 1 to 3650, got 0.",
    ],
    [
      "a retention the stack config also refuses",
      { ...fixtureInput, retentionDays: 3651 },
      "observability: retentionDays must be a whole number of days from 1 to 3650, got 3651.",
    ],
    [
      "a fractional stall time",
      { ...fixtureInput, vectorizerStallMinutes: 2.5 },
      "observability: vectorizerStallMinutes must be a whole number >= 1, got 2.5.",
    ],
    [
      "a negative tolerance",
      { ...fixtureInput, reservationToleranceMiB: -1 },
      "observability: reservationToleranceMiB must be a whole number >= 0, got -1.",
    ],
    [
      "a DCGM port out of range",
      { ...fixtureInput, dcgmPort: 70000 },
      "observability: dcgm port 70000 must be an integer from 1 to 65535.",
    ],
  ])("rejects %s", (_what, input, message) => {
    expect(() => resolveObservabilityInput(input)).toThrow(new Error(message));
  });
});

describe("deriveScrapeJobs", () => {
  it("derives every target of the fixture from its hosts and services", () => {
    const jobs = deriveScrapeJobs(resolveObservabilityInput(fixtureInput));
    expect(
      jobs.map((j) => [
        j.job,
        j.metricsPath,
        j.targets.map((t) => `${t.address} ${t.labels.host}/${t.labels.service}`),
      ]),
    ).toEqual([
      ["prometheus", "/metrics", ["127.0.0.1:9090 gpu0/prometheus"]],
      ["node", "/metrics", ["10.0.1.10:9100 gpu0/node-exporter", "10.0.1.11:9100 gpu1/node-exporter"]],
      ["dcgm", "/metrics", ["10.0.1.10:9400 gpu0/dcgm-exporter", "10.0.1.11:9400 gpu1/dcgm-exporter"]],
      ["nim", "/v1/metrics", ["10.0.1.10:8000 gpu0/llm", "10.0.1.11:8001 gpu1/embed", "10.0.1.11:8002 gpu1/rerank"]],
      ["iris", "/api/monitor/metrics", ["10.0.1.11:52773 gpu1/iris"]],
      ["vectorizer", "/metrics", ["10.0.1.11:9464 gpu1/vectorizer"]],
    ]);
  });

  it("scrapes a vLLM-served model on /metrics under its own job", () => {
    const jobs = deriveScrapeJobs(resolveObservabilityInput(a100Input));
    expect(
      jobs
        .filter((j) => j.job === "nim" || j.job === "vllm")
        .map((j) => [j.job, j.metricsPath, j.targets.map((t) => `${t.address} ${t.labels.service}`)]),
    ).toEqual([
      ["nim", "/v1/metrics", ["10.0.0.5:8000 asr", "10.0.0.5:8001 embed", "10.0.0.5:8002 llm"]],
      ["vllm", "/metrics", ["10.0.0.5:8003 ocr"]],
    ]);
  });

  it("skips DCGM on a host without GPUs and leaves out jobs without targets", () => {
    const input: ObservabilityInput = {
      stack: "cpu",
      hosts: [{ name: "cpu0", address: "10.0.2.2", gpus: [] }],
      nimServices: [],
      dcgmPort: 9500,
      nodeExporterPort: 9200,
      bind: "private",
    };
    expect(deriveScrapeJobs(resolveObservabilityInput(input))).toEqual([
      {
        job: "prometheus",
        metricsPath: "/metrics",
        targets: [{ address: "10.0.2.2:9090", labels: { host: "cpu0", service: "prometheus" } }],
      },
      {
        job: "node",
        metricsPath: "/metrics",
        targets: [{ address: "10.0.2.2:9200", labels: { host: "cpu0", service: "node-exporter" } }],
      },
    ]);
  });
});

describe("plannedGpuReservations", () => {
  it("totals each GPU's reservations in index order", () => {
    expect(plannedGpuReservations(a100Input).map((g) => `${g.gpu}:${g.reservedMiB}:${g.services}`)).toEqual([
      "0:16384:asr",
      "1:8192:embed",
      "2:73728:llm",
      "3:73728:llm",
      "4:12288:ocr",
      "5:0:none",
      "6:0:none",
      "7:0:none",
    ]);
  });
});
