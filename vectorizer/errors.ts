/**
 * Errors that end a vectorizer run. Anything thrown as a VectorizerError is a condition the
 * operator must fix (bad key, wrong model, mismatched table); retrying would not help, so the
 * CLI prints the message alone (no stack) and exits with the error's exit code.
 */
export class VectorizerError extends Error {
  constructor(
    message: string,
    /** 1 = the run failed; 2 = the command line was invalid. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "VectorizerError";
  }
}

/** The command line itself is wrong: exit 2, nothing was touched. */
export class UsageError extends VectorizerError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** The embedding service answered with something no retry can fix (401, 404, 400, bad shape). */
export class TerminalEmbeddingError extends VectorizerError {
  constructor(message: string) {
    super(message, 1);
    this.name = "TerminalEmbeddingError";
  }
}

/** The model's vectors do not have the size the store holds. Raised before any write. */
export class DimensionMismatchError extends VectorizerError {
  constructor(message: string) {
    super(message, 1);
    this.name = "DimensionMismatchError";
  }
}

/** Removes every occurrence of a secret from text that is about to be printed or thrown. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join("***");
}
