// Grafana provisioning files: the Prometheus datasource and the dashboard provider.
// Format: https://grafana.com/docs/grafana/latest/administration/provisioning/

import { toYaml } from "./yaml";
import { PROMETHEUS_DATASOURCE_UID } from "./panels";
import type { ResolvedObservabilityInput } from "./input";
import { bindAddress } from "./targets";

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
  return toYaml({
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
  });
}

export function renderGrafanaDashboardProvider(): string {
  return toYaml({
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
  });
}

/** Where the component mounts the Grafana admin password file (a Pulumi secret, mode 0600). */
export const GRAFANA_ADMIN_PASSWORD_FILE = "/run/secrets/grafana-admin-password";

/**
 * Environment of the Grafana container. Settings are GF_<SECTION>_<KEY>; the admin password is
 * read from a file (`__FILE` suffix, supported by Grafana's Docker image) so the secret never
 * appears in `docker inspect` or in a Pulumi resource input.
 * https://grafana.com/docs/grafana/latest/setup-grafana/configure-docker/
 */
export function grafanaEnvironment(
  input: ResolvedObservabilityInput,
  adminPasswordFile: string = GRAFANA_ADMIN_PASSWORD_FILE,
): Record<string, string> {
  return {
    GF_SERVER_HTTP_ADDR: bindAddress(input),
    GF_SERVER_HTTP_PORT: String(input.grafanaPort),
    GF_SECURITY_ADMIN_USER: "admin",
    GF_SECURITY_ADMIN_PASSWORD__FILE: adminPasswordFile,
    GF_USERS_ALLOW_SIGN_UP: "false",
    GF_AUTH_ANONYMOUS_ENABLED: "false",
    // A private monitoring host has no business phoning home.
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
  };
}
