/** What one ingest run reports (the CLI prints it as JSON); a type of its own so the components can
 * name it without loading the vectorizer's database drivers. */
export interface IngestSummary {
  documents: number;
  chunks: number;
  embedded: number;
  alreadyDone: number;
  staleChunksDeleted: number;
  documentsRemoved: number;
  malformed: number;
  /** Documents kept after removing control characters (such as NUL) that a database cannot store. */
  cleaned: number;
  retries: number;
  dimension: number | null;
  store: string;
  elapsedSeconds: number;
}
