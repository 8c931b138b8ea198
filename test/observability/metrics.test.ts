import { describe, expect, it } from "vitest";
import { METRIC_CATALOG } from "../../renderers/observability";
import { Progress, renderMetrics } from "../../vectorizer/progress";

describe("metrics catalog", () => {
  it("lists each metric once", () => {
    const names = METRIC_CATALOG.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("matches the names and types the vectorizer really exposes", () => {
    // The vectorizer's own /metrics page, parsed from its # TYPE lines.
    const exposed = Object.fromEntries(
      renderMetrics(new Progress(() => 0).snapshot())
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ").slice(2, 4)),
    );
    const catalogued = Object.fromEntries(
      METRIC_CATALOG.filter((m) => m.exporter === "vectorizer").map((m) => [m.name, m.type]),
    );
    for (const [name, type] of Object.entries(catalogued))
      expect({ name, type: exposed[name] }).toEqual({ name, type });
    expect(Object.keys(catalogued).sort()).toEqual([
      "gpu_fleet_vectorizer_chunks_done_total",
      "gpu_fleet_vectorizer_chunks_embedded_total",
      "gpu_fleet_vectorizer_chunks_total",
      "gpu_fleet_vectorizer_errors_total",
      "gpu_fleet_vectorizer_last_progress_timestamp_seconds",
    ]);
  });

  it("cites the DCGM exporter's default counters for every DCGM field", () => {
    for (const metric of METRIC_CATALOG.filter((m) => m.name.startsWith("DCGM_"))) {
      expect([metric.exporter, metric.source]).toEqual([
        "dcgm-exporter",
        "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv",
      ]);
    }
  });
});
