// A deterministic, tweet-like, deliberately hostile text corpus for the tokenizer's test and
// benchmark: emoji (ZWJ sequences, skin tones, flags, keycaps), many scripts, combining
// marks, URLs, mentions, tags, numbers, punctuation runs, contractions in every case, and
// whitespace of every kind GPT-2's regex treats specially. Same seed, same corpus.

/** A small seeded PRNG (mulberry32): 32-bit state, good enough to pick corpus items. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A string of `length` code points drawn from [from, to]. */
  codePoints(from: number, to: number, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += String.fromCodePoint(this.int(from, to));
    return s;
  }
}

const WORDS = (
  'the of and to a in is you that it he was for on are as with his they I at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up other ' +
  'about out many then them these so some her would make like him into time has look two more write go see ' +
  'number no way could people my than first water been call who oil its now find long down day did get come ' +
  'made may part constructor toString valueOf hasOwnProperty __proto__ prototype undefined null NaN Infinity ' +
  'tweet thread lol omg tbh imo ngl fr lmao smh rt dm brb yall gonna wanna gotta vibes stan mood literally'
).split(' ');
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'rE", "'lL"];
const EMOJI = [
  '😀', '😂', '🥲', '❤️', '❤', '👍', '🎉', '🔥', '✨', '🙏', '💯', '🤔', '😭', '🥺', '👀', '🚀', '☕', '⚽️',
  '👍🏽', '👋🏿', '🙌🏻', '💪🏾', '🤷🏼‍♀️', '🧑🏽‍💻', // skin tones
  '👨‍👩‍👧‍👦', '👩‍❤️‍💋‍👨', '🏳️‍🌈', '🏴‍☠️', '👩‍💻', '🐻‍❄️', '❤️‍🔥', // ZWJ sequences
  '🇫🇷', '🇯🇵', '🇺🇸', '🇧🇷', '🇺🇦', '🇮🇳', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', // flags, incl. a tag sequence
  '1️⃣', '#️⃣', '*️⃣', '©️', '™', '↔️', // keycaps and variation selectors
];
const PUNCTUATION = [
  '!', '!!!', '?!', '?!?!', '...', '…', '—', '–', '--', '***', '~', '~~~', '(', ')', '[', ']', '{', '}', '«', '»',
  '“', '”', '‘', '’', '"', "'", "''", '`', '```', ':', ';', ',', '.', '/', '\\', '|', '&&', '||', '<', '>', '<3',
  '->', '=>', ':)', ':-(', ';)', '¯\\_(ツ)_/¯', '(╯°□°)╯︵ ┻━┻', '(・ω・)', '•', '·', '§', '¶', '†', '°', '±', '×',
  '÷', '≠', '≤', '∞', '√', '€', '£', '¥', '₹', '$', '%', '^', '+', '=', '_', '@', '#', '<|', '|>', '<|endoftext',
];
/** Whitespace, including the characters on which regex engines disagree about `\s`. */
const RARE_WHITESPACE = ['\u00a0', '\u2003', '\u3000', '\u0085', '\u001c', '\u001d', '\u001e', '\u001f', '\ufeff', '\u2028', '\u2029', '\u200b', '\u000b', '\u000c', '\u1680', '\u202f', '\u205f', '\u180e'];
const WHITESPACE = [' ', ' ', ' ', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n', '  \n', '\t\t', ' \t ', '\n\n\n   ', '\r'];

/** A word in some script: each returns letters (and marks) from that script's block. */
const SCRIPTS: Array<(r: Prng) => string> = [
  (r) => r.codePoints(0x4e00, 0x9fff, r.int(1, 6)), // CJK ideographs
  (r) => r.codePoints(0x3041, 0x3096, r.int(2, 8)), // hiragana
  (r) => r.codePoints(0x30a1, 0x30fa, r.int(2, 8)), // katakana
  (r) => r.codePoints(0xac00, 0xd7a3, r.int(1, 5)), // Hangul syllables
  (r) => r.codePoints(0x0627, 0x064a, r.int(2, 9)), // Arabic letters
  (r) => r.codePoints(0x05d0, 0x05ea, r.int(2, 7)), // Hebrew
  (r) => r.codePoints(0x0915, 0x0939, r.int(1, 4)) + r.pick(['ा', 'ि', 'ी', 'ु', 'े', 'ो', '्', 'ं', '']), // Devanagari + vowel sign
  (r) => r.codePoints(0x0430, 0x044f, r.int(2, 10)), // Cyrillic
  (r) => r.codePoints(0x0410, 0x042f, 1) + r.codePoints(0x0430, 0x044f, r.int(1, 8)),
  (r) => r.codePoints(0x03b1, 0x03c9, r.int(2, 8)), // Greek
  (r) => r.codePoints(0x0e01, 0x0e2e, r.int(2, 8)), // Thai
  (r) => r.pick(['café', 'naïve', 'résumé', 'Ångström', 'façade', 'jalapeño', 'Zürich', 'señor', 'crème brûlée', 'São Paulo', 'Łódź', 'Ærø']),
  (r) => r.pick(['cafe\u0301', 'nai\u0308ve', 'n\u0303', 'a\u030a', 'e\u0301\u0302\u0303\u0304', 'Z\u0351\u0307\u036b\u0357a\u0334l\u0336g\u0335o']), // combining marks
  (r) => r.codePoints(0x1d400, 0x1d433, r.int(2, 6)), // mathematical bold letters (astral \p{L})
  (r) => r.codePoints(0xff21, 0xff3a, r.int(2, 6)), // full-width Latin
  (r) => r.codePoints(0x0660, 0x0669, r.int(1, 4)) + r.codePoints(0x0966, 0x096f, r.int(0, 3)), // Arabic-Indic and Devanagari digits (\p{N})
  (r) => r.pick(['½', '²', '³', 'Ⅻ', '①', '⑳', '𝟙𝟚', '〇']), // other \p{N}
];

function latinWord(r: Prng): string {
  let word = r.chance(0.85) ? r.pick(WORDS) : r.codePoints(0x61, 0x7a, r.int(1, 12));
  const casing = r.next();
  if (casing < 0.12) word = word[0]!.toUpperCase() + word.slice(1);
  else if (casing < 0.17) word = word.toUpperCase();
  if (r.chance(0.08)) word += r.pick(CONTRACTIONS);
  return word;
}

function number(r: Prng): string {
  switch (r.int(0, 7)) {
    case 0: return String(r.int(0, 99));
    case 1: return String(r.int(1900, 2030));
    case 2: return `${r.int(0, 999)}.${r.int(0, 99)}`;
    case 3: return `${r.int(1, 999)},${String(r.int(0, 999)).padStart(3, '0')},${String(r.int(0, 999)).padStart(3, '0')}`;
    case 4: return r.codePoints(0x30, 0x39, r.int(12, 60)); // long numbers
    case 5: return `${r.int(0, 23)}:${String(r.int(0, 59)).padStart(2, '0')}`;
    case 6: return `+1 (${r.int(200, 999)}) ${r.int(200, 999)}-${r.int(1000, 9999)}`;
    default: return `${r.int(1, 100)}%`;
  }
}

function url(r: Prng): string {
  const alnum = () => r.codePoints(0x30, 0x39, 1) + r.codePoints(0x41, 0x5a, 1) + r.codePoints(0x61, 0x7a, r.int(1, 6));
  switch (r.int(0, 3)) {
    case 0: return `https://t.co/${alnum()}${alnum()}`;
    case 1: return `https://www.example.com/${r.pick(WORDS)}/${alnum()}?q=${r.pick(WORDS)}&page=${r.int(1, 99)}#${r.pick(WORDS)}`;
    case 2: return `http://bit.ly/${alnum()}`;
    default: return `www.${r.pick(WORDS)}-${r.pick(WORDS)}.org/${r.int(1, 9999)}`;
  }
}

function item(r: Prng): string {
  const roll = r.next();
  if (roll < 0.5) return latinWord(r);
  if (roll < 0.56) return r.pick(EMOJI) + (r.chance(0.3) ? r.pick(EMOJI) : '');
  if (roll < 0.64) return r.pick(SCRIPTS)(r);
  if (roll < 0.69) return number(r);
  if (roll < 0.76) return r.pick(PUNCTUATION);
  if (roll < 0.79) return url(r);
  if (roll < 0.82) return '@' + latinWord(r) + (r.chance(0.5) ? '_' + r.int(0, 999) : '');
  if (roll < 0.85) return '#' + latinWord(r) + (r.chance(0.3) ? latinWord(r) : '');
  if (roll < 0.86) return '$' + r.codePoints(0x41, 0x5a, r.int(2, 4));
  if (roll < 0.89) return latinWord(r) + r.pick(PUNCTUATION); // "word," "word!!!"
  if (roll < 0.91) return r.pick(RARE_WHITESPACE) + (r.chance(0.5) ? r.pick(RARE_WHITESPACE) : '') + latinWord(r);
  if (roll < 0.92) return '<|endoftext|>';
  if (roll < 0.94) return r.pick(["'", "''", "'s", "'S", "'ll", "'ve", "'re", "'d", "'m", "'t", "'x", "'"]) + (r.chance(0.5) ? latinWord(r) : '');
  return r.pick(SCRIPTS)(r) + latinWord(r); // scripts run into Latin without a space
}

function separator(r: Prng): string {
  const roll = r.next();
  if (roll < 0.8) return ' ';
  if (roll < 0.88) return '';
  if (roll < 0.97) return r.pick(WHITESPACE);
  return r.pick(RARE_WHITESPACE) + (r.chance(0.4) ? ' ' : '');
}

/** One tweet-like piece: up to ~280 characters, sometimes with leading or trailing whitespace. */
export function tweet(r: Prng): string {
  const count = r.int(1, 45);
  let text = r.chance(0.05) ? r.pick(WHITESPACE) : '';
  if (r.chance(0.06)) text += 'RT @' + latinWord(r) + ': ';
  for (let i = 0; i < count; i++) text += (i > 0 ? separator(r) : '') + item(r);
  if (r.chance(0.1)) text += r.pick(WHITESPACE);
  if (r.chance(0.05)) text += r.pick(RARE_WHITESPACE);
  return text;
}

/** A long piece: many tweets joined, or a pathological run (10k of one char, a blob, spaces). */
function longPiece(r: Prng): string {
  switch (r.int(0, 5)) {
    case 0: return r.pick(['a', 'x', '!', '0', 'é', '😀', ' ', '\n', '-', '=']).repeat(r.int(500, 12000));
    case 1: return Array.from({ length: r.int(2000, 8000) }, () => r.pick(['A', 'b', '9', '+', '/', 'Q', 'z'])).join(''); // base64-ish
    case 2: return ' '.repeat(r.int(100, 3000)) + latinWord(r) + '\t'.repeat(r.int(10, 500)) + '\n';
    default: return Array.from({ length: r.int(20, 200) }, () => tweet(r)).join(r.pick(['\n', '\n\n', ' ', '\r\n']));
  }
}

export interface CorpusOptions {
  /** Stop once the pieces hold at least this many UTF-8 bytes. */
  bytes: number;
  seed?: number;
  /** Share of pieces that are long (default 0.01). */
  longShare?: number;
}

/** Tweet-like pieces (and a few long ones) totalling at least `bytes` UTF-8 bytes. */
export function makeTokenizerCorpus(opts: CorpusOptions): string[] {
  const r = new Prng(opts.seed ?? 0x5eed);
  const longShare = opts.longShare ?? 0.01;
  const pieces: string[] = [];
  let bytes = 0;
  while (bytes < opts.bytes) {
    const piece = r.chance(longShare) ? longPiece(r) : tweet(r);
    pieces.push(piece);
    bytes += Buffer.byteLength(piece, 'utf8');
  }
  return pieces;
}
