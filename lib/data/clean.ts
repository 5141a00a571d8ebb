// Cleaning a tweet, step for step as the original tool did it (pipeline.md §2).
//
// The original was a handful of Python regular expressions applied in a fixed
// order; their order matters (each works on the previous one's output), so
// they are reproduced one by one rather than merged into a "better" regex
// that would clean some tweets differently and change the counts.
import { PY_WHITESPACE_CLASS, pySplit, pyStrip } from './python-text.js';

/** `fix_text`: undo the three HTML escapes that X puts in tweet text, and only those. */
export function fixText(text: string): string {
  return text.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}

export interface CleanOptions {
  /** Keep line breaks inside a tweet (default false: every run of whitespace becomes one space). */
  allowNewlines?: boolean;
}

const nonSpace = `[^${PY_WHITESPACE_CLASS}]+`;

/**
 * For each URL scheme, the five substitutions of the original, in its order:
 * the URL with the space before it; a URL followed by a space (a tweet that
 * starts with one); a URL on a new line followed by a space; a URL alone at
 * the end of a line; any URL left.
 */
const urlRemovals: RegExp[] = ['http:', 'https:'].flatMap((scheme) => [
  new RegExp(` ${scheme}${nonSpace}`, 'gu'),
  new RegExp(`${scheme}${nonSpace} `, 'gu'),
  new RegExp(`\\n${scheme}${nonSpace} `, 'gu'),
  new RegExp(`\\n${scheme}${nonSpace}`, 'gu'),
  new RegExp(`${scheme}${nonSpace}`, 'gu'),
]);

/** `clean_tweet`: drop URLs, collapse spaces (and, unless allowed, newlines), strip. */
export function cleanTweet(text: string, options: CleanOptions = {}): string {
  let tweet = text;
  for (const removal of urlRemovals) tweet = tweet.replace(removal, '');
  tweet = tweet.replace(/ +/g, ' ');
  if (!options.allowNewlines) tweet = pySplit(tweet).join(' ');
  return pyStrip(tweet);
}

/**
 * `boring_tweet`: fewer than 3 words that are real words, where a word is not
 * real when it contains `http`, `@` or `#` (case-insensitive) — a mention,
 * a hashtag or a link. Such tweets are dropped and counted as "short".
 */
export function isBoringTweet(tweet: string): boolean {
  const realWords = pySplit(tweet).filter((word) => {
    const lower = word.toLowerCase();
    return !lower.includes('http') && !lower.includes('@') && !lower.includes('#');
  });
  return realWords.length < 3;
}
