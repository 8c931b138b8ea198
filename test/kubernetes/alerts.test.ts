import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { planKubernetesService, resolveNodeGroup } from "../../fleet/kubernetes";
import { renderKubernetesAlerts, renderPrometheusRule } from "../../renderers/kubernetes/alerts";
import { runTool, writeTree } from "../observability/tools";

const group = resolveNodeGroup({ name: "gpu", maxSize: 3 });
const { planned } = planKubernetesService(
  {
    name: "llm",
    model: "meta/llama-2-7b-chat",
    nodeGroup: "gpu",
    autoscaling: { minReplicas: 1, maxReplicas: 3, targetAverageValue: 8 },
  },
  group,
);

describe("the fleet's alerts as a PrometheusRule per service", () => {
  it("the same alert names and thresholds as on hosts, by pod", () => {
    expect(renderKubernetesAlerts(planned, "nim").map((r) => [r.alert, r.expr, r.for, r.labels.severity])).toEqual([
      [
        "GpuMemoryAboveReservation",
        'DCGM_FI_DEV_FB_USED{namespace="nim",pod=~"llm-[a-z0-9]+(-[a-z0-9]+)?"} > 20590',
        "5m",
        "critical",
      ],
      [
        "GpuTemperatureHigh",
        'DCGM_FI_DEV_GPU_TEMP{namespace="nim",pod=~"llm-[a-z0-9]+(-[a-z0-9]+)?"} > 83',
        "2m",
        "critical",
      ],
      ["NimNotReady", 'up{namespace="nim",service="llm"} == 0', "2m", "critical"],
      [
        "HpaAtMaxReplicas",
        'kube_horizontalpodautoscaler_status_current_replicas{namespace="nim",horizontalpodautoscaler="llm"} >= 3',
        "15m",
        "warning",
      ],
    ]);
    const rule = renderPrometheusRule(planned, "nim");
    expect([rule.apiVersion, rule.kind, rule.metadata.name, rule.spec.groups[0].name]).toEqual([
      "monitoring.coreos.com/v1",
      "PrometheusRule",
      "llm-alerts",
      "gpu-fleet-llm",
    ]);
  });

  it("pass promtool check rules, and promtool test rules fires them on the right series only", () => {
    const rules = stringify(renderPrometheusRule(planned, "nim").spec);
    const tests = stringify({
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: 'DCGM_FI_DEV_FB_USED{namespace="nim",pod="llm-0",gpu="0",Hostname="ip-10-0-1-5"}',
              values: "21000x10",
            },
            {
              series: 'DCGM_FI_DEV_FB_USED{namespace="nim",pod="llm-1",gpu="0",Hostname="ip-10-0-1-6"}',
              values: "20334x10",
            },
            {
              series: 'DCGM_FI_DEV_FB_USED{namespace="nim",pod="emb-0",gpu="0",Hostname="ip-10-0-1-7"}',
              values: "22000x10",
            },
            {
              series:
                'kube_horizontalpodautoscaler_status_current_replicas{namespace="nim",horizontalpodautoscaler="llm"}',
              values: "3x20",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "6m",
              alertname: "GpuMemoryAboveReservation",
              exp_alerts: [
                {
                  exp_labels: {
                    severity: "critical",
                    service: "llm",
                    namespace: "nim",
                    pod: "llm-0",
                    gpu: "0",
                    Hostname: "ip-10-0-1-5",
                  },
                  exp_annotations: {
                    summary: "GPU 0 of pod llm-0 uses 21000 MiB, more than the 20334 MiB the plan reserved for llm",
                    description:
                      "Pod llm-0 of service llm (meta/llama-2-7b-chat) has used 21000 MiB of GPU 0 on node ip-10-0-1-5 for 5m; the plan reserved 20334 MiB per GPU (tolerance 256 MiB).",
                  },
                },
              ],
            },
            { eval_time: "10m", alertname: "HpaAtMaxReplicas", exp_alerts: [] },
            {
              eval_time: "16m",
              alertname: "HpaAtMaxReplicas",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", service: "llm", namespace: "nim", horizontalpodautoscaler: "llm" },
                  exp_annotations: {
                    summary: "Service llm has run at its HPA maximum of 3 replicas for 15m",
                    description:
                      "The HPA of llm wants more than 3 replicas on num_requests_running; node group gpu was planned for that many. Raise maxReplicas and the node group's maxSize together (the plan checks they fit).",
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const dir = writeTree({ "rules.yml": rules, "rules.test.yml": tests }, "gpu-fleet-k8s-alerts-");
    const check = runTool("promtool", ["check", "rules", "rules.yml"], dir);
    expect(check.output).toContain("SUCCESS: 4 rules found");
    const test = runTool("promtool", ["test", "rules", "rules.test.yml"], dir);
    expect(test.output).toContain("SUCCESS");
    expect(test.status).toBe(0);
  });
});
