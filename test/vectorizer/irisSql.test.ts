import { describe, expect, it } from "vitest";
import {
  IRIS_INDEX_EXISTS_SQL,
  IRIS_TABLE_EXISTS_SQL,
  irisCountSql,
  irisDeleteFromPositionSql,
  irisReadDimensionSql,
  irisRecordDimensionSql,
  irisSchemaStatements,
  irisSearchSql,
  irisSupportsHnsw,
  irisTableName,
  irisUpsertSql,
  irisVectorText,
} from "../../vectorizer/stores/irisSql";
import { IrisSql, IrisStore } from "../../vectorizer/stores/iris";

// IRIS cannot run on the build machines: these pin the exact statements sent to it.
const name = irisTableName("vectorizer_chunks");

describe("IRIS schema SQL", () => {
  it("puts unqualified tables in SQLUser", () => {
    expect(irisTableName("vectorizer_chunks")).toEqual({ schema: "SQLUser", table: "vectorizer_chunks" });
    expect(irisTableName("RAG.chunks")).toEqual({ schema: "RAG", table: "chunks" });
  });

  it("creates the table with a VECTOR(DOUBLE, 1024) column and identity columns, idempotently", () => {
    const { tables, indexes } = irisSchemaStatements(name, 1024, true);
    expect(tables).toEqual([
      `CREATE TABLE IF NOT EXISTS "SQLUser"."vectorizer_chunks" (
  chunk_key CHAR(64) NOT NULL,
  source_path VARCHAR(4096) NOT NULL,
  chunk_position INTEGER NOT NULL,
  content_hash CHAR(64) NOT NULL,
  chunk_text VARCHAR(1000000) NOT NULL,
  embedding VECTOR(DOUBLE, 1024) NOT NULL,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "vectorizer_chunks_pk" PRIMARY KEY (chunk_key)
)`,
      `CREATE TABLE IF NOT EXISTS "SQLUser"."vectorizer_chunks_meta" (
  meta_key VARCHAR(64) NOT NULL,
  meta_value VARCHAR(256) NOT NULL,
  CONSTRAINT "vectorizer_chunks_meta_pk" PRIMARY KEY (meta_key)
)`,
    ]);
    expect(indexes).toEqual([
      {
        name: "vectorizer_chunks_source",
        sql: 'CREATE INDEX "vectorizer_chunks_source" ON TABLE "SQLUser"."vectorizer_chunks" (source_path, chunk_position)',
      },
      {
        name: "vectorizer_chunks_hnsw",
        sql: 'CREATE INDEX "vectorizer_chunks_hnsw" ON TABLE "SQLUser"."vectorizer_chunks" (embedding) AS HNSW(Distance=\'Cosine\')',
      },
    ]);
  });

  it("leaves out the HNSW index where IRIS has none (exact search)", () => {
    expect(irisSchemaStatements(name, 768, false).indexes.map((i) => i.name)).toEqual(["vectorizer_chunks_source"]);
    expect(irisSchemaStatements(name, 768, false).tables[0]).toContain("embedding VECTOR(DOUBLE, 768) NOT NULL,");
  });

  it("rejects a dimension that is not a positive integer", () => {
    expect(() => irisSchemaStatements(name, 0, true)).toThrow("vector dimension must be a positive integer, got 0");
  });

  it("knows which versions have HNSW", () => {
    expect(
      irisSupportsHnsw("IRIS for UNIX (Ubuntu Server LTS for x86-64 Containers) 2024.1 (Build 267.2U) Tue Apr 30 2024"),
    ).toBe(true);
    expect(irisSupportsHnsw("2025.1.0.223.0")).toBe(true);
    expect(irisSupportsHnsw("IRIS for UNIX (Ubuntu Server LTS for x86-64 Containers) 2023.3 (Build 254U)")).toBe(false);
    expect(irisSupportsHnsw("unknown")).toBe(false);
  });
});

describe("IRIS data SQL", () => {
  it("upserts on the primary key with TO_VECTOR", () => {
    expect(irisUpsertSql(name)).toBe(
      'INSERT OR UPDATE INTO "SQLUser"."vectorizer_chunks" (chunk_key, source_path, chunk_position, content_hash, chunk_text, embedding) VALUES (?, ?, ?, ?, ?, TO_VECTOR(?, DOUBLE))',
    );
    expect(irisVectorText([0.5, -1, 2e-7])).toBe("0.5,-1,2e-7");
  });

  it("searches with TOP and VECTOR_COSINE, best first", () => {
    expect(irisSearchSql(name, 5)).toBe(
      'SELECT TOP 5 source_path, chunk_position, chunk_text, VECTOR_COSINE(embedding, TO_VECTOR(?, DOUBLE)) AS score FROM "SQLUser"."vectorizer_chunks" ORDER BY VECTOR_COSINE(embedding, TO_VECTOR(?, DOUBLE)) DESC',
    );
    expect(() => irisSearchSql(name, 0)).toThrow("top-k must be a positive integer, got 0");
  });

  it("deletes stale positions, counts, and records the dimension", () => {
    expect(irisDeleteFromPositionSql(name)).toBe(
      'DELETE FROM "SQLUser"."vectorizer_chunks" WHERE source_path = ? AND chunk_position >= ?',
    );
    expect(irisCountSql(name)).toBe('SELECT COUNT(*) AS n FROM "SQLUser"."vectorizer_chunks"');
    expect(irisRecordDimensionSql(name)).toBe(
      'INSERT OR UPDATE INTO "SQLUser"."vectorizer_chunks_meta" (meta_key, meta_value) VALUES (\'dimension\', ?)',
    );
    expect(irisReadDimensionSql(name)).toBe(
      'SELECT meta_value FROM "SQLUser"."vectorizer_chunks_meta" WHERE meta_key = \'dimension\'',
    );
  });
});

