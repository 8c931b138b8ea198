// prometheus.yml and the Prometheus command line, derived from the input.

import { toYaml } from "./yaml";
import type { ResolvedObservabilityInput } from "./input";
import { deriveScrapeJobs, JOB, prometheusListenAddress } from "./targets";

/** Path of the rule file relative to prometheus.yml; `promtool check config` resolves it so. */
export const RULE_FILE = "rules/gpu-fleet.rules.yml";

/** Paths inside the Prometheus container: the rendered `prometheus/` folder is mounted at the config
 *  directory, the host's data volume at the TSDB path (the prom/prometheus image's default). */
export const PROMETHEUS_CONFIG_DIR = "/etc/prometheus";
export const PROMETHEUS_DATA_DIR = "/prometheus";

interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}

interface RelabelConfig {
  action?: "labeldrop";
  regex?: string;
}

interface ScrapeConfig {
  job_name: string;
  metrics_path: string;
  static_configs: StaticConfig[];
  metric_relabel_configs?: RelabelConfig[];
}

export interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string; external_labels: Record<string, string> };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

export function buildPrometheusConfig(input: ResolvedObservabilityInput): PrometheusConfig {
  const interval = `${input.scrapeIntervalSeconds}s`;
  return {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      external_labels: { stack: input.stack },
    },
    rule_files: [RULE_FILE],
    scrape_configs: deriveScrapeJobs(input).map((job) => {
      const config: ScrapeConfig = {
        job_name: job.job,
        metrics_path: job.metricsPath,
        // One static config per target so each carries its own host and service labels: every
        // rule and panel joins on these, never on addresses, which change when a host is replaced.
        static_configs: job.targets.map((t) => ({
          targets: [t.address],
          labels: { host: t.labels.host, service: t.labels.service },
        })),
      };
      if (job.job === JOB.dcgm) {
        // DCGM labels its series with the exporter container's hostname, which changes whenever the
        // container is recreated and would split every GPU's history; `host` replaces it.
        config.metric_relabel_configs = [{ action: "labeldrop", regex: "Hostname" }];
      }
      return config;
    }),
  };
}

export function renderPrometheusConfig(input: ResolvedObservabilityInput): string {
  return toYaml(buildPrometheusConfig(input));
}

/**
 * Prometheus' command line. Retention is a flag, not a config key; the listen address keeps the UI
 * private (loopback by default, reached through an SSH tunnel).
 */
export function prometheusCommandLine(input: ResolvedObservabilityInput): string[] {
  return [
    `--config.file=${PROMETHEUS_CONFIG_DIR}/prometheus.yml`,
    `--storage.tsdb.path=${PROMETHEUS_DATA_DIR}`,
    `--storage.tsdb.retention.time=${input.retentionDays}d`,
    `--web.listen-address=${prometheusListenAddress(input)}`,
  ];
}
