import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { Client } from "pg";

// The tsconfig resolves modules the Node 10 way, which ignores package "exports" subpaths; load
// the subpath at run time and take its types from the file the export map points at.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { vector } = require("@electric-sql/pglite/vector") as typeof import("@electric-sql/pglite/dist/vector/index");

/**
 * Real PostgreSQL (PGlite, WASM) with the real pgvector extension, reachable over the PostgreSQL
 * wire protocol on 127.0.0.1, so the store is exercised through `pg` exactly as in production.
 */
export class PgliteServer {
  private db: PGlite | null = null;
  private server: PGLiteSocketServer | null = null;
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<this> {
    this.db = await PGlite.create({ extensions: { vector } });
    this.server = new PGLiteSocketServer({ db: this.db, port: 0, host: "127.0.0.1", maxConnections: 32 });
    await this.server.start();
    this.port = Number(this.server.getServerConn().split(":").pop());
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.db?.close();
  }

  /** Runs one query over a fresh wire connection (what a separate psql session would see). */
  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }
}
