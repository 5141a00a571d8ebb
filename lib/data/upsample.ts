// Giving every personality of a cyborg the same weight (pipeline.md §5).
import { END_OF_TEXT, joinedCharacters } from './data-size.js';
import { pyLength } from './python-text.js';
import { shuffled, type Rng } from './rng.js';

/**
 * The tweets once, then more of them, taken from successive shuffles of the
 * list, until the joined text (as joinedCharacters measures it) reaches
 * `targetCharacters`. The longest user's list comes back as it was.
 */
export function upsampleToCharacters(tweets: readonly string[], targetCharacters: number, rng: Rng): string[] {
  const out = tweets.slice();
  if (tweets.length === 0) return out;
  const separator = pyLength(END_OF_TEXT);
  let characters = joinedCharacters(out);
  let pool: string[] = [];
  while (characters < targetCharacters) {
    if (pool.length === 0) pool = shuffled(tweets, rng).reverse(); // reversed so pop() walks the shuffle in order
    const tweet = pool.pop()!;
    out.push(tweet);
    characters += separator + pyLength(tweet);
  }
  return out;
}
