// Observability renderers: Prometheus config, rules and their unit tests, Grafana provisioning and
// dashboards, all derived from one ObservabilityInput. Pure; the ObservabilityStack component
// writes the files to the host and runs the containers.

import { renderDashboards } from "./dashboards";
import { renderGrafanaDashboardProvider, renderGrafanaDatasource } from "./grafana";
import { renderPrometheusConfig, RULE_FILE } from "./prometheus";
import { renderRuleFile, ruleFileToYaml } from "./rules";
import { renderAlertRuleTests, RULE_TEST_FILE } from "./ruletests";
import { resolveObservabilityInput, type ObservabilityInput } from "./targets";

export * from "./targets";
export * from "./metrics";
export * from "./promql";
export * from "./prometheus";
export * from "./rules";
export * from "./ruletests";
export * from "./panels";
export * from "./dashboards";
export * from "./grafana";
export * from "./endpoints";
export * from "./fromPlan";

/** Directory layout of the rendered bundle; the component mounts `prometheus/` at /etc/prometheus
 *  and the grafana folders at Grafana's provisioning and dashboards paths. */
export const BUNDLE_DIRS = {
  prometheus: "prometheus",
  grafanaDatasources: "grafana/provisioning/datasources",
  grafanaDashboardProviders: "grafana/provisioning/dashboards",
  grafanaDashboards: "grafana/dashboards",
} as const;

/**
 * Every observability file for a stack, keyed by path relative to the bundle root, in a stable
 * order. Validates the input first (throws with an exact message on a mistake).
 */
export function renderObservabilityFiles(input: ObservabilityInput): Record<string, string> {
  const resolved = resolveObservabilityInput(input);
  const files: Record<string, string> = {
    [`${BUNDLE_DIRS.prometheus}/prometheus.yml`]: renderPrometheusConfig(resolved),
    [`${BUNDLE_DIRS.prometheus}/${RULE_FILE}`]: ruleFileToYaml(renderRuleFile(resolved)),
    [`${BUNDLE_DIRS.prometheus}/${RULE_TEST_FILE}`]: renderAlertRuleTests(resolved),
    [`${BUNDLE_DIRS.grafanaDatasources}/gpu-fleet.yml`]: renderGrafanaDatasource(resolved),
    [`${BUNDLE_DIRS.grafanaDashboardProviders}/gpu-fleet.yml`]: renderGrafanaDashboardProvider(),
  };
  for (const dashboard of renderDashboards(resolved)) {
    files[`${BUNDLE_DIRS.grafanaDashboards}/${dashboard.uid}.json`] = `${JSON.stringify(dashboard, null, 2)}\n`;
  }
  return files;
}
