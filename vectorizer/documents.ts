import { createReadStream } from "node:fs";
import { opendir, readFile } from "node:fs/promises";
import { join, relative, sep, extname } from "node:path";
import { createInterface } from "node:readline";

/** A document to embed: a whole .txt/.md file, or one record of a .jsonl file. */
export interface SourceDocument {
  kind: "document";
  /** Stable name of the document; chunk identities derive from it. */
  source: string;
  text: string;
  /** Control characters removed from the text (NUL among them): the document is kept, the count reported. */
  removedControlCharacters?: number;
}

/**
 * C0 control characters other than tab, line feed and carriage return, and DEL. PostgreSQL text cannot
 * hold NUL at all (`invalid byte sequence for encoding "UTF8": 0x00` stops the whole batch), and none of
 * them carries meaning for an embedding model.
 */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** A document with its control characters removed, and how many there were. Pure. */
export function withoutControlCharacters(doc: SourceDocument): SourceDocument {
  const removed = doc.text.match(CONTROL_CHARACTERS)?.length ?? 0;
  return removed === 0
    ? doc
    : { ...doc, text: doc.text.replace(CONTROL_CHARACTERS, ""), removedControlCharacters: removed };
}

/** Input that cannot be read as a document; reported and skipped, the run goes on. */
export interface MalformedInput {
  kind: "malformed";
  /** `path` or `path:line`. */
  where: string;
  reason: string;
}

export type CorpusItem = SourceDocument | MalformedInput;

export const SUPPORTED_EXTENSIONS = [".txt", ".md", ".jsonl"] as const;

/** Forward slashes on every platform, so a corpus copied between machines keeps its identities. */
function toPortablePath(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}

/**
 * Every supported file under `root`, in a fixed (sorted) order, one directory listing in memory at
 * a time. Hidden entries (.git, .vectorizer) are skipped; symbolic links are not followed, so a
 * link loop cannot make the walk endless.
 */
export async function* walkCorpus(root: string): AsyncGenerator<string> {
  const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
  const dir = await opendir(root);
  for await (const entry of dir) {
    if (entry.name.startsWith(".")) continue;
    names.push({ name: entry.name, isDir: entry.isDirectory(), isFile: entry.isFile() });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const path = join(root, entry.name);
    if (entry.isDir) yield* walkCorpus(path);
    else if (entry.isFile && (SUPPORTED_EXTENSIONS as readonly string[]).includes(extname(entry.name).toLowerCase()))
      yield path;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A jsonl record's identity: its `id` when it has one (survives inserted lines), else its line number. */
export function jsonlRecordSource(file: string, record: Record<string, unknown>, lineNumber: number): string {
  const id = record.id;
  if (typeof id === "string" && id.length > 0) return `${file}#${id}`;
  if (typeof id === "number" && Number.isFinite(id)) return `${file}#${id}`;
  return `${file}#L${lineNumber}`;
}

/** Parses one jsonl line into a document or the reason it is not one. Pure. */
export function parseJsonlLine(file: string, line: string, lineNumber: number): CorpusItem | null {
  if (line.trim().length === 0) return null;
  const where = `${file}:${lineNumber}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // The parser's own wording changes between Node versions; the line number is what helps.
    return { kind: "malformed", where, reason: "invalid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "malformed", where, reason: "not a JSON object" };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.text !== "string") return { kind: "malformed", where, reason: 'no "text" string field' };
  return withoutControlCharacters({
    kind: "document",
    source: jsonlRecordSource(file, record, lineNumber),
    text: record.text,
  });
}

async function* readJsonl(path: string, file: string): AsyncGenerator<CorpusItem> {
  // Line by line: a jsonl file may be larger than memory.
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let lineNumber = 0;
  const seenSources = new Set<string>();
  for await (const line of lines) {
    lineNumber += 1;
    const item = parseJsonlLine(file, line, lineNumber);
    if (item === null) continue;
    if (item.kind === "document") {
      // Two records with one id would overwrite each other's chunks on every run.
      if (seenSources.has(item.source)) {
        yield {
          kind: "malformed",
          where: `${file}:${lineNumber}`,
          reason: `duplicate id (${item.source.slice(file.length + 1)})`,
        };
        continue;
      }
      seenSources.add(item.source);
    }
    yield item;
  }
}

/** Every document of the corpus, with unreadable input reported as MalformedInput instead of thrown. */
export async function* readCorpus(root: string): AsyncGenerator<CorpusItem> {
  for await (const path of walkCorpus(root)) {
    const file = toPortablePath(root, path);
    try {
      if (extname(path).toLowerCase() === ".jsonl") {
        yield* readJsonl(path, file);
        continue;
      }
      const bytes = await readFile(path);
      let text: string;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        yield { kind: "malformed", where: file, reason: "not valid UTF-8 text" };
        continue;
      }
      yield withoutControlCharacters({ kind: "document", source: file, text });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      yield { kind: "malformed", where: file, reason: `cannot be read (${code ?? (error as Error).message})` };
    }
  }
}
