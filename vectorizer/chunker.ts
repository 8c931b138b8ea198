import { createHash } from "node:crypto";

/** One piece of a document, small enough to embed, with an identity that survives re-runs. */
export interface Chunk {
  /** Where the document came from: a path relative to the corpus root, `#id` for a jsonl record. */
  source: string;
  /** 0-based index of the chunk inside its document. */
  position: number;
  text: string;
  /** sha256 of `text` (hex). */
  contentHash: string;
  /**
   * sha256 of source + position (hex): the slot the chunk occupies in the store. Upserts are keyed
   * by it, so a changed chunk replaces the old one in place and re-writing the same chunk is a no-op.
   */
  chunkKey: string;
}

export interface ChunkingOptions {
  /** Largest chunk in characters. nv-embedqa-e5-v5 takes 512 tokens, roughly 2,000 characters. */
  maxChars: number;
  /** Characters repeated from the end of one chunk at the start of the next, so a sentence cut at a boundary is still found. */
  overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { maxChars: 1000, overlapChars: 100 };

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The NUL separator cannot occur in a path, so different (source, position) pairs never collide. */
export function chunkKeyOf(source: string, position: number): string {
  return sha256Hex(`${source}\u0000${position}`);
}

/** Line endings and trailing spaces differ between editors and platforms; they must not change a hash. */
export function normalizeText(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+\n/g, "\n")
    .trim();
}

export function validateChunkingOptions(options: ChunkingOptions): string | null {
  if (!Number.isInteger(options.maxChars) || options.maxChars < 20) {
    return `chunk size must be an integer of at least 20 characters, got ${options.maxChars}`;
  }
  if (
    !Number.isInteger(options.overlapChars) ||
    options.overlapChars < 0 ||
    options.overlapChars >= options.maxChars / 2
  ) {
    return `chunk overlap must be an integer from 0 to less than half the chunk size (${options.maxChars}), got ${options.overlapChars}`;
  }
  return null;
}

/**
 * Where to end a chunk that starts at `start`: the last paragraph break, else sentence end, else
 * whitespace inside the window, so chunks do not cut words; a hard cut only when there is none.
 */
function chunkEnd(text: string, start: number, maxChars: number): number {
  const limit = start + maxChars;
  if (limit >= text.length) return text.length;
  const window = text.slice(start, limit);
  // Never accept a break in the first half: it would make tiny chunks and many requests.
  const minBreak = Math.floor(maxChars / 2);
  for (const pattern of [/\n\n/g, /[.!?]\s/g, /\s/g]) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const after = (match.index ?? 0) + match[0].length;
      if (after >= minBreak) best = after;
    }
    if (best > 0) return start + best;
  }
  return limit;
}

/**
 * The next chunk repeats up to `overlap` characters of the previous one, starting at a word
 * boundary so no chunk begins with half a word; it always moves forward, so chunking ends.
 */
function nextChunkStart(text: string, start: number, end: number, overlap: number): number {
  if (overlap === 0) return end;
  const from = Math.max(end - overlap, start + 1);
  const space = text.slice(from, end).search(/\s/);
  return space < 0 ? end : from + space + 1;
}

/**
 * Splits a document into chunks. Pure and deterministic: the same text always gives the same
 * chunks, which is what makes resuming and change detection work.
 */
export function* chunkDocument(
  source: string,
  rawText: string,
  options: ChunkingOptions = DEFAULT_CHUNKING,
): Generator<Chunk> {
  const text = normalizeText(rawText);
  let start = 0;
  let position = 0;
  while (start < text.length) {
    const end = chunkEnd(text, start, options.maxChars);
    const piece = text.slice(start, end).trim();
    if (piece.length > 0) {
      yield { source, position, text: piece, contentHash: sha256Hex(piece), chunkKey: chunkKeyOf(source, position) };
      position += 1;
    }
    if (end >= text.length) break;
    start = nextChunkStart(text, start, end, options.overlapChars);
  }
}
