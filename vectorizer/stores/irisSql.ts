/**
 * InterSystems IRIS SQL for the vector store, as pure functions. IRIS cannot run on the machines
 * that build this project, so these statements are tested as exact text; the IrisVectorDb
 * component reuses irisSchemaStatements() to create the same schema the vectorizer expects.
 *
 * Syntax used (IRIS SQL reference): VECTOR(DOUBLE, n) columns, TO_VECTOR(text, DOUBLE),
 * VECTOR_COSINE(a, b) (similarity, 1 = same direction), SELECT TOP n, INSERT OR UPDATE (upsert on
 * the primary key), CREATE TABLE IF NOT EXISTS, and CREATE INDEX … AS HNSW(Distance='Cosine'),
 * which exists from IRIS 2024.1; older versions search exactly (a full scan).
 */

export interface IrisTableName {
  schema: string;
  table: string;
}

/** "vectorizer_chunks" → SQLUser.vectorizer_chunks (IRIS's default schema for SQL tables). */
export function irisTableName(name: string): IrisTableName {
  const dot = name.indexOf(".");
  return dot < 0 ? { schema: "SQLUser", table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/**
 * A delimited identifier (IRIS SQL reference, "Identifiers": a name in double quotes may be an SQL
 * reserved word such as Order or User). validateTableName has ruled out quotes inside.
 */
export function irisIdentifier(name: string): string {
  return `"${name}"`;
}

function qualified(name: IrisTableName): string {
  return `${irisIdentifier(name.schema)}.${irisIdentifier(name.table)}`;
}

/** Side table holding the declared dimension: IRIS's catalog views do not report a VECTOR's length portably. */
export function irisMetaTableName(name: IrisTableName): IrisTableName {
  return { schema: name.schema, table: `${name.table}_meta` };
}

export function irisCreateTableSql(name: IrisTableName, dimension: number): string {
  if (!Number.isInteger(dimension) || dimension < 1)
    throw new Error(`vector dimension must be a positive integer, got ${dimension}`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(name)} (
  chunk_key CHAR(64) NOT NULL,
  source_path VARCHAR(4096) NOT NULL,
  chunk_position INTEGER NOT NULL,
  content_hash CHAR(64) NOT NULL,
  chunk_text VARCHAR(1000000) NOT NULL,
  embedding VECTOR(DOUBLE, ${dimension}) NOT NULL,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT ${irisIdentifier(`${name.table}_pk`)} PRIMARY KEY (chunk_key)
)`;
}

export function irisCreateMetaTableSql(name: IrisTableName): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(irisMetaTableName(name))} (
  meta_key VARCHAR(64) NOT NULL,
  meta_value VARCHAR(256) NOT NULL,
  CONSTRAINT ${irisIdentifier(`${name.table}_meta_pk`)} PRIMARY KEY (meta_key)
)`;
}

/** Parameters: dimension as text. */
export function irisRecordDimensionSql(name: IrisTableName): string {
  return `INSERT OR UPDATE INTO ${qualified(irisMetaTableName(name))} (meta_key, meta_value) VALUES ('dimension', ?)`;
}

/** Parameters: none. One row `meta_value` when the table exists and was created by this schema. */
export function irisReadDimensionSql(name: IrisTableName): string {
  return `SELECT meta_value FROM ${qualified(irisMetaTableName(name))} WHERE meta_key = 'dimension'`;
}

export interface IrisIndex {
  name: string;
  sql: string;
}

/** The source index serves stale-chunk deletes; the HNSW index serves searches. */
export function irisIndexes(name: IrisTableName, withHnsw: boolean): IrisIndex[] {
  const indexes: IrisIndex[] = [
    {
      name: `${name.table}_source`,
      sql: `CREATE INDEX ${irisIdentifier(`${name.table}_source`)} ON TABLE ${qualified(name)} (source_path, chunk_position)`,
    },
  ];
  if (withHnsw) {
    indexes.push({
      name: `${name.table}_hnsw`,
      sql: `CREATE INDEX ${irisIdentifier(`${name.table}_hnsw`)} ON TABLE ${qualified(name)} (embedding) AS HNSW(Distance='Cosine')`,
    });
  }
  return indexes;
}

/** Parameters: schema, table, index name, all upper-cased (IRIS compares identifiers case-insensitively). */
export const IRIS_INDEX_EXISTS_SQL =
  "SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.INDEXES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ? AND UPPER(INDEX_NAME) = ?";

/** Parameters: schema, table, upper-cased. */
export const IRIS_TABLE_EXISTS_SQL =
  "SELECT COUNT(*) AS n FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ?";

/**
 * The whole schema, in order. CREATE TABLE is idempotent by itself; run each index statement only
 * when IRIS_INDEX_EXISTS_SQL counts 0 for its name (CREATE INDEX has no IF NOT EXISTS in every
 * IRIS version). `withHnsw` should be irisSupportsHnsw(version).
 */
export function irisSchemaStatements(
  name: IrisTableName,
  dimension: number,
  withHnsw: boolean,
): { tables: string[]; indexes: IrisIndex[] } {
  return {
    tables: [irisCreateTableSql(name, dimension), irisCreateMetaTableSql(name)],
    indexes: irisIndexes(name, withHnsw),
  };
}

/** HNSW indexes arrived in IRIS 2024.1. Reads the year.release from $ZVERSION-like text. */
export function irisSupportsHnsw(version: string): boolean {
  const match = /\b(20\d\d)\.(\d+)/.exec(version);
  if (!match) return false;
  const year = Number(match[1]);
  const release = Number(match[2]);
  return year > 2024 || (year === 2024 && release >= 1);
}

/** Parameters: chunk_key, source_path, chunk_position, content_hash, chunk_text, vector text. */
export function irisUpsertSql(name: IrisTableName): string {
  return `INSERT OR UPDATE INTO ${qualified(name)} (chunk_key, source_path, chunk_position, content_hash, chunk_text, embedding) VALUES (?, ?, ?, ?, ?, TO_VECTOR(?, DOUBLE))`;
}

/** Parameters: source_path, first stale position. */
export function irisDeleteFromPositionSql(name: IrisTableName): string {
  return `DELETE FROM ${qualified(name)} WHERE source_path = ? AND chunk_position >= ?`;
}

export function irisCountSql(name: IrisTableName): string {
  return `SELECT COUNT(*) AS n FROM ${qualified(name)}`;
}

/**
 * Parameters: query vector text, twice. TOP takes a literal (validated integer) because not every
 * IRIS version accepts a parameter there; ordering by the VECTOR_COSINE expression is the form the
 * HNSW index serves.
 */
export function irisSearchSql(name: IrisTableName, topK: number): string {
  if (!Number.isInteger(topK) || topK < 1) throw new Error(`top-k must be a positive integer, got ${topK}`);
  return `SELECT TOP ${topK} source_path, chunk_position, chunk_text, VECTOR_COSINE(embedding, TO_VECTOR(?, DOUBLE)) AS score FROM ${qualified(name)} ORDER BY VECTOR_COSINE(embedding, TO_VECTOR(?, DOUBLE)) DESC`;
}

/** TO_VECTOR's input: comma-separated numbers. */
export function irisVectorText(vector: readonly number[]): string {
  return vector.join(",");
}
