import { describe, expect, it } from "vitest";
import {
  grafanaEnvironment,
  renderGrafanaDashboardProvider,
  renderGrafanaDatasource,
  resolveObservabilityInput,
} from "../../renderers/observability";
import { devInput } from "./fixtures";
import { writeTree, yamllintRelaxed } from "./tools";

describe("Grafana provisioning", () => {
  it("provisions Prometheus as the default datasource with the uid the dashboards use", () => {
    expect(renderGrafanaDatasource(resolveObservabilityInput(devInput))).toBe(`apiVersion: 1
datasources:
  - name: Prometheus
    uid: gpu-fleet-prometheus
    type: prometheus
    access: proxy
    url: http://127.0.0.1:9090
    isDefault: true
    editable: false
    jsonData:
      timeInterval: 15s
`);
  });

  it("points Grafana at the private address when Prometheus listens there", () => {
    expect(
      renderGrafanaDatasource(
        resolveObservabilityInput({ ...devInput, bind: "private", prometheusPort: 9191, scrapeIntervalSeconds: 30 }),
      ),
    ).toContain(
      "    url: http://10.0.1.10:9191\n    isDefault: true\n    editable: false\n    jsonData:\n      timeInterval: 30s\n",
    );
  });

  it("provisions the dashboards folder read-only from files", () => {
    expect(renderGrafanaDashboardProvider()).toBe(`apiVersion: 1
providers:
  - name: gpu-fleet
    orgId: 1
    folder: gpu-fleet
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 30
    options:
      path: /var/lib/grafana/dashboards/gpu-fleet
      foldersFromFilesStructure: false
`);
  });

  it("runs Grafana on the private bind address, with the admin password read from a file", () => {
    expect(grafanaEnvironment(resolveObservabilityInput(devInput))).toEqual({
      GF_SERVER_HTTP_ADDR: "127.0.0.1",
      GF_SERVER_HTTP_PORT: "3000",
      GF_SECURITY_ADMIN_USER: "admin",
      GF_SECURITY_ADMIN_PASSWORD__FILE: "/run/secrets/grafana-admin-password",
      GF_USERS_ALLOW_SIGN_UP: "false",
      GF_AUTH_ANONYMOUS_ENABLED: "false",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
      GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    });
    const env = grafanaEnvironment(
      resolveObservabilityInput({ ...devInput, bind: "private", grafanaPort: 3300 }),
      "/secrets/pw",
    );
    expect([env.GF_SERVER_HTTP_ADDR, env.GF_SERVER_HTTP_PORT, env.GF_SECURITY_ADMIN_PASSWORD__FILE]).toEqual([
      "10.0.1.10",
      "3300",
      "/secrets/pw",
    ]);
  });

  it("passes yamllint -d relaxed", () => {
    const dir = writeTree({
      "datasource.yml": renderGrafanaDatasource(resolveObservabilityInput(devInput)),
      "provider.yml": renderGrafanaDashboardProvider(),
    });
    expect(yamllintRelaxed(["datasource.yml", "provider.yml"], dir)).toEqual({ status: 0, problems: [] });
  });
});
