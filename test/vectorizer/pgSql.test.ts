import { describe, expect, it } from "vitest";
import {
  parseVectorType,
  pgCountSql,
  pgDeleteFromPositionSql,
  pgSchemaSql,
  pgSearchSql,
  pgTableRef,
  pgUpsertSql,
  pgVectorLiteral,
} from "../../vectorizer/stores/pgSql";
import { validateTableName } from "../../vectorizer/stores/store";

describe("pgvector SQL", () => {
  it("creates the table, the source index and an HNSW cosine index", () => {
    expect(pgSchemaSql("vectorizer_chunks", 1024)).toEqual([
      "CREATE EXTENSION IF NOT EXISTS vector",
      `CREATE TABLE IF NOT EXISTS "vectorizer_chunks" (
  chunk_key CHAR(64) PRIMARY KEY,
  source_path TEXT NOT NULL,
  chunk_position INTEGER NOT NULL,
  content_hash CHAR(64) NOT NULL,
  chunk_text TEXT NOT NULL,
  embedding vector(1024) NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`,
      'CREATE INDEX IF NOT EXISTS "vectorizer_chunks_source" ON "vectorizer_chunks" (source_path, chunk_position)',
      'CREATE INDEX IF NOT EXISTS "vectorizer_chunks_embedding_hnsw" ON "vectorizer_chunks" USING hnsw (embedding vector_cosine_ops)',
    ]);
  });

  it("skips HNSW above pgvector's 2000-dimension limit", () => {
    expect(pgSchemaSql("rag.chunks", 3072).at(-1)).toBe(
      'CREATE INDEX IF NOT EXISTS "chunks_source" ON "rag"."chunks" (source_path, chunk_position)',
    );
  });

  it("upserts a batch in one statement keyed by chunk_key", () => {
    expect(pgUpsertSql("t", 2))
      .toBe(`INSERT INTO "t" (chunk_key, source_path, chunk_position, content_hash, chunk_text, embedding) VALUES ($1, $2, $3, $4, $5, $6::vector), ($7, $8, $9, $10, $11, $12::vector)
ON CONFLICT (chunk_key) DO UPDATE SET source_path = EXCLUDED.source_path, chunk_position = EXCLUDED.chunk_position, content_hash = EXCLUDED.content_hash, chunk_text = EXCLUDED.chunk_text, embedding = EXCLUDED.embedding, updated_at = now()`);
  });

  it("orders search by cosine distance and reports similarity", () => {
    expect(pgSearchSql("t")).toBe(
      'SELECT source_path, chunk_position, chunk_text, 1 - (embedding <=> $1::vector) AS score FROM "t" ORDER BY embedding <=> $1::vector LIMIT $2',
    );
    expect(pgVectorLiteral([0.25, -3, 1e-9])).toBe("[0.25,-3,1e-9]");
  });

  it("reads the dimension from the column type", () => {
    expect(parseVectorType("vector(1024)")).toBe(1024);
    expect(parseVectorType("halfvec(1024)")).toBeNull();
    expect(parseVectorType(undefined)).toBeNull();
  });

  it("accepts only plain table identifiers", () => {
    expect(validateTableName("rag.chunks_v2")).toBeNull();
    expect(validateTableName("chunks; DROP TABLE x")).toBe(
      'table name must be an identifier (letters, digits, _), optionally schema.table, got "chunks; DROP TABLE x"',
    );
  });

  it.each([
    ['chunks"; DROP TABLE x; --', 'got "chunks"; DROP TABLE x; --"'],
    ["a.b.c", 'got "a.b.c"'],
    ["9lives", 'got "9lives"'],
    ["", 'got ""'],
  ])("refuses %j", (table, got) => {
    expect(validateTableName(table)).toBe(
      `table name must be an identifier (letters, digits, _), optionally schema.table, ${got}`,
    );
  });

  it("keeps derived index names within PostgreSQL's 63-byte identifiers", () => {
    expect(validateTableName("t".repeat(48))).toBeNull();
    expect(validateTableName(`rag.${"t".repeat(49)}`)).toBe(
      `table name "${"t".repeat(49)}" has 49 characters; at most 48 (index names add up to 15 to it, and PostgreSQL cuts identifiers at 63)`,
    );
  });

  it("quotes reserved words as delimited identifiers, folded as PostgreSQL folds unquoted names", () => {
    expect(validateTableName("Order")).toBeNull();
    expect(validateTableName("public.user")).toBeNull();
    expect(pgTableRef("Order")).toBe('"order"');
    expect(pgTableRef("public.user")).toBe('"public"."user"');
    expect(pgCountSql("Order")).toBe('SELECT COUNT(*)::bigint AS n FROM "order"');
    expect(pgDeleteFromPositionSql("public.user")).toBe(
      'DELETE FROM "public"."user" WHERE source_path = $1 AND chunk_position >= $2',
    );
  });
});
