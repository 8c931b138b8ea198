/**
 * The vectorization job on a host: the vectorizer program (this repository's vectorizer/) runs in a
 * Node.js container against the corpus and the vector store, resuming from its SQLite checkpoint on
 * the data volume. Install and run are separate steps, so a new corpus or new settings re-run only
 * the ingest, which resumes rather than restarts.
 */
import { ENV_NAME, ScriptOptions, scriptPrelude, shQuote } from "../shell";

/** Node 20 with build tools, for better-sqlite3's native module. */
export const VECTORIZER_NODE_IMAGE = "node:20-bookworm";

/**
 * The runtime dependencies of vectorizer/, pinned to what this repository tests with (a test holds
 * them equal to package.json's devDependencies); the job installs exactly these in the container. A
 * constant, so the published package reads no package.json when it loads.
 */
export const VECTORIZER_DEPENDENCIES: Readonly<Record<string, string>> = {
  "@intersystems/intersystems-iris-native": "2.0.3",
  "better-sqlite3": "12.6.2",
  pg: "8.23.1",
  tsx: "4.20.6",
};

export function vectorizerPackageJson(): string {
  const job = { name: "gpu-fleet-vectorizer-job", private: true, dependencies: VECTORIZER_DEPENDENCIES };
  return `${JSON.stringify(job, null, 2)}\n`;
}

export interface VectorizerInstallSpec {
  readonly job: string;
  /** Holds package.json and vectorizer/ (copied by Pulumi); node_modules is installed beside them. */
  readonly appDir: string;
  readonly image: string;
  readonly packageHash: string;
}

export function renderVectorizerInstallScript(spec: VectorizerInstallSpec, options: ScriptOptions = {}): string {
  if (spec.appDir.includes(":"))
    throw new Error(`appDir "${spec.appDir}" must contain no ":" (docker -v splits at it)`);
  return `${scriptPrelude(`install the vectorizer's dependencies for ${spec.job}`, options)}app=${shQuote(spec.appDir)}
image=${shQuote(spec.image)}
package_hash=${shQuote(spec.packageHash)}
stamp=${shQuote(`${spec.appDir}/node_modules/.gpu-fleet-${spec.packageHash}`)}
if [ -f "$stamp" ]; then
  log "unchanged: dependencies $package_hash already installed in $app"
  exit 0
fi
[ -f "$app/package.json" ] || fail "$app/package.json is missing: the program copy did not land"
as_root docker pull -q "$image" >/dev/null || fail "cannot pull $image"
as_root docker run --rm -v "$app:/app" -w /app "$image" npm install --omit=dev --no-audit --no-fund >&2 \\
  || fail "npm install failed in $app"
as_root touch "$stamp"
log "installed dependencies $package_hash in $app"
`;
}

export interface VectorizerRunSpec {
  readonly job: string;
  readonly appDir: string;
  readonly image: string;
  /** Corpus directory on the host, mounted read-only. */
  readonly corpusDir: string;
  /** Checkpoint and logs, on the data volume: what makes a re-run resume. */
  readonly stateDir: string;
  /** 0600 env file with IRIS_PASSWORD (and the embeddings API key, if any). */
  readonly secretEnvFile: string;
  /** Non-secret environment (IRIS_HOST, IRIS_PORT, IRIS_NAMESPACE, IRIS_USERNAME). */
  readonly env: Readonly<Record<string, string>>;
  /** vectorizer CLI arguments after `ingest <corpus>`. */
  readonly args: readonly string[];
}

export function vectorizerContainerName(job: string): string {
  return `gpu-fleet-vectorizer-${job}`;
}

/**
 * Runs one ingest to the end in the foreground. The summary the CLI prints (one JSON line) is the
 * script's stdout, which the component reads back as its output; progress goes to stderr.
 */
export function renderVectorizerRunScript(spec: VectorizerRunSpec, options: ScriptOptions = {}): string {
  const name = vectorizerContainerName(spec.job);
  for (const [what, dir] of [
    ["appDir", spec.appDir],
    ["corpusDir", spec.corpusDir],
    ["stateDir", spec.stateDir],
  ] as const) {
    if (dir.includes(":")) throw new Error(`${what} "${dir}" must contain no ":" (docker -v splits at it)`);
  }
  for (const k of Object.keys(spec.env)) {
    if (!ENV_NAME.test(k))
      throw new Error(`environment variable name "${k}" must be letters, digits and _, not starting with a digit`);
  }
  const flags = [
    "--rm",
    `--name ${shQuote(name)}`,
    "--network host",
    `--env-file ${shQuote(spec.secretEnvFile)}`,
    ...Object.entries(spec.env).map(([k, v]) => `-e ${shQuote(`${k}=${v}`)}`),
    `-v ${shQuote(`${spec.appDir}:/app:ro`)}`,
    `-v ${shQuote(`${spec.corpusDir}:/corpus:ro`)}`,
    `-v ${shQuote(`${spec.stateDir}:/state`)}`,
    "-w /app",
    shQuote(spec.image),
    "node_modules/.bin/tsx vectorizer/cli.ts ingest /corpus",
    "--checkpoint /state/checkpoint.sqlite",
    ...spec.args.map(shQuote),
  ];
  return `${scriptPrelude(`ingest the corpus of ${spec.job} into the vector store`, options)}name=${shQuote(name)}
corpus_dir=${shQuote(spec.corpusDir)}
state_dir=${shQuote(spec.stateDir)}
[ -d "$corpus_dir" ] || fail "corpus directory $corpus_dir does not exist on this host"
as_root install -d -m 0750 "$state_dir"
# A run interrupted by a dropped connection may still hold the name; the checkpoint makes the next one resume.
as_root docker rm -f "$name" >/dev/null 2>&1 || true
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
if ! as_root docker run ${flags.join(" \\\n  ")} > "$summary"; then
  fail "the vectorizer stopped with an error (see above); its checkpoint in $state_dir lets the next run resume"
fi
tail -n 1 "$summary"
log "ingest finished: $(tail -n 1 "$summary")"
`;
}
