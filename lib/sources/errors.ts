// Errors a user can act on: each names the source (file or handle) it is
// about, says what is wrong, and says what to do.

export class SourceError extends Error {
  /** The source string (path, `@handle`, `bsky:…`) the problem is about. */
  readonly source: string;

  constructor(source: string, problem: string, fix?: string) {
    super(`${source}: ${problem}${fix ? `. ${fix}` : ''}`);
    this.name = 'SourceError';
    this.source = source;
  }
}
