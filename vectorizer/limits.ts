/**
 * The vectorizer's tunables and their bounds: the one definition the CLI flags, the VectorizerJob
 * component and the stack config (`gpu-fleet:rag`) all check against. A module without imports, so
 * each of them can load it (the job copies vectorizer/ to the host on its own).
 */
export interface Bounded {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const VECTORIZER_LIMITS = {
  /** Chunks per embeddings request: NIM embedding endpoints take batches well below 1000 inputs. */
  batchSize: { default: 50, min: 1, max: 1000 },
  /** Embeddings requests in flight at once. */
  concurrency: { default: 4, min: 1, max: 64 },
} as const satisfies Record<string, Bounded>;
