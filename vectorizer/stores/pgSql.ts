/**
 * The SQL the pgvector store sends, as pure functions so tests can pin the exact text. The table
 * name is validated by validateTableName before it gets here and rendered as a delimited identifier;
 * values always travel as parameters.
 */

/** pgvector cannot build an HNSW index on vectors wider than this; wider tables use exact search. */
export const PGVECTOR_HNSW_MAX_DIMENSION = 2000;

function baseName(table: string): string {
  return table.includes(".") ? table.slice(table.indexOf(".") + 1) : table;
}

/**
 * One identifier in double quotes, so reserved words (`order`, `user`) are table names too. It is
 * folded to lower case first, as PostgreSQL folds an unquoted name: `Chunks` keeps naming the table an
 * unquoted `Chunks` created (chunks). validateTableName has ruled out quotes inside.
 */
export function pgIdentifier(name: string): string {
  return `"${name.toLowerCase()}"`;
}

/** `schema.table` or `table` as delimited identifiers; also what to_regclass($1) takes. */
export function pgTableRef(table: string): string {
  return table.split(".").map(pgIdentifier).join(".");
}

function pgIndexName(table: string, suffix: string): string {
  return pgIdentifier(`${baseName(table)}_${suffix}`);
}

export function pgSchemaSql(table: string, dimension: number): string[] {
  if (!Number.isInteger(dimension) || dimension < 1)
    throw new Error(`vector dimension must be a positive integer, got ${dimension}`);
  const statements = [
    "CREATE EXTENSION IF NOT EXISTS vector",
    `CREATE TABLE IF NOT EXISTS ${pgTableRef(table)} (
  chunk_key CHAR(64) PRIMARY KEY,
  source_path TEXT NOT NULL,
  chunk_position INTEGER NOT NULL,
  content_hash CHAR(64) NOT NULL,
  chunk_text TEXT NOT NULL,
  embedding vector(${dimension}) NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`,
    `CREATE INDEX IF NOT EXISTS ${pgIndexName(table, "source")} ON ${pgTableRef(table)} (source_path, chunk_position)`,
  ];
  if (dimension <= PGVECTOR_HNSW_MAX_DIMENSION) {
    statements.push(
      `CREATE INDEX IF NOT EXISTS ${pgIndexName(table, "embedding_hnsw")} ON ${pgTableRef(table)} USING hnsw (embedding vector_cosine_ops)`,
    );
  }
  return statements;
}

/** The declared type of the embedding column, e.g. "vector(1024)"; no row when the table is missing. $1: pgTableRef(table). */
export const PG_EMBEDDING_TYPE_SQL =
  "SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding' AND NOT a.attisdropped";

/** $1: pgTableRef(table). */
export const PG_TABLE_EXISTS_SQL = "SELECT to_regclass($1) IS NOT NULL AS exists";

/** "vector(1024)" → 1024; anything else → null. */
export function parseVectorType(type: string | null | undefined): number | null {
  const match = /^vector\((\d+)\)$/.exec(type ?? "");
  return match ? Number(match[1]) : null;
}

/** One statement for the whole batch: atomic without an explicit transaction, one round trip. */
export function pgUpsertSql(table: string, rowCount: number): string {
  const rows: string[] = [];
  for (let i = 0; i < rowCount; i += 1) {
    const p = i * 6;
    rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}::vector)`);
  }
  return `INSERT INTO ${pgTableRef(table)} (chunk_key, source_path, chunk_position, content_hash, chunk_text, embedding) VALUES ${rows.join(", ")}
ON CONFLICT (chunk_key) DO UPDATE SET source_path = EXCLUDED.source_path, chunk_position = EXCLUDED.chunk_position, content_hash = EXCLUDED.content_hash, chunk_text = EXCLUDED.chunk_text, embedding = EXCLUDED.embedding, updated_at = now()`;
}

export function pgDeleteFromPositionSql(table: string): string {
  return `DELETE FROM ${pgTableRef(table)} WHERE source_path = $1 AND chunk_position >= $2`;
}

export function pgCountSql(table: string): string {
  return `SELECT COUNT(*)::bigint AS n FROM ${pgTableRef(table)}`;
}

/** `<=>` is pgvector's cosine distance (1 − cosine similarity); ordering by it uses the HNSW index. */
export function pgSearchSql(table: string): string {
  return `SELECT source_path, chunk_position, chunk_text, 1 - (embedding <=> $1::vector) AS score FROM ${pgTableRef(table)} ORDER BY embedding <=> $1::vector LIMIT $2`;
}

/** pgvector's text form: "[0.1,0.2,…]". JavaScript's number formatting round-trips exactly. */
export function pgVectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(",")}]`;
}
