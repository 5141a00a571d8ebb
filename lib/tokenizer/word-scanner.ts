// GPT-2's pre-tokenization regex (GPT2_SPLIT_PATTERN_JS in pre-tokenize.ts) as a hand-written
// scanner. It finds the same words, but as (start, end) offsets into the text: no match object
// and no substring per word, which is where a regex loop spends most of its time. The test
// suite checks it against the regex on the whole corpus and on every character class pair.
//
// Reading the regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
// at a position, first alternative that matches wins:
// - an apostrophe followed by s, t, m, d, re, ve or ll (lower case only) is a word;
// - one optional U+0020 then a maximal run of letters, of numbers, or of "other" characters
//   (neither White_Space nor letter nor number; apostrophes included) is a word;
// - otherwise a run of White_Space: all of it at the end of the text, else all but its last
//   character (which then starts the next word, e.g. " word"), or the single character when
//   the run is one long.

const enum CharClass {
  Other = 0,
  Letter = 1,
  Number = 2,
  Space = 3,
}

const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;
const SPACE = /\p{White_Space}/u;

function classify(char: string): CharClass {
  if (LETTER.test(char)) return CharClass.Letter;
  if (NUMBER.test(char)) return CharClass.Number;
  if (SPACE.test(char)) return CharClass.Space;
  return CharClass.Other;
}

/** The class of every BMP code unit; surrogates are Other (a lone one is, to the regex). */
const BMP_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(0x10000);
  for (let code = 0; code < 0x10000; code++) {
    if (code < 0xd800 || code > 0xdfff) table[code] = classify(String.fromCharCode(code));
  }
  return table;
})();

/** Classes of astral code points, filled on first sight (class + 1; 0 = not yet known). */
let astralClass: Uint8Array | undefined;

function classOfAstral(codePoint: number): CharClass {
  astralClass ??= new Uint8Array(0x100000);
  const index = codePoint - 0x10000;
  let known = astralClass[index]!;
  if (known === 0) {
    known = classify(String.fromCodePoint(codePoint)) + 1;
    astralClass[index] = known;
  }
  return known - 1;
}

/** The class of the code point at `i` (a surrogate pair counts as its code point). */
function classAt(text: string, i: number): CharClass {
  const code = text.charCodeAt(i);
  if (code < 0xd800 || code > 0xdbff) return BMP_CLASS[code]!;
  const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
  if (low < 0xdc00 || low > 0xdfff) return CharClass.Other;
  return classOfAstral(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00));
}

/** Code units taken by the code point at `i`: 2 for a surrogate pair, else 1. */
function widthAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code < 0xd800 || code > 0xdbff || i + 1 >= text.length) return 1;
  const low = text.charCodeAt(i + 1);
  return low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
}

/** The end of the maximal run of `cls` starting at `i`. */
function runEnd(text: string, i: number, cls: CharClass): number {
  const n = text.length;
  while (i < n) {
    const code = text.charCodeAt(i);
    // The BMP case inline: nearly every character of real text.
    if (code < 0xd800 || code > 0xdbff) {
      if (BMP_CLASS[code] !== cls) return i;
      i++;
    } else {
      if (classAt(text, i) !== cls) return i;
      i += widthAt(text, i);
    }
  }
  return i;
}

const APOSTROPHE = 0x27;
const SPACE_CHAR = 0x20;

/** The end of the word that starts at `start` (< text.length). */
export function wordEnd(text: string, start: number): number {
  const n = text.length;
  const code = text.charCodeAt(start);
  if (code === APOSTROPHE && start + 1 < n) {
    const next = text.charCodeAt(start + 1);
    if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) return start + 2; // s t m d
    if (start + 2 < n) {
      const after = text.charCodeAt(start + 2);
      if ((next === 0x72 || next === 0x76) && after === 0x65) return start + 3; // re ve
      if (next === 0x6c && after === 0x6c) return start + 3; // ll
    }
  }
  if (code === SPACE_CHAR && start + 1 < n) {
    const cls = classAt(text, start + 1);
    if (cls !== CharClass.Space) return runEnd(text, start + 1, cls);
  }
  const cls = classAt(text, start);
  if (cls !== CharClass.Space) return runEnd(text, start, cls);
  // White_Space characters are all in the BMP, one code unit each.
  const end = runEnd(text, start, CharClass.Space);
  if (end === n || end - start === 1) return end;
  return end - 1;
}
