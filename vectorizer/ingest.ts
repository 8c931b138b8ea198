import { setTimeout as sleep } from "node:timers/promises";
import { BatchQueue } from "./batchQueue";
import { Checkpoint } from "./checkpoint";
import { Chunk, ChunkingOptions, chunkDocument, normalizeText, sha256Hex } from "./chunker";
import { readCorpus } from "./documents";
import { EmbeddingClient } from "./embeddings";
import { DimensionMismatchError } from "./errors";
import { Progress } from "./progress";
import { Store } from "./stores/store";
import type { IngestSummary } from "./summary";

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
export type { IngestSummary } from "./summary";

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

/** One write in progress while the next request is in flight: overlap without piling up vectors. */
const WRITES_PER_WORKER = 2;

/**
 * Workers start this far apart. Started together, they stay in lockstep against a service with
 * steady latency: their answers arrive at once and are parsed one after another on the single
 * JavaScript thread while the service idles (measured: ~10% of throughput at 8 workers). Spread
 * by more than the time one answer takes to handle (~2–3 ms for 50 × 1024 floats), they do not
 * queue; the service also sees a ramp instead of a burst.
 */
const WORKER_STAGGER_MS = 10;

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
    cleaned: 0,
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

  /**
   * Marks documents whose last chunk is stored as done, together with the batch's chunks, in one
   * SQLite transaction. Documents that may have older rows beyond their new length get those
   * deleted first: checkpoint records before store rows, so a crash leaves the checkpoint lagging.
   */
  const completeBatch = async (
    stored: readonly QueuedChunk[],
    documents: readonly DocumentInFlight[],
  ): Promise<void> => {
    for (const doc of documents) {
      // A document the checkpoint never saw, in a store this checkpoint has known since it was
      // empty, has no rows beyond what this run wrote: skip one delete round trip per document.
      if (doc.known || !storeStartedEmpty) {
        checkpoint.forgetChunksFrom(doc.source, doc.chunkCount);
        summary.staleChunksDeleted += await store.deleteFromPosition(doc.source, doc.chunkCount);
      }
    }
    checkpoint.recordProgress(
      stored.map((q) => q.chunk),
      documents.map((d) => ({ source: d.source, docHash: d.docHash, chunkCount: d.chunkCount })),
    );
  };
  const queue = new BatchQueue<QueuedChunk[]>(options.concurrency);
  const producer = produceBatches(options, deps, run, summary, queue, (doc) => completeBatch([], [doc]));

  let failure: unknown = null;
  const fail = (error: unknown) => {
    failure ??= error;
    queue.abort();
  };
  /** Store write, then checkpoint; documents whose last chunk this was are finished. */
  const writeBatch = async (batch: QueuedChunk[], vectors: number[][]): Promise<void> => {
    await store.upsert(batch.map((q, i) => ({ ...q.chunk, embedding: vectors[i] })));
    const completed: DocumentInFlight[] = [];
    for (const q of batch) {
      q.doc.remaining -= 1;
      if (q.doc.remaining === 0 && q.doc.allQueued && !q.doc.finishing) {
        q.doc.finishing = true;
        completed.push(q.doc);
      }
    }
    await completeBatch(batch, completed);
    summary.embedded += batch.length;
    progress.written(batch.length);
  };
  /**
   * `concurrency` workers each keep one embedding request in flight. A worker hands the answer to
   * the store and asks for the next batch at once, so store latency does not idle the embedding
   * service; it waits only when it already has WRITES_PER_WORKER writes of its own outstanding.
   */
  const worker = async (index: number): Promise<void> => {
    const writes = new Set<Promise<void>>();
    await sleep(index * WORKER_STAGGER_MS);
    while (failure === null) {
      const batch = await queue.take();
      if (batch === null) break;
      let vectors: number[][];
      try {
        vectors = await embedder.embed(
          batch.map((q) => q.chunk.text),
          "passage",
        );
      } catch (error) {
        fail(error);
        break;
      }
      const write: Promise<void> = writeBatch(batch, vectors).then(
        () => void writes.delete(write),
        (error) => {
          writes.delete(write);
          fail(error);
        },
      );
      writes.add(write);
      if (writes.size >= WRITES_PER_WORKER) await Promise.race(writes);
    }
    await Promise.all(writes);
  };
  const producerDone = producer.then(
    () => queue.close(),
    (error) => fail(error),
  );
  await Promise.all([...Array.from({ length: options.concurrency }, (_, i) => worker(i)), producerDone]);
  if (failure !== null) throw failure;

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
async function reconcileCheckpoint(
  options: IngestOptions,
  store: Store,
  checkpoint: Checkpoint,
  report: (line: string) => void,
): Promise<boolean> {
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

async function scanCorpus(
  options: IngestOptions,
  checkpoint: Checkpoint,
): Promise<{ chunks: number; pending: number }> {
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
async function probeDimension(
  embedder: EmbeddingClient,
  options: IngestOptions,
  storeDimension: number | null,
  storeIdentity: string,
): Promise<number> {
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

/**
 * Reads the corpus and queues batches of chunks still to embed. Checkpoint writes about documents
 * (begun, still present) are buffered and committed in one transaction before each batch is
 * handed over: before any of its chunks can reach the store, as crash safety requires.
 */
async function produceBatches(
  options: IngestOptions,
  deps: IngestDeps,
  run: number,
  summary: IngestSummary,
  queue: BatchQueue<QueuedChunk[]>,
  finishEmptyDocument: (doc: DocumentInFlight) => Promise<void>,
): Promise<void> {
  const { checkpoint, progress, report } = deps;
  let batch: QueuedChunk[] = [];
  let begun: { source: string; docHash: string }[] = [];
  let seen: string[] = [];
  const flushDocuments = () => {
    if (begun.length === 0 && seen.length === 0) return;
    checkpoint.recordDocuments(begun, seen, run);
    begun = [];
    seen = [];
  };
  for await (const item of readCorpus(options.corpusDir)) {
    if (item.kind === "malformed") {
      summary.malformed += 1;
      progress.error("malformed");
      report(`vectorizer: skipped ${item.where}: ${item.reason}`);
      continue;
    }
    summary.documents += 1;
    if (item.removedControlCharacters) {
      summary.cleaned += 1;
      report(
        `vectorizer: cleaned ${item.source}: removed ${item.removedControlCharacters} control character(s) such as NUL`,
      );
    }
    const docHash = documentHash(item.text);
    const state = checkpoint.document(item.source);
    if (state?.status === "done" && state.docHash === docHash) {
      seen.push(item.source);
      summary.alreadyDone += state.chunkCount;
      continue;
    }
    begun.push({ source: item.source, docHash });
    const doc: DocumentInFlight = {
      source: item.source,
      docHash,
      chunkCount: 0,
      remaining: 0,
      allQueued: false,
      finishing: false,
      known: state !== undefined,
    };
    for (const chunk of chunkDocument(item.source, item.text, options.chunking)) {
      doc.chunkCount += 1;
      if (checkpoint.isChunkDone(chunk.chunkKey, chunk.contentHash)) {
        summary.alreadyDone += 1;
        continue;
      }
      doc.remaining += 1;
      batch.push({ chunk, doc });
      if (batch.length === options.batchSize) {
        flushDocuments();
        if (!(await queue.put(batch))) return;
        batch = [];
      }
    }
    doc.allQueued = true;
    if (doc.remaining === 0) {
      doc.finishing = true;
      flushDocuments();
      await finishEmptyDocument(doc);
    }
  }
  flushDocuments();
  if (batch.length > 0) await queue.put(batch);
}
