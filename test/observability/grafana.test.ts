import { describe, expect, it } from "vitest";
import { renderGrafanaDashboardProvider, renderGrafanaDatasource, resolveObservabilityInput } from "../../renderers/observability";
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
    expect(renderGrafanaDatasource(resolveObservabilityInput({ ...devInput, bind: "private", prometheusPort: 9191, scrapeIntervalSeconds: 30 }))).toContain(
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

  it("passes yamllint -d relaxed", () => {
    const dir = writeTree({ "datasource.yml": renderGrafanaDatasource(resolveObservabilityInput(devInput)), "provider.yml": renderGrafanaDashboardProvider() });
    expect(yamllintRelaxed(["datasource.yml", "provider.yml"], dir)).toEqual({ status: 0, problems: [] });
  });
});
