// One YAML style for every rendered file.

import { stringify } from "yaml";

/**
 * YAML with every value on one line: a PromQL expression or an alert text folded over several
 * lines is harder to read, to grep and to diff. yamllint's relaxed profile reports such lines
 * as line-length warnings, never errors; the tests allow exactly those warnings. An object used
 * twice is written out twice, never as a `&anchor`/`*alias` pair a reader has to resolve.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}
