import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgVectorStore } from "../../vectorizer/stores/pgvector";
import { PgliteServer } from "./helpers/pglite";

// SQL reserved words as table names (issue 14 item 9): the store renders them as delimited identifiers,
// against real PostgreSQL + pgvector (PGlite over the wire protocol).
let pg: PgliteServer;
beforeAll(async () => {
  pg = await new PgliteServer().start();
});
afterAll(async () => {
  await pg?.stop();
});

describe("pgvector tables named by SQL reserved words", () => {
  it.each([
    ["Order", "order"],
    ["public.user", "user"],
  ])("%s: schema, upsert, count, search and dimension all work", async (table, stored) => {
    const store = new PgVectorStore(table, { connectionString: pg.url }, 2);
    try {
      expect(await store.existingDimension()).toBeNull();
      expect(await store.count()).toBe(0);
      await store.ensureSchema(3);
      await store.ensureSchema(3);
      await store.upsert([
        {
          chunkKey: "a".repeat(64),
          source: "a.txt",
          position: 0,
          contentHash: "b".repeat(64),
          text: "hi",
          embedding: [1, 0, 0],
        },
      ]);
      expect(await store.existingDimension()).toBe(3);
      expect(await store.count()).toBe(1);
      expect(await store.search([1, 0, 0], 1)).toEqual([{ source: "a.txt", position: 0, text: "hi", score: 1 }]);
      expect(await store.deleteFromPosition("a.txt", 0)).toBe(1);
      const indexes = await pg.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname",
        [stored],
      );
      expect(indexes.map((i) => i.indexname)).toEqual([
        `${stored}_embedding_hnsw`,
        `${stored}_pkey`,
        `${stored}_source`,
      ]);
    } finally {
      await store.close();
    }
  });

  it("refuses a name that is not an identifier before connecting", () => {
    expect(() => new PgVectorStore('x"; DROP TABLE y; --', { connectionString: pg.url }, 1)).toThrow(
      new Error(
        'table name must be an identifier (letters, digits, _), optionally schema.table, got "x"; DROP TABLE y; --"',
      ),
    );
  });
});
