// Refusing, or warning about, too little text (pipeline.md §4).
import { pyLength } from './python-text.js';
import type { PostCounts } from './curate.js';

export const END_OF_TEXT = '<|endoftext|>';
/** Below this many characters of kept tweets the original refused to train. */
export const MIN_CHARACTERS = 6_000;
/** Below this many it trained but warned. */
export const WARN_CHARACTERS = 40_000;

/**
 * The size of a user's data as the original measured it: the kept tweets
 * joined with `<|endoftext|>`, in characters (code points, as Python counts).
 */
export function joinedCharacters(tweets: readonly string[]): number {
  if (tweets.length === 0) return 0;
  let total = pyLength(END_OF_TEXT) * (tweets.length - 1);
  for (const tweet of tweets) total += pyLength(tweet);
  return total;
}

export interface DataSizeLimits {
  /** Refuse below this many characters (default 6,000). */
  minCharacters?: number;
  /** Warn below this many (default 40,000). */
  warnCharacters?: number;
}

export class NotEnoughDataError extends Error {
  constructor(
    readonly handle: string,
    readonly counts: PostCounts,
    readonly characters: number,
    readonly minCharacters: number,
  ) {
    super(
      `@${handle}: not enough text to learn from: ${characters} characters of kept tweets, ${minCharacters} needed ` +
        `(tweets downloaded ${counts.downloaded}, retweets ${counts.retweets}, short tweets ${counts.short}, tweets kept ${counts.kept}). ` +
        'Add a source with more posts for this person (for example their X archive), or pick someone who writes more',
    );
    this.name = 'NotEnoughDataError';
  }
}

/** Throws NotEnoughDataError under 6,000 characters; returns a warning under 40,000. */
export function checkDataSize(
  handle: string,
  kept: readonly string[],
  counts: PostCounts,
  limits: DataSizeLimits = {},
): { characters: number; warning?: string } {
  const minCharacters = limits.minCharacters ?? MIN_CHARACTERS;
  const warnCharacters = limits.warnCharacters ?? WARN_CHARACTERS;
  const characters = joinedCharacters(kept);
  if (characters < minCharacters) throw new NotEnoughDataError(handle, counts, characters, minCharacters);
  if (characters < warnCharacters) {
    return {
      characters,
      warning: `@${handle}: only ${characters} characters of kept tweets (under ${warnCharacters}): the model may not write much like them`,
    };
  }
  return { characters };
}
