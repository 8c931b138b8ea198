import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  buildPrometheusConfig,
  renderObservabilityFiles,
  renderRuleFile,
  resolveObservabilityInput,
} from "../../renderers/observability";
import { ALL_INPUTS, a100Input, devInput } from "./fixtures";
import { RULE_TEST_FILE, renderAlertRuleTests } from "./ruletests";
import { runTool, writeTree, yamllintRelaxed } from "./tools";

describe("renderObservabilityFiles", () => {
  it("renders the dev stack's bundle with these paths", () => {
    expect(Object.keys(renderObservabilityFiles(devInput))).toEqual([
      "prometheus/prometheus.yml",
      "prometheus/rules/gpu-fleet.rules.yml",
      "grafana/provisioning/datasources/gpu-fleet.yml",
      "grafana/provisioning/dashboards/gpu-fleet.yml",
      "grafana/dashboards/gpu-fleet-nim.json",
      "grafana/dashboards/gpu-fleet-gpu.json",
      "grafana/dashboards/gpu-fleet-pipeline.json",
    ]);
  });

  it.each(Object.entries(ALL_INPUTS))(
    "writes shared values out in full, with no YAML anchors or aliases, for the %s input",
    (_name, input) => {
      for (const [path, text] of Object.entries(renderObservabilityFiles(input))) {
        if (path.endsWith(".yml")) expect(text.match(/^\s*(- )?[&*]a\d+\b.*$/gm), path).toBeNull();
      }
    },
  );

  it("is deterministic", () => {
    expect(renderObservabilityFiles(a100Input)).toEqual(renderObservabilityFiles(a100Input));
  });

  it.each(Object.entries(ALL_INPUTS))(
    "passes promtool and yamllint as written to disk for the %s input",
    (_name, input) => {
      const root = writeTree({
        ...renderObservabilityFiles(input),
        [`prometheus/${RULE_TEST_FILE}`]: renderAlertRuleTests(resolveObservabilityInput(input)),
      });
      const prometheus = join(root, "prometheus");
      const config = runTool("promtool", ["check", "config", "prometheus.yml"], prometheus);
      expect(config.output).toContain("SUCCESS: prometheus.yml is valid prometheus config file syntax");
      expect(config.status).toBe(0);
      const tests = runTool("promtool", ["test", "rules", "gpu-fleet-alerts.test.yml"], prometheus);
      expect(tests.output).toContain("SUCCESS");
      expect(tests.status).toBe(0);
      const yamlFiles = Object.keys(renderObservabilityFiles(input)).filter((p) => p.endsWith(".yml"));
      yamlFiles.push(`prometheus/${RULE_TEST_FILE}`);
      expect(yamllintRelaxed(yamlFiles, root)).toEqual({ status: 0, problems: [] });
      for (const file of readdirSync(join(root, "grafana/dashboards"))) {
        expect(file).toMatch(/^gpu-fleet-(nim|gpu|pipeline)\.json$/);
      }
    },
  );

  it("parses back to what was rendered: no value is mangled by YAML", () => {
    const files = renderObservabilityFiles(devInput);
    const rules = parse(files["prometheus/rules/gpu-fleet.rules.yml"]);
    expect(rules).toEqual(renderRuleFile(resolveObservabilityInput(devInput)));
    expect(parse(files["prometheus/prometheus.yml"])).toEqual(
      buildPrometheusConfig(resolveObservabilityInput(devInput)),
    );
    expect(JSON.parse(files["grafana/dashboards/gpu-fleet-gpu.json"]).uid).toBe("gpu-fleet-gpu");
  });

  it("yamllint reports a real error in a broken file, so the lint is real", () => {
    const root = writeTree({ "broken.yml": "groups:\n  - name: a\n    name: b\n" });
    const result = yamllintRelaxed(["broken.yml"], root);
    expect(result.status).toBe(1);
    expect(result.problems).toEqual(['broken.yml:3:5: [error] duplication of key "name" in mapping (key-duplicates)']);
  });

  it("rejects invalid input before rendering anything", () => {
    expect(() =>
      renderObservabilityFiles({
        ...devInput,
        nimServices: [{ name: "llm", host: "gpu7", address: "10.0.1.10", port: 8000 }],
      }),
    ).toThrow('observability: NIM service "llm" is on host "gpu7", which is not in hosts (gpu0).');
  });
});
