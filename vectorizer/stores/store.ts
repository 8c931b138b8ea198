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

/** Table names go into SQL text: allow only plain identifiers, optionally schema-qualified. */
export function validateTableName(table: string): string | null {
  return /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(table)
    ? null
    : `table name must be an identifier (letters, digits, _), optionally schema.table, got "${table}"`;
}

export const DEFAULT_TABLE = "vectorizer_chunks";
