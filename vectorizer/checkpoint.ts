import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** What the checkpoint knows about one document. */
export interface DocumentState {
  docHash: string;
  chunkCount: number;
  status: "pending" | "done";
}

export interface DoneChunk {
  chunkKey: string;
  source: string;
  position: number;
  contentHash: string;
}

/**
 * Progress of ingestion, in SQLite with a write-ahead log: a `kill -9` at any instant leaves
 * either the state before or after each transaction, never half of one.
 *
 * The checkpoint only ever lags the store (chunks are recorded after the store confirmed them,
 * and forgotten before the store deletes them). A lagging checkpoint costs a re-embedding of
 * a few chunks, never a lost or duplicated vector, because store writes are upserts.
 */
export class Checkpoint {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<Checkpoint["prepare"]>;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL is durable against a killed process (what we must survive); an OS crash may lose the
    // last transactions, which only means re-embedding them.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS documents (
        source TEXT PRIMARY KEY,
        doc_hash TEXT NOT NULL,
        chunk_count INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
        seen_run INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS chunks (
        chunk_key TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        position INTEGER NOT NULL,
        content_hash TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks (source, position);
    `);
    this.statements = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      getDocument: db.prepare<[string], { doc_hash: string; chunk_count: number; status: "pending" | "done" }>(
        "SELECT doc_hash, chunk_count, status FROM documents WHERE source = ?",
      ),
      beginDocument: db.prepare(
        `INSERT INTO documents (source, doc_hash, chunk_count, status, seen_run) VALUES (?, ?, 0, 'pending', ?)
         ON CONFLICT (source) DO UPDATE SET doc_hash = excluded.doc_hash, status = 'pending', seen_run = excluded.seen_run`,
      ),
      touchDocument: db.prepare("UPDATE documents SET seen_run = ? WHERE source = ?"),
      finishDocument: db.prepare(
        "UPDATE documents SET status = 'done', chunk_count = ? WHERE source = ? AND doc_hash = ?",
      ),
      chunkHash: db.prepare<[string], { content_hash: string }>("SELECT content_hash FROM chunks WHERE chunk_key = ?"),
      upsertChunk: db.prepare(
        `INSERT INTO chunks (chunk_key, source, position, content_hash) VALUES (?, ?, ?, ?)
         ON CONFLICT (chunk_key) DO UPDATE SET content_hash = excluded.content_hash`,
      ),
      forgetChunksFrom: db.prepare("DELETE FROM chunks WHERE source = ? AND position >= ?"),
      forgetDocument: db.prepare("DELETE FROM documents WHERE source = ?"),
      unseenSources: db.prepare<[number], { source: string }>(
        "SELECT source FROM documents WHERE seen_run <> ? ORDER BY source",
      ),
      countChunks: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM chunks"),
    };
  }

  getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  /** Forgets all progress (settings changed, or the store lost rows the checkpoint claims). */
  reset(): void {
    this.db.exec("DELETE FROM chunks; DELETE FROM documents;");
  }

  /** Each run gets a number; documents not seen by a completed run were removed from the corpus. */
  startRun(): number {
    const run = Number(this.getMeta("run") ?? "0") + 1;
    this.setMeta("run", String(run));
    return run;
  }

  document(source: string): DocumentState | undefined {
    const row = this.statements.getDocument.get(source);
    return row && { docHash: row.doc_hash, chunkCount: row.chunk_count, status: row.status };
  }

  isChunkDone(chunkKey: string, contentHash: string): boolean {
    return this.statements.chunkHash.get(chunkKey)?.content_hash === contentHash;
  }

  /** One transaction: documents whose chunking started, and unchanged documents seen by this run. */
  recordDocuments(begun: readonly { source: string; docHash: string }[], seen: readonly string[], run: number): void {
    this.db.transaction(() => {
      for (const doc of begun) this.statements.beginDocument.run(doc.source, doc.docHash, run);
      for (const source of seen) this.statements.touchDocument.run(run, source);
    })();
  }

  /**
   * One transaction: chunks the store confirmed, and documents whose every chunk is now stored.
   * Called only after the store write, so the checkpoint never runs ahead of the store.
   */
  recordProgress(
    chunks: readonly DoneChunk[],
    finished: readonly { source: string; docHash: string; chunkCount: number }[],
  ): void {
    this.db.transaction(() => {
      for (const c of chunks) this.statements.upsertChunk.run(c.chunkKey, c.source, c.position, c.contentHash);
      for (const d of finished) this.statements.finishDocument.run(d.chunkCount, d.source, d.docHash);
    })();
  }

  /** Positions at or past the new chunk count belong to an older, longer version of the document. */
  forgetChunksFrom(source: string, position: number): void {
    this.statements.forgetChunksFrom.run(source, position);
  }

  forgetDocument(source: string): void {
    const forget = this.db.transaction(() => {
      this.statements.forgetChunksFrom.run(source, 0);
      this.statements.forgetDocument.run(source);
    });
    forget();
  }

  sourcesNotSeenIn(run: number): string[] {
    return this.statements.unseenSources.all(run).map((row) => row.source);
  }

  doneChunkCount(): number {
    return this.statements.countChunks.get()?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }
}
