/** A chunk with its vector, as the store keeps it. */
export interface StoredChunk {
  /** sha256(source, position): the row's key; upserts replace the row with this key. */
  chunkKey: string;
  source: string;
  position: number;
  contentHash: string;
  text: string;
  embedding: readonly number[];
}

export interface SearchHit {
  source: string;
  position: number;
  text: string;
  /** Cosine similarity in [-1, 1]; 1 is the same direction. */
  score: number;
}

/**
 * Where vectors live. Every write is idempotent (an upsert keyed by chunkKey, a delete by source),
 * so replaying any write after a crash leaves the same rows.
 */
export interface Store {
  /** Names the table and server, without credentials; the checkpoint belongs to this store. */
  readonly identity: string;
  /** The vector size of the existing table, or null when it does not exist yet. Reads only. */
  existingDimension(): Promise<number | null>;
  /** Creates the table and indexes when missing. Idempotent. */
  ensureSchema(dimension: number): Promise<void>;
  upsert(rows: readonly StoredChunk[]): Promise<void>;
  /** Deletes the chunks of `source` at `fromPosition` and after; returns how many were deleted. */
  deleteFromPosition(source: string, fromPosition: number): Promise<number>;
  /** Rows in the table; 0 when it does not exist. */
  count(): Promise<number>;
  search(queryVector: readonly number[], topK: number): Promise<SearchHit[]>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The longest table name: the stores derive index names from it (`<table>_embedding_hnsw`, 15 more
 * characters) and PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1), which would make
 * two tables' indexes collide.
 */
export const MAX_TABLE_NAME_LENGTH = 48;
/** A schema name as PostgreSQL stores it (63 bytes). */
const MAX_SCHEMA_NAME_LENGTH = 63;

/**
 * The one rule for a vector table's name (stack config `gpu-fleet:rag.table`, IrisVectorDb's `table`,
 * the vectorizer's `--table`): an identifier, optionally schema-qualified. Both stores render it as a
 * delimited identifier (in double quotes), so SQL reserved words such as `Order` or `user` are fine.
 * Returns the problem, or null.
 */
export function validateTableName(table: string): string | null {
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p)))
    return `table name must be an identifier (letters, digits, _), optionally schema.table, got "${table}"`;
  const name = parts[parts.length - 1];
  if (name.length > MAX_TABLE_NAME_LENGTH)
    return `table name "${name}" has ${name.length} characters; at most ${MAX_TABLE_NAME_LENGTH} (index names add up to 15 to it, and PostgreSQL cuts identifiers at 63)`;
  if (parts.length === 2 && parts[0].length > MAX_SCHEMA_NAME_LENGTH)
    return `schema name "${parts[0]}" has ${parts[0].length} characters; at most ${MAX_SCHEMA_NAME_LENGTH}`;
  return null;
}

export const DEFAULT_TABLE = "vectorizer_chunks";
