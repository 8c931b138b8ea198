import { Checkpoint } from "./checkpoint";
import { Chunk, ChunkingOptions, chunkDocument, normalizeText, sha256Hex } from "./chunker";
import { readCorpus } from "./documents";
import { EmbeddingClient } from "./embeddings";
import { DimensionMismatchError } from "./errors";
import { Progress } from "./progress";
import { Store } from "./stores/store";

export interface IngestOptions {
  corpusDir: string;
  batchSize: number;
  concurrency: number;
  chunking: ChunkingOptions;
  model: string;
  /** Expected vector size (e.g. from the model catalog); null = learn it from the service. */
  dimension: number | null;
}

export interface IngestDeps {
  store: Store;
  embedder: EmbeddingClient;
  checkpoint: Checkpoint;
  progress: Progress;
  /** One line for the operator (stderr in the CLI). */
  report: (line: string) => void;
}

/** What a run did; the CLI prints it as JSON on stdout, VectorizerJob reads it. */
export interface IngestSummary {
  documents: number;
  chunks: number;
  embedded: number;
  alreadyDone: number;
  staleChunksDeleted: number;
  documentsRemoved: number;
  malformed: number;
  retries: number;
  dimension: number | null;
  store: string;
  elapsedSeconds: number;
}

/** A document whose chunks are being written; finished once its last chunk is stored. */
interface DocumentInFlight {
  source: string;
  docHash: string;
  chunkCount: number;
  remaining: number;
  allQueued: boolean;
  /** The checkpoint had a row for it at the start: the store may hold an older version. */
  known: boolean;
  finishing: boolean;
}

interface QueuedChunk {
  chunk: Chunk;
  doc: DocumentInFlight;
}

/** Settings whose change makes every stored vector wrong: the checkpoint must start over. */
export function checkpointFingerprint(options: IngestOptions, storeIdentity: string): string {
  return JSON.stringify({ model: options.model, store: storeIdentity, chunking: options.chunking });
}

/** Hash of a whole document, after the same normalisation the chunker applies. */
function documentHash(text: string): string {
  return sha256Hex(normalizeText(text));
}

export async function runIngest(options: IngestOptions, deps: IngestDeps): Promise<IngestSummary> {
  const started = Date.now();
  const { store, embedder, checkpoint, progress, report } = deps;
  const summary: IngestSummary = {
    documents: 0,
    chunks: 0,
    embedded: 0,
    alreadyDone: 0,
    staleChunksDeleted: 0,
    documentsRemoved: 0,
    malformed: 0,
    retries: 0,
    dimension: null,
    store: store.identity,
    elapsedSeconds: 0,
  };

  const storeStartedEmpty = await reconcileCheckpoint(options, store, checkpoint, report);

  // Pass 1: count, so progress can show a total and an ETA. Streams; holds no document.
  const scan = await scanCorpus(options, checkpoint);
  progress.scanned(scan.chunks, scan.chunks - scan.pending);

  // The dimension is settled before the first write: a mismatch must leave the store untouched.
  const existingDimension = await store.existingDimension();
  if (scan.pending > 0) {
    const dimension = await probeDimension(embedder, options, existingDimension, store.identity);
    embedder.dimension = dimension;
    summary.dimension = dimension;
    // Always, not only for a new table: a run killed halfway through creating the schema left
    // the table without its indexes, and every statement in it is idempotent.
    await store.ensureSchema(dimension);
  } else {
    summary.dimension = existingDimension;
  }

  // Pass 2: embed and write what the checkpoint does not have.
  const run = checkpoint.startRun();
  progress.startWriting();
  const batches = pendingBatches(options, deps, run, summary);
  const finishDocument = async (doc: DocumentInFlight): Promise<void> => {
    if (doc.finishing) return;
    doc.finishing = true;
    // Checkpoint first, store second: a crash in between leaves the checkpoint lagging, never ahead.
    checkpoint.forgetChunksFrom(doc.source, doc.chunkCount);
    // A document the checkpoint never saw, in a store this checkpoint has known since it was
    // empty, has no rows beyond what this run wrote: skip one delete round trip per document.
    if (doc.known || !storeStartedEmpty) summary.staleChunksDeleted += await store.deleteFromPosition(doc.source, doc.chunkCount);
    checkpoint.finishDocument(doc.source, doc.docHash, doc.chunkCount);
  };
  batches.onDocumentQueued = async (doc) => {
    if (doc.remaining === 0) await finishDocument(doc);
  };

  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null) {
      let next: IteratorResult<QueuedChunk[], void>;
      try {
        next = await batches.iterator.next();
      } catch (error) {
        failure ??= error;
        return;
      }
      if (next.done) return;
      const batch = next.value;
      try {
        const vectors = await embedder.embed(
          batch.map((q) => q.chunk.text),
          "passage",
        );
        await store.upsert(batch.map((q, i) => ({ ...q.chunk, embedding: vectors[i] })));
        checkpoint.markChunksDone(batch.map((q) => q.chunk));
        summary.embedded += batch.length;
        progress.written(batch.length);
        for (const q of batch) {
          q.doc.remaining -= 1;
          if (q.doc.remaining === 0 && q.doc.allQueued) await finishDocument(q.doc);
        }
      } catch (error) {
        failure ??= error;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
    if (failure !== null) throw failure;
  } finally {
    await batches.iterator.return(undefined);
  }

  // Only a complete pass may conclude that a document left the corpus.
  for (const source of checkpoint.sourcesNotSeenIn(run)) {
    // Chunk records go first (the checkpoint must never claim rows the store lacks); the document
    // row goes last, so a crash in between still remembers that the store may hold its rows.
    checkpoint.forgetChunksFrom(source, 0);
    summary.staleChunksDeleted += await store.deleteFromPosition(source, 0);
    checkpoint.forgetDocument(source);
    summary.documentsRemoved += 1;
  }

  summary.chunks = summary.alreadyDone + summary.embedded;
  summary.retries = progress.snapshot().errors.retry;
  summary.elapsedSeconds = Math.round((Date.now() - started) / 100) / 10;
  return summary;
}

