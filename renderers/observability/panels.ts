// Small typed builders for Grafana panels. Every panel is checked by tsc against @grafana/schema's
// published types: the dashboard and panel shapes (`Dashboard`, `Panel`), and the options of the
// time series and stat plugins. Only types are imported: the renderers never load Grafana's code.

import type {
  DataQuery,
  DataSourceRef,
  FieldColorModeId,
  GraphFieldConfig,
  GraphThresholdsStyleMode,
  GridPos,
  LegendDisplayMode,
  Panel,
  SortOrder,
  ThresholdsConfig,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableModel,
  VariableRefresh,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  PercentChangeColorMode,
  VizOrientation,
} from "@grafana/schema";
import type { Options as TimeSeriesOptions } from "@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/types.gen";
import type { Options as StatOptions } from "@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/types.gen";

/** The provisioned Prometheus datasource's uid; dashboards refer to it by this, never by name. */
export const PROMETHEUS_DATASOURCE_UID = "gpu-fleet-prometheus";
export const PROMETHEUS_DATASOURCE: DataSourceRef = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };

/**
 * A string enum's value from its literal. Grafana's schema declares options as TypeScript enums;
 * importing their runtime objects would make the renderer load Grafana's package. The template
 * literal type `${E}` is exactly the enum's values, so a misspelt literal fails to compile.
 */
export function enumValue<E extends string>(value: `${E}`): E {
  return value as E;
}

/** A Prometheus query as Grafana's Prometheus datasource stores it (the schema package has no
 *  Prometheus query type; panels take targets as records, so the type says both). */
export type PrometheusQuery = DataQuery &
  Record<string, unknown> & {
    readonly expr: string;
    readonly legendFormat: string;
    readonly range: boolean;
    readonly instant: boolean;
  };

export function promQuery(refId: string, expr: string, legendFormat: string): PrometheusQuery {
  return { refId, datasource: PROMETHEUS_DATASOURCE, expr, legendFormat, range: true, instant: false };
}

export type TimeSeriesPanel = Omit<Panel<TimeSeriesOptions, GraphFieldConfig & Record<string, unknown>>, "targets"> & {
  type: "timeseries";
  targets: PrometheusQuery[];
};
export type StatPanel = Omit<Panel<StatOptions, Record<string, unknown>>, "targets"> & {
  type: "stat";
  targets: PrometheusQuery[];
};
export type FleetPanel = TimeSeriesPanel | StatPanel;

function asPanelOptions<T extends object>(options: T): Record<string, unknown> {
  return { ...options } as Record<string, unknown>;
}

function thresholds(redAbove: number | undefined): ThresholdsConfig {
  const steps: ThresholdsConfig["steps"] = [{ color: "green", value: null }];
  if (redAbove !== undefined) steps.push({ color: "red", value: redAbove });
  return { mode: enumValue<ThresholdsMode>("absolute"), steps };
}

export interface TimeSeriesSpec {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id, e.g. `s`, `percent`, `percentunit`, `mbytes` (MiB), `celsius`, `watt`. */
  readonly unit: string;
  readonly queries: readonly PrometheusQuery[];
  readonly min?: number;
  readonly max?: number;
  /** Draws a red line at this value (an alert threshold). */
  readonly thresholdLine?: number;
  /** Series whose display name matches this regex are drawn dashed (planned values). */
  readonly dashedSeriesRegex?: string;
}

export function timeSeriesPanel(id: number, gridPos: GridPos, spec: TimeSeriesSpec): TimeSeriesPanel {
  const options: TimeSeriesOptions = {
    legend: {
      displayMode: enumValue<LegendDisplayMode>("table"),
      placement: "bottom",
      showLegend: true,
      calcs: ["lastNotNull", "max"],
    },
    tooltip: { mode: enumValue<TooltipDisplayMode>("multi"), sort: enumValue<SortOrder>("desc") },
  };
  const custom: GraphFieldConfig & Record<string, unknown> = {
    lineWidth: 1,
    fillOpacity: 10,
    thresholdsStyle: { mode: enumValue<GraphThresholdsStyleMode>(spec.thresholdLine === undefined ? "off" : "line") },
  };
  return {
    id,
    type: "timeseries",
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: PROMETHEUS_DATASOURCE,
    targets: [...spec.queries],
    options: asPanelOptions(options),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        color: { mode: enumValue<FieldColorModeId>("palette-classic") },
        thresholds: thresholds(spec.thresholdLine),
        custom,
      },
      overrides:
        spec.dashedSeriesRegex === undefined
          ? []
          : [
              {
                matcher: { id: "byRegexp", options: spec.dashedSeriesRegex },
                properties: [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }],
              },
            ],
    },
  };
}

export interface StatSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly PrometheusQuery[];
  readonly min?: number;
  readonly max?: number;
  readonly redAbove?: number;
}

export function statPanel(id: number, gridPos: GridPos, spec: StatSpec): StatPanel {
  const options: StatOptions = {
    reduceOptions: { calcs: ["lastNotNull"], values: false },
    orientation: enumValue<VizOrientation>("auto"),
    colorMode: enumValue<BigValueColorMode>("value"),
    graphMode: enumValue<BigValueGraphMode>("area"),
    justifyMode: enumValue<BigValueJustifyMode>("auto"),
    textMode: enumValue<BigValueTextMode>("value_and_name"),
    percentChangeColorMode: enumValue<PercentChangeColorMode>("standard"),
    showPercentChange: false,
    wideLayout: true,
  };
  return {
    id,
    type: "stat",
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: PROMETHEUS_DATASOURCE,
    targets: [...spec.queries],
    options: asPanelOptions(options),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        color: { mode: enumValue<FieldColorModeId>("thresholds") },
        thresholds: thresholds(spec.redAbove),
      },
      overrides: [],
    },
  };
}

/** Lays panels out left to right, two per row, 12 columns wide and 8 high each. */
export function gridPositions(count: number, width = 12, height = 8): GridPos[] {
  const perRow = Math.floor(24 / width);
  return Array.from({ length: count }, (_, i) => ({
    x: (i % perRow) * width,
    y: Math.floor(i / perRow) * height,
    w: width,
    h: height,
  }));
}

/**
 * A dashboard variable listing the values of `label` on `selector`'s series, e.g. every host that
 * runs a NIM. `selector` is PromQL; `variableSelector` gives it back for the catalog check.
 */
export function labelValuesVariable(name: string, label: string, selector: string, title: string): VariableModel {
  return {
    type: "query",
    name,
    label: title,
    datasource: PROMETHEUS_DATASOURCE,
    query: {
      qryType: 1,
      query: `label_values(${selector}, ${label})`,
      refId: "PrometheusVariableQueryEditor-VariableQuery",
    },
    refresh: enumValueNumber<VariableRefresh>(2), // on time range change: hosts and services come and go
    includeAll: true,
    multi: true,
    allValue: ".*",
    current: { text: "All", value: "$__all" },
  };
}

/** Numeric enums accept their numbers directly; this only documents the intent at call sites. */
function enumValueNumber<E extends number>(value: E): E {
  return value;
}

/** The series selector inside a `label_values(selector, label)` variable query. */
export function variableSelector(variable: VariableModel): string {
  const query = typeof variable.query === "string" ? variable.query : String(variable.query?.["query"] ?? "");
  const match = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query);
  if (match === null)
    throw new Error(`variable "${variable.name}": expected label_values(selector, label), got "${query}".`);
  return match[1];
}
