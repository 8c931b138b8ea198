import { describe, expect, it } from "vitest";
import { catalogEntryFor, metricNamesInPromQL } from "../../renderers/observability";

describe("metricNamesInPromQL", () => {
  it.each<[string, string[]]>([
    ["up", ["up"]],
    ['up{job="nim"} == 0', ["up"]],
    ["vector(20334)", []],
    ["time() - foo_seconds", ["foo_seconds"]],
    [
      'histogram_quantile(0.95, sum by (service, le) (rate(ttft_bucket{host=~"$host"}[$__rate_interval])))',
      ["ttft_bucket"],
    ],
    ["sum(rate(a_total[5m])) by (host) / on(host) group_left(services) b:recorded", ["a_total", "b:recorded"]],
    ['label_replace(x, "dst", "$1", "src", "(.*)")', ["x"]],
    ["a > bool 1e3 and ignoring(gpu) b offset 1h30m", ["a", "b"]],
    ["max_over_time(a[1h:5m]) unless c", ["a", "c"]],
    ["${var} + d{l='it''s'}", ["d"]],
    ["a or a", ["a"]],
    ["-Inf < NaN", []],
  ])("finds the metrics in %s", (expr, names) => {
    expect(metricNamesInPromQL(expr)).toEqual(names);
  });

  it("rejects unbalanced braces", () => {
    expect(() => metricNamesInPromQL('up{job="nim"')).toThrow('PromQL: unbalanced "{" in: up{job="nim"');
  });
});

describe("catalogEntryFor", () => {
  it("finds histogram series by their suffix, but not the bare histogram name", () => {
    expect(catalogEntryFor("time_to_first_token_seconds_bucket")?.name).toBe("time_to_first_token_seconds");
    expect(catalogEntryFor("time_to_first_token_seconds_count")?.exporter).toBe("nim-llm");
    expect(catalogEntryFor("time_to_first_token_seconds")).toBeUndefined();
    expect(catalogEntryFor("DCGM_FI_DEV_FB_USED")?.source).toBe(
      "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv",
    );
    expect(catalogEntryFor("DCGM_FI_DEV_FB_TOTAL")).toBeUndefined();
  });
});
