// Cleaning a tweet, step for step as the original tool did it (pipeline.md §2).
//
// The original was a handful of Python regular expressions applied in a fixed
// order; their order matters (each works on the previous one's output), so
// they are reproduced one by one rather than merged into a "better" regex
// that would clean some tweets differently and change the counts. Each is
// written as a scan rather than a JavaScript regex, so that no text, however
// hostile, makes one rescan what it has read (see removeUrls).
import { isPyWhitespace, pySplit, pyStrip } from './python-text.js';

/** `fix_text`: undo the three HTML escapes that X puts in tweet text, and only those. */
export function fixText(text: string): string {
  return text.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}

export interface CleanOptions {
  /** Keep line breaks inside a tweet (default false: every run of whitespace becomes one space). */
  allowNewlines?: boolean;
}

/**
 * For each URL scheme, the five substitutions of the original, in its order
 * (each a Python `re.sub`, with `\S+` for the URL):
 * - ` http:\S+` — the URL with the space before it;
 * - `http:\S+ ` — a URL followed by a space (a tweet that starts with one);
 * - `\nhttp:\S+ ` — a URL on a new line followed by a space;
 * - `\nhttp:\S+` — a URL alone at the end of a line;
 * - `http:\S+` — any URL left.
 */
const urlRemovals: UrlRemoval[] = ['http:', 'https:'].flatMap((scheme) => [
  { prefix: ` ${scheme}`, spaceAfter: false },
  { prefix: scheme, spaceAfter: true },
  { prefix: `\n${scheme}`, spaceAfter: true },
  { prefix: `\n${scheme}`, spaceAfter: false },
  { prefix: scheme, spaceAfter: false },
]);

interface UrlRemoval {
  /** What the match starts with: the scheme, after a space or a newline or not. */
  prefix: string;
  /** The URL must be followed by a space, which goes with it. */
  spaceAfter: boolean;
}

/**
 * One substitution, `re.sub(prefix + r'\S+' + (' ' if spaceAfter else ''), '', text)`,
 * as a scan that reads each character once. A regex engine running
 * `http:\S+ ` on a long run of non-space characters holding many "http:" and
 * no space after it tries every "http:" and rescans the rest of the run from
 * each: quadratic. But every match ends where its run of non-space ends (`\S+`
 * is greedy and a space cannot be in it), so when one fails there, every other
 * start in the same run fails too, and the scan moves past the run.
 */
function removeUrls(text: string, { prefix, spaceAfter }: UrlRemoval): string {
  let out = '';
  let kept = 0; // text[kept..] is not yet in out
  let from = 0;
  for (;;) {
    const at = text.indexOf(prefix, from);
    if (at < 0) break;
    const urlStart = at + prefix.length;
    let urlEnd = urlStart;
    while (urlEnd < text.length && !isPyWhitespace(text.charCodeAt(urlEnd))) urlEnd++;
    const matches = urlEnd > urlStart && (!spaceAfter || text.charCodeAt(urlEnd) === 0x20);
    if (matches) {
      out += text.slice(kept, at);
      kept = urlEnd + (spaceAfter ? 1 : 0);
      from = kept;
    } else {
      // No match starts before the run's end; the scheme cannot overlap itself, so this is at least at + 1.
      from = Math.max(at + 1, urlEnd);
    }
  }
  return kept === 0 ? text : out + text.slice(kept);
}

/**
 * `clean_tweet`: drop URLs, collapse spaces (and, unless allowed, newlines), strip.
 * Linear in the tweet: every step reads each character a bounded number of times.
 */
export function cleanTweet(text: string, options: CleanOptions = {}): string {
  let tweet = text;
  for (const removal of urlRemovals) tweet = removeUrls(tweet, removal);
  // One regex, and a safe one: a run of spaces is matched once, from its first space.
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
