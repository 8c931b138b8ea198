import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MockRecorder,
  isSecretInput,
  isSecretOutput,
  promiseOf,
  settle,
  setupMocks,
  resourcesRevealing,
} from "../helpers/pulumiMocks";

let mocks: MockRecorder;
let fleet: typeof import("../../fleet");
let components: typeof import("../../components");

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const IRIS_PASSWORD = 'iris-TEST-"quoted"-password';

const shellcheck = (script: string) =>
  spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });

beforeAll(async () => {
  mocks = await setupMocks();
  fleet = await import("../../fleet");
  components = await import("../../components");
});

describe("IrisVectorDb on an existing host", () => {
  let db: import("../../components").IrisVectorDb;

  beforeAll(async () => {
    const plan = fleet.planFleet(
      fleet.validateFleetConfig({
        ngcApiKey: "secret",
        hosts: [{ name: "dgx", existing: { address: "10.0.0.5", user: "ubuntu", gpu: "A100-SXM4-80GB", gpuCount: 8 } }],
        services: [],
      }),
    );
    const host = new components.GpuHost("dgx", { ...plan.hosts[0].args, sshPrivateKey: pulumi.secret(PRIVATE_KEY) });
    db = new components.IrisVectorDb("rag", {
      host,
      password: pulumi.secret(IRIS_PASSWORD),
      embeddingModel: "nvidia/nv-embedqa-e5-v5",
    });
    await promiseOf(db.metricsUrl);
    await settle();
  });

  it("registers the password, the container, the credentials and the schema steps", () => {
    expect(
      mocks.registrations
        .filter((r) => r.name.startsWith("rag"))
        .map((r) => r.name)
        .sort(),
    ).toEqual(["rag", "rag-container", "rag-credentials", "rag-password", "rag-schema"].sort());
  });

  it("runs IRIS Community CPU-only with durable data on the data volume and private ports", () => {
    const create = mocks.byName("rag-container").inputs.create as string;
    expect(create).toContain("image='intersystems/iris-community:2025.1'");
    expect(create).toContain(`-e 'ISC_DATA_DIRECTORY=/durable/iris'`);
    expect(create).toContain(`-v '/data/databases/rag:/durable'`);
    expect(create).toContain(`as_root install -d -m 0750 -o 51773 '/data/databases/rag'`);
    expect(create).toContain(`-p "$bind:52773:52773"`);
    expect(create).toContain(`-p "$bind:1972:1972"`);
    expect(create).toContain(`health_url="http://$bind:52773/api/monitor/metrics"`);
    expect(create).not.toContain("--gpus");
    expect(shellcheck(create).stdout).toBe("");
  });

  it("replaces the default credentials from a secret that never leaves stdin and memory", () => {
    const password = mocks.byName("rag-password").inputs;
    expect(isSecretInput(password.stdin)).toBe(true);
    expect(password.stdin.value).toBe(IRIS_PASSWORD);
    expect(resourcesRevealing(mocks, "quoted")).toEqual([]);
    const credentials = mocks.byName("rag-credentials").inputs.create as string;
    expect(credentials).toContain(`pw="$(as_root cat '/etc/gpu-fleet/iris/rag.password')"`);
    expect(credentials).toContain(`printf 'set pw="%s"\\n' "$pw_literal"`);
    expect(credentials).toContain(`for u="_SYSTEM","SuperUser","Admin","CSPSystem","IAM"`);
    expect(credentials).toContain(
      `| as_root docker exec -i "$name" iris session IRIS -U '%SYS' 2>&1 | grep -a '^GPU_FLEET_RESULT ' || true)"`,
    );
    expect(shellcheck(credentials).stdout).toBe("");
  });

  it("creates the VECTOR(DOUBLE, 1024) table of nv-embedqa-e5-v5, its indexes only when missing, HNSW from 2024.1", () => {
    const schema = mocks.byName("rag-schema").inputs.create as string;
    expect(schema).toContain(
      `set rs=##class(%SQL.Statement).%ExecDirect(,"CREATE TABLE IF NOT EXISTS ""SQLUser"".""vectorizer_chunks"" ( chunk_key CHAR(64) NOT NULL, source_path VARCHAR(4096) NOT NULL, chunk_position INTEGER NOT NULL, content_hash CHAR(64) NOT NULL, chunk_text VARCHAR(1000000) NOT NULL, embedding VECTOR(DOUBLE, 1024) NOT NULL, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, CONSTRAINT ""vectorizer_chunks_pk"" PRIMARY KEY (chunk_key) )") write "GPU_FLEET_RESULT ",rs.%SQLCODE," table",!`,
    );
    // Inside bash single quotes, SQL's own single quotes are written '"'"'.
    expect(schema).toContain(
      `"INSERT OR UPDATE INTO ""SQLUser"".""vectorizer_chunks_meta"" (meta_key, meta_value) VALUES ('"'"'dimension'"'"', ?)","1024"`,
    );
    expect(schema).toContain(
      `set hnsw=($SYSTEM.Version.GetMajor()>2024)||(($SYSTEM.Version.GetMajor()=2024)&&($SYSTEM.Version.GetMinor()>=1))`,
    );
    expect(schema).toContain(
      `if hnsw { set q=##class(%SQL.Statement).%ExecDirect(,"SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.INDEXES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ? AND UPPER(INDEX_NAME) = ?","SQLUSER","VECTORIZER_CHUNKS","VECTORIZER_CHUNKS_HNSW")`,
    );
    expect(schema).toContain(`failed="$(printf '%s\\n' "$results" | awk '$2 < 0')"`);
    expect(shellcheck(schema).stdout).toBe("");
  });

  it("outputs its connection as a secret and the metrics URL", async () => {
    expect(await isSecretOutput(db.connection)).toBe(true);
    expect(await promiseOf(db.connection)).toEqual({
      host: "10.0.0.5",
      port: 1972,
      namespace: "USER",
      username: "_SYSTEM",
      password: IRIS_PASSWORD,
    });
    expect(await promiseOf(db.metricsUrl)).toBe("http://10.0.0.5:52773/api/monitor/metrics");
    expect(db.dimension).toBe(1024);
    expect(db.table).toBe("vectorizer_chunks");
  });

  it.each([
    [
      { embeddingModel: "meta/llama-3.1-8b-instruct" },
      `IrisVectorDb "bad": embeddingModel "meta/llama-3.1-8b-instruct" is not an embedding model of the catalog; expected one of nvidia/nv-embedqa-e5-v5, sentence-transformers/all-MiniLM-L6-v2`,
    ],
    [
      { embeddingModel: "nvidia/nv-embedqa-e5-v5", table: "chunks; DROP TABLE x" },
      `IrisVectorDb "bad": table "chunks; DROP TABLE x": table name must be an identifier (letters, digits, _), optionally schema.table, got "chunks; DROP TABLE x"`,
    ],
    [
      { embeddingModel: "nvidia/nv-embedqa-e5-v5", webPort: 80 },
      `IrisVectorDb "bad": webPort 80 is not allowed; expected a port from 1024 to 65535`,
    ],
  ])("rejects %j before registering anything", async (bad, message) => {
    const host = { plan: { name: "x" } } as unknown as import("../../components").GpuHost;
    expect(() => new components.IrisVectorDb("bad", { host, password: "x", ...bad })).toThrow(message);
    await settle();
    expect(mocks.registrations.filter((r) => r.name.startsWith("bad"))).toEqual([]);
  });
});
