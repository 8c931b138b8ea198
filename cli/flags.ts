/**
 * The flag reader the CLIs share: `--name value` options and `--json`, nothing else. Every mistake is an
 * error of the CLI's own usage class (so it exits 2 with its usage line) naming the flag and what is allowed.
 */
export interface Flags {
  readonly values: ReadonlyMap<string, string>;
  readonly json: boolean;
}

export function readFlags(
  argv: readonly string[],
  options: readonly string[],
  usageError: new (message: string) => Error,
): Flags {
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (options.includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new usageError(`${a} needs a value`);
      values.set(a, v);
    } else throw new usageError(`unknown argument ${a}; allowed: ${options.join(", ")}, --json`);
  }
  return { values, json };
}
