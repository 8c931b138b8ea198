import { describe, expect, it } from "vitest";
import { formatObservabilityEndpoints, observabilityEndpoints } from "../../renderers/observability";
import { devInput, fixtureInput } from "./fixtures";

describe("observabilityEndpoints", () => {
  it("lists Prometheus and Grafana on loopback, reached by an SSH tunnel", () => {
    expect(observabilityEndpoints(devInput)).toEqual([
      {
        name: "prometheus",
        host: "gpu0",
        bindAddress: "127.0.0.1",
        port: 9090,
        url: "http://127.0.0.1:9090/",
        sshTunnel: "ssh -N -L 9090:127.0.0.1:9090 ubuntu@10.0.1.10",
        localUrl: "http://localhost:9090/",
      },
      {
        name: "grafana",
        host: "gpu0",
        bindAddress: "127.0.0.1",
        port: 3000,
        url: "http://127.0.0.1:3000/",
        sshTunnel: "ssh -N -L 3000:127.0.0.1:3000 ubuntu@10.0.1.10",
        localUrl: "http://localhost:3000/",
      },
    ]);
  });

  it("uses the observability host's private address, ports and SSH user when told to", () => {
    const grafana = observabilityEndpoints({ ...fixtureInput, observabilityHost: "gpu1", bind: "private", grafanaPort: 3300 })[1];
    expect(grafana).toEqual({
      name: "grafana",
      host: "gpu1",
      bindAddress: "10.0.1.11",
      port: 3300,
      url: "http://10.0.1.11:3300/",
      sshTunnel: "ssh -N -L 3300:10.0.1.11:3300 admin@10.0.1.11",
      localUrl: "http://localhost:3300/",
    });
  });

  it("formats one line per endpoint for the plan", () => {
    expect(formatObservabilityEndpoints(observabilityEndpoints(devInput))).toBe(
      [
        "prometheus http://127.0.0.1:9090/       on gpu0; tunnel: ssh -N -L 9090:127.0.0.1:9090 ubuntu@10.0.1.10, then open http://localhost:9090/",
        "grafana    http://127.0.0.1:3000/       on gpu0; tunnel: ssh -N -L 3000:127.0.0.1:3000 ubuntu@10.0.1.10, then open http://localhost:3000/",
      ].join("\n"),
    );
  });

  it("validates the input first", () => {
    expect(() => observabilityEndpoints({ ...devInput, observabilityHost: "nope" })).toThrow('observability: observabilityHost "nope" is not in hosts (gpu0).');
  });
});
