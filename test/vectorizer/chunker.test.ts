import { describe, expect, it } from "vitest";
import { chunkDocument, chunkKeyOf, normalizeText, sha256Hex, validateChunkingOptions } from "../../vectorizer/chunker";

const opts = { maxChars: 40, overlapChars: 10 };

describe("chunkDocument", () => {
  it("cuts at sentence and word boundaries, overlapping from a word start", () => {
    const text = "GPUs run models. NIM serves them over HTTP. Vectors go to IRIS or pgvector for search.";
    const chunks = [...chunkDocument("a.txt", text, opts)].map((c) => c.text);
    expect(chunks).toEqual([
      "GPUs run models. NIM serves them over",
      "over HTTP. Vectors go to IRIS or",
      "IRIS or pgvector for search.",
    ]);
  });

  it("gives every chunk an identity from source, position and content hash", () => {
    const [first, second] = [
      ...chunkDocument("docs/a.md", "alpha beta gamma delta epsilon zeta eta theta iota kappa", opts),
    ];
    expect(first.position).toBe(0);
    expect(second.position).toBe(1);
    expect(first.chunkKey).toBe(sha256Hex("docs/a.md\u00000"));
    expect(first.chunkKey).toBe(chunkKeyOf("docs/a.md", 0));
    expect(first.contentHash).toBe(sha256Hex(first.text));
    expect(first.chunkKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is deterministic and ignores line-ending and trailing-space differences", () => {
    const unix = [...chunkDocument("a", "one two\nthree four five six seven eight nine ten eleven", opts)];
    const windows = [...chunkDocument("a", "one two  \r\nthree four five six seven eight nine ten eleven\r\n", opts)];
    expect(windows).toEqual(unix);
  });

  it("returns nothing for empty or blank text", () => {
    expect([...chunkDocument("a", "", opts)]).toEqual([]);
    expect([...chunkDocument("a", " \n\t\n ", opts)]).toEqual([]);
  });

  it("hard-cuts text without whitespace and still terminates", () => {
    const chunks = [...chunkDocument("a", "x".repeat(100), opts)].map((c) => c.text.length);
    expect(chunks).toEqual([40, 40, 20]);
  });

  it("normalizes CRLF, CR and trailing blanks", () => {
    expect(normalizeText("  a \r\nb\rc\t\n")).toBe("a\nb\nc");
  });

  it("rejects unusable chunking options with the reason", () => {
    expect(validateChunkingOptions({ maxChars: 10, overlapChars: 0 })).toBe(
      "chunk size must be an integer of at least 20 characters, got 10",
    );
    expect(validateChunkingOptions({ maxChars: 100, overlapChars: 50 })).toBe(
      "chunk overlap must be an integer from 0 to less than half the chunk size (100), got 50",
    );
    expect(validateChunkingOptions({ maxChars: 100, overlapChars: 49 })).toBeNull();
  });
});
