/**
 * A lockfile for the consumer project, cut from this repository's own: every package the consumer's
 * dependencies reach, at the place Node resolves it from, with the version, URL and integrity `npm ci`
 * installed here. `npm ci --offline` then installs it from the npm cache alone: no registry metadata.
 */
interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { optional?: boolean }>>;
  readonly [key: string]: unknown;
}

export interface RepoLock {
  readonly packages: Readonly<Record<string, LockEntry>>;
}

/** Where Node finds `name` from a package installed at `from` ("" for the project root). */
function resolveFrom(lock: RepoLock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ""}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const up = dir.lastIndexOf("/node_modules/");
    dir = up < 0 ? "" : dir.slice(0, up);
  }
}

export function consumerLockfile(
  lock: RepoLock,
  root: {
    readonly dependencies: Readonly<Record<string, string>>;
    readonly devDependencies: Readonly<Record<string, string>>;
  },
  tarball: {
    readonly name: string;
    readonly file: string;
    readonly integrity: string;
    readonly manifest: LockEntry;
  },
): object {
  const packages: Record<string, LockEntry> = {};
  const visit = (from: string, names: readonly string[], optional: ReadonlySet<string>) => {
    for (const name of names) {
      const at = resolveFrom(lock, from, name);
      if (!at) {
        if (optional.has(name)) continue;
        throw new Error(`the repository's lockfile has no ${name} reachable from ${from || "the root"}`);
      }
      if (packages[at]) continue;
      // The repository's dev/optional flags say nothing about the consumer's tree.
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock.packages[at];
      packages[at] = entry;
      const peersOptional = Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n);
      visit(
        at,
        [
          ...Object.keys(entry.dependencies ?? {}),
          ...Object.keys(entry.optionalDependencies ?? {}),
          ...Object.keys(entry.peerDependencies ?? {}),
        ],
        new Set([...Object.keys(entry.optionalDependencies ?? {}), ...peersOptional]),
      );
    }
  };
  const libraryPath = `node_modules/${tarball.name}`;
  packages[libraryPath] = {
    version: tarball.manifest.version,
    resolved: `file:${tarball.file}`,
    integrity: tarball.integrity,
    license: tarball.manifest.license,
    dependencies: tarball.manifest.dependencies,
    peerDependencies: tarball.manifest.peerDependencies,
    engines: tarball.manifest.engines,
  };
  visit(
    "",
    [...Object.keys(root.dependencies), ...Object.keys(root.devDependencies)].filter((n) => n !== tarball.name),
    new Set(),
  );
  visit(
    libraryPath,
    Object.keys({ ...tarball.manifest.dependencies, ...tarball.manifest.peerDependencies }),
    new Set(),
  );
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: "consumer",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: "consumer", ...root }, ...sorted },
  };
}
