import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, isSecretInput, promiseOf, settle, setupMocks, resourcesRevealing } from "../helpers/pulumiMocks";
import { VECTORIZER_DEPENDENCIES, vectorizerPackageJson } from "../../renderers/vectorizer/job";
import pkg from "../../package.json";

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const IRIS_PASSWORD = "iris-TEST-password-42";
const API_KEY = "nvapi-TESTEMBEDDINGKEY000000000000000000000000000000000000";
const CORPUS = join(__dirname, "..", "..", "corpus", "sample");

const SUMMARY = {
  documents: 3,
  chunks: 5,
  embedded: 5,
  alreadyDone: 0,
  staleChunksDeleted: 0,
  documentsRemoved: 0,
  malformed: 0,
  cleaned: 0,
  retries: 0,
  dimension: 1024,
  store: "iris SQLUser.vectorizer_chunks",
  elapsedSeconds: 1.5,
  peakRssMiB: 120,
};

beforeAll(async () => {
  mocks = await setupMocks({ commandStdout: { "docs-ingest": `${JSON.stringify(SUMMARY)}\n` } });
  fleet = await import("../../fleet");
  components = await import("../../components");
});

describe("VectorizerJob", () => {
  let store: import("../../components").IrisVectorDb;
  let host: import("../../components").GpuHost;
  let job: import("../../components").VectorizerJob;

  beforeAll(async () => {
    const plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "dgx", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } }],
        services: [],
      }),
    );
    host = new components.GpuHost("dgx", { ...plan.hosts[0].args, sshPrivateKey: pulumi.secret(PRIVATE_KEY) });
    store = new components.IrisVectorDb("iris", {
      host,
      password: pulumi.secret(IRIS_PASSWORD),
      embeddingModel: "nvidia/nv-embedqa-e5-v5",
    });
    job = new components.VectorizerJob("docs", {
      host,
      corpusDir: CORPUS,
      embeddingsEndpoint: "http://10.0.0.5:8001/v1",
      embeddingModel: "nvidia/nv-embedqa-e5-v5",
      embeddingsApiKey: pulumi.secret(API_KEY),
      store,
    });
    await settle();
  });

  it("copies the program, its pinned dependencies and the corpus, then installs and ingests", () => {
    expect(
      mocks.registrations
        .filter((r) => r.name.startsWith("docs"))
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
    ).toEqual(
      [
        "gpu-fleet:index:VectorizerJob docs",
        "command:remote:CopyToRemote docs-program",
        "command:remote:CopyToRemote docs-package",
        "command:remote:CopyToRemote docs-corpus",
        "command:remote:Command docs-install",
        "command:remote:Command docs-secrets",
        "command:remote:Command docs-ingest",
      ].sort(),
    );
    expect(mocks.byName("docs-program").inputs.remotePath).toBe("/data/staging/vectorizer-docs/app");
    expect(mocks.byName("docs-corpus").inputs.remotePath).toBe("/data/staging/vectorizer-docs/corpus");
  });

  it("pins the dependencies the repository tests with", () => {
    for (const [name, version] of Object.entries(VECTORIZER_DEPENDENCIES))
      expect({ name, version }).toEqual({ name, version: (pkg.devDependencies as Record<string, string>)[name] });
    expect(JSON.parse(vectorizerPackageJson())).toEqual({
      name: "gpu-fleet-vectorizer-job",
      private: true,
      dependencies: {
        "@intersystems/intersystems-iris-native": "2.0.3",
        "better-sqlite3": "12.6.2",
        pg: "8.23.1",
        tsx: "4.20.6",
      },
    });
  });

  it("passes the IRIS password and the API key only as secret stdin", () => {
    const secrets = mocks.byName("docs-secrets").inputs;
    expect(isSecretInput(secrets.stdin)).toBe(true);
    expect(secrets.stdin.value).toBe(`IRIS_PASSWORD=${IRIS_PASSWORD}\nNVIDIA_API_KEY=${API_KEY}\n`);
    expect(resourcesRevealing(mocks, IRIS_PASSWORD)).toEqual([]);
    expect(resourcesRevealing(mocks, API_KEY)).toEqual([]);
  });

  it("ingests into IRIS through the embedding endpoint, resuming from the checkpoint on the data volume", () => {
    const ingest = mocks.byName("docs-ingest").inputs;
    const script = ingest.create as string;
    expect(script).toContain(`-v '/data/staging/vectorizer-docs/corpus/sample:/corpus:ro'`);
    expect(script).toContain(`-v '/data/vectorizer/docs:/state'`);
    expect(script).toContain("--checkpoint /state/checkpoint.sqlite");
    expect(script).toContain(`--env-file '/etc/gpu-fleet/vectorizer/docs.env'`);
    expect(script).toContain(
      `-e 'IRIS_HOST=10.0.0.5' \\\n  -e 'IRIS_PORT=1972' \\\n  -e 'IRIS_NAMESPACE=USER' \\\n  -e 'IRIS_USERNAME=_SYSTEM'`,
    );
    expect(script).toContain(
      `'--store' \\\n  'iris' \\\n  '--table' \\\n  'vectorizer_chunks' \\\n  '--endpoint' \\\n  'http://10.0.0.5:8001/v1' \\\n  '--model' \\\n  'nvidia/nv-embedqa-e5-v5' \\\n  '--dimension' \\\n  '1024' \\\n  '--batch-size' \\\n  '50' \\\n  '--concurrency' \\\n  '4' \\\n  '--metrics-host' \\\n  '10.0.0.5' \\\n  '--metrics-port' \\\n  '9464'`,
    );
    expect(ingest.logging).toBe("stderr");
    expect(spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" }).stdout).toBe("");
  });

  it("outputs what the run ingested, read from the vectorizer's summary line", async () => {
    expect(await promiseOf(job.ingested)).toEqual(SUMMARY);
    expect(() => components.parseIngestReport("progress only\n")).toThrow(
      `the vectorizer's last output line is not its JSON summary: "progress only"`,
    );
  });

  it.each([
    [
      { corpusDir: "/no/such/dir" },
      `VectorizerJob "bad": corpusDir "/no/such/dir" is not a directory; expected a local folder of .txt, .md and .jsonl documents`,
    ],
    [
      { embeddingModel: "sentence-transformers/all-MiniLM-L6-v2" },
      `VectorizerJob "bad": sentence-transformers/all-MiniLM-L6-v2 makes 384-dimensional vectors but the store's table holds 1024; they must match`,
    ],
    [{ batchSize: 0 }, `VectorizerJob "bad": batchSize 0 is not allowed; expected a whole number from 1 to 1000`],
    [{ metricsPort: 443 }, `VectorizerJob "bad": metricsPort 443 is not allowed; expected a port from 1024 to 65535`],
  ])("rejects %j before registering anything", async (bad, message) => {
    const args = {
      host,
      corpusDir: CORPUS,
      embeddingsEndpoint: "http://x/v1",
      embeddingModel: "nvidia/nv-embedqa-e5-v5",
      store,
      ...bad,
    };
    expect(() => new components.VectorizerJob("bad", args)).toThrow(message);
    await settle();
    expect(mocks.registrations.filter((r) => r.name.startsWith("bad"))).toEqual([]);
  });
});