/** Stands in for IRIS: records statements, answers catalog queries from a tiny state. */
class RecordingIrisSql implements IrisSql {
  calls: { sql: string; params: readonly (string | number)[] }[] = [];
  transactions = 0;
  tables = new Set<string>();
  indexes = new Set<string>();
  dimension: string | null = null;
  constructor(private readonly version: string) {}
  run(sql: string, params: readonly (string | number)[]) {
    this.calls.push({ sql, params });
    if (sql === IRIS_TABLE_EXISTS_SQL)
      return { rows: [{ n: this.tables.has(String(params[1])) ? 1 : 0 }], rowCount: 1 };
    if (sql === IRIS_INDEX_EXISTS_SQL)
      return { rows: [{ n: this.indexes.has(String(params[2])) ? 1 : 0 }], rowCount: 1 };
    if (sql.startsWith('CREATE TABLE IF NOT EXISTS "SQLUser"."vectorizer_chunks" ('))
      this.tables.add("VECTORIZER_CHUNKS");
    // INFORMATION_SCHEMA lists a delimited name without its quotes.
    if (sql.startsWith("CREATE INDEX ")) this.indexes.add(sql.split(" ")[2].replaceAll('"', "").toUpperCase());
    if (sql.startsWith('INSERT OR UPDATE INTO "SQLUser"."vectorizer_chunks_meta"')) this.dimension = String(params[0]);
    if (sql.startsWith("SELECT meta_value"))
      return { rows: this.dimension ? [{ meta_value: this.dimension }] : [], rowCount: 0 };
    if (sql.startsWith("SELECT TOP"))
      return { rows: [{ source_path: "a.txt", chunk_position: 2, chunk_text: "hello", score: 0.93 }], rowCount: 1 };
    if (sql.startsWith("DELETE")) return { rows: [], rowCount: 3 };
    return { rows: [], rowCount: 1 };
  }
  inTransaction(work: () => void) {
    this.transactions += 1;
    work();
  }
  serverVersion() {
    return this.version;
  }
  close() {}
}

describe("IrisStore", () => {
  it("creates the schema once, skipping indexes that exist, then reports the dimension", async () => {
    const sql = new RecordingIrisSql("IRIS for UNIX 2024.1 (Build 267.2U)");
    const store = new IrisStore(sql, "vectorizer_chunks", "iris:1972/USER");
    expect(store.identity).toBe("iris:iris:1972/USER/SQLUser.vectorizer_chunks");
    expect(await store.existingDimension()).toBeNull();
    await store.ensureSchema(1024);
    await store.ensureSchema(1024);
    const ddl = sql.calls.filter((c) => c.sql.startsWith("CREATE INDEX")).map((c) => c.sql);
    expect(ddl).toEqual([
      'CREATE INDEX "vectorizer_chunks_source" ON TABLE "SQLUser"."vectorizer_chunks" (source_path, chunk_position)',
      'CREATE INDEX "vectorizer_chunks_hnsw" ON TABLE "SQLUser"."vectorizer_chunks" (embedding) AS HNSW(Distance=\'Cosine\')',
    ]);
    expect(sql.calls.find((c) => c.sql === IRIS_INDEX_EXISTS_SQL)?.params).toEqual([
      "SQLUSER",
      "VECTORIZER_CHUNKS",
      "VECTORIZER_CHUNKS_SOURCE",
    ]);
    expect(await store.existingDimension()).toBe(1024);
  });

  it("writes a batch in one transaction with bound parameters and maps search rows", async () => {
    const sql = new RecordingIrisSql("2023.3");
    const store = new IrisStore(sql, "vectorizer_chunks", "h:1972/USER");
    await store.upsert([
      { chunkKey: "k0", source: "a.txt", position: 0, contentHash: "h0", text: "t0", embedding: [1, 0] },
      { chunkKey: "k1", source: "a.txt", position: 1, contentHash: "h1", text: "t1", embedding: [0, 1] },
    ]);
    expect(sql.transactions).toBe(1);
    expect(sql.calls.map((c) => c.params)).toEqual([
      ["k0", "a.txt", 0, "h0", "t0", "1,0"],
      ["k1", "a.txt", 1, "h1", "t1", "0,1"],
    ]);
    expect(await store.search([0.6, 0.8], 3)).toEqual([{ source: "a.txt", position: 2, text: "hello", score: 0.93 }]);
    expect(sql.calls.at(-1)?.params).toEqual(["0.6,0.8", "0.6,0.8"]);
  });
});
