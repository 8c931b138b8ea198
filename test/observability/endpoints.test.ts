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
    const grafana = observabilityEndpoints({
      ...fixtureInput,
      observabilityHost: "gpu1",
      bind: "private",
      grafanaPort: 3300,
    })[1];
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

  it("tunnels through the SSH address when it differs from the private one", () => {
    const [prometheus] = observabilityEndpoints({
      hosts: [{ name: "gpu0", address: "10.0.1.10", sshAddress: "54.1.2.3" }],
    });
    expect(prometheus.sshTunnel).toBe("ssh -N -L 9090:127.0.0.1:9090 ubuntu@54.1.2.3");
  });

  it("names the missing address in preview, when an EC2 instance's IP is not known yet", () => {
    expect(observabilityEndpoints({ hosts: [{ name: "gpu0" }] })[1]).toEqual({
      name: "grafana",
      host: "gpu0",
      bindAddress: "127.0.0.1",
      port: 3000,
      url: "http://127.0.0.1:3000/",
      sshTunnel: "ssh -N -L 3000:127.0.0.1:3000 ubuntu@<address of gpu0>",
      localUrl: "http://localhost:3000/",
    });
    expect(observabilityEndpoints({ hosts: [{ name: "gpu0" }], bind: "private" })[0].url).toBe(
      "http://<private address of gpu0>:9090/",
    );
  });

  it.each<[string, Parameters<typeof observabilityEndpoints>[0], string]>([
    [
      "an unknown observability host",
      { ...devInput, observabilityHost: "nope" },
      'observability: observabilityHost "nope" is not in hosts (gpu0).',
    ],
    ["no hosts", { hosts: [] }, "observability: at least one host is required."],
    [
      "a Grafana port out of range",
      { ...devInput, grafanaPort: 0 },
      "observability: grafana port 0 must be an integer from 1 to 65535.",
    ],
  ])("rejects %s", (_what, input, message) => {
    expect(() => observabilityEndpoints(input)).toThrow(new Error(message));
  });
});

describe("the tunnel to an existing machine uses its user and SSH port", () => {
  it("existing { user: ops, port: 2222 } gives ssh -N -L ... -p 2222 ops@address", () => {
    const [prometheus, grafana] = observabilityEndpoints({
      hosts: [{ name: "dgx", address: "10.0.0.5", sshUser: "ops", sshPort: 2222 }],
    });
    expect(prometheus.sshTunnel).toBe("ssh -N -L 9090:127.0.0.1:9090 -p 2222 ops@10.0.0.5");
    expect(grafana.sshTunnel).toBe("ssh -N -L 3000:127.0.0.1:3000 -p 2222 ops@10.0.0.5");
  });

  it("port 22 is left out", () => {
    const [prometheus] = observabilityEndpoints({
      hosts: [{ name: "dgx", address: "10.0.0.5", sshUser: "ops", sshPort: 22 }],
    });
    expect(prometheus.sshTunnel).toBe("ssh -N -L 9090:127.0.0.1:9090 ops@10.0.0.5");
  });
});
