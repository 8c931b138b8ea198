import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { SearchHit, Store, StoredChunk } from "./store";
import {
  IRIS_INDEX_EXISTS_SQL,
  IRIS_TABLE_EXISTS_SQL,
  IrisTableName,
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
} from "./irisSql";
import { validateTableName } from "./store";
import type { Connection, IRISObject, Iris } from "@intersystems/intersystems-iris-native";

/** The SQL operations the IRIS store needs; the native implementation is below, tests inject a recorder. */
export interface IrisSql {
  /** Runs a statement; returns the named columns of every row, and the affected row count. */
  run(
    sql: string,
    params: readonly (string | number)[],
    columns?: readonly string[],
  ): { rows: Record<string, unknown>[]; rowCount: number };
  /** Runs `work` in one transaction: a killed client's transaction is rolled back by IRIS. */
  inTransaction(work: () => void): void;
  serverVersion(): string;
  close(): void;
}

/**
 * SQL over InterSystems' official Native API for Node.js (@intersystems/intersystems-iris-native).
 * That API has no SQL call of its own, so statements run through IRIS's dynamic SQL class
 * %SQL.Statement (%Prepare, %Execute with bound parameters, %Next/%Get), invoked as class methods.
 */
export class NativeIrisSql implements IrisSql {
  constructor(
    private readonly connection: Connection,
    private readonly iris: Iris,
  ) {}

  run(
    sql: string,
    params: readonly (string | number)[],
    columns: readonly string[] = [],
  ): { rows: Record<string, unknown>[]; rowCount: number } {
    const statement = this.iris.classMethodObject("%SQL.Statement", "%New") as IRISObject;
    try {
      const status = statement.invokeString("%Prepare", sql);
      if (status !== "1") {
        throw new Error(
          `IRIS rejected the SQL: ${this.iris.classMethodString("%SYSTEM.Status", "GetErrorText", status)}`,
        );
      }
      const result = statement.invokeObject("%Execute", ...params) as IRISObject;
      try {
        const sqlcode = result.getNumber("%SQLCODE") ?? 0;
        if (sqlcode < 0) throw new Error(`IRIS SQLCODE ${sqlcode}: ${result.getString("%Message") ?? ""}`);
        const rows: Record<string, unknown>[] = [];
        if (columns.length > 0) {
          while (result.invokeBoolean("%Next")) {
            rows.push(Object.fromEntries(columns.map((column) => [column, result.invokeObject("%Get", column)])));
          }
        }
        return { rows, rowCount: result.getNumber("%ROWCOUNT") ?? 0 };
      } finally {
        result.close();
      }
    } finally {
      statement.close();
    }
  }

  inTransaction(work: () => void): void {
    this.iris.tStart();
    try {
      work();
      this.iris.tCommit();
    } catch (error) {
      this.iris.tRollback();
      throw error;
    }
  }

  serverVersion(): string {
    return this.iris.getServerVersion();
  }

  close(): void {
    this.connection.close();
  }
}

export interface IrisConnectionInfo {
  host: string;
  port: number;
  namespace: string;
  user: string;
  password: string;
  timeoutMs: number;
}

type IrisNativeModule = typeof import("@intersystems/intersystems-iris-native");

/**
 * Loads the native IRIS client. Its platform detection maps every Linux that is not Ubuntu, RHEL
 * or SLES (Debian, which the node:20 images use) to a binary directory it does not ship; on those
 * we load a shipped glibc build for this CPU (the Ubuntu 22.04 build runs on Debian 12) and hand
 * it to the package in place of its own loader. The package also prints its platform on stdout
 * while loading, which would corrupt the vectorizer's JSON output, so that line is held back.
 */
export function loadIrisNative(): IrisNativeModule {
  const originalLog = console.log;
  console.log = (...args: unknown[]) => {
    if (!(typeof args[0] === "string" && args[0].startsWith("platform = "))) originalLog(...args);
  };
  try {
    try {
      return require("@intersystems/intersystems-iris-native") as IrisNativeModule;
    } catch (error) {
      if (!/irissdk/.test((error as Error).message)) throw error;
      preloadShippedBinary();
      return require("@intersystems/intersystems-iris-native") as IrisNativeModule;
    }
  } finally {
    console.log = originalLog;
  }
}

