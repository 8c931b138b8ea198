// A small PromQL reader: finds the metric names an expression selects, so a test can hold every
// rule and panel query against the metrics catalog. It understands the subset of PromQL we write
// (selectors, functions, aggregations with by/without, vector matching, ranges, offsets, strings)
// and ignores Grafana's `$variables`; it is not a full parser and does not validate syntax —
// promtool does that for the rules.

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
  "atan2",
]);

// Keywords followed by a parenthesised list of label names (not expressions).
const LABEL_LIST_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

const NUMBER_OR_DURATION = /[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[A-Za-z0-9]*/y;

/** Metric names selected by a PromQL expression, in order of first appearance, without repeats. */
export function metricNamesInPromQL(expression: string): string[] {
  const names: string[] = [];
  let i = 0;
  const s = expression;
  const skipBalanced = (open: string, close: string): void => {
    // s[i] === open; move past the matching close, skipping strings inside.
    let depth = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === '"' || c === "'" || c === "`") {
        skipString();
        continue;
      }
      if (c === open) depth++;
      if (c === close) {
        depth--;
        if (depth === 0) {
          i++;
          return;
        }
      }
      i++;
    }
    throw new Error(`PromQL: unbalanced "${open}" in: ${expression}`);
  };
  const skipString = (): void => {
    const quote = s[i];
    i++;
    while (i < s.length && s[i] !== quote) {
      if (s[i] === "\\" && quote !== "`") i++;
      i++;
    }
    if (i >= s.length) throw new Error(`PromQL: unterminated string in: ${expression}`);
    i++;
  };
  const skipSpaces = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };

  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'" || c === "`") {
      skipString();
    } else if (c === "{") {
      skipBalanced("{", "}"); // label matchers
    } else if (c === "[") {
      skipBalanced("[", "]"); // range or subquery duration
    } else if (c === "$") {
      // Grafana variable such as $host or ${host}
      i++;
      if (s[i] === "{") skipBalanced("{", "}");
      else while (i < s.length && /[A-Za-z0-9_]/.test(s[i])) i++;
    } else if (/[0-9.]/.test(c)) {
      // number (0.85, 1e3) or a duration after `offset` (5m, 1h30m): never a metric name
      NUMBER_OR_DURATION.lastIndex = i;
      const match = NUMBER_OR_DURATION.exec(s);
      i = match === null ? i + 1 : i + match[0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const start = i;
      while (i < s.length && /[A-Za-z0-9_:]/.test(s[i])) i++;
      const word = s.slice(start, i);
      const lower = word.toLowerCase();
      skipSpaces();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (s[i] === "(") skipBalanced("(", ")");
      } else if (KEYWORDS.has(lower)) {
        // operator or modifier: nothing to record
      } else if (s[i] === "(" || /^(by|without)\s*\(/i.test(s.slice(i))) {
        // function or aggregation call; an aggregation may carry `by (...)` before or after its
        // arguments, which the keyword branch skips when the loop reaches it.
      } else if (!names.includes(word)) {
        names.push(word);
      }
    } else {
      i++;
    }
  }
  return names;
}
