import { Pool, PoolConfig } from "pg";
import { SearchHit, Store, StoredChunk } from "./store";
import {
  PG_EMBEDDING_TYPE_SQL,
  PG_TABLE_EXISTS_SQL,
  pgTableRef,
  parseVectorType,
  pgCountSql,
  pgDeleteFromPositionSql,
  pgSchemaSql,
  pgSearchSql,
  pgUpsertSql,
  pgVectorLiteral,
} from "./pgSql";
import { validateTableName } from "./store";

/**
 * PostgreSQL with pgvector, through `pg`. Every write is a single statement (no BEGIN/COMMIT): a
 * client killed mid-write leaves no open transaction behind, and each statement is atomic.
 */
export class PgVectorStore implements Store {
  readonly identity: string;
  private readonly pool: Pool;

  /** `config` comes from the environment (VECTORIZER_PG_URL or the PG* variables), never argv. */
  constructor(
    private readonly table: string,
    config: PoolConfig,
    maxConnections: number,
  ) {
    const problem = validateTableName(table);
    if (problem) throw new Error(problem);
    this.pool = new Pool({ ...config, max: maxConnections });
    // An idle client that loses its server emits 'error'; without a listener that would crash the run.
    this.pool.on("error", () => undefined);
    const target = describeTarget(config);
    this.identity = `pgvector:${target}/${table}`;
  }

  async existingDimension(): Promise<number | null> {
    const result = await this.pool.query<{ type: string }>(PG_EMBEDDING_TYPE_SQL, [pgTableRef(this.table)]);
    if (result.rows.length === 0) return null;
    const dimension = parseVectorType(result.rows[0].type);
    if (dimension === null)
      throw new Error(`table ${this.table} has an embedding column of type ${result.rows[0].type}, not vector(N)`);
    return dimension;
  }

  async ensureSchema(dimension: number): Promise<void> {
    for (const sql of pgSchemaSql(this.table, dimension)) await this.pool.query(sql);
  }

  async upsert(rows: readonly StoredChunk[]): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    for (const row of rows) {
      params.push(row.chunkKey, row.source, row.position, row.contentHash, row.text, pgVectorLiteral(row.embedding));
    }
    await this.pool.query(pgUpsertSql(this.table, rows.length), params);
  }

  async deleteFromPosition(source: string, fromPosition: number): Promise<number> {
    if (!(await this.tableExists())) return 0;
    const result = await this.pool.query(pgDeleteFromPositionSql(this.table), [source, fromPosition]);
    return result.rowCount ?? 0;
  }

  async count(): Promise<number> {
    if (!(await this.tableExists())) return 0;
    const result = await this.pool.query<{ n: string }>(pgCountSql(this.table));
    return Number(result.rows[0].n);
  }

  async search(queryVector: readonly number[], topK: number): Promise<SearchHit[]> {
    const result = await this.pool.query<{
      source_path: string;
      chunk_position: number;
      chunk_text: string;
      score: number;
    }>(pgSearchSql(this.table), [pgVectorLiteral(queryVector), topK]);
    return result.rows.map((row) => ({
      source: row.source_path,
      position: row.chunk_position,
      text: row.chunk_text,
      score: Number(row.score),
    }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async tableExists(): Promise<boolean> {
    const result = await this.pool.query<{ exists: boolean }>(PG_TABLE_EXISTS_SQL, [pgTableRef(this.table)]);
    return result.rows[0].exists;
  }
}

/** host:port/database, from whatever the config or the PG* variables say; never the password. */
function describeTarget(config: PoolConfig): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname}:${url.port || "5432"}${url.pathname}`;
    } catch {
      return "postgres";
    }
  }
  const host = config.host ?? process.env.PGHOST ?? "localhost";
  const port = config.port ?? process.env.PGPORT ?? "5432";
  const database = config.database ?? process.env.PGDATABASE ?? process.env.PGUSER ?? "postgres";
  return `${host}:${port}/${database}`;
}