function preloadShippedBinary(): void {
  const srcDir = dirname(require.resolve("@intersystems/intersystems-iris-native"));
  const binRoot = join(srcDir, "..", "bin");
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const candidates = [`lnxubuntu2204${arch}`, `lnxubuntu2404${arch}`, `lnxrh9${arch}`, `dockerubuntu${arch}`];
  for (const candidate of candidates) {
    const binDir = join(binRoot, candidate);
    if (!existsSync(join(binDir, "irissdk.node"))) continue;
    try {
      const irissdk = require(join(binDir, "irissdk.node")) as { registerBindingsPath(path: string): void };
      irissdk.registerBindingsPath(binDir);
      const loaderPath = join(srcDir, "import_irissdk.js");
      const loader = new (require("node:module") as { new (id: string): NodeJS.Module })(loaderPath);
      loader.filename = loaderPath;
      loader.loaded = true;
      loader.exports = { irissdk };
      require.cache[loaderPath] = loader;
      // The failed first attempt may have cached a half-initialised package entry point.
      delete require.cache[require.resolve("@intersystems/intersystems-iris-native")];
      return;
    } catch {
      // This build does not run here (glibc/OpenSSL); try the next one.
    }
  }
  throw new Error(`no InterSystems IRIS Native API binary in ${binRoot} loads on ${process.platform}/${process.arch}`);
}

/** Opens a connection with the official client. Credentials come from the environment (see cli.ts). */
export function connectIris(info: IrisConnectionInfo): NativeIrisSql {
  const native = loadIrisNative();
  const connection = native.createConnection({
    host: info.host,
    port: info.port,
    ns: info.namespace,
    user: info.user,
    pwd: info.password,
    timeout: info.timeoutMs,
  });
  return new NativeIrisSql(connection, connection.createIris());
}

export class IrisStore implements Store {
  readonly identity: string;
  private readonly name: IrisTableName;

  constructor(
    private readonly sql: IrisSql,
    table: string,
    target: string,
  ) {
    const problem = validateTableName(table);
    if (problem) throw new Error(problem);
    this.name = irisTableName(table);
    this.identity = `iris:${target}/${this.name.schema}.${this.name.table}`;
  }

  async existingDimension(): Promise<number | null> {
    if (!this.tableExists(this.name.table)) return null;
    const { rows } = this.sql.run(irisReadDimensionSql(this.name), [], ["meta_value"]);
    if (rows.length === 0)
      throw new Error(
        `IRIS table ${this.name.schema}.${this.name.table} exists but has no recorded dimension (was it created by the vectorizer?)`,
      );
    return Number(rows[0].meta_value);
  }

  async ensureSchema(dimension: number): Promise<void> {
    const withHnsw = irisSupportsHnsw(this.sql.serverVersion());
    const { tables, indexes } = irisSchemaStatements(this.name, dimension, withHnsw);
    for (const statement of tables) this.sql.run(statement, []);
    for (const index of indexes) {
      const { rows } = this.sql.run(
        IRIS_INDEX_EXISTS_SQL,
        [this.name.schema.toUpperCase(), this.name.table.toUpperCase(), index.name.toUpperCase()],
        ["n"],
      );
      if (Number(rows[0]?.n ?? 0) === 0) this.sql.run(index.sql, []);
    }
    this.sql.run(irisRecordDimensionSql(this.name), [String(dimension)]);
  }

  async upsert(rows: readonly StoredChunk[]): Promise<void> {
    const sql = irisUpsertSql(this.name);
    this.sql.inTransaction(() => {
      for (const row of rows) {
        this.sql.run(sql, [
          row.chunkKey,
          row.source,
          row.position,
          row.contentHash,
          row.text,
          irisVectorText(row.embedding),
        ]);
      }
    });
  }

  async deleteFromPosition(source: string, fromPosition: number): Promise<number> {
    if (!this.tableExists(this.name.table)) return 0;
    return this.sql.run(irisDeleteFromPositionSql(this.name), [source, fromPosition]).rowCount;
  }

  async count(): Promise<number> {
    if (!this.tableExists(this.name.table)) return 0;
    const { rows } = this.sql.run(irisCountSql(this.name), [], ["n"]);
    return Number(rows[0]?.n ?? 0);
  }

  async search(queryVector: readonly number[], topK: number): Promise<SearchHit[]> {
    const text = irisVectorText(queryVector);
    const { rows } = this.sql.run(
      irisSearchSql(this.name, topK),
      [text, text],
      ["source_path", "chunk_position", "chunk_text", "score"],
    );
    return rows.map((row) => ({
      source: String(row.source_path),
      position: Number(row.chunk_position),
      text: String(row.chunk_text),
      score: Number(row.score),
    }));
  }

  async close(): Promise<void> {
    this.sql.close();
  }

  private tableExists(table: string): boolean {
    const { rows } = this.sql.run(IRIS_TABLE_EXISTS_SQL, [this.name.schema.toUpperCase(), table.toUpperCase()], ["n"]);
    return Number(rows[0]?.n ?? 0) > 0;
  }
}
