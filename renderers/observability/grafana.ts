// Grafana provisioning files: the Prometheus datasource and the dashboard provider.
// Format: https://grafana.com/docs/grafana/latest/administration/provisioning/

import { toYaml } from "./yaml";
import { PROMETHEUS_DATASOURCE_UID } from "./panels";
import { bindAddress, type ResolvedObservabilityInput } from "./targets";

/** Where the dashboard JSON files live inside the Grafana container; the provider reads them there. */
export const GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/gpu-fleet";

/**
 * Grafana reaches Prometheus at the address Prometheus listens on: both run on the observability
 * host with host networking, so loopback works when Prometheus is bound to loopback.
 */
export function prometheusUrlForGrafana(input: ResolvedObservabilityInput): string {
  return `http://${bindAddress(input)}:${input.prometheusPort}`;
}

export function renderGrafanaDatasource(input: ResolvedObservabilityInput): string {
  return toYaml(
    {
      apiVersion: 1,
      datasources: [
        {
          name: "Prometheus",
          uid: PROMETHEUS_DATASOURCE_UID,
          type: "prometheus",
          access: "proxy",
          url: prometheusUrlForGrafana(input),
          isDefault: true,
          editable: false,
          // Tells Grafana the scrape interval so $__rate_interval covers at least four scrapes.
          jsonData: { timeInterval: `${input.scrapeIntervalSeconds}s` },
        },
      ],
    },
  );
}

export function renderGrafanaDashboardProvider(): string {
  return toYaml(
    {
      apiVersion: 1,
      providers: [
        {
          name: "gpu-fleet",
          orgId: 1,
          folder: "gpu-fleet",
          type: "file",
          // The files are rendered from the stack: edits in the UI would be lost on the next deploy.
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 30,
          options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
        },
      ],
    },
  );
}