/**
 * The checkpoint belongs to one store, model and chunking. If any changed, or the store holds fewer
 * rows than the checkpoint says were written (the table was dropped or restored from an old
 * backup), its "done" marks are lies: start over. Re-embedding is safe, skipping is not.
 */
async function reconcileCheckpoint(options: IngestOptions, store: Store, checkpoint: Checkpoint, report: (line: string) => void): Promise<boolean> {
  const fingerprint = checkpointFingerprint(options, store.identity);
  const previous = checkpoint.getMeta("fingerprint");
  const stored = await store.count();
  let fresh = previous === undefined;
  if (previous !== undefined && previous !== fingerprint) {
    report("vectorizer: model, store or chunking changed since the last run; every chunk will be embedded again");
    checkpoint.reset();
    fresh = true;
  } else {
    const recorded = checkpoint.doneChunkCount();
    if (recorded > 0 && stored < recorded) {
      report(`vectorizer: the store holds ${stored} vectors but the checkpoint recorded ${recorded}; starting over`);
      checkpoint.reset();
      fresh = true;
    }
  }
  // "empty": the store was empty when this checkpoint started, so every row in it was written by
  // runs this checkpoint recorded. Kept across runs; lost on any reset over a non-empty store.
  if (fresh) checkpoint.setMeta("baseline", stored === 0 ? "empty" : "unknown");
  checkpoint.setMeta("fingerprint", fingerprint);
  return checkpoint.getMeta("baseline") === "empty";
}

async function scanCorpus(options: IngestOptions, checkpoint: Checkpoint): Promise<{ chunks: number; pending: number }> {
  let chunks = 0;
  let pending = 0;
  for await (const item of readCorpus(options.corpusDir)) {
    if (item.kind !== "document") continue;
    const state = checkpoint.document(item.source);
    if (state?.status === "done" && state.docHash === documentHash(item.text)) {
      chunks += state.chunkCount;
      continue;
    }
    for (const chunk of chunkDocument(item.source, item.text, options.chunking)) {
      chunks += 1;
      if (!checkpoint.isChunkDone(chunk.chunkKey, chunk.contentHash)) pending += 1;
    }
  }
  return { chunks, pending };
}

/** Asks the service for one vector and compares its size with what the store and the caller expect. */
async function probeDimension(embedder: EmbeddingClient, options: IngestOptions, storeDimension: number | null, storeIdentity: string): Promise<number> {
  const [vector] = await embedder.embed(["dimension probe"], "passage");
  const dimension = vector.length;
  if (options.dimension !== null && options.dimension !== dimension) {
    throw new DimensionMismatchError(
      `dimension mismatch: model "${options.model}" returns ${dimension}-dimensional vectors but --dimension is ${options.dimension}; nothing was written`,
    );
  }
  if (storeDimension !== null && storeDimension !== dimension) {
    throw new DimensionMismatchError(
      `dimension mismatch: model "${options.model}" returns ${dimension}-dimensional vectors but ${storeIdentity} holds ${storeDimension}-dimensional vectors; nothing was written`,
    );
  }
  return dimension;
}

interface PendingBatches {
  iterator: AsyncGenerator<QueuedChunk[], void, undefined>;
  onDocumentQueued: (doc: DocumentInFlight) => Promise<void>;
}

/**
 * Batches of chunks still to embed, read lazily: the workers pull, so at most `concurrency`
 * batches plus the one being filled are in memory, whatever the corpus size.
 */
function pendingBatches(options: IngestOptions, deps: IngestDeps, run: number, summary: IngestSummary): PendingBatches {
  const { checkpoint, progress, report } = deps;
  const handle: PendingBatches = { iterator: undefined as never, onDocumentQueued: async () => undefined };
  async function* generate(): AsyncGenerator<QueuedChunk[], void, undefined> {
    let batch: QueuedChunk[] = [];
    for await (const item of readCorpus(options.corpusDir)) {
      if (item.kind === "malformed") {
        summary.malformed += 1;
        progress.error("malformed");
        report(`vectorizer: skipped ${item.where}: ${item.reason}`);
        continue;
      }
      summary.documents += 1;
      const docHash = documentHash(item.text);
      const state = checkpoint.document(item.source);
      if (state?.status === "done" && state.docHash === docHash) {
        checkpoint.touchDocument(item.source, run);
        summary.alreadyDone += state.chunkCount;
        continue;
      }
      checkpoint.beginDocument(item.source, docHash, run);
      const doc: DocumentInFlight = { source: item.source, docHash, chunkCount: 0, remaining: 0, allQueued: false, finishing: false, known: state !== undefined };
      for (const chunk of chunkDocument(item.source, item.text, options.chunking)) {
        doc.chunkCount += 1;
        if (checkpoint.isChunkDone(chunk.chunkKey, chunk.contentHash)) {
          summary.alreadyDone += 1;
          continue;
        }
        doc.remaining += 1;
        batch.push({ chunk, doc });
        if (batch.length === options.batchSize) {
          yield batch;
          batch = [];
        }
      }
      doc.allQueued = true;
      await handle.onDocumentQueued(doc);
    }
    if (batch.length > 0) yield batch;
  }
  handle.iterator = generate();
  return handle;
}
